/*
 * session_stub.c: the session_* functions supervisor/http/api.c and server.c
 * call, as a small fake session table, for fuzzing the request layer
 * without agents, disk or an event loop.
 *
 * The fakes check what the API layer hands them (valid session ids, JSON
 * of the right type, known reply values, no NULL where a string is due),
 * answer with the statuses the real session.c uses (400, 404, 409) and
 * serve a few real serialised events to readers, so the whole request
 * path of api.c runs. loop_now_ms and log_msg are here too.
 */
#include <string.h>

#include "../../supervisor/http/http.h"
#include "fuzz.h"
#include "session_stub.h"

#define STUB_MAX 8

struct session {
	char	 id[130];
	int	 used;
	int	 refs;
	int	 ended;
	int	 in_turn;
	uint64_t last_seq;
	char	 driver[16]; /* the ACP server driving it, or "" */
};

static struct session stub_sessions[STUB_MAX];

void
stub_sessions_reset(void)
{
	size_t i;

	for (i = 0; i < STUB_MAX; i++)
		FUZZ_CHECK(stub_sessions[i].refs == 0,
		    "session %s: %d "
		    "references left",
		    stub_sessions[i].id, stub_sessions[i].refs);
	memset(stub_sessions, 0, sizeof stub_sessions);
	strcpy(stub_sessions[0].id, "s1");
	stub_sessions[0].used = 1;
	stub_sessions[0].last_seq = 5;
	stub_sessions[0].in_turn = 1;
	strcpy(stub_sessions[1].id, "ended");
	stub_sessions[1].used = 1;
	stub_sessions[1].last_seq = 3;
	stub_sessions[1].ended = 1;
	strcpy(stub_sessions[2].id, "driven");
	stub_sessions[2].used = 1;
	stub_sessions[2].last_seq = 2;
	strcpy(stub_sessions[2].driver, "acp1"); /* writes answer 409 */
}

int64_t
loop_now_ms(void)
{
	return (1000);
}

void
log_msg(enum log_level level, const char *fn, const char *fmt, ...)
{
}

int
session_valid_id(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0' || id[0] == '.')
		return (0);
	for (i = 0; id[i] != '\0'; i++) {
		if (i == 128 ||
		    strchr("abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			id[i]) == NULL)
			return (0);
	}
	return (1);
}

struct session *
session_find(const char *id)
{
	size_t i;

	FUZZ_CHECK(id != NULL, "session_find(NULL)");
	for (i = 0; i < STUB_MAX; i++) {
		if (stub_sessions[i].used &&
		    strcmp(stub_sessions[i].id, id) == 0)
			return (&stub_sessions[i]);
	}
	return (NULL);
}

int
session_create(
    const char *id, const cJSON *req, struct session **sp, char **cause)
{
	size_t i;

	FUZZ_CHECK(session_valid_id(id), "create with an invalid id");
	FUZZ_CHECK(json_is_obj(req), "create with a body that is no object");
	if (session_find(id) != NULL) {
		xasprintf(cause, "session '%s' already exists", id);
		return (409);
	}
	if (json_get_str(req, "agent") == NULL) {
		*cause = xstrdup("'agent' (a string) is required");
		return (400);
	}
	for (i = 0; i < STUB_MAX; i++) {
		if (!stub_sessions[i].used) {
			memset(&stub_sessions[i], 0, sizeof stub_sessions[i]);
			strcpy(stub_sessions[i].id, id);
			stub_sessions[i].used = 1;
			*sp = &stub_sessions[i];
			return (0);
		}
	}
	*cause = xstrdup("too many sessions");
	return (409);
}

cJSON *
session_info(struct session *s)
{
	cJSON *o;

	FUZZ_CHECK(s != NULL && s->used, "info of no session");
	o = json_object();
	json_set_str(o, "sessionId", s->id);
	json_set_int(o, "eventCount", (long long)s->last_seq);
	return (o);
}

cJSON *
session_list(void)
{
	cJSON *a;
	size_t i;

	a = json_array();
	for (i = 0; i < STUB_MAX; i++) {
		if (stub_sessions[i].used)
			json_append(a, session_info(&stub_sessions[i]));
	}
	return (a);
}

int
session_post_message(struct session *s, const cJSON *body, char **cause)
{
	FUZZ_CHECK(s != NULL && s->used, "message to no session");
	FUZZ_CHECK(json_is_obj(body), "message body is no object");
	if (json_get_str(body, "message") == NULL) {
		*cause = xstrdup("'message' (a string) is required");
		return (400);
	}
	if (s->ended) {
		*cause = xstrdup("the session has ended");
		return (409);
	}
	s->in_turn = 1;
	return (0);
}

int
session_reply_permission(struct session *s, const char *id,
    enum permission_reply reply, char **cause)
{
	FUZZ_CHECK(s != NULL && s->used, "reply to no session");
	FUZZ_CHECK(id != NULL, "permission id NULL"); /* "" from WS: 404 */
	FUZZ_CHECK(reply == PERMISSION_ONCE || reply == PERMISSION_ALWAYS ||
		reply == PERMISSION_REJECT,
	    "reply %d", (int)reply);
	if (strcmp(id, "perm_1") != 0) {
		xasprintf(cause, "no permission '%s'", id);
		return (404);
	}
	return (0);
}

int
session_reply_question(
    struct session *s, const char *id, const cJSON *answers, char **cause)
{
	FUZZ_CHECK(s != NULL && s->used, "reply to no session");
	FUZZ_CHECK(id != NULL, "question id NULL"); /* "" from WS: 404 */
	FUZZ_CHECK(
	    answers == NULL || json_is_arr(answers), "answers not an array");
	if (strcmp(id, "q_1") != 0) {
		xasprintf(cause, "no question '%s'", id);
		return (404);
	}
	return (0);
}

int
session_cancel(struct session *s, char **cause)
{
	FUZZ_CHECK(s != NULL && s->used, "cancel of no session");
	if (!s->in_turn) {
		*cause = xstrdup("no turn is running");
		return (409);
	}
	s->in_turn = 0;
	return (0);
}

/* The config command: an object without the frame's own members. */
int
session_configure(struct session *s, const cJSON *body, char **cause)
{
	FUZZ_CHECK(s != NULL && s->used, "config of no session");
	FUZZ_CHECK(json_is_obj(body), "config body is no object");
	FUZZ_CHECK(
	    json_get(body, "type") == NULL && json_get(body, "id") == NULL,
	    "the frame's type or id reached the session");
	if (json_get_str(body, "model") == NULL &&
	    json_get_str(body, "mode") == NULL &&
	    json_get_str(body, "permissionMode") == NULL &&
	    json_get_str(body, "effort") == NULL) {
		*cause = xstrdup("nothing to change");
		return (400);
	}
	if (s->ended) {
		*cause = xstrdup("the session has ended");
		return (409);
	}
	return (0);
}

int
session_terminate(struct session *s)
{
	FUZZ_CHECK(s != NULL && s->used, "terminate of no session");
	s->ended = 1;
	return (0);
}

void
session_delete(struct session *s)
{
	FUZZ_CHECK(s != NULL && s->used, "delete of no session");
	s->used = 0;
}

uint64_t
session_last_seq(struct session *s)
{
	return (s->last_seq);
}

int
session_is_dead(struct session *s)
{
	return (!s->used);
}

void
session_ref(struct session *s)
{
	s->refs++;
}

void
session_unref(struct session *s)
{
	FUZZ_CHECK(s->refs > 0, "unref without ref");
	s->refs--;
}

/* No harness here starts a server: no stream ever subscribes. */
struct journal *
session_journal(struct session *s)
{
	abort();
}

/* Real serialised events 1..last_seq, raw included. */
int
session_read(struct session *s, uint64_t after, size_t max, journal_read_cb cb,
    void *arg)
{
	struct event	ev;
	enum event_type type;
	uint64_t	seq;
	size_t		len, noraw, scanned;
	cJSON	       *data;
	char	       *line;
	int		n = 0, stop;

	for (seq = after + 1; seq <= s->last_seq; seq++) {
		memset(&ev, 0, sizeof ev);
		ev.sequence = seq;
		ev.time_ms = 1700000000000LL;
		ev.session_id = s->id;
		ev.type = seq == 1 ? EVENT_SESSION_STARTED : EVENT_ITEM_DELTA;
		data = json_object();
		json_set_str(data, "item_id", "itm_1");
		json_set_str(data, "delta", "h\xc3\xa9llo \"x\"");
		ev.data = data;
		ev.raw = "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}";
		ev.rawlen = strlen(ev.raw);
		line = event_serialize(&ev, &len, &noraw);
		json_free(data);
		FUZZ_CHECK(event_scan(line, len, &type, &scanned) == 0 &&
			scanned == noraw,
		    "event_scan on a served event");
		stop = cb(arg, seq, type, line, len, noraw);
		free(line);
		n++;
		if (stop != 0 || len >= max)
			break;
	}
	return (n);
}

/* -- agents.c and adapter.c, as far as api.c asks them */

static const struct agent_profile stub_profiles[] = {
	{ "mock", NULL, NULL, NULL, NULL, AGENT_BUILTIN },
	{ "acp", NULL, NULL, NULL, NULL, AGENT_CUSTOM_COMMAND },
	{ "claude", NULL, NULL, "@anthropic-ai/claude-code@1.0.0", NULL, 0 },
};

const struct agent_profile *
adapter_find_agent(const char *id)
{
	size_t i;

	FUZZ_CHECK(id != NULL, "adapter_find_agent(NULL)");
	for (i = 0; i < nitems(stub_profiles); i++) {
		if (strcmp(stub_profiles[i].id, id) == 0)
			return (&stub_profiles[i]);
	}
	return (NULL);
}

cJSON *
agents_info(const struct agent_profile *p)
{
	cJSON *o;

	FUZZ_CHECK(
	    p >= stub_profiles && p < stub_profiles + nitems(stub_profiles),
	    "agents_info of no profile");
	o = json_object();
	json_set_str(o, "id", p->id);
	json_set_bool(o, "installed", 1);
	return (o);
}

cJSON *
agents_list(void)
{
	cJSON *a;
	size_t i;

	a = json_array();
	for (i = 0; i < nitems(stub_profiles); i++)
		json_append(a, agents_info(&stub_profiles[i]));
	return (a);
}

/* Answers as agents.c does when npm cannot start: nothing is waited for. */
int
agents_install(
    const struct agent_profile *p, agents_done_cb done, void *arg, char **cause)
{
	FUZZ_CHECK(
	    p >= stub_profiles && p < stub_profiles + nitems(stub_profiles),
	    "install of no profile");
	FUZZ_CHECK(done != NULL, "install without a callback");
	if (p->npm_package == NULL) {
		xasprintf(cause,
		    "agent %s is not installed from npm; install it by hand",
		    p->id);
		return (400);
	}
	xasprintf(cause, "an install of %s is already running", p->id);
	return (409);
}

const char *
session_driver(struct session *s)
{
	FUZZ_CHECK(s != NULL && s->used, "driver of no session");
	return (s->driver[0] != '\0' ? s->driver : NULL);
}

/*
 * acpserver.c (ACP over HTTP) is not part of this harness yet: its routes
 * answer a problem here. A harness of its own should fuzz it.
 */
void
acpserver_list(const struct api_request *req, struct api_response *resp)
{
	reply_problem(resp, 404, "not_found", "no ACP servers in the harness");
}

void
acpserver_post(
    const struct api_request *req, const char *id, struct api_response *resp)
{
	FUZZ_CHECK(id != NULL && *id != '\0', "acp server id empty");
	reply_problem(resp, 404, "not_found", "no ACP servers in the harness");
}

void
acpserver_get(
    const struct api_request *req, const char *id, struct api_response *resp)
{
	FUZZ_CHECK(id != NULL && *id != '\0', "acp server id empty");
	reply_problem(resp, 404, "not_found", "no ACP servers in the harness");
}

void
acpserver_delete(
    const struct api_request *req, const char *id, struct api_response *resp)
{
	FUZZ_CHECK(id != NULL && *id != '\0', "acp server id empty");
	reply_problem(resp, 404, "not_found", "no ACP servers in the harness");
}

/* The embedded documents are not linked into the fuzz targets. */
const struct ui_asset *
ui_lookup(const char *name)
{
	return (NULL);
}

const char *
openapi_document(size_t *len)
{
	*len = 2;
	return ("{}");
}

int
agents_installed(const struct agent_profile *p)
{
	return (1); /* no install on demand in the fuzz targets */
}

/* GET /v1/metrics (metrics.c reads every layer below; not linked here). */
void
metrics_reply(struct api_response *resp)
{
	resp->kind = API_REPLY;
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4";
	resp->body = xstrdup("# harness\n");
	resp->len = strlen(resp->body);
}

/* server.c's counters (fuzz_ws.c links server.c). */
void
metrics_clients(int delta)
{
}

void
metrics_streams(int delta)
{
}

void
metrics_request(void)
{
}

void
metrics_sent(size_t n)
{
}

/*
 * fs.c touches the disk: here every path is checked as the routes hand
 * it over (a NUL-free string) and answered 404, so sandbox.c's argument
 * handling runs without a file being read or written.
 */
static int
stub_fs_path(const char *path, char **cause)
{
	FUZZ_CHECK(path == NULL || strlen(path) < 1 << 20, "path too long");
	xasprintf(cause, "no files in the harness");
	return (404);
}

int
fs_resolve(const char *path, char **out, char **cause)
{
	return (stub_fs_path(path, cause));
}

int
fs_entries(const char *path, cJSON **out, char **cause)
{
	return (stub_fs_path(path, cause));
}

int
fs_stat(const char *path, cJSON **out, char **cause)
{
	FUZZ_CHECK(path != NULL && *path != '\0', "stat of no path");
	return (stub_fs_path(path, cause));
}

int
fs_open(const char *path, int *fd, uint64_t *size, char **cause)
{
	FUZZ_CHECK(path != NULL && *path != '\0', "read of no path");
	return (stub_fs_path(path, cause));
}

int
fs_mkdir(const char *path, cJSON **out, char **cause)
{
	FUZZ_CHECK(path != NULL && *path != '\0', "mkdir of no path");
	return (stub_fs_path(path, cause));
}

int
fs_move(
    const char *from, const char *to, int overwrite, cJSON **out, char **cause)
{
	FUZZ_CHECK(from != NULL && to != NULL, "move without both paths");
	FUZZ_CHECK(overwrite == 0 || overwrite == 1, "overwrite %d", overwrite);
	return (stub_fs_path(from, cause));
}

int
fs_delete(const char *path, int recursive, cJSON **out, char **cause)
{
	FUZZ_CHECK(path != NULL && *path != '\0', "delete of no path");
	return (stub_fs_path(path, cause));
}

int
fs_write_begin(
    const char *path, int parents, struct fs_upload **up, char **cause)
{
	FUZZ_CHECK(path != NULL && *path != '\0', "write of no path");
	return (stub_fs_path(path, cause));
}

int
fs_batch_begin(const char *dest, struct fs_upload **up, char **cause)
{
	return (stub_fs_path(dest, cause));
}

int
fs_upload_write(struct fs_upload *u, const char *p, size_t len, char **cause)
{
	FUZZ_CHECK(0, "no upload was started");
	return (500);
}

int
fs_upload_end(struct fs_upload *u, cJSON **out, char **cause)
{
	FUZZ_CHECK(0, "no upload was started");
	return (500);
}

void
fs_upload_abort(struct fs_upload *u)
{
	FUZZ_CHECK(0, "no upload was started");
}

/*
 * dirconfig.c keeps MCP servers and skills on disk: here there is none.
 * Each call checks what the route hands it and finds nothing (404), so
 * the routes of /v1/config run their argument handling only.
 */
int
dirconfig_get(enum dirconfig_kind kind, const char *dir, const char *name,
    cJSON **out, char **cause)
{
	FUZZ_CHECK(dir != NULL && name != NULL, "config without its arguments");
	FUZZ_CHECK(kind == DIRCONFIG_MCP || kind == DIRCONFIG_SKILLS,
	    "config kind %d", (int)kind);
	xasprintf(cause, "no config in the harness");
	return (404);
}

int
dirconfig_set(enum dirconfig_kind kind, const char *dir, const char *name,
    const cJSON *body, char **cause)
{
	FUZZ_CHECK(dir != NULL && name != NULL, "config without its arguments");
	FUZZ_CHECK(json_is_obj(body), "config body not an object");
	xasprintf(cause, "no config in the harness");
	return (400);
}

int
dirconfig_delete(
    enum dirconfig_kind kind, const char *dir, const char *name, char **cause)
{
	FUZZ_CHECK(dir != NULL && name != NULL, "config without its arguments");
	return (0);
}

/*
 * procs.c starts processes: here there are none. Creates and runs check
 * the body they get and are refused (409), lookups find nothing, so the
 * routes of /v1/processes run their argument handling only.
 */
cJSON *
procs_config(void)
{
	cJSON *o = json_object();

	json_set_int(o, "maxConcurrentProcesses", 64);
	return (o);
}

int
procs_set_config(const cJSON *body, cJSON **out, char **cause)
{
	FUZZ_CHECK(json_is_obj(body), "config body not an object");
	*out = procs_config();
	return (0);
}

int
procs_create(const cJSON *body, cJSON **out, char **cause)
{
	FUZZ_CHECK(json_is_obj(body), "create body not an object");
	*cause = xstrdup("no processes in the harness");
	return (409);
}

int
procs_run(const cJSON *body, procs_run_cb cb, void *arg, char **cause)
{
	FUZZ_CHECK(json_is_obj(body), "run body not an object");
	*cause = xstrdup("no processes in the harness");
	return (409);
}

cJSON *
procs_list(const char *owner)
{
	cJSON *o = json_object();

	json_set(o, "processes", json_array());
	return (o);
}

struct process *
procs_find(const char *id)
{
	FUZZ_CHECK(id != NULL && *id != '\0', "process id empty");
	return (NULL);
}

#define STUB_NO_PROCESS() FUZZ_CHECK(0, "%s without a process", __func__)

cJSON *
procs_info(struct process *p)
{
	STUB_NO_PROCESS();
	return (NULL);
}

void
procs_ref(struct process *p)
{
	STUB_NO_PROCESS();
}

void
procs_unref(struct process *p)
{
	STUB_NO_PROCESS();
}

int
procs_running(struct process *p)
{
	STUB_NO_PROCESS();
	return (0);
}

int
procs_is_tty(struct process *p)
{
	STUB_NO_PROCESS();
	return (0);
}

const char *
procs_id(struct process *p)
{
	STUB_NO_PROCESS();
	return ("");
}

struct journal *
procs_journal(struct process *p)
{
	STUB_NO_PROCESS();
	return (NULL);
}

uint64_t
procs_scrollback(struct process *p)
{
	STUB_NO_PROCESS();
	return (0);
}

int
procs_delete(struct process *p, char **cause)
{
	STUB_NO_PROCESS();
	return (500);
}

int
procs_decode_input(
    const char *data, const char *enc, char **out, size_t *len, char **cause)
{
	STUB_NO_PROCESS();
	return (500);
}

int
procs_write(struct process *p, const char *buf, size_t len, char **cause)
{
	STUB_NO_PROCESS();
	return (500);
}

int
procs_input(struct process *p, const cJSON *body, cJSON **out, char **cause)
{
	STUB_NO_PROCESS();
	return (500);
}

void
procs_signal(struct process *p, int kill)
{
	STUB_NO_PROCESS();
}

void
procs_wait(struct process *p, int64_t ms, procs_wait_cb cb, void *arg)
{
	STUB_NO_PROCESS();
}

int
procs_resize(struct process *p, long long cols, long long rows, char **cause)
{
	STUB_NO_PROCESS();
	return (500);
}

int
procs_stream_filter(struct process *p, const char *name, int *filter)
{
	STUB_NO_PROCESS();
	return (-1);
}

int
procs_entry_matches(const char *line, size_t len, int filter)
{
	STUB_NO_PROCESS();
	return (0);
}

int
procs_entry_bytes(const char *line, size_t len, char *out, size_t *outlen)
{
	STUB_NO_PROCESS();
	return (-1);
}

int
procs_logs(struct process *p, int filter, const char *stream, uint64_t since,
    uint64_t tail, cJSON **out, char **cause)
{
	STUB_NO_PROCESS();
	return (500);
}

/*
 * archive.c reads and writes session directories: here an export is
 * refused like a missing file, and an import checks its arguments as the
 * route hands them over and is refused before any body.
 */
int
archive_export(struct session *s, int secrets, archive_export_cb cb, void *arg,
    char **cause)
{
	FUZZ_CHECK(s != NULL, "export of no session");
	FUZZ_CHECK(secrets == 0 || secrets == 1, "secrets %d", secrets);
	xasprintf(cause, "no exports in the harness");
	return (404);
}

struct archive_import *
archive_import_new(const char *id, const char *cwd, const char *home,
    int *status, char **cause)
{
	FUZZ_CHECK(id == NULL || strlen(id) < 1 << 20, "id too long");
	FUZZ_CHECK(cwd == NULL || strlen(cwd) < 1 << 20, "cwd too long");
	FUZZ_CHECK(home == NULL || strlen(home) < 1 << 20, "home too long");
	xasprintf(cause, "no imports in the harness");
	*status = 400;
	return (NULL);
}

int
archive_import_feed(
    struct archive_import *im, const char *p, size_t len, char **cause)
{
	FUZZ_CHECK(0, "no import was started");
	return (500);
}

struct session *
archive_import_finish(struct archive_import *im, int *status, char **cause)
{
	FUZZ_CHECK(0, "no import was started");
	return (NULL);
}

void
archive_import_counts(struct archive_import *im, size_t *files, size_t *skipped)
{
	FUZZ_CHECK(0, "no import was started");
}

void
archive_import_free(struct archive_import *im)
{
	FUZZ_CHECK(0, "no import was started");
}
