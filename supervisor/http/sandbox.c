/*
 * sandbox.c: the routes under /v1/fs, /v1/processes and /v1/config, the
 * files, processes, terminals and per-directory MCP and skills config
 * sandbox-agent 0.4.2 serves beside its agents, with its shapes (its
 * TypeScript SDK calls them unchanged). The work is session/fs.c's,
 * session/procs.c's and session/dirconfig.c's; this file reads requests
 * and writes replies.
 *
 * Files move as streams: PUT /v1/fs/file and POST /v1/fs/upload-batch
 * answer with a sink (API_SINK) that server.c feeds the body to as it
 * arrives; GET /v1/fs/file answers with a descriptor (API_FILE) that
 * server.c reads in bounded chunks, Range included. No file is ever held
 * in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

/* A required query argument, or NULL with a 400 problem. */
static const char *
sandbox_arg(
    const struct api_request *req, const char *name, struct api_response *resp)
{
	const char *v;

	if ((v = reply_arg(req, name)) == NULL || *v == '\0')
		reply_problem(resp, 400, "invalid_request",
		    "the query argument '%s' is required", name);
	return (v != NULL && *v != '\0' ? v : NULL);
}

/* A fs_* or procs_* call's outcome: its JSON, or its problem. */
static void
sandbox_done(struct api_response *resp, int status, cJSON *o, char *cause)
{
	if (status != 0)
		reply_fail(resp, status, cause);
	else
		reply_json(resp, 200, o);
}

/* GET /v1/fs/entries?path= (default: the home directory). */
void
sandbox_fs_entries(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *o = NULL;
	char  *cause = NULL;
	int    status;

	status = fs_entries(reply_arg(req, "path"), &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/* A route whose one argument is ?path=, answered by fn. */
static void
sandbox_path_op(const struct api_request *req, struct api_response *resp,
    int (*fn)(const char *, cJSON **, char **))
{
	const char *path;
	cJSON	   *o = NULL;
	char	   *cause = NULL;
	int	    status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	status = fn(path, &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/* GET /v1/fs/stat?path= */
void
sandbox_fs_stat(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	sandbox_path_op(req, resp, fs_stat);
}

/* POST /v1/fs/mkdir?path= */
void
sandbox_fs_mkdir(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	sandbox_path_op(req, resp, fs_mkdir);
}

/* DELETE /v1/fs/entry?path=&recursive= */
void
sandbox_fs_delete(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const char *path;
	cJSON	   *o = NULL;
	char	   *cause = NULL;
	int	    status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	status = fs_delete(path, reply_arg_bool(req, "recursive"), &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/* POST /v1/fs/move {from, to, overwrite?} */
void
sandbox_fs_move(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const char *from, *to;
	cJSON	   *body, *o = NULL;
	char	   *cause = NULL;
	int	    overwrite = 0, status;

	if ((body = reply_body(req, resp, 0)) == NULL)
		return;
	from = json_get_str(body, "from");
	to = json_get_str(body, "to");
	if (from == NULL || to == NULL)
		reply_problem(resp, 400, "invalid_request",
		    "'from' and 'to' (strings) are required");
	else if (json_get(body, "overwrite") != NULL &&
	    !json_is_null(json_get(body, "overwrite")) &&
	    json_get_bool(body, "overwrite", &overwrite) != 0)
		reply_problem(resp, 400, "invalid_request",
		    "'overwrite' must be a boolean");
	else {
		status = fs_move(from, to, overwrite, &o, &cause);
		sandbox_done(resp, status, o, cause);
	}
	json_free(body);
}

/*
 * A Range header for a file of size bytes: 0 with [*off, *off + *len)
 * (the whole file when there is no Range, or one this does not take:
 * several ranges, another unit, bad syntax, as RFC 9110 14.2 allows);
 * -1 when the range cannot be satisfied (416).
 */
static int
sandbox_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
	unsigned long long a, b;
	char		  *end;

	*off = 0;
	*len = size;
	if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return (0);
	h += 6;
	if (*h == '-') { /* the last N bytes */
		if (h[1] < '0' || h[1] > '9')
			return (0);
		b = strtoull(h + 1, &end, 10);
		if (*end != '\0')
			return (0);
		if (b == 0)
			return (-1);
		*len = b < size ? b : size;
		*off = size - *len;
		return (size == 0 ? -1 : 0);
	}
	if (*h < '0' || *h > '9')
		return (0);
	a = strtoull(h, &end, 10);
	if (*end != '-')
		return (0);
	h = end + 1;
	if (*h == '\0')
		b = size > 0 ? size - 1 : 0;
	else {
		if (*h < '0' || *h > '9')
			return (0);
		b = strtoull(h, &end, 10);
		if (*end != '\0' || b < a)
			return (0);
	}
	if (a >= size)
		return (-1);
	if (b >= size)
		b = size - 1;
	*off = a;
	*len = b - a + 1;
	return (0);
}

/* GET /v1/fs/file?path=: the raw bytes, or a Range of them. */
void
sandbox_fs_read(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const char *path;
	uint64_t    size, off, len;
	char	   *cause = NULL;
	int	    fd, status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	if ((status = fs_open(path, &fd, &size, &cause)) != 0) {
		reply_fail(resp, status, cause);
		return;
	}
	if (sandbox_range(req->range, size, &off, &len) != 0) {
		close(fd);
		reply_problem(resp, 416, "range_not_satisfiable",
		    "the range %s is outside the file (%llu bytes)", req->range,
		    (unsigned long long)size);
		(void)snprintf(resp->content_range, sizeof resp->content_range,
		    "bytes */%llu", (unsigned long long)size);
		return;
	}
	resp->kind = API_FILE;
	resp->status = 200;
	resp->content_type = "application/octet-stream";
	resp->file_fd = fd;
	resp->file_off = off;
	resp->file_len = len;
	if (req->range != NULL && (off != 0 || len != size)) {
		resp->status = 206;
		(void)snprintf(resp->content_range, sizeof resp->content_range,
		    "bytes %llu-%llu/%llu", (unsigned long long)off,
		    (unsigned long long)(off + len - 1),
		    (unsigned long long)size);
	}
}

/* An upload's sink: fs.c's struct fs_upload. */
static int
sandbox_upload_write(
    void *arg, const char *p, size_t len, struct api_response *resp)
{
	char *cause = NULL;
	int   status;

	if ((status = fs_upload_write(arg, p, len, &cause)) == 0)
		return (0);
	reply_fail(resp, status, cause);
	return (-1);
}

static void
sandbox_upload_finish(void *arg, struct api_response *resp)
{
	cJSON *o = NULL;
	char  *cause = NULL;
	int    status;

	status = fs_upload_end(arg, &o, &cause);
	sandbox_done(resp, status, o, cause);
}

static void
sandbox_upload_abort(void *arg)
{
	fs_upload_abort(arg);
}

static const struct api_sink_ops sandbox_upload_ops = { sandbox_upload_write,
	sandbox_upload_finish, sandbox_upload_abort };

static void
sandbox_sink(struct api_response *resp, struct fs_upload *u)
{
	resp->kind = API_SINK;
	resp->status = 0;
	resp->sink_ops = &sandbox_upload_ops;
	resp->sink = u;
}

/*
 * PUT /v1/fs/file?path=&parents=: the body (application/octet-stream)
 * becomes the file, atomically. Missing parent directories are made
 * unless parents=false.
 */
void
sandbox_fs_write(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct fs_upload *u;
	const char	 *path, *parents;
	char		 *cause = NULL;
	int		  status;

	if ((path = sandbox_arg(req, "path", resp)) == NULL)
		return;
	parents = reply_arg(req, "parents");
	status = fs_write_begin(path,
	    parents == NULL ||
		(strcmp(parents, "false") != 0 && strcmp(parents, "0") != 0),
	    &u, &cause);
	if (status != 0)
		reply_fail(resp, status, cause);
	else
		sandbox_sink(resp, u);
}

/* POST /v1/fs/upload-batch?path=: a tar archive, unpacked as it comes. */
void
sandbox_fs_upload(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct fs_upload *u;
	char		 *cause = NULL;
	int		  status;

	if ((status = fs_batch_begin(reply_arg(req, "path"), &u, &cause)) != 0)
		reply_fail(resp, status, cause);
	else
		sandbox_sink(resp, u);
}

/* The process named in the path, or a 404 problem. */
static struct process *
sandbox_process(struct api_match *m, struct api_response *resp)
{
	struct process *p;

	if ((p = procs_find(m->part[0])) == NULL)
		reply_problem(
		    resp, 404, "not_found", "no process '%s'", m->part[0]);
	return (p);
}

/* GET /v1/processes/config */
void
sandbox_procs_config_get(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	reply_json(resp, 200, procs_config());
}

/* POST /v1/processes/config */
void
sandbox_procs_config_set(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *body, *o = NULL;
	char  *cause = NULL;
	int    status;

	if ((body = reply_body(req, resp, 0)) == NULL)
		return;
	status = procs_set_config(body, &o, &cause);
	sandbox_done(resp, status, o, cause);
	json_free(body);
}

/* GET /v1/processes?owner= */
void
sandbox_procs_list(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	reply_json(resp, 200, procs_list(reply_arg(req, "owner")));
}

/* POST /v1/processes {command, args?, cwd?, env?, tty?, interactive?} */
void
sandbox_procs_create(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *body, *o = NULL;
	char  *cause = NULL;
	int    status;

	if ((body = reply_body(req, resp, 0)) == NULL)
		return;
	status = procs_create(body, &o, &cause);
	sandbox_done(resp, status, o, cause);
	json_free(body);
}

/* A run has ended: its ProcessRunResponse is the deferred reply. */
static void
sandbox_run_done_cb(void *arg, cJSON *result)
{
	struct api_response r;

	memset(&r, 0, sizeof r);
	reply_json(&r, 200, result);
	reply_wait_finish(arg, &r);
}

/* POST /v1/processes/run: answered when the command has ended. */
void
sandbox_procs_run(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct reply_wait  *w;
	struct api_response probe;
	cJSON		   *body;
	char		   *cause = NULL;
	int		    status;

	if ((body = reply_body(req, resp, 0)) == NULL)
		return;
	memset(&probe, 0, sizeof probe);
	w = reply_wait_new(&probe);
	probe.kind = API_REPLY;
	if ((status = procs_run(body, sandbox_run_done_cb, w, &cause)) != 0) {
		reply_wait_detach(w);
		reply_wait_finish(w, &probe); /* frees it */
		reply_fail(resp, status, cause);
	} else {
		resp->kind = API_WAIT;
		resp->wait = w;
	}
	json_free(body);
}

/* GET /v1/processes/{id} */
void
sandbox_proc_get(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct process *p;

	if ((p = sandbox_process(m, resp)) != NULL)
		reply_json(resp, 200, procs_info(p));
}

/* DELETE /v1/processes/{id}: 204, or 409 while it runs. */
void
sandbox_proc_delete(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct process *p;
	char	       *cause = NULL;
	int		status;

	if ((p = sandbox_process(m, resp)) == NULL)
		return;
	if ((status = procs_delete(p, &cause)) != 0)
		reply_fail(resp, status, cause);
	else
		reply_no_content(resp);
}

/* POST /v1/processes/{id}/input {data, encoding?} */
void
sandbox_proc_input(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct process *p;
	cJSON	       *body, *o = NULL;
	char	       *cause = NULL;
	int		status;

	if ((p = sandbox_process(m, resp)) == NULL ||
	    (body = reply_body(req, resp, 0)) == NULL)
		return;
	status = procs_input(p, body, &o, &cause);
	sandbox_done(resp, status, o, cause);
	json_free(body);
}

/* The wait of a stop or kill is over: ProcessInfo as it is now. */
static void
sandbox_signal_done_cb(void *arg, struct process *p)
{
	struct api_response r;

	memset(&r, 0, sizeof r);
	reply_json(&r, 200, procs_info(p));
	reply_wait_finish(arg, &r);
}

/*
 * POST /v1/processes/{id}/stop?waitMs= (SIGTERM, SIGKILL after the grace)
 * and …/kill?waitMs= (SIGKILL): ProcessInfo once it has exited or waitMs
 * (sandbox-agent's defaults: 2000 and 1000) has passed.
 */
static void
sandbox_signal(const struct api_request *req, struct api_match *m,
    struct api_response *resp, int kill)
{
	struct process	   *p;
	struct reply_wait  *w;
	struct api_response probe;
	uint64_t	    ms;

	if ((p = sandbox_process(m, resp)) == NULL)
		return;
	if (reply_arg_u64(req, "waitMs", kill ? 1000 : 2000, &ms) != 0) {
		reply_problem(resp, 400, "invalid_request",
		    "waitMs must be a non-negative integer");
		return;
	}
	procs_signal(p, kill);
	memset(&probe, 0, sizeof probe);
	w = reply_wait_new(&probe);
	resp->kind = API_WAIT;
	resp->wait = w;
	procs_wait(p, ms > INT64_MAX ? INT64_MAX : (int64_t)ms,
	    sandbox_signal_done_cb, w);
}

void
sandbox_proc_stop(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	sandbox_signal(req, m, resp, 0);
}

void
sandbox_proc_kill(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	sandbox_signal(req, m, resp, 1);
}

/* POST /v1/processes/{id}/terminal/resize {cols, rows} */
void
sandbox_proc_resize(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct process *p;
	long long	cols, rows;
	cJSON	       *body, *o;
	char	       *cause = NULL;
	int		status;

	if ((p = sandbox_process(m, resp)) == NULL ||
	    (body = reply_body(req, resp, 0)) == NULL)
		return;
	if (json_get_int(body, "cols", &cols) != 0 ||
	    json_get_int(body, "rows", &rows) != 0)
		reply_problem(resp, 400, "invalid_request",
		    "'cols' and 'rows' (integers) are required");
	else if ((status = procs_resize(p, cols, rows, &cause)) != 0)
		reply_fail(resp, status, cause);
	else {
		o = json_object();
		json_set_int(o, "cols", cols);
		json_set_int(o, "rows", rows);
		reply_json(resp, 200, o);
	}
	json_free(body);
}

/*
 * A follower of a process's log: the process and which of its entries go
 * out (a stream filter). A logs SSE sends them as they are; a terminal's
 * WebSocket sends each entry's bytes as a binary frame, after a ready
 * frame and before an exit frame, and takes input, resize and close.
 */
struct sandbox_view {
	struct process *p;
	int		filter;
	int		refs;
};

static struct sandbox_view *
sandbox_view_new(struct process *p, int filter)
{
	struct sandbox_view *v;

	v = xcalloc(1, sizeof *v);
	v->p = p;
	v->filter = filter;
	v->refs = 1; /* the response's */
	procs_ref(p);
	return (v);
}

static void
sandbox_view_ref(void *arg)
{
	struct sandbox_view *v = arg;

	v->refs++;
}

static void
sandbox_view_unref(void *arg)
{
	struct sandbox_view *v = arg;

	if (--v->refs > 0)
		return;
	procs_unref(v->p);
	free(v);
}

static struct journal *
sandbox_view_journal(void *arg)
{
	struct sandbox_view *v = arg;

	return (procs_journal(v->p));
}

/* Nothing more will come once the process has exited (or is deleted). */
static int
sandbox_view_dead(void *arg)
{
	struct sandbox_view *v = arg;

	return (!procs_running(v->p) || procs_find(procs_id(v->p)) != v->p);
}

static int
sandbox_view_keep(void *arg, const char *line, size_t len)
{
	struct sandbox_view *v = arg;

	return (procs_entry_matches(line, len, v->filter));
}

static int
sandbox_view_frame(
    void *arg, const char *line, size_t len, char *out, size_t *outlen)
{
	return (procs_entry_bytes(line, len, out, outlen));
}

static char *
sandbox_term_hello(void *arg)
{
	struct sandbox_view *v = arg;
	cJSON		    *o;
	char		    *s;

	o = json_object();
	json_set_str(o, "type", "ready");
	json_set_str(o, "processId", procs_id(v->p));
	s = json_print(o, NULL);
	json_free(o);
	return (s);
}

static char *
sandbox_term_bye(void *arg)
{
	struct sandbox_view *v = arg;
	const cJSON	    *code;
	cJSON		    *info, *o;
	char		    *s;

	info = procs_info(v->p);
	code = json_get(info, "exitCode");
	o = json_object();
	json_set_str(o, "type", "exit");
	json_set(o, "exitCode", code != NULL ? json_dup(code) : json_null());
	s = json_print(o, NULL);
	json_free(o);
	json_free(info);
	return (s);
}

static char *
sandbox_term_error(const char *fmt, const char *arg)
{
	cJSON *o;
	char  *msg, *s;

	xasprintf(&msg, fmt, arg != NULL ? arg : "");
	o = json_object();
	json_set_str(o, "type", "error");
	json_set_str(o, "message", msg);
	s = json_print(o, NULL);
	json_free(o);
	free(msg);
	return (s);
}

/*
 * A terminal client's text frame: {"type":"input","data","encoding"?}
 * (utf8 unless it says base64), {"type":"resize","cols","rows"} or
 * {"type":"close"}. Returns an error frame to send, or NULL; sets *close
 * to end the connection. A binary frame (text NULL) is refused as
 * sandbox-agent refuses it.
 */
static char *
sandbox_term_command(void *arg, const char *text, size_t len, int *close)
{
	struct sandbox_view *v = arg;
	const char	    *type, *err, *enc;
	long long	     cols, rows;
	cJSON		    *o;
	char		    *buf, *cause = NULL, *frame = NULL;
	size_t		     n;

	if (text == NULL)
		return (sandbox_term_error(
		    "binary input is not supported; use text JSON frames%s",
		    NULL));
	if ((o = json_parse(text, len, &err)) == NULL || !json_is_obj(o) ||
	    (type = json_get_str(o, "type")) == NULL) {
		json_free(o);
		return (sandbox_term_error(
		    "invalid terminal frame: a JSON object with a type%s",
		    NULL));
	}
	if (strcmp(type, "input") == 0) {
		enc = json_get_str(o, "encoding");
		if (procs_decode_input(json_get_str(o, "data"),
			enc != NULL ? enc : "utf8", &buf, &n, &cause) == 0) {
			(void)procs_write(v->p, buf, n, &cause);
			free(buf);
		}
	} else if (strcmp(type, "resize") == 0) {
		if (json_get_int(o, "cols", &cols) != 0 ||
		    json_get_int(o, "rows", &rows) != 0)
			cause = xstrdup("resize needs cols and rows");
		else
			(void)procs_resize(v->p, cols, rows, &cause);
	} else if (strcmp(type, "close") == 0)
		*close = 1;
	else
		frame = sandbox_term_error("unknown frame type '%s'", type);
	if (cause != NULL) {
		frame = sandbox_term_error("%s", cause);
		free(cause);
	}
	json_free(o);
	return (frame);
}

static const struct stream_ops sandbox_log_ops = {
	.ref = sandbox_view_ref,
	.unref = sandbox_view_unref,
	.dead = sandbox_view_dead,
	.event = "log",
	.journal = sandbox_view_journal,
	.keep = sandbox_view_keep,
};

static const struct stream_ops sandbox_term_ops = {
	.ref = sandbox_view_ref,
	.unref = sandbox_view_unref,
	.dead = sandbox_view_dead,
	.journal = sandbox_view_journal,
	.keep = sandbox_view_keep,
	.frame = sandbox_view_frame,
	.hello = sandbox_term_hello,
	.bye = sandbox_term_bye,
	.command = sandbox_term_command,
};

/*
 * GET /v1/processes/{id}/logs?stream=&tail=&since=&follow=: the entries
 * (ProcessLogsResponse), or with follow=true an SSE stream of them
 * ("event: log", "id: <sequence>"), the stored ones after since first,
 * then live until the process has exited. Last-Event-ID works as since.
 */
void
sandbox_proc_logs(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct process *p;
	const char     *stream, *id = req->last_event_id;
	uint64_t	since, tail, last_id = 0;
	cJSON	       *o = NULL;
	char	       *cause = NULL;
	int		filter, status;

	if ((p = sandbox_process(m, resp)) == NULL)
		return;
	stream = reply_arg(req, "stream");
	if (procs_stream_filter(p, stream, &filter) != 0) {
		reply_problem(resp, 400, "invalid_request",
		    "stream must be stdout, stderr, combined or pty");
		return;
	}
	if (reply_arg_u64(req, "since", 0, &since) != 0 ||
	    reply_arg_u64(req, "tail", 0, &tail) != 0) {
		reply_problem(resp, 400, "invalid_request",
		    "since and tail must be non-negative integers");
		return;
	}
	if (id != NULL && *id != '\0') {
		if (strspn(id, "0123456789") != strlen(id) || strlen(id) > 19) {
			reply_problem(resp, 400, "invalid_request",
			    "Last-Event-ID must be a sequence number");
			return;
		}
		last_id = strtoull(id, NULL, 10);
		if (last_id > since)
			since = last_id;
	}
	if (reply_arg_bool(req, "follow")) {
		resp->kind = API_STREAM;
		resp->status = 200;
		resp->stream_ops = &sandbox_log_ops;
		resp->stream = sandbox_view_new(p, filter);
		resp->offset = since;
		resp->include_raw = 1;
		return;
	}
	status = procs_logs(p, filter,
	    stream != NULL && *stream != '\0' ? stream
		: procs_is_tty(p)	      ? "pty"
					      : "combined",
	    since, tail, &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/*
 * GET /v1/processes/{id}/terminal/ws: a WebSocket on a tty process. The
 * viewer gets the recent output first (a bounded scrollback), then the
 * live output; any number may watch and type at once.
 */
void
sandbox_proc_terminal(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct process *p;

	if ((p = sandbox_process(m, resp)) == NULL)
		return;
	if (!procs_is_tty(p)) {
		reply_problem(resp, 409, "conflict",
		    "process %s is not running in tty mode", procs_id(p));
		return;
	}
	if (!req->websocket) {
		reply_problem(resp, 400, "invalid_request",
		    "this route needs a WebSocket upgrade");
		return;
	}
	resp->kind = API_STREAM;
	resp->status = 200;
	resp->stream_ops = &sandbox_term_ops;
	resp->stream = sandbox_view_new(p, PROCS_PTY);
	resp->offset = procs_scrollback(p);
	resp->include_raw = 1;
}

/*
 * The config a /v1/config route names, and its two required arguments:
 * 0, or -1 with a 400 problem.
 */
static int
sandbox_config_args(const struct api_request *req, struct api_response *resp,
    enum dirconfig_kind *kind, const char **dir, const char **name)
{
	*kind = strcmp(req->path, "/v1/config/mcp") == 0 ? DIRCONFIG_MCP
							 : DIRCONFIG_SKILLS;
	if ((*dir = sandbox_arg(req, "directory", resp)) == NULL)
		return (-1);
	*name = sandbox_arg(
	    req, *kind == DIRCONFIG_MCP ? "mcpName" : "skillName", resp);
	return (*name != NULL ? 0 : -1);
}

/* GET /v1/config/mcp?directory=&mcpName=, /v1/config/skills?…&skillName= */
void
sandbox_config_get(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	enum dirconfig_kind kind;
	const char	   *dir, *name;
	cJSON		   *o = NULL;
	char		   *cause = NULL;
	int		    status;

	if (sandbox_config_args(req, resp, &kind, &dir, &name) != 0)
		return;
	status = dirconfig_get(kind, dir, name, &o, &cause);
	sandbox_done(resp, status, o, cause);
}

/* PUT: the body is a McpServerConfig or a SkillsConfig; 204. */
void
sandbox_config_set(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	enum dirconfig_kind kind;
	const char	   *dir, *name;
	cJSON		   *body;
	char		   *cause = NULL;
	int		    status;

	if (sandbox_config_args(req, resp, &kind, &dir, &name) != 0)
		return;
	if ((body = reply_body(req, resp, 0)) == NULL)
		return;
	status = dirconfig_set(kind, dir, name, body, &cause);
	json_free(body);
	if (status == 422) { /* a skill source agentd cannot read */
		reply_problem(resp, 422, "unsupported_source", "%s", cause);
		free(cause);
	} else if (status != 0)
		reply_fail(resp, status, cause);
	else
		reply_no_content(resp);
}

/* DELETE: 204, whether or not the entry was there (as sandbox-agent). */
void
sandbox_config_delete(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	enum dirconfig_kind kind;
	const char	   *dir, *name;
	char		   *cause = NULL;
	int		    status;

	if (sandbox_config_args(req, resp, &kind, &dir, &name) != 0)
		return;
	if ((status = dirconfig_delete(kind, dir, name, &cause)) != 0)
		reply_fail(resp, status, cause);
	else
		reply_no_content(resp);
}
