/*
 * api.c: the HTTP routes of DESIGN.md section 5 and the session commands
 * they share with WebSocket frames, without libwebsockets.
 *
 * server.c turns a request into a struct api_request and writes back the
 * struct api_response this file fills (with reply.c's helpers): a JSON
 * reply or problem+json, or an instruction to stream a session (SSE or
 * WebSocket). Routing is a table of path patterns; a path that matches
 * with another method gets 405 with Allow, and no path matches 404. Every
 * error is RFC 7807 with a detail.
 *
 * A session command (send a message, answer a permission or a question,
 * cancel, terminate) is one entry of api_commands[]: its HTTP route and
 * its WebSocket frame {"type": …} run the same function, so they check
 * the same fields and give the same status and problem; a WebSocket
 * client gets them as {"reply_to", "status", "error"?} (reply_frame).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

typedef void (*api_fn)(
    const struct api_request *, struct api_match *, struct api_response *);

struct api_route {
	enum http_method method;
	const char	*pattern; /* "*" matches one segment */
	api_fn		 fn;
	const char *command; /* api_command runs this api_commands[] type */
};

/* The routes whose body is not JSON (and is streamed, not read whole). */
static const struct {
	enum http_method method;
	const char	*pattern;
	enum api_body	 body;
} api_raw_bodies[] = {
	{ HTTP_PUT, "/v1/fs/file", API_BODY_RAW },
	{ HTTP_POST, "/v1/fs/upload-batch", API_BODY_TAR },
	{ HTTP_POST, "/v1/sessions/import", API_BODY_TAR },
};

/*
 * A session command on s. target is the id the route names in its second
 * "*" (a permission or question), taken from a frame's member of that
 * name; args is the route's body or the whole frame, NULL for a command
 * that reads none. The answer goes into resp: 204, or a problem.
 */
typedef void (*api_command_fn)(
    struct session *, const char *, const cJSON *, struct api_response *);

struct api_command {
	const char    *type;   /* the WebSocket frame's "type" */
	const char    *target; /* the frame's member for the path's id */
	int	       body;   /* the route needs a JSON object body */
	api_command_fn fn;
};

static void api_health(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_openapi(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_agents_list(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_agent_get(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_agent_install(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_sessions_list(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_session_create(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_create(const char *, const cJSON *, struct api_response *);
static void api_session_get(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_session_delete(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_session_export(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_session_import(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_command(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_messages_stream(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_events(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_events_sse(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_events_ws(
    const struct api_request *, struct api_match *, struct api_response *);
static void
api_ui(const struct api_request *, struct api_match *, struct api_response *);
static void api_acp_list(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_acp_post(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_acp_get(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_acp_delete(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_metrics(
    const struct api_request *, struct api_match *, struct api_response *);

static void api_message(
    struct session *, const char *, const cJSON *, struct api_response *);
static void api_permission_reply(
    struct session *, const char *, const cJSON *, struct api_response *);
static void api_question_reply(
    struct session *, const char *, const cJSON *, struct api_response *);
static void api_question_reject(
    struct session *, const char *, const cJSON *, struct api_response *);
static void api_cancel(
    struct session *, const char *, const cJSON *, struct api_response *);
static void api_terminate(
    struct session *, const char *, const cJSON *, struct api_response *);
static void api_config(
    struct session *, const char *, const cJSON *, struct api_response *);

static const struct api_route api_routes[] = {
	{ HTTP_GET, "/v1/health", api_health, NULL },
	{ HTTP_GET, "/v1/openapi.json", api_openapi, NULL },
	{ HTTP_GET, "/v1/agents", api_agents_list, NULL },
	{ HTTP_GET, "/v1/agents/*", api_agent_get, NULL },
	{ HTTP_POST, "/v1/agents/*/install", api_agent_install, NULL },
	{ HTTP_GET, "/v1/sessions", api_sessions_list, NULL },
	{ HTTP_POST, "/v1/sessions/import", api_session_import, NULL },
	{ HTTP_POST, "/v1/sessions/*", api_session_create, NULL },
	{ HTTP_GET, "/v1/sessions/*", api_session_get, NULL },
	{ HTTP_DELETE, "/v1/sessions/*", api_session_delete, NULL },
	{ HTTP_POST, "/v1/sessions/*/messages", api_command, "message" },
	{ HTTP_POST, "/v1/sessions/*/messages/stream", api_messages_stream,
	    NULL },
	{ HTTP_GET, "/v1/sessions/*/export", api_session_export, NULL },
	{ HTTP_GET, "/v1/sessions/*/events", api_events, NULL },
	{ HTTP_GET, "/v1/sessions/*/events/sse", api_events_sse, NULL },
	{ HTTP_GET, "/v1/sessions/*/events/ws", api_events_ws, NULL },
	{ HTTP_POST, "/v1/sessions/*/permissions/*/reply", api_command,
	    "permission.reply" },
	{ HTTP_POST, "/v1/sessions/*/questions/*/reply", api_command,
	    "question.reply" },
	{ HTTP_POST, "/v1/sessions/*/questions/*/reject", api_command,
	    "question.reject" },
	{ HTTP_POST, "/v1/sessions/*/cancel", api_command, "cancel" },
	{ HTTP_POST, "/v1/sessions/*/terminate", api_command, "terminate" },
	{ HTTP_POST, "/v1/sessions/*/config", api_command, "config" },
	{ HTTP_GET, "/v1/acp", api_acp_list, NULL },
	{ HTTP_POST, "/v1/acp/*", api_acp_post, NULL },
	{ HTTP_GET, "/v1/acp/*", api_acp_get, NULL },
	{ HTTP_DELETE, "/v1/acp/*", api_acp_delete, NULL },
	/* Operations (issue 20): metrics.c. */
	{ HTTP_GET, "/v1/metrics", api_metrics, NULL },
	{ HTTP_GET, "/v1/fs/entries", sandbox_fs_entries, NULL },
	{ HTTP_GET, "/v1/fs/file", sandbox_fs_read, NULL },
	{ HTTP_PUT, "/v1/fs/file", sandbox_fs_write, NULL },
	{ HTTP_DELETE, "/v1/fs/entry", sandbox_fs_delete, NULL },
	{ HTTP_POST, "/v1/fs/mkdir", sandbox_fs_mkdir, NULL },
	{ HTTP_POST, "/v1/fs/move", sandbox_fs_move, NULL },
	{ HTTP_GET, "/v1/fs/stat", sandbox_fs_stat, NULL },
	{ HTTP_POST, "/v1/fs/upload-batch", sandbox_fs_upload, NULL },
	{ HTTP_GET, "/v1/processes", sandbox_procs_list, NULL },
	{ HTTP_POST, "/v1/processes", sandbox_procs_create, NULL },
	{ HTTP_GET, "/v1/processes/config", sandbox_procs_config_get, NULL },
	{ HTTP_POST, "/v1/processes/config", sandbox_procs_config_set, NULL },
	{ HTTP_POST, "/v1/processes/run", sandbox_procs_run, NULL },
	{ HTTP_GET, "/v1/processes/*", sandbox_proc_get, NULL },
	{ HTTP_DELETE, "/v1/processes/*", sandbox_proc_delete, NULL },
	{ HTTP_POST, "/v1/processes/*/input", sandbox_proc_input, NULL },
	{ HTTP_POST, "/v1/processes/*/stop", sandbox_proc_stop, NULL },
	{ HTTP_POST, "/v1/processes/*/kill", sandbox_proc_kill, NULL },
	{ HTTP_GET, "/v1/processes/*/logs", sandbox_proc_logs, NULL },
	{ HTTP_POST, "/v1/processes/*/terminal/resize", sandbox_proc_resize,
	    NULL },
	{ HTTP_GET, "/v1/processes/*/terminal/ws", sandbox_proc_terminal,
	    NULL },
	{ HTTP_GET, "/v1/config/mcp", sandbox_config_get, NULL },
	{ HTTP_PUT, "/v1/config/mcp", sandbox_config_set, NULL },
	{ HTTP_DELETE, "/v1/config/mcp", sandbox_config_delete, NULL },
	{ HTTP_GET, "/v1/config/skills", sandbox_config_get, NULL },
	{ HTTP_PUT, "/v1/config/skills", sandbox_config_set, NULL },
	{ HTTP_DELETE, "/v1/config/skills", sandbox_config_delete, NULL },
	{ HTTP_GET, "/ui", api_ui, NULL },
	{ HTTP_GET, "/ui/", api_ui, NULL },
	{ HTTP_GET, "/ui/*", api_ui, NULL },
};

/* The session commands, by the "type" of their WebSocket frame. */
static const struct api_command api_commands[] = {
	{ "message", NULL, 1, api_message },
	{ "permission.reply", "permission_id", 1, api_permission_reply },
	{ "question.reply", "question_id", 1, api_question_reply },
	{ "question.reject", "question_id", 0, api_question_reject },
	{ "cancel", NULL, 0, api_cancel },
	{ "terminate", NULL, 0, api_terminate },
	{ "config", NULL, 1, api_config },
};

static const char *api_method_names[] = { "GET", "POST", "PUT", "DELETE",
	"OPTIONS", "OTHER" };

/* Match path against pattern, collecting the "*" segments. */
static int
api_match_path(const char *pattern, const char *path, struct api_match *m)
{
	const char *seg;
	size_t	    len, off = 0;

	m->n = 0;
	while (*pattern != '\0') {
		if (*pattern == '*') {
			seg = path;
			while (*path != '\0' && *path != '/')
				path++;
			len = (size_t)(path - seg);
			if (len == 0 || m->n == API_MAX_PARTS ||
			    off + len + 1 > sizeof m->buf)
				return (0);
			memcpy(m->buf + off, seg, len);
			m->buf[off + len] = '\0';
			m->part[m->n++] = m->buf + off;
			off += len + 1;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return (0);
	}
	return (*path == '\0');
}

void
api_handle(const struct api_request *req, struct api_response *resp)
{
	const struct api_route *r;
	struct api_match	m;
	char			allow[sizeof resp->allow];
	size_t			i, len;

	memset(resp, 0, sizeof *resp);
	allow[0] = '\0';
	for (i = 0; i < nitems(api_routes); i++) {
		r = &api_routes[i];
		if (!api_match_path(r->pattern, req->path, &m))
			continue;
		if (r->method == req->method) {
			m.command = r->command;
			r->fn(req, &m, resp);
			return;
		}
		len = strlen(allow);
		(void)snprintf(allow + len, sizeof allow - len, "%s%s",
		    len > 0 ? ", " : "", api_method_names[r->method]);
	}
	if (allow[0] != '\0') {
		reply_problem(resp, 405, "method_not_allowed",
		    "%s is not allowed on %s (allowed: %s)",
		    api_method_names[req->method], req->path, allow);
		memcpy(resp->allow, allow, sizeof resp->allow);
		return;
	}
	reply_problem(resp, 404, "not_found", "no route for %s %s",
	    api_method_names[req->method], req->path);
}

/* The body a request's route takes (server.c asks before reading it). */
enum api_body
api_body_kind(const struct api_request *req)
{
	struct api_match m;
	size_t		 i;

	for (i = 0; i < nitems(api_raw_bodies); i++) {
		if (api_raw_bodies[i].method == req->method &&
		    api_match_path(api_raw_bodies[i].pattern, req->path, &m))
			return (api_raw_bodies[i].body);
	}
	return (API_BODY_JSON);
}

/* Find the session named in the path, or a 404 problem. */
static struct session *
api_session(struct api_match *m, struct api_response *resp)
{
	struct session *s;

	if ((s = session_find(m->part[0])) == NULL)
		reply_problem(resp, 404, "session_not_found", "no session '%s'",
		    m->part[0]);
	return (s);
}

/*
 * May s be written to? An ACP server that drives it (acpserver.c) makes
 * it read-only here: 409, for its routes and its WebSocket commands.
 */
static int
api_session_writable(struct session *s, struct api_response *resp)
{
	const char *d;

	if ((d = session_driver(s)) == NULL)
		return (1);
	reply_problem(resp, 409, "session_driven",
	    "the session is driven by ACP server '%s' and read-only here "
	    "(DELETE /v1/acp/%s releases it)",
	    d, d);
	return (0);
}

/* The session named in the path, for a write; or NULL and a problem. */
static struct session *
api_session_rw(struct api_match *m, struct api_response *resp)
{
	struct session *s;

	if ((s = api_session(m, resp)) == NULL ||
	    !api_session_writable(s, resp))
		return (NULL);
	return (s);
}

/* An install's problem: 409 while one runs, install_failed otherwise. */
static void
api_install_fail(struct api_response *resp, int status, char *cause)
{
	reply_problem(resp, status,
	    status == 409 ? "conflict" : "install_failed", "%s", cause);
	free(cause);
}

/*
 * POST /v1/agents/{agent}/install: the reply waits for npm and is the
 * agent's info. (A create for an agent that is not installed installs it
 * itself, in the session: session.c.)
 */
struct api_install {
	const struct agent_profile *profile;
	struct reply_wait	   *wait;
};

static void
api_install_done_cb(void *arg, const char *failed)
{
	struct api_install *in = arg;
	struct api_response r;

	memset(&r, 0, sizeof r);
	if (failed != NULL)
		reply_problem(&r, 502, "install_failed", "%s", failed);
	else
		reply_json(&r, 200, agents_info(in->profile));
	reply_wait_finish(in->wait, &r);
	free(in);
}

static void
api_health(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *o;

	o = json_object();
	json_set_str(o, "status", "ok");
	json_set_str(o, "version", AGENTD_VERSION);
	json_set_int(o, "uptime_ms", loop_now_ms() - agentd_start_ms);
	reply_json(resp, 200, o);
}

static void
api_openapi(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	resp->kind = API_REPLY;
	resp->status = 200;
	resp->content_type = "application/json";
	resp->static_body = openapi_document(&resp->len);
}

static void
api_agents_list(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *o;

	o = json_object();
	json_set(o, "agents", agents_list());
	reply_json(resp, 200, o);
}

/* The agent named in the path, or a 404 problem. */
static const struct agent_profile *
api_agent(struct api_match *m, struct api_response *resp)
{
	const struct agent_profile *p;

	if ((p = adapter_find_agent(m->part[0])) == NULL)
		reply_problem(resp, 404, "unsupported_agent", "no agent '%s'",
		    m->part[0]);
	return (p);
}

static void
api_agent_get(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const struct agent_profile *p;

	if ((p = api_agent(m, resp)) != NULL)
		reply_json(resp, 200, agents_info(p));
}

static void
api_agent_install(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const struct agent_profile *p;
	struct api_install	   *in;
	char			   *cause;
	int			    status;

	if ((p = api_agent(m, resp)) == NULL)
		return;
	in = xcalloc(1, sizeof *in);
	in->profile = p;
	if ((status = agents_install(p, api_install_done_cb, in, &cause)) !=
	    0) {
		api_install_fail(resp, status, cause);
		free(in);
		return;
	}
	in->wait = reply_wait_new(resp);
}

static void
api_sessions_list(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *o;

	o = json_object();
	json_set(o, "sessions", session_list());
	reply_json(resp, 200, o);
}

static void
api_session_create(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *body;

	if (!session_valid_id(m->part[0])) {
		reply_problem(resp, 400, "invalid_request",
		    "invalid session id "
		    "'%s': use 1-128 of [A-Za-z0-9._-], not starting with '.'",
		    m->part[0]);
		return;
	}
	if ((body = reply_body(req, resp, 0)) == NULL)
		return;
	api_create(m->part[0], body, resp);
	json_free(body);
}

/* Create the session and answer with its SessionInfo. */
static void
api_create(const char *id, const cJSON *body, struct api_response *resp)
{
	struct session *s;
	cJSON	       *o;
	char	       *cause;
	int		status;

	if ((status = session_create(id, body, &s, &cause)) != 0) {
		reply_fail(resp, status, cause);
		return;
	}
	o = session_info(s);
	json_set_bool(o, "healthy", 1);
	reply_json(resp, 200, o);
}

static void
api_session_get(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;

	if ((s = api_session(m, resp)) != NULL)
		reply_json(resp, 200, session_info(s));
}

static void
api_session_delete(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	session_delete(s);
	reply_no_content(resp);
}

/*
 * GET /v1/sessions/{id}/export?credentials=: the session as one tar
 * archive (session/archive.c), built into a temporary file a few MiB per
 * loop pass, then sent from it. Without credentials=true it carries no
 * env value, no credential and none of the agent's secret files.
 */
struct api_export {
	struct reply_wait *wait;
};

static void
api_export_done_cb(
    void *arg, int fd, uint64_t size, int status, const char *cause)
{
	struct api_export  *ex = arg;
	struct api_response r;

	memset(&r, 0, sizeof r);
	r.file_fd = -1;
	if (fd == -1)
		reply_fail(&r, status, xstrdup(cause));
	else {
		r.kind = API_FILE;
		r.status = 200;
		r.content_type = "application/x-tar";
		r.file_fd = fd;
		r.file_off = 0;
		r.file_len = size;
	}
	reply_wait_finish(ex->wait, &r);
	free(ex);
}

static void
api_session_export(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session	  *s;
	struct api_export *ex;
	char		  *cause = NULL;
	int		   status;

	if ((s = api_session(m, resp)) == NULL)
		return;
	ex = xcalloc(1, sizeof *ex);
	status = archive_export(s, reply_arg_bool(req, "credentials"),
	    api_export_done_cb, ex, &cause);
	if (status != 0) {
		free(ex);
		reply_fail(resp, status, cause);
		return;
	}
	ex->wait = reply_wait_new(resp);
}

/*
 * POST /v1/sessions/import?id=&cwd=&home=: a session archive (the body,
 * application/x-tar), taken as it arrives (session/archive.c); the answer
 * is the imported session's SessionInfo and what was taken.
 */
static int
api_import_write(
    void *arg, const char *p, size_t len, struct api_response *resp)
{
	char *cause = NULL;
	int   status;

	if ((status = archive_import_feed(arg, p, len, &cause)) == 0)
		return (0);
	reply_fail(resp, status, cause);
	return (-1);
}

static void
api_import_finish(void *arg, struct api_response *resp)
{
	struct archive_import *im = arg;
	struct session	      *s;
	cJSON		      *info, *o;
	char		      *cause = NULL;
	size_t		       files, skipped;
	int		       status;

	if ((s = archive_import_finish(im, &status, &cause)) == NULL)
		reply_fail(resp, status, cause);
	else {
		info = session_info(s);
		archive_import_counts(im, &files, &skipped);
		o = json_object();
		json_set_int(o, "files", (long long)files);
		json_set_int(o, "skipped", (long long)skipped);
		json_set(info, "imported", o);
		reply_json(resp, 200, info);
	}
	archive_import_free(im);
}

static void
api_import_abort(void *arg)
{
	archive_import_free(arg);
}

static const struct api_sink_ops api_import_ops = { api_import_write,
	api_import_finish, api_import_abort };

static void
api_session_import(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct archive_import *im;
	char		      *cause = NULL;
	int		       status;

	im = archive_import_new(reply_arg(req, "id"), reply_arg(req, "cwd"),
	    reply_arg(req, "home"), &status, &cause);
	if (im == NULL) {
		reply_fail(resp, status, cause);
		return;
	}
	resp->kind = API_SINK;
	resp->status = 0;
	resp->sink_ops = &api_import_ops;
	resp->sink = im;
}

/*
 * POST …/messages/stream: the message command, answered with SSE of its
 * turn instead of 204.
 */
static void
api_messages_stream(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;
	uint64_t	offset;
	cJSON	       *body;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	if ((body = reply_body(req, resp, 0)) == NULL)
		return;
	offset = session_last_seq(s); /* subscribe before sending */
	api_message(s, NULL, body, resp);
	json_free(body);
	if (resp->status != 204)
		return;
	resp->kind = API_STREAM;
	resp->status = 200;
	resp->session = s;
	session_ref(s);
	resp->offset = offset;
	resp->include_raw = reply_arg_bool(req, "include_raw");
	resp->until_turn_end = 1;
}

/* Collect events for GET …/events into an array. */
struct api_collect {
	cJSON	*events;
	int	 include_raw;
	uint64_t last;
	uint64_t limit;
	uint64_t n;
	int	 bad;
};

static int
api_collect_cb(void *arg, uint64_t seq, enum event_type type, const char *line,
    size_t len, size_t noraw_len)
{
	struct api_collect *c = arg;
	const char	   *err;
	cJSON		   *ev;

	if (c->n == c->limit)
		return (1);
	if ((ev = json_parse(line, len, &err)) == NULL) {
		c->bad = 1;
		return (1);
	}
	if (!c->include_raw)
		json_free(json_detach(ev, "raw"));
	json_append(c->events, ev);
	c->last = seq;
	c->n++;
	return (0);
}

static void
api_offset_past_end(struct api_response *resp, uint64_t offset, uint64_t last)
{
	reply_problem(resp, 400, "invalid_request",
	    "offset %llu is past the last event (%llu)",
	    (unsigned long long)offset, (unsigned long long)last);
}

static void
api_events(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct api_collect c;
	struct session	  *s;
	uint64_t	   offset;
	cJSON		  *o;

	if ((s = api_session(m, resp)) == NULL)
		return;
	memset(&c, 0, sizeof c);
	if (reply_arg_u64(req, "offset", 0, &offset) != 0 ||
	    reply_arg_u64(req, "limit", 1000, &c.limit) != 0) {
		reply_problem(resp, 400, "invalid_request",
		    "offset and limit must be non-negative integers");
		return;
	}
	if (c.limit == 0) {
		reply_problem(resp, 400, "invalid_request",
		    "limit must be at least 1 (at most 10000 are answered)");
		return;
	}
	if (offset > session_last_seq(s)) {
		api_offset_past_end(resp, offset, session_last_seq(s));
		return;
	}
	if (c.limit > 10000)
		c.limit = 10000;
	c.events = json_array();
	c.include_raw = reply_arg_bool(req, "include_raw");
	c.last = offset;
	/* Bounded read: at most 8 MiB of events per answer. */
	if (session_read(s, offset, 8UL << 20, api_collect_cb, &c) < 0 ||
	    c.bad) {
		json_free(c.events);
		reply_problem(
		    resp, 500, "internal", "reading the event log failed");
		return;
	}
	o = json_object();
	json_set(o, "events", c.events);
	json_set_bool(o, "hasMore", c.last < session_last_seq(s));
	reply_json(resp, 200, o);
}

/*
 * A stream's starting point: ?offset= or Last-Event-ID, else 0. Either
 * must be a sequence this log has reached: a client that saw more than
 * the log holds follows another log, and is told so.
 */
static int
api_stream_offset(const struct api_request *req, struct session *s,
    struct api_response *resp, uint64_t *offset)
{
	const char *id = req->last_event_id;

	if (reply_arg_u64(req, "offset", 0, offset) != 0) {
		reply_problem(resp, 400, "invalid_request",
		    "offset must be a non-negative integer");
		return (-1);
	}
	if (reply_arg(req, "offset") == NULL && id != NULL && *id != '\0') {
		if (strspn(id, "0123456789") != strlen(id) || strlen(id) > 19) {
			reply_problem(resp, 400, "invalid_request",
			    "Last-Event-ID must be a sequence number");
			return (-1);
		}
		*offset = strtoull(id, NULL, 10);
	}
	if (*offset > session_last_seq(s)) {
		api_offset_past_end(resp, *offset, session_last_seq(s));
		return (-1);
	}
	return (0);
}

static void
api_events_sse(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;
	uint64_t	offset;

	if ((s = api_session(m, resp)) == NULL)
		return;
	if (api_stream_offset(req, s, resp, &offset) != 0)
		return;
	resp->kind = API_STREAM;
	resp->status = 200;
	resp->session = s;
	session_ref(s);
	resp->offset = offset;
	resp->include_raw = reply_arg_bool(req, "include_raw");
}

static void
api_events_ws(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	if (!req->websocket) {
		reply_problem(resp, 400, "invalid_request",
		    "this route needs a WebSocket upgrade");
		return;
	}
	api_events_sse(req, m, resp);
}

static const struct api_command *
api_command_find(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < nitems(api_commands); i++) {
		if (strcmp(api_commands[i].type, type) == 0)
			return (&api_commands[i]);
	}
	return (NULL);
}

/* A session command's route: POST /v1/sessions/{id}/…. */
static void
api_command(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const struct api_command *cmd;
	struct session		 *s;
	cJSON			 *body = NULL;

	if ((cmd = api_command_find(m->command)) == NULL) {
		reply_problem(resp, 500, "internal", "no command '%s'",
		    m->command != NULL ? m->command : "");
		return;
	}
	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	if (cmd->body && (body = reply_body(req, resp, 0)) == NULL)
		return;
	cmd->fn(s, m->n > 1 ? m->part[1] : NULL, body, resp);
	json_free(body);
}

/*
 * A WebSocket client's command: {"type", "id"?, …} with the members of the
 * route's body, and the route's path id as "permission_id" or
 * "question_id". s is the session the socket follows, NULL for another
 * stream (an ACP server's). Returns the reply frame, malloc'd; reply_to is
 * the command's "id", else its type, else "".
 */
char *
api_ws_command(struct session *s, const char *text, size_t len)
{
	const struct api_command *cmd = NULL;
	struct api_response	  resp;
	const char		 *err = NULL, *type = NULL, *ref = "";
	const char		 *target = NULL;
	cJSON			 *o;
	char			 *frame;

	memset(&resp, 0, sizeof resp);
	if ((o = json_parse(text, len, &err)) != NULL && json_is_obj(o)) {
		type = json_get_str(o, "type");
		if ((ref = json_get_str(o, "id")) == NULL)
			ref = type != NULL ? type : "";
	}
	/* In the route's order: the session, the body, its members. */
	if (s == NULL)
		reply_problem(&resp, 409, "read_only",
		    "this stream is not a session's and takes no commands");
	else if (!api_session_writable(s, &resp))
		; /* resp has the problem */
	else if (o == NULL)
		reply_problem(&resp, 400, "invalid_request",
		    "malformed JSON command: %s", err);
	else if (!json_is_obj(o))
		reply_problem(&resp, 400, "invalid_request",
		    "a command must be a JSON object");
	else if (json_scan_nul(text, len))
		reply_problem(&resp, 400, "invalid_request",
		    "a string of the command holds a NUL (\\u0000)");
	else if (type == NULL)
		reply_problem(&resp, 400, "invalid_request",
		    "'type' (a string) is required");
	else if ((cmd = api_command_find(type)) == NULL)
		reply_problem(&resp, 400, "invalid_request",
		    "unknown command type '%s'", type);
	else if (cmd->target != NULL &&
	    (target = json_get_str(o, cmd->target)) == NULL)
		reply_problem(&resp, 400, "invalid_request",
		    "'%s' (a string) is required", cmd->target);
	else
		cmd->fn(s, target, o, &resp);
	frame = reply_frame(ref, &resp);
	free(resp.body);
	json_free(o);
	return (frame);
}

/* Answer with what a session_* call returned. */
static void
api_command_done(struct api_response *resp, int status, char *cause)
{
	if (status != 0)
		reply_fail(resp, status, cause);
	else
		reply_no_content(resp);
}

/* {"message": text, "attachments"?}: session.c checks the rest. */
static void
api_message(struct session *s, const char *target, const cJSON *args,
    struct api_response *resp)
{
	char *cause = NULL;
	int   status;

	if (json_get_str(args, "message") == NULL) {
		reply_problem(resp, 400, "invalid_request",
		    "'message' (a string) is required");
		return;
	}
	status = session_post_message(s, args, &cause);
	api_command_done(resp, status, cause);
}

/* {"reply": "once" | "always" | "reject"}, protocol/event.c's words. */
static void
api_permission_reply(struct session *s, const char *target, const cJSON *args,
    struct api_response *resp)
{
	enum permission_reply reply;
	char		      words[64];
	char		     *cause = NULL;
	size_t		      len;
	int		      i, status;

	if (event_permission_reply(json_get_str(args, "reply"), &reply) != 0) {
		words[0] = '\0';
		for (i = 0; event_permission_word(i) != NULL; i++) {
			len = strlen(words);
			(void)snprintf(words + len, sizeof words - len,
			    "%s\"%s\"", i > 0 ? ", " : "",
			    event_permission_word(i));
		}
		reply_problem(resp, 400, "invalid_request",
		    "'reply' must be one of %s", words);
		return;
	}
	status = session_reply_permission(s, target, reply, &cause);
	api_command_done(resp, status, cause);
}

/*
 * {"answers": [["label", …], …]}: one array of strings per question. The
 * route and the frame refuse anything else here, before the agent or the
 * log sees it.
 */
static void
api_question_reply(struct session *s, const char *target, const cJSON *args,
    struct api_response *resp)
{
	const cJSON *answers, *a, *l;
	char	    *cause = NULL;
	int	     status;

	if ((answers = json_get_arr(args, "answers")) == NULL)
		goto bad;
	JSON_FOREACH(a, answers) {
		if (!json_is_arr(a))
			goto bad;
		JSON_FOREACH(l, a) {
			if (!json_is_str(l))
				goto bad;
		}
	}
	status = session_reply_question(s, target, answers, &cause);
	api_command_done(resp, status, cause);
	return;
bad:
	reply_problem(resp, 400, "invalid_request",
	    "'answers' must be an array of arrays of labels");
}

static void
api_question_reject(struct session *s, const char *target, const cJSON *args,
    struct api_response *resp)
{
	char *cause = NULL;
	int   status;

	status = session_reply_question(s, target, NULL, &cause);
	api_command_done(resp, status, cause);
}

static void
api_cancel(struct session *s, const char *target, const cJSON *args,
    struct api_response *resp)
{
	char *cause = NULL;
	int   status;

	status = session_cancel(s, &cause);
	api_command_done(resp, status, cause);
}

static void
api_terminate(struct session *s, const char *target, const cJSON *args,
    struct api_response *resp)
{
	session_terminate(s);
	reply_no_content(resp);
}

/*
 * {model?, mode?, permissionMode?, effort?}: session.c checks it, the
 * adapter maps it to the agent (409 or 422 when it cannot).
 */
static void
api_config(struct session *s, const char *target, const cJSON *args,
    struct api_response *resp)
{
	cJSON *o, *v;
	char  *cause = NULL;
	int    status;

	/*
	 * The frame's own members are not the session's. A key may repeat
	 * (the parser keeps duplicates), so every copy goes.
	 */
	o = json_dup(args);
	while ((v = json_detach(o, "type")) != NULL)
		json_free(v);
	while ((v = json_detach(o, "id")) != NULL)
		json_free(v);
	status = session_configure(s, o, &cause);
	json_free(o);
	if (status == 422) { /* not a limit's 422 (reply_fail's) */
		reply_problem(resp, 422, "value_not_offered", "%s", cause);
		free(cause);
		return;
	}
	api_command_done(resp, status, cause);
}

/*
 * GET /ui, /ui/ and its files: ui.c's gzipped bytes as they are to a
 * client that accepts gzip, decoded (protocol/inflate.c) for one that
 * does not.
 */
static void
api_ui(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const struct ui_asset *a;
	const char	      *name;
	unsigned char	      *plain;
	size_t		       len;

	if (m->n > 0)
		name = m->part[0];
	else /* "" for /ui: a page that sends the browser on to /ui/ */
		name = strcmp(req->path, "/ui") == 0 ? "" : "index.html";
	if ((a = ui_lookup(name)) == NULL) {
		reply_problem(
		    resp, 404, "not_found", "no file '%s' in /ui/", name);
		return;
	}
	resp->kind = API_REPLY;
	resp->status = 200;
	resp->content_type = a->content_type;
	resp->cache_control = "private, max-age=60";
	resp->vary = "accept-encoding";
	if (reply_accepts_gzip(req)) {
		resp->content_encoding = "gzip";
		resp->static_body = a->data;
		resp->len = (size_t)(a->end - a->data);
		return;
	}
	plain =
	    inflate_gzip(a->data, (size_t)(a->end - a->data), 64UL << 20, &len);
	if (plain == NULL) {
		reply_problem(
		    resp, 500, "internal", "cannot decode /ui/%s", name);
		return;
	}
	resp->body = (char *)plain;
	resp->len = len;
}

/* ACP over HTTP (sandbox-agent 0.2-0.4): acpserver.c. */
static void
api_acp_list(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	acpserver_list(req, resp);
}

static void
api_acp_post(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	acpserver_post(req, m->part[0], resp);
}

static void
api_acp_get(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	acpserver_get(req, m->part[0], resp);
}

static void
api_acp_delete(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	acpserver_delete(req, m->part[0], resp);
}

/* GET /v1/metrics: the Prometheus text format (metrics.c). */
static void
api_metrics(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	metrics_reply(resp);
}

/* Does this event end a messages/stream answer (sandbox-agent's rule)? */
int
api_stream_stops(enum event_type type)
{
	switch (type) {
	case EVENT_TURN_ENDED:
	case EVENT_SESSION_ENDED:
	case EVENT_ERROR:
	case EVENT_AGENT_UNPARSED:
	case EVENT_PERMISSION_REQUESTED:
	case EVENT_QUESTION_REQUESTED:
		return (1);
	default:
		return (0);
	}
}
