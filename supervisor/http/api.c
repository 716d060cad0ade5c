/*
 * api.c: the HTTP routes of DESIGN.md section 5, without libwebsockets.
 *
 * server.c turns a request into a struct api_request and writes back the
 * struct api_response this file fills: a JSON reply or problem+json, or an
 * instruction to stream a session (SSE or WebSocket). Routing is a table of
 * path patterns; a path that matches with another method gets 405 with
 * Allow, and no path matches 404. Every error is RFC 7807 with a detail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define API_MAX_PARTS 6

struct api_match {
	const char *part[API_MAX_PARTS];
	char	    buf[1024];
	int	    n;
};

typedef void (*api_fn)(
    const struct api_request *, struct api_match *, struct api_response *);

struct api_route {
	enum http_method method;
	const char	*pattern; /* "*" matches one segment */
	api_fn		 fn;
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
static int  api_install_first(const char *, cJSON *, struct api_response *);
static void api_session_get(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_session_delete(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_messages(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_messages_stream(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_events(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_events_sse(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_events_ws(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_permission_reply(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_question_reply(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_question_reject(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_cancel(
    const struct api_request *, struct api_match *, struct api_response *);
static void api_terminate(
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

static const struct api_route api_routes[] = {
	{ HTTP_GET, "/v1/health", api_health },
	{ HTTP_GET, "/v1/openapi.json", api_openapi },
	{ HTTP_GET, "/v1/agents", api_agents_list },
	{ HTTP_GET, "/v1/agents/*", api_agent_get },
	{ HTTP_POST, "/v1/agents/*/install", api_agent_install },
	{ HTTP_GET, "/v1/sessions", api_sessions_list },
	{ HTTP_POST, "/v1/sessions/*", api_session_create },
	{ HTTP_GET, "/v1/sessions/*", api_session_get },
	{ HTTP_DELETE, "/v1/sessions/*", api_session_delete },
	{ HTTP_POST, "/v1/sessions/*/messages", api_messages },
	{ HTTP_POST, "/v1/sessions/*/messages/stream", api_messages_stream },
	{ HTTP_GET, "/v1/sessions/*/events", api_events },
	{ HTTP_GET, "/v1/sessions/*/events/sse", api_events_sse },
	{ HTTP_GET, "/v1/sessions/*/events/ws", api_events_ws },
	{ HTTP_POST, "/v1/sessions/*/permissions/*/reply",
	    api_permission_reply },
	{ HTTP_POST, "/v1/sessions/*/questions/*/reply", api_question_reply },
	{ HTTP_POST, "/v1/sessions/*/questions/*/reject", api_question_reject },
	{ HTTP_POST, "/v1/sessions/*/cancel", api_cancel },
	{ HTTP_POST, "/v1/sessions/*/terminate", api_terminate },
	{ HTTP_GET, "/v1/acp", api_acp_list },
	{ HTTP_POST, "/v1/acp/*", api_acp_post },
	{ HTTP_GET, "/v1/acp/*", api_acp_get },
	{ HTTP_DELETE, "/v1/acp/*", api_acp_delete },
	{ HTTP_GET, "/ui", api_ui },
	{ HTTP_GET, "/ui/", api_ui },
	{ HTTP_GET, "/ui/*", api_ui },
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
			r->fn(req, &m, resp);
			return;
		}
		len = strlen(allow);
		(void)snprintf(allow + len, sizeof allow - len, "%s%s",
		    len > 0 ? ", " : "", api_method_names[r->method]);
	}
	if (allow[0] != '\0') {
		api_problem(resp, 405, "method_not_allowed",
		    "%s is not allowed on %s (allowed: %s)",
		    api_method_names[req->method], req->path, allow);
		memcpy(resp->allow, allow, sizeof resp->allow);
		return;
	}
	api_problem(resp, 404, "not_found", "no route for %s %s",
	    api_method_names[req->method], req->path);
}

/* Fill resp with an RFC 7807 problem. */
void
api_problem(struct api_response *resp, int status, const char *type,
    const char *fmt, ...)
{
	static const struct {
		int	    status;
		const char *title;
	} titles[] = {
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 409, "Conflict" },
		{ 413, "Payload Too Large" },
		{ 415, "Unsupported Media Type" },
		{ 500, "Internal Error" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 507, "Insufficient Storage" },
	};
	const char *title = "Error";
	cJSON	   *o;
	va_list	    ap;
	char	   *detail, *urn;
	size_t	    i;

	for (i = 0; i < nitems(titles); i++) {
		if (titles[i].status == status)
			title = titles[i].title;
	}
	va_start(ap, fmt);
	xvasprintf(&detail, fmt, ap);
	va_end(ap);
	if (!utf8_valid(detail, strlen(detail))) { /* a decoded path */
		urn = utf8_repair(detail, strlen(detail), NULL);
		free(detail);
		detail = urn;
	}
	xasprintf(&urn, "urn:agentd:error:%s", type);

	o = json_object();
	json_set_str(o, "type", urn);
	json_set_str(o, "title", title);
	json_set_int(o, "status", status);
	json_set_str(o, "detail", detail);
	free(resp->body);
	resp->kind = API_REPLY;
	resp->status = status;
	resp->content_type = "application/problem+json";
	resp->body = json_print(o, &resp->len);
	json_free(o);
	free(detail);
	free(urn);
}

/* Reply with a JSON document; takes o. */
static void
api_json(struct api_response *resp, int status, cJSON *o)
{
	resp->kind = API_REPLY;
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = json_print(o, &resp->len);
	json_free(o);
}

static void
api_no_content(struct api_response *resp)
{
	resp->kind = API_REPLY;
	resp->status = 204;
	resp->content_type = NULL;
	resp->body = NULL;
	resp->len = 0;
}

/* The value of a query argument, or NULL. */
const char *
api_arg(const struct api_request *req, const char *name)
{
	size_t len = strlen(name);
	int    i;

	for (i = 0; i < req->nargs; i++) {
		if (strncmp(req->args[i], name, len) == 0 &&
		    req->args[i][len] == '=')
			return (req->args[i] + len + 1);
	}
	return (NULL);
}

/* Parse an unsigned decimal query argument; -1 if malformed. */
static int
api_arg_u64(const struct api_request *req, const char *name, uint64_t dflt,
    uint64_t *out)
{
	const char	  *s;
	char		  *end;
	unsigned long long v;

	*out = dflt;
	if ((s = api_arg(req, name)) == NULL || *s == '\0')
		return (0);
	if (*s < '0' || *s > '9')
		return (-1);
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return (-1);
	*out = v;
	return (0);
}

static int
api_arg_bool(const struct api_request *req, const char *name)
{
	const char *s = api_arg(req, name);

	return (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0));
}

/* The request body as a JSON object, or a 400 problem. */
static cJSON *
api_body_object(
    const struct api_request *req, struct api_response *resp, int optional)
{
	const char *err;
	cJSON	   *o;

	if (req->body_len == 0 && optional)
		return (json_object());
	if (req->body_len == 0) {
		api_problem(resp, 400, "invalid_request",
		    "a JSON object body is required");
		return (NULL);
	}
	if ((o = json_parse(req->body, req->body_len, &err)) == NULL) {
		api_problem(resp, 400, "invalid_request",
		    "malformed JSON body: %s", err);
		return (NULL);
	}
	if (!json_is_obj(o)) {
		json_free(o);
		api_problem(resp, 400, "invalid_request",
		    "the body must be a JSON object");
		return (NULL);
	}
	return (o);
}

/* Find the session named in the path, or a 404 problem. */
static struct session *
api_session(struct api_match *m, struct api_response *resp)
{
	struct session *s;

	if ((s = session_find(m->part[0])) == NULL)
		api_problem(resp, 404, "session_not_found", "no session '%s'",
		    m->part[0]);
	return (s);
}

/*
 * The session named in the path, for a write: an ACP server that drives
 * it (acpserver.c) makes it read-only here, 409.
 */
static struct session *
api_session_rw(struct api_match *m, struct api_response *resp)
{
	struct session *s;
	const char     *d;

	if ((s = api_session(m, resp)) == NULL ||
	    (d = session_driver(s)) == NULL)
		return (s);
	api_problem(resp, 409, "session_driven",
	    "session '%s' is driven by "
	    "ACP server '%s' and read-only here (DELETE /v1/acp/%s releases "
	    "it)",
	    m->part[0], d, d);
	return (NULL);
}

/* Turn a session_* failure (an HTTP status and a cause) into a problem. */
static void
api_fail(struct api_response *resp, int status, char *cause)
{
	const char *type;

	switch (status) {
	case 404:
		type = "not_found";
		break;
	case 409:
		type = "conflict";
		break;
	case 503:
		type = "unavailable";
		break;
	case 507:
		type = "insufficient_storage";
		break;
	case 400:
		type = "invalid_request";
		break;
	default:
		type = "internal";
		break;
	}
	api_problem(resp, status, type, "%s", cause != NULL ? cause : "failed");
	free(cause);
}

/* An install's problem: 409 while one runs, install_failed otherwise. */
static void
api_install_fail(struct api_response *resp, int status, char *cause)
{
	api_problem(resp, status, status == 409 ? "conflict" : "install_failed",
	    "%s", cause);
	free(cause);
}

/*
 * An npm install the reply waits for: POST /v1/agents/{agent}/install
 * (answered with the agent's info), or a create with "install": true
 * (id set: answered with the new session once the CLI is there).
 */
struct api_install {
	const struct agent_profile *profile;
	struct api_wait		   *wait;
	char			   *id;
	cJSON			   *body;
};

static void
api_install_free(struct api_install *in)
{
	free(in->id);
	json_free(in->body);
	free(in);
}

static void
api_install_done_cb(void *arg, const char *failed)
{
	struct api_install *in = arg;
	struct api_response r;

	memset(&r, 0, sizeof r);
	if (failed != NULL)
		api_problem(&r, 502, "install_failed", "%s", failed);
	else if (in->id != NULL)
		api_create(in->id, in->body, &r);
	else
		api_json(&r, 200, agents_info(in->profile));
	api_wait_finish(in->wait, &r);
	api_install_free(in);
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
	api_json(resp, 200, o);
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
	api_json(resp, 200, o);
}

/* The agent named in the path, or a 404 problem. */
static const struct agent_profile *
api_agent(struct api_match *m, struct api_response *resp)
{
	const struct agent_profile *p;

	if ((p = adapter_find_agent(m->part[0])) == NULL)
		api_problem(resp, 404, "unsupported_agent", "no agent '%s'",
		    m->part[0]);
	return (p);
}

static void
api_agent_get(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const struct agent_profile *p;

	if ((p = api_agent(m, resp)) != NULL)
		api_json(resp, 200, agents_info(p));
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
	in->wait = api_wait_new(resp);
}

static void
api_sessions_list(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *o;

	o = json_object();
	json_set(o, "sessions", session_list());
	api_json(resp, 200, o);
}

static void
api_session_create(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	cJSON *body;

	if (!session_valid_id(m->part[0])) {
		api_problem(resp, 400, "invalid_request",
		    "invalid session id "
		    "'%s': use 1-128 of [A-Za-z0-9._-], not starting with '.'",
		    m->part[0]);
		return;
	}
	if ((body = api_body_object(req, resp, 0)) == NULL)
		return;
	if (api_install_first(m->part[0], body, resp))
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
		api_fail(resp, status, cause);
		return;
	}
	o = session_info(s);
	json_set_bool(o, "healthy", 1);
	api_json(resp, 200, o);
}

/*
 * "install": true asks for the agent's pinned CLI to be installed first
 * when it is not found; the create's answer then waits for npm. Returns 1
 * if the request was handed over (body then belongs to the install).
 */
static int
api_install_first(const char *id, cJSON *body, struct api_response *resp)
{
	const struct agent_profile *p;
	struct api_install	   *in;
	char			   *cause;
	int			    install = 0, status;

	(void)json_get_bool(body, "install", &install);
	p = adapter_find_agent(json_get_str(body, "agent") != NULL
		? json_get_str(body, "agent")
		: "");
	if (!install || p == NULL || json_get(body, "agentCommand") != NULL ||
	    agents_installed(p))
		return (0);
	if (session_find(id) != NULL) {
		api_problem(
		    resp, 409, "conflict", "session '%s' already exists", id);
		json_free(body);
		return (1);
	}
	in = xcalloc(1, sizeof *in);
	in->profile = p;
	in->id = xstrdup(id);
	in->body = body;
	if ((status = agents_install(p, api_install_done_cb, in, &cause)) !=
	    0) {
		api_install_fail(resp, status, cause);
		api_install_free(in);
		return (1);
	}
	in->wait = api_wait_new(resp);
	return (1);
}

static void
api_session_get(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;

	if ((s = api_session(m, resp)) != NULL)
		api_json(resp, 200, session_info(s));
}

static void
api_session_delete(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	session_delete(s);
	api_no_content(resp);
}

/* Parse and post a message body; 0 on success, else resp has a problem. */
static int
api_post_message(
    const struct api_request *req, struct session *s, struct api_response *resp)
{
	cJSON *body;
	char  *cause;
	int    status;

	if ((body = api_body_object(req, resp, 0)) == NULL)
		return (-1);
	if (json_get_str(body, "message") == NULL) {
		json_free(body);
		api_problem(resp, 400, "invalid_request",
		    "'message' (a string) is required");
		return (-1);
	}
	status = session_post_message(s, body, &cause);
	json_free(body);
	if (status != 0) {
		api_fail(resp, status, cause);
		return (-1);
	}
	return (0);
}

static void
api_messages(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	if (api_post_message(req, s, resp) == 0)
		api_no_content(resp);
}

static void
api_messages_stream(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;
	uint64_t	offset;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	offset = session_last_seq(s); /* subscribe before sending */
	if (api_post_message(req, s, resp) != 0)
		return;
	resp->kind = API_STREAM;
	resp->status = 200;
	resp->session = s;
	session_ref(s);
	resp->offset = offset;
	resp->include_raw = api_arg_bool(req, "include_raw");
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
	if (api_arg_u64(req, "offset", 0, &offset) != 0 ||
	    api_arg_u64(req, "limit", 1000, &c.limit) != 0) {
		api_problem(resp, 400, "invalid_request",
		    "offset and limit must be non-negative integers");
		return;
	}
	if (c.limit == 0 || c.limit > 10000)
		c.limit = c.limit == 0 ? 1000 : 10000;
	c.events = json_array();
	c.include_raw = api_arg_bool(req, "include_raw");
	c.last = offset;
	/* Bounded read: at most 8 MiB of events per answer. */
	if (session_read(s, offset, 8UL << 20, api_collect_cb, &c) < 0 ||
	    c.bad) {
		json_free(c.events);
		api_problem(
		    resp, 500, "internal", "reading the event log failed");
		return;
	}
	o = json_object();
	json_set(o, "events", c.events);
	json_set_bool(o, "hasMore", c.last < session_last_seq(s));
	api_json(resp, 200, o);
}

/* A stream's starting point: ?offset= or Last-Event-ID, else 0. */
static int
api_stream_offset(
    const struct api_request *req, struct api_response *resp, uint64_t *offset)
{
	char		  *end;
	unsigned long long v;

	if (api_arg_u64(req, "offset", 0, offset) != 0) {
		api_problem(resp, 400, "invalid_request",
		    "offset must be a non-negative integer");
		return (-1);
	}
	if (api_arg(req, "offset") == NULL && req->last_event_id != NULL &&
	    *req->last_event_id != '\0') {
		v = strtoull(req->last_event_id, &end, 10);
		if (*end != '\0') {
			api_problem(resp, 400, "invalid_request",
			    "Last-Event-ID must be a sequence number");
			return (-1);
		}
		*offset = v;
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
	if (api_stream_offset(req, resp, &offset) != 0)
		return;
	resp->kind = API_STREAM;
	resp->status = 200;
	resp->session = s;
	session_ref(s);
	resp->offset = offset;
	resp->include_raw = api_arg_bool(req, "include_raw");
}

static void
api_events_ws(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	if (!req->websocket) {
		api_problem(resp, 400, "invalid_request",
		    "this route needs a WebSocket upgrade");
		return;
	}
	api_events_sse(req, m, resp);
}

static void
api_permission_reply(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	static const struct {
		const char	     *name;
		enum permission_reply reply;
	} replies[] = {
		{ "once", PERMISSION_ONCE },
		{ "always", PERMISSION_ALWAYS },
		{ "reject", PERMISSION_REJECT },
	};
	struct session *s;
	const char     *r;
	cJSON	       *body;
	char	       *cause;
	size_t		i;
	int		status;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	if ((body = api_body_object(req, resp, 0)) == NULL)
		return;
	r = json_get_str(body, "reply");
	for (i = 0; i < nitems(replies); i++) {
		if (r != NULL && strcmp(r, replies[i].name) == 0)
			break;
	}
	json_free(body);
	if (i == nitems(replies)) {
		api_problem(resp, 400, "invalid_request",
		    "'reply' must be \"once\", \"always\" or \"reject\"");
		return;
	}
	status =
	    session_reply_permission(s, m->part[1], replies[i].reply, &cause);
	if (status != 0)
		api_fail(resp, status, cause);
	else
		api_no_content(resp);
}

static void
api_question_reply(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;
	cJSON	       *body, *answers, *a, *l;
	char	       *cause;
	int		status;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	if ((body = api_body_object(req, resp, 0)) == NULL)
		return;
	answers = json_get_arr(body, "answers");
	if (answers == NULL) {
		json_free(body);
		api_problem(resp, 400, "invalid_request",
		    "'answers' must be an array of arrays of labels");
		return;
	}
	JSON_FOREACH(a, answers) {
		if (!json_is_arr(a))
			goto bad;
		JSON_FOREACH(l, a) {
			if (!json_is_str(l))
				goto bad;
		}
	}
	status = session_reply_question(s, m->part[1], answers, &cause);
	json_free(body);
	if (status != 0)
		api_fail(resp, status, cause);
	else
		api_no_content(resp);
	return;
bad:
	json_free(body);
	api_problem(resp, 400, "invalid_request",
	    "'answers' must be an array of arrays of labels");
}

static void
api_question_reject(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;
	char	       *cause;
	int		status;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	status = session_reply_question(s, m->part[1], NULL, &cause);
	if (status != 0)
		api_fail(resp, status, cause);
	else
		api_no_content(resp);
}

static void
api_cancel(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;
	char	       *cause;
	int		status;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	if ((status = session_cancel(s, &cause)) != 0)
		api_fail(resp, status, cause);
	else
		api_no_content(resp);
}

static void
api_terminate(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	struct session *s;

	if ((s = api_session_rw(m, resp)) == NULL)
		return;
	session_terminate(s);
	api_no_content(resp);
}

/* GET /ui, /ui/ and its files: ui.c's gzipped bytes as they are. */
static void
api_ui(const struct api_request *req, struct api_match *m,
    struct api_response *resp)
{
	const struct ui_asset *a;
	const char	      *name;

	if (m->n > 0)
		name = m->part[0];
	else /* "" for /ui: a page that sends the browser on to /ui/ */
		name = strcmp(req->path, "/ui") == 0 ? "" : "index.html";
	if ((a = ui_lookup(name)) == NULL) {
		api_problem(
		    resp, 404, "not_found", "no file '%s' in /ui/", name);
		return;
	}
	resp->kind = API_REPLY;
	resp->status = 200;
	resp->content_type = a->content_type;
	resp->content_encoding = "gzip";
	resp->cache_control = "private, max-age=60";
	resp->static_body = a->data;
	resp->len = (size_t)(a->end - a->data);
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

/*
 * Replies that come later (an install, an agent's answer). The worker
 * holds the api_wait and finishes it once; the server attaches the
 * waiting connection, or detaches it if the client goes away first. The
 * wait is freed when both sides are done with it.
 */
struct api_wait {
	api_wait_cb	    cb;
	void		   *conn;
	int		    finished;
	int		    detached;
	struct api_response resp;
};

/* Turn resp into a deferred reply; the caller keeps the wait to finish. */
struct api_wait *
api_wait_new(struct api_response *resp)
{
	struct api_wait *w;

	w = xcalloc(1, sizeof *w);
	resp->kind = API_WAIT;
	resp->wait = w;
	return (w);
}

void
api_wait_attach(struct api_wait *w, api_wait_cb cb, void *conn)
{
	w->cb = cb;
	w->conn = conn;
	if (w->finished) {
		w->detached = 1;
		cb(conn, &w->resp);
		free(w);
	}
}

void
api_wait_detach(struct api_wait *w)
{
	if (w->finished) {
		free(w->resp.body);
		free(w);
		return;
	}
	w->detached = 1;
	w->cb = NULL;
}

/* The worker's reply; the body moves into the waiting connection. */
void
api_wait_finish(struct api_wait *w, struct api_response *resp)
{
	if (w->detached) {
		free(resp->body);
		free(w);
		return;
	}
	w->finished = 1;
	w->resp = *resp;
	if (w->cb != NULL) {
		w->detached = 1;
		w->cb(w->conn, &w->resp);
		free(w);
	}
}
