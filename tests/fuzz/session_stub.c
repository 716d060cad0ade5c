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
