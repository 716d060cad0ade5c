/*
 * acpserver.c: ACP over HTTP, as sandbox-agent 0.2-0.4 serves it, on top
 * of universal sessions.
 *
 *	POST   /v1/acp/{server}?agent=ID	one JSON-RPC message
 *	GET    /v1/acp/{server}		SSE of what agentd says back
 *	DELETE /v1/acp/{server}		stop its sessions' agents
 *	GET    /v1/acp			the servers
 *
 * agentd itself is the ACP agent toward the client, for every agent
 * alike: initialize is answered here, session/new creates a universal
 * session (its id is the ACP sessionId), session/prompt posts a message
 * and its POST is answered when that turn's turn.ended is in the log (no
 * flat timeout: the session's --idle-timeout is the only one), and the
 * universal events of the server's sessions are translated (acpmap.c)
 * into session/update notifications, session/request_permission and
 * elicitation/create requests on the SSE stream. So claude, codex, pi and
 * amp are reachable over ACP too, and an ACP session is an ordinary
 * universal session: in the log, in GET /v1/sessions, the inspector, SSE
 * and WebSocket, read-only there while a server drives it.
 *
 * The SSE stream is a journal per server, of the store's messages kind
 * (<data-dir>/acp/<server>/messages.jsonl, core/store.c): the same
 * numbered durable log, subscribers and full-disk backlog as a session's
 * events, so a reconnect with Last-Event-ID, even after a restart, replays
 * exactly what followed. A server's sessions and how far each was
 * translated (its cursor) are in server.json, written at each turn end.
 *
 * Exactly once across a crash: every message translated from event S of
 * session X is stored with the cursor {"session":X,"event":S}. At load,
 * the cursors of the messages written after the last server.json say how
 * far each session really got, and the events from the last turn end
 * (settled) up to there are translated again with the output muted, so
 * that acpmap (protocol/) knows the items still streaming; translation goes
 * on with what was never sent, e.g. the interrupted turn session.c closes
 * at load. An event's messages are written in one loop callback; only a
 * prompt's answer can follow another message of the same event, and
 * waiting prompts do not outlive agentd anyway.
 *
 * Why not derive the stream from the sessions' logs on each read: a
 * server multiplexes several sessions and also says things no event says
 * (the replay of session/load, prompt answers), so its numbering needs a
 * log of its own.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define ACPSERVER_READ_MAX (1024 * 1024) /* events per translation */

/* A session/prompt waiting for its turn to end. */
struct acp_prompt {
	struct reply_wait *wait;
	cJSON		  *rpc_id;
	uint64_t	   after;	/* last sequence when posted */
	char		   turn_id[32]; /* "" until its turn starts */
	TAILQ_ENTRY(acp_prompt) entry;
};

/* A universal session the server drives. */
struct acp_bound {
	struct acpserver   *srv;
	struct session	   *s;	 /* referenced */
	struct journal_sub *sub; /* the session's journal */
	char		   *id;
	uint64_t	    cursor;  /* last sequence translated */
	uint64_t	    settled; /* a turn end or the bind: no item open */
	uint64_t	    until;   /* translate no further */
	struct acpmap	   *map;
	char		   *error; /* last error of the turn */
	TAILQ_HEAD(, acp_prompt) prompts;
	TAILQ_ENTRY(acp_bound) entry;
};

struct acpserver {
	char			   *id;
	const struct agent_profile *profile;
	int64_t			    created_ms;
	struct journal		   *journal; /* the messages: the stream */
	int			    refs;
	int			    dead;
	int			    muted; /* translating again: send nothing */
	struct acp_bound	   *from;  /* whose event is being translated */
	uint64_t		    from_seq;
	TAILQ_HEAD(, acp_bound) bound;
	LIST_ENTRY(acpserver) entry;
};

typedef void (*acpserver_fn)(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);

static LIST_HEAD(, acpserver) acpservers = LIST_HEAD_INITIALIZER(acpservers);

static void acpserver_initialize(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static void acpserver_authenticate(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static void acpserver_new(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static void acpserver_load(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static void acpserver_list_sessions(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static void acpserver_prompt(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static void acpserver_set_mode(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static void acpserver_set_model(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static void acpserver_set_config(
    struct acpserver *, const struct jsonrpc_msg *, struct api_response *);
static cJSON *acpserver_settings(struct session *, cJSON *);
static void   acpserver_wake_cb(void *);
static void   acpserver_translate(struct acp_bound *);

static const struct {
	const char  *method;
	acpserver_fn fn;
} acpserver_methods[] = {
	{ ACPMSG_INITIALIZE, acpserver_initialize },
	{ ACPMSG_AUTHENTICATE, acpserver_authenticate },
	{ ACPMSG_SESSION_NEW, acpserver_new },
	{ ACPMSG_SESSION_LOAD, acpserver_load },
	{ ACPMSG_SESSION_LIST, acpserver_list_sessions },
	{ ACPMSG_SESSION_PROMPT, acpserver_prompt },
	{ ACPMSG_SESSION_SET_MODE, acpserver_set_mode },
	{ ACPMSG_SESSION_SET_MODEL, acpserver_set_model },
	{ ACPMSG_SESSION_SET_CONFIG, acpserver_set_config },
};

/* The permission options offered; the answer's optionId names one. */
static const struct acpmsg_choice acpserver_choices[] = {
	{ "allow-once", "Allow once", ACPMSG_ALLOW_ONCE },
	{ "allow-always", "Always allow", ACPMSG_ALLOW_ALWAYS },
	{ "reject-once", "Reject", ACPMSG_REJECT_ONCE },
};

/* The SSE stream of a server, for server.c: its journal. */
static void
acpserver_ref(void *arg)
{
	((struct acpserver *)arg)->refs++;
}

static void
acpserver_unref(void *arg)
{
	struct acpserver *srv = arg;

	if (--srv->refs > 0)
		return;
	journal_free(srv->journal);
	free(srv->id);
	free(srv);
}

static int
acpserver_dead(void *arg)
{
	return (((struct acpserver *)arg)->dead);
}

static struct journal *
acpserver_journal(void *arg)
{
	return (((struct acpserver *)arg)->journal);
}

static const struct stream_ops acpserver_stream_ops = {
	.ref = acpserver_ref,
	.unref = acpserver_unref,
	.dead = acpserver_dead,
	.event = "message",
	.journal = acpserver_journal,
};

static struct acpserver *
acpserver_find(const char *id)
{
	struct acpserver *srv;

	LIST_FOREACH(srv, &acpservers, entry) {
		if (strcmp(srv->id, id) == 0)
			return (srv);
	}
	return (NULL);
}

static struct acp_bound *
acpserver_bound(struct acpserver *srv, const char *sid)
{
	struct acp_bound *b;

	TAILQ_FOREACH(b, &srv->bound, entry) {
		if (sid != NULL && strcmp(b->id, sid) == 0)
			return (b);
	}
	return (NULL);
}

/*
 * Write server.json whole through the store (temp file, full write, fsync,
 * rename, directory fsync): the sessions, how far each was translated,
 * and the last message written then. The messages are made durable first
 * and nothing is written while some wait for the disk: a cursor must never
 * be on disk before the messages it covers.
 */
static void
acpserver_save(struct acpserver *srv)
{
	struct acp_bound *b;
	cJSON		 *o, *list, *e;
	char		 *text, *cause;
	size_t		  len;

	if (srv->dead || srv->muted || journal_stalled(srv->journal))
		return;
	journal_sync(srv->journal);
	o = json_object();
	json_set_str(o, "serverId", srv->id);
	json_set_str(o, "agent", srv->profile->id);
	json_set_int(o, "createdAtMs", srv->created_ms);
	json_set_int(o, "messages", (long long)journal_last(srv->journal));
	list = json_array();
	TAILQ_FOREACH(b, &srv->bound, entry) {
		e = json_object();
		json_set_str(e, "id", b->id);
		json_set_int(e, "cursor", (long long)b->cursor);
		json_set_int(e, "settled", (long long)b->settled);
		json_append(list, e);
	}
	json_set(o, "sessions", list);
	text = json_print(o, &len);
	json_free(o);
	if (store_write_meta(journal_store(srv->journal), text, len, &cause) !=
	    0) {
		log_error("acp %s: %s", srv->id, cause);
		free(cause);
	}
	free(text);
}

/*
 * Append one message to the server's stream; its readers are woken once
 * this loop pass is over. A message translated from a session's event
 * carries that event as its cursor (see the top).
 */
static void
acpserver_send(struct acpserver *srv, const cJSON *msg)
{
	char  *line, *mark = NULL;
	size_t len;

	if (srv->dead || srv->muted)
		return;
	line = json_print(msg, &len);
	if (srv->from != NULL)
		xasprintf(&mark, "{\"session\":\"%s\",\"event\":%llu}",
		    srv->from->id, (unsigned long long)srv->from_seq);
	journal_append_message(srv->journal, line, len, mark);
	free(mark);
}

/* Reply to a JSON-RPC request (HTTP 200, as sandbox-agent); takes msg. */
static void
acpserver_reply(struct api_response *resp, cJSON *msg)
{
	resp->kind = API_REPLY;
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = json_print(msg, &resp->len);
	json_free(msg);
}

static void
acpserver_rpc_error(
    struct api_response *resp, const cJSON *id, int code, const char *message)
{
	acpserver_reply(resp, jsonrpc_error(1, id, code, message, NULL));
}

static void
acpserver_initialize(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	struct acpmsg_agent ag = { .name = "agentd",
		.title = srv->profile->id,
		.version = AGENTD_VERSION,
		.load_session = 1,
		.embedded_context = 1,
		.list_sessions = 1,
		.image = 1 };

	acpserver_reply(
	    resp, jsonrpc_result(1, msg->id, acpmsg_initialized(&ag)));
}

static void
acpserver_authenticate(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	acpserver_reply(resp, jsonrpc_result(1, msg->id, json_object()));
}

/* Start driving s: translate from cursor on, refuse universal writes. */
static struct acp_bound *
acpserver_bind(struct acpserver *srv, struct session *s, uint64_t cursor)
{
	struct acp_bound *b;

	b = xcalloc(1, sizeof *b);
	b->srv = srv;
	b->s = s;
	session_ref(s);
	b->id = xstrdup(session_name(s));
	b->cursor = b->settled = cursor;
	b->map = acpmap_new(b->id);
	TAILQ_INIT(&b->prompts);
	TAILQ_INSERT_TAIL(&srv->bound, b, entry);
	session_set_driver(s, srv->id);
	b->sub = journal_subscribe(session_journal(s), acpserver_wake_cb, b);
	return (b);
}

/* Answer a waiting prompt (result or error) on its POST and the stream. */
static void
acpserver_prompt_done(struct acp_bound *b, struct acp_prompt *p, cJSON *msg)
{
	struct api_response r;

	acpserver_send(b->srv, msg);
	memset(&r, 0, sizeof r);
	acpserver_reply(&r, msg);
	reply_wait_finish(p->wait, &r);
	TAILQ_REMOVE(&b->prompts, p, entry);
	json_free(p->rpc_id);
	free(p);
}

static void
acpserver_prompts_fail(struct acp_bound *b, const char *why)
{
	struct acp_prompt *p;

	while ((p = TAILQ_FIRST(&b->prompts)) != NULL)
		acpserver_prompt_done(b, p,
		    jsonrpc_error(
			1, p->rpc_id, JSONRPC_INTERNAL_ERROR, why, NULL));
}

/* Stop driving: answer waiting prompts, give the session back. */
static void
acpserver_unbind(struct acp_bound *b, const char *why)
{
	acpserver_prompts_fail(b, why);
	TAILQ_REMOVE(&b->srv->bound, b, entry);
	session_set_driver(b->s, NULL);
	journal_unsubscribe(b->sub);
	session_unref(b->s);
	acpmap_free(b->map);
	free(b->error);
	free(b->id);
	free(b);
}

/* A fresh universal session id for session/new. */
static void
acpserver_new_id(char *buf, size_t size)
{
	unsigned char rnd[8];
	size_t	      i;

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		for (i = 0; i < sizeof rnd; i++)
			rnd[i] = (unsigned char)(loop_wall_ms() >> (i * 3));
	}
	snprintf(buf, size, "acp-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
	    rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
}

/*
 * session/new: a universal session of the server's agent in cwd, with
 * mcpServers; params._meta.agentd may add agentCommand, model,
 * permissionMode and env as POST /v1/sessions/{id} takes them.
 */
static void
acpserver_new(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	static const char *const extra[] = { "agentCommand", "model",
		"permissionMode", "effort", "env" };
	const cJSON		*mcp, *meta, *v;
	struct session		*s;
	char			 id[40], *cause;
	cJSON			*req;
	size_t			 i;
	int			 status;

	req = json_object();
	json_set_str(req, "agent", srv->profile->id);
	if (json_get_str(msg->params, "cwd") != NULL)
		json_set_str(req, "cwd", json_get_str(msg->params, "cwd"));
	if ((mcp = json_get_arr(msg->params, "mcpServers")) != NULL &&
	    json_size(mcp) > 0)
		json_set(req, "mcp", json_dup(mcp));
	meta = json_get_obj(json_get_obj(msg->params, "_meta"), "agentd");
	for (i = 0; i < nitems(extra); i++) {
		if ((v = json_get(meta, extra[i])) != NULL)
			json_set(req, extra[i], json_dup(v));
	}
	acpserver_new_id(id, sizeof id);
	status = session_create(id, req, &s, &cause);
	json_free(req);
	if (status == 502) {
		reply_problem(resp, 502, "agent_process_exited",
		    "cannot start agent '%s': %s", srv->profile->id, cause);
		free(cause);
		return;
	}
	if (status != 0) {
		acpserver_rpc_error(
		    resp, msg->id, JSONRPC_INVALID_PARAMS, cause);
		free(cause);
		return;
	}
	acpserver_bind(srv, s, 0);
	acpserver_save(srv);
	log_info("acp %s: session %s", srv->id, id);
	acpserver_reply(resp,
	    jsonrpc_result(
		1, msg->id, acpserver_settings(s, acpmsg_session_id(id))));
}

/* Replay one stored event as history (session/load). */
static int
acpserver_replay_cb(void *arg, uint64_t seq, enum event_type type,
    const char *line, size_t len, size_t noraw)
{
	struct acp_bound *b = arg;
	const char	 *err;
	char		 *text;
	cJSON		 *ev, *out, *m;

	b->cursor = seq;
	if (type != EVENT_ITEM_COMPLETED)
		return (0);
	xasprintf(&text, "%.*s}", (int)noraw, line);
	ev = json_parse(text, strlen(text), &err);
	free(text);
	if (ev == NULL)
		return (0);
	out = acpmap_event(b->map, ev, 1);
	JSON_FOREACH(m, out)
		acpserver_send(b->srv, m);
	json_free(out);
	json_free(ev);
	return (0);
}

/*
 * session/load: the stored history as session/update notifications on
 * the stream, then the answer; the server drives the session from now.
 * A history is read in bounded chunks but in one go: it is what the
 * client asked for before anything else can happen in that session.
 */
static void
acpserver_load(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	const char	*sid = json_get_str(msg->params, "sessionId");
	struct session	*s;
	struct acp_bound tmp;
	const char	*d;

	if (sid == NULL || (s = session_find(sid)) == NULL) {
		acpserver_rpc_error(
		    resp, msg->id, ACPMSG_NOT_FOUND, "no such session");
		return;
	}
	if ((d = session_driver(s)) != NULL && strcmp(d, srv->id) != 0) {
		acpserver_rpc_error(resp, msg->id, JSONRPC_INVALID_PARAMS,
		    "the session is driven by another ACP server");
		return;
	}
	if (session_agent(s) != srv->profile) {
		acpserver_rpc_error(resp, msg->id, JSONRPC_INVALID_PARAMS,
		    "the session belongs to another agent");
		return;
	}
	memset(&tmp, 0, sizeof tmp);
	tmp.srv = srv;
	tmp.map = acpmap_new(sid);
	while (tmp.cursor < session_last_seq(s) &&
	    session_read(s, tmp.cursor, ACPSERVER_READ_MAX, acpserver_replay_cb,
		&tmp) > 0)
		;
	acpmap_free(tmp.map);
	if (acpserver_bound(srv, sid) == NULL) {
		acpserver_bind(srv, s, session_last_seq(s));
		acpserver_save(srv);
	}
	journal_sync(srv->journal);
	acpserver_reply(resp,
	    jsonrpc_result(1, msg->id, acpserver_settings(s, json_object())));
}

/* session/list: the universal sessions of this agent. */
static void
acpserver_list_sessions(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	cJSON *all, *el, *list, *o, *r;
	char   when[40];

	all = session_list();
	list = json_array();
	JSON_FOREACH(el, all) {
		if (strcmp(json_get_str(el, "agent"), srv->profile->id) != 0)
			continue;
		o = json_object();
		json_set_str(o, "sessionId", json_get_str(el, "sessionId"));
		json_set_str(o, "cwd", json_get_str(el, "directory"));
		if (json_is_num(json_get(el, "updatedAt"))) {
			event_format_time(
			    (int64_t)json_num(json_get(el, "updatedAt")), when,
			    sizeof when);
			json_set_str(o, "updatedAt", when);
		}
		json_append(list, o);
	}
	json_free(all);
	r = json_object();
	json_set(r, "sessions", list);
	acpserver_reply(resp, jsonrpc_result(1, msg->id, r));
}

/*
 * session/prompt: post the message, its image blocks, file links and
 * embedded blobs as the message's attachments (checked and bounded as a
 * native message's are, so each agent gets them its own way); the answer
 * waits (reply_wait) for the turn.ended of the turn that message starts,
 * however long it streams.
 */
static void
acpserver_prompt(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	struct acp_bound  *b;
	struct acp_prompt *p;
	uint64_t	   after;
	char		  *text, *cause;
	cJSON		  *body, *atts;
	int		   status;

	b = acpserver_bound(srv, json_get_str(msg->params, "sessionId"));
	if (b == NULL) {
		acpserver_rpc_error(resp, msg->id, ACPMSG_NOT_FOUND,
		    "no such session on this server");
		return;
	}
	atts = acpmsg_prompt_split(json_get_arr(msg->params, "prompt"), &text);
	body = json_object();
	json_set_str(body, "message", text);
	if (atts != NULL)
		json_set(body, "attachments", atts);
	free(text);
	acpserver_translate(b); /* what came before is not ours */
	after = session_last_seq(b->s);
	status = session_post_message(b->s, body, &cause);
	json_free(body);
	if (status != 0) {
		/* A block the attachments refuse is the caller's (400, 413). */
		acpserver_rpc_error(resp, msg->id,
		    status == 400 || status == 413 ? JSONRPC_INVALID_PARAMS
						   : JSONRPC_INTERNAL_ERROR,
		    cause);
		free(cause);
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->rpc_id = json_dup(msg->id);
	p->after = after;
	p->wait = reply_wait_new(resp);
	TAILQ_INSERT_TAIL(&b->prompts, p, entry);
}

/*
 * A session's settings as ACP tells them, added to r (session/new's and
 * session/load's answer): configOptions, a select per setting the agent
 * may change (id "model", "mode" or "effort"; category model, mode or
 * thought_level), and modes when the modes are known. Values are what
 * the session learned from the agent or knows of it without running it
 * (SessionInfo's options); an unknown current value is "". sandbox-agent's
 * SDK finds setModel's, setMode's and setThoughtLevel's option here.
 */
static cJSON *
acpserver_settings(struct session *s, cJSON *r)
{
	static const struct {
		const char *key, *name, *info;
		int	    bit;
	} keys[] = { { "model", "Model", "model", AGENT_SET_MODEL },
		{ "mode", "Mode", "permissionMode", AGENT_SET_MODE },
		{ "effort", "Thought level", "effort", AGENT_SET_EFFORT } };
	const struct agent_options *ao = session_agent(s)->options;
	const cJSON		   *opt, *list, *c;
	const char		   *cur;
	cJSON			   *info, *opts, *modes, *avail, *m;
	size_t			    i;

	info = session_info(s);
	opts = json_array();
	for (i = 0; i < nitems(keys); i++) {
		if (ao == NULL ||
		    (ao->settable & (keys[i].bit | AGENT_SET_ASK)) == 0)
			continue;
		opt = json_get_obj(json_get_obj(info, "options"), keys[i].key);
		list = json_get_arr(opt, "available");
		if ((cur = json_get_str(info, keys[i].info)) == NULL)
			cur = json_get_str(opt, "current");
		json_append(opts,
		    acpmsg_config_option(keys[i].key, keys[i].name,
			acpmsg_config_category(keys[i].key), cur, list));
		if (i != 1 || json_size(list) <= 0)
			continue;
		avail = json_array();
		JSON_FOREACH(c, list) {
			m = json_object();
			json_set_str(m, "id", json_get_str(c, "id"));
			json_set_str(m, "name",
			    json_get_str(c, "name") != NULL
				? json_get_str(c, "name")
				: json_get_str(c, "id"));
			if (json_get_str(c, "description") != NULL)
				json_set_str(m, "description",
				    json_get_str(c, "description"));
			json_append(avail, m);
		}
		modes = json_object();
		json_set_str(modes, "currentModeId", cur != NULL ? cur : "");
		json_set(modes, "availableModes", avail);
		json_set(r, "modes", modes);
	}
	json_set(r, "configOptions", opts);
	json_free(info);
	return (r);
}

/*
 * Change one setting of a bound session, as POST …/config would, and
 * answer with result (taken) or the refusal as an error whose message is
 * the cause: -32602 (invalid params) for a value the agent does not
 * offer, a setting it cannot change or a bad request.
 */
static void
acpserver_configure(struct acpserver *srv, const struct jsonrpc_msg *msg,
    const char *key, const char *value, struct api_response *resp, int full)
{
	struct acp_bound *b;
	char		 *cause = NULL;
	cJSON		 *body, *r, *tmp;
	int		  status;

	b = acpserver_bound(srv, json_get_str(msg->params, "sessionId"));
	if (b == NULL) {
		acpserver_rpc_error(resp, msg->id, ACPMSG_NOT_FOUND,
		    "no such session on this server");
		return;
	}
	if (key == NULL || value == NULL) {
		acpserver_rpc_error(resp, msg->id, JSONRPC_INVALID_PARAMS,
		    key == NULL ? "unknown configId (model, mode, effort)"
				: "a string value is required");
		return;
	}
	body = json_object();
	json_set_str(body, key, value);
	status = session_configure(b->s, body, &cause);
	json_free(body);
	if (status != 0) {
		acpserver_rpc_error(resp, msg->id, JSONRPC_INVALID_PARAMS,
		    cause != NULL ? cause : "refused");
		free(cause);
		return;
	}
	r = json_object();
	if (full) {
		tmp = acpserver_settings(b->s, json_object());
		json_set(r, "configOptions", json_detach(tmp, "configOptions"));
		json_free(tmp);
	}
	acpserver_reply(resp, jsonrpc_result(1, msg->id, r));
}

/* session/set_mode {sessionId, modeId}: {}. */
static void
acpserver_set_mode(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	acpserver_configure(
	    srv, msg, "mode", json_get_str(msg->params, "modeId"), resp, 0);
}

/* session/set_model {sessionId, modelId} (unstable in ACP): {}. */
static void
acpserver_set_model(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	acpserver_configure(
	    srv, msg, "model", json_get_str(msg->params, "modelId"), resp, 0);
}

/*
 * session/set_config_option {sessionId, configId, value}: configId is
 * one of session/new's ("model", "mode", "effort"; a category name is
 * taken too). The answer is the configOptions after the change.
 */
static void
acpserver_set_config(struct acpserver *srv, const struct jsonrpc_msg *msg,
    struct api_response *resp)
{
	const char *id = json_get_str(msg->params, "configId");
	const char *key = NULL;

	if (id != NULL && acpmsg_config_category(id) != NULL)
		key = id;
	else if (id != NULL)
		key = acpmsg_config_key(id);
	acpserver_configure(
	    srv, msg, key, json_get_str(msg->params, "value"), resp, 1);
}

/* permission.requested: a session/request_permission to the client. */
static void
acpserver_on_permission(struct acp_bound *b, uint64_t seq, const cJSON *data)
{
	const cJSON *meta = json_get_obj(data, "metadata");
	const char  *action, *call;
	cJSON	    *params, *tc, *msg;
	char	    *id;

	action = json_get_str(data, "action");
	if ((call = json_get_str(meta, "call_id")) == NULL)
		call = json_get_str(data, "permission_id");
	tc = acpmsg_tool_call(-1, call, action != NULL ? action : "permission",
	    acpmsg_tool_kind(action), ACPMSG_PENDING);
	if (json_get(meta, "input") != NULL)
		json_set(tc, "rawInput", json_dup(json_get(meta, "input")));
	params = acpmsg_permission(
	    b->id, tc, acpserver_choices, nitems(acpserver_choices));
	/* The id names the session and the permission: no table to keep. */
	xasprintf(&id, "permission:%s:%s", b->id,
	    json_get_str(data, "permission_id"));
	msg = jsonrpc_notification(1, ACPMSG_REQUEST_PERMISSION, params);
	json_set_str(msg, "id", id);
	acpserver_send(b->srv, msg);
	journal_sync(b->srv->journal);
	json_free(msg);
	free(id);
}

/* question.requested: an elicitation/create form, one field a question. */
static void
acpserver_on_question(struct acp_bound *b, uint64_t seq, const cJSON *data)
{
	const cJSON *q, *o;
	cJSON	    *props, *labels, *params, *msg;
	char	     key[16], *id;
	const char  *first = NULL;
	int	     i = 0, multi;

	props = json_object();
	JSON_FOREACH(q, json_get_arr(data, "questions")) {
		snprintf(key, sizeof key, "q%d", i++);
		if (first == NULL)
			first = json_get_str(q, "question");
		multi = 0;
		(void)json_get_bool(q, "multi_select", &multi);
		labels = json_array();
		JSON_FOREACH(o, json_get_arr(q, "options")) {
			if (json_get_str(o, "label") != NULL)
				json_append(labels,
				    json_string(json_get_str(o, "label")));
		}
		json_set(props, key,
		    acpmsg_field(json_get_str(q, "question"), labels, multi));
	}
	params = acpmsg_elicitation(b->id, first, props);
	xasprintf(
	    &id, "question:%s:%s", b->id, json_get_str(data, "question_id"));
	msg = jsonrpc_notification(1, ACPMSG_ELICITATION, params);
	json_set_str(msg, "id", id);
	acpserver_send(b->srv, msg);
	journal_sync(b->srv->journal);
	json_free(msg);
	free(id);
}

static void
acpserver_on_turn_started(struct acp_bound *b, uint64_t seq, const cJSON *data)
{
	struct acp_prompt *p;
	const char	  *turn = json_get_str(data, "turn_id");

	TAILQ_FOREACH(p, &b->prompts, entry) {
		if (p->turn_id[0] == '\0' && seq > p->after && turn != NULL) {
			snprintf(p->turn_id, sizeof p->turn_id, "%s", turn);
			break;
		}
	}
	free(b->error);
	b->error = NULL;
}

/* turn.ended: answer the prompt that started this turn. */
static void
acpserver_on_turn_ended(struct acp_bound *b, uint64_t seq, const cJSON *data)
{
	struct acp_prompt *p;
	const char	  *turn = json_get_str(data, "turn_id"), *stop;
	cJSON		  *edata;

	TAILQ_FOREACH(p, &b->prompts, entry) {
		if (turn != NULL && strcmp(p->turn_id, turn) == 0)
			break;
	}
	if (p != NULL) {
		stop = acpmsg_stop_to(json_get_str(data, "stop_reason"));
		if (stop != NULL) {
			acpserver_prompt_done(b, p,
			    jsonrpc_result(1, p->rpc_id,
				acpmsg_prompt_result(stop,
				    acpmap_usage(
					json_get_obj(data, "usage")))));
		} else {
			edata = json_object();
			json_set_str(edata, "stopReason",
			    json_get_str(data, "stop_reason"));
			acpserver_prompt_done(b, p,
			    jsonrpc_error(1, p->rpc_id, JSONRPC_INTERNAL_ERROR,
				b->error != NULL ? b->error : "the turn failed",
				edata));
		}
	}
	b->settled = seq;
	journal_sync(b->srv->journal);
	acpserver_save(b->srv);
}

static void
acpserver_on_error(struct acp_bound *b, uint64_t seq, const cJSON *data)
{
	free(b->error);
	b->error = json_get_str(data, "message") != NULL
	    ? xstrdup(json_get_str(data, "message"))
	    : NULL;
}

/* session.ended: sandbox-agent's _adapter/agent_exited, prompts fail. */
static void
acpserver_on_ended(struct acp_bound *b, uint64_t seq, const cJSON *data)
{
	const char *reason = json_get_str(data, "reason");
	long long   code;
	cJSON	   *params, *msg;

	params = json_object();
	json_set_str(params, "sessionId", b->id);
	json_set_bool(
	    params, "success", reason != NULL && strcmp(reason, "error") != 0);
	if (json_get_int(data, "exit_code", &code) == 0)
		json_set_int(params, "code", code);
	else
		json_set(params, "code", json_null());
	msg = jsonrpc_notification(1, "_adapter/agent_exited", params);
	acpserver_send(b->srv, msg);
	json_free(msg);
	acpserver_prompts_fail(
	    b, b->error != NULL ? b->error : "the agent session ended");
	journal_sync(b->srv->journal);
}

static void
acpserver_on_unparsed(struct acp_bound *b, uint64_t seq, const cJSON *data)
{
	cJSON *params, *msg;

	params = json_object();
	json_set_str(params, "sessionId", b->id);
	json_set_str(params, "error", json_get_str(data, "error"));
	msg = jsonrpc_notification(1, "_adapter/invalid_stdout", params);
	acpserver_send(b->srv, msg);
	json_free(msg);
}

/* Events that are more than session/update notifications. */
static const struct {
	enum event_type type;
	void (*fn)(struct acp_bound *, uint64_t, const cJSON *);
} acpserver_events[] = {
	{ EVENT_TURN_STARTED, acpserver_on_turn_started },
	{ EVENT_TURN_ENDED, acpserver_on_turn_ended },
	{ EVENT_ERROR, acpserver_on_error },
	{ EVENT_PERMISSION_REQUESTED, acpserver_on_permission },
	{ EVENT_QUESTION_REQUESTED, acpserver_on_question },
	{ EVENT_SESSION_ENDED, acpserver_on_ended },
	{ EVENT_AGENT_UNPARSED, acpserver_on_unparsed },
};

static int
acpserver_event_cb(void *arg, uint64_t seq, enum event_type type,
    const char *line, size_t len, size_t noraw)
{
	struct acp_bound *b = arg;
	const char	 *err;
	char		 *text;
	cJSON		 *ev, *out, *m;
	size_t		  i;

	if (seq > b->until)
		return (1);
	b->cursor = seq;
	xasprintf(&text, "%.*s}", (int)noraw, line);
	ev = json_parse(text, strlen(text), &err);
	free(text);
	if (ev == NULL)
		return (0);
	b->srv->from = b;
	b->srv->from_seq = seq;
	for (i = 0; i < nitems(acpserver_events); i++) {
		if (acpserver_events[i].type == type)
			acpserver_events[i].fn(
			    b, seq, json_get_obj(ev, "data"));
	}
	out = acpmap_event(b->map, ev, 0);
	JSON_FOREACH(m, out)
		acpserver_send(b->srv, m);
	b->srv->from = NULL;
	json_free(out);
	json_free(ev);
	return (0);
}

/* Translate what the session logged after the cursor, up to until. */
static void
acpserver_translate_to(struct acp_bound *b, uint64_t until)
{
	b->until = until;
	while (b->cursor < until) {
		if (session_read(b->s, b->cursor, ACPSERVER_READ_MAX,
			acpserver_event_cb, b) <= 0)
			break;
	}
}

/* Translate what the session logged since the cursor. */
static void
acpserver_translate(struct acp_bound *b)
{
	acpserver_translate_to(b, session_last_seq(b->s));
}

static void
acpserver_wake_cb(void *arg)
{
	acpserver_translate(arg);
}

/* A permission answer: the option the client selected, as our reply. */
static void
acpserver_permission_answer(
    struct acp_bound *b, const char *pid, const struct jsonrpc_msg *msg)
{
	enum permission_reply reply;
	char		     *cause;

	if (msg->kind != JSONRPC_RESPONSE ||
	    acpmsg_choice_reply(acpserver_choices, nitems(acpserver_choices),
		msg->result, &reply) != 0)
		reply = PERMISSION_REJECT;
	if (session_reply_permission(b->s, pid, reply, &cause) != 0) {
		log_info("acp %s: permission %s: %s", b->srv->id, pid, cause);
		free(cause);
	}
}

/* An elicitation answer: {action:"accept", content:{q0:…}} or not. */
static void
acpserver_question_answer(
    struct acp_bound *b, const char *qid, const struct jsonrpc_msg *msg)
{
	const cJSON *content, *v;
	cJSON	    *answers = NULL, *one;
	char	    *cause;

	if (msg->kind == JSONRPC_RESPONSE &&
	    acpmsg_accepted(msg->result, &content)) {
		answers = json_array();
		JSON_FOREACH(v, content) {
			if (json_is_arr(v))
				one = json_dup(v);
			else {
				one = json_array();
				if (json_is_str(v))
					json_append(one, json_dup(v));
			}
			json_append(answers, one);
		}
	}
	if (session_reply_question(b->s, qid, answers, &cause) != 0) {
		log_info("acp %s: question %s: %s", b->srv->id, qid, cause);
		free(cause);
	}
	json_free(answers);
}

/* The client answered one of our requests ("permission:SID:PID", …). */
static void
acpserver_client_response(struct acpserver *srv, const struct jsonrpc_msg *msg)
{
	struct acp_bound *b;
	const char	 *id = json_str(msg->id), *sid, *pid;
	char		 *copy, *colon;

	if (id == NULL || (sid = strchr(id, ':')) == NULL)
		return;
	copy = xstrdup(sid + 1);
	if ((colon = strchr(copy, ':')) != NULL) {
		*colon = '\0';
		pid = colon + 1;
		if ((b = acpserver_bound(srv, copy)) == NULL)
			log_info("acp %s: answer for unknown %s", srv->id, id);
		else if (strncmp(id, "permission:", 11) == 0)
			acpserver_permission_answer(b, pid, msg);
		else if (strncmp(id, "question:", 9) == 0)
			acpserver_question_answer(b, pid, msg);
	}
	free(copy);
}

/* Notifications: session/cancel; anything else is accepted and ignored. */
static void
acpserver_notification(struct acpserver *srv, const struct jsonrpc_msg *msg)
{
	struct acp_bound *b;
	char		 *cause = NULL;

	if (strcmp(msg->method, ACPMSG_SESSION_CANCEL) != 0)
		return;
	b = acpserver_bound(srv, json_get_str(msg->params, "sessionId"));
	if (b != NULL && session_cancel(b->s, &cause) != 0)
		free(cause); /* no turn: nothing to cancel */
}

/* Does an Accept header allow a type (absent, any, type/any, or it)? */
static int
acpserver_accepts(const char *accept, const char *type)
{
	char   major[32];
	size_t len = strcspn(type, "/");

	if (accept == NULL || *accept == '\0' || strstr(accept, "*/*") != NULL)
		return (1);
	if (strstr(accept, type) != NULL)
		return (1);
	snprintf(major, sizeof major, "%.*s/*", (int)len, type);
	return (strstr(accept, major) != NULL);
}

/* The disk took the messages it refused again: save what waited. */
static void
acpserver_stall_cb(void *arg, int stalled)
{
	if (!stalled)
		acpserver_save(arg);
}

/* A server over its open store (created or loaded); takes st. */
static struct acpserver *
acpserver_new_server(
    const char *id, const struct agent_profile *p, struct store *st)
{
	struct acpserver *srv;
	char		  name[160];

	srv = xcalloc(1, sizeof *srv);
	srv->id = xstrdup(id);
	srv->profile = p;
	srv->created_ms = loop_wall_ms();
	srv->refs = 1;
	TAILQ_INIT(&srv->bound);
	snprintf(name, sizeof name, "acp %s", id);
	srv->journal = journal_new(st, name);
	journal_on_stall(srv->journal, acpserver_stall_cb, srv);
	LIST_INSERT_HEAD(&acpservers, srv, entry);
	return (srv);
}

static struct acpserver *
acpserver_create(
    const char *id, const struct agent_profile *p, struct api_response *resp)
{
	struct acpserver *srv;
	struct store	 *st;
	char		 *cause;

	if ((st = store_create(STORE_MESSAGES, options.data_dir, id, &cause)) ==
	    NULL) {
		if (errno == EEXIST)
			reply_problem(resp, 409, "conflict",
			    "ACP server '%s' is on disk but was not loaded at "
			    "start (see agentd's log)",
			    id);
		else
			reply_problem(
			    resp, 507, "insufficient_storage", "%s", cause);
		free(cause);
		return (NULL);
	}
	srv = acpserver_new_server(id, p, st);
	acpserver_save(srv);
	log_info("acp %s: created (%s)", id, p->id);
	return (srv);
}

/* The server a POST names, created by the first one with ?agent=. */
static struct acpserver *
acpserver_for_post(
    const struct api_request *req, const char *id, struct api_response *resp)
{
	const struct agent_profile *p = NULL;
	struct acpserver	   *srv = acpserver_find(id);
	const char		   *agent = reply_arg(req, "agent");
	cJSON			   *info;
	int			    installed = 0;

	if (agent != NULL && (p = adapter_find_agent(agent)) == NULL) {
		reply_problem(
		    resp, 400, "unsupported_agent", "no agent '%s'", agent);
		return (NULL);
	}
	if (srv != NULL && p != NULL && p != srv->profile) {
		reply_problem(resp, 409, "conflict",
		    "ACP server '%s' runs agent "
		    "'%s', not '%s'",
		    id, srv->profile->id, agent);
		return (NULL);
	}
	if (srv != NULL)
		return (srv);
	if (p == NULL) {
		reply_problem(resp, 400, "invalid_request",
		    "the first POST to "
		    "ACP server '%s' needs ?agent=",
		    id);
		return (NULL);
	}
	if (p->flags & AGENT_CUSTOM_COMMAND) {
		reply_problem(resp, 400, "invalid_request",
		    "agent '%s' needs a "
		    "command: use session/new _meta.agentd.agentCommand with "
		    "another agent id",
		    agent);
		return (NULL);
	}
	info = agents_info(p);
	(void)json_get_bool(info, "installed", &installed);
	json_free(info);
	if (!installed) {
		reply_problem(resp, 502, "agent_not_installed",
		    "agent '%s' is "
		    "not installed (POST /v1/agents/%s/install)",
		    agent, agent);
		return (NULL);
	}
	return (acpserver_create(id, p, resp));
}

void
acpserver_post(
    const struct api_request *req, const char *id, struct api_response *resp)
{
	struct acpserver  *srv;
	struct jsonrpc_msg msg;
	const char	  *err;
	cJSON		  *root;
	size_t		   i;

	if (!session_valid_id(id)) {
		reply_problem(
		    resp, 400, "invalid_request", "invalid server id");
		return;
	}
	if (req->content_type == NULL ||
	    strncmp(req->content_type, "application/json", 16) != 0) {
		reply_problem(resp, 415, "unsupported_media_type",
		    "Content-Type must be application/json");
		return;
	}
	if (!acpserver_accepts(req->accept, "application/json")) {
		reply_problem(resp, 406, "not_acceptable",
		    "Accept must allow application/json");
		return;
	}
	if ((root = json_parse(req->body != NULL ? req->body : "",
		 req->body_len, &err)) == NULL ||
	    jsonrpc_parse(root, &msg, &err) != 0) {
		reply_problem(resp, 400, "invalid_request",
		    "not a JSON-RPC "
		    "message: %s",
		    err != NULL ? err : "?");
		json_free(root);
		return;
	}
	if ((srv = acpserver_for_post(req, id, resp)) == NULL) {
		json_free(root);
		return;
	}
	if (msg.kind != JSONRPC_REQUEST) {
		if (msg.kind == JSONRPC_NOTIFICATION)
			acpserver_notification(srv, &msg);
		else
			acpserver_client_response(srv, &msg);
		resp->kind = API_REPLY;
		resp->status = 202;
		json_free(root);
		return;
	}
	for (i = 0; i < nitems(acpserver_methods); i++) {
		if (strcmp(msg.method, acpserver_methods[i].method) == 0)
			break;
	}
	if (i < nitems(acpserver_methods))
		acpserver_methods[i].fn(srv, &msg, resp);
	else
		acpserver_rpc_error(resp, msg.id, JSONRPC_METHOD_NOT_FOUND,
		    "method not supported by agentd");
	json_free(root);
}

/* GET: the server's SSE stream, from Last-Event-ID on. */
void
acpserver_get(
    const struct api_request *req, const char *id, struct api_response *resp)
{
	struct acpserver  *srv;
	unsigned long long after = 0;
	char		  *end;

	if ((srv = acpserver_find(id)) == NULL) {
		reply_problem(resp, 404, "not_found", "no ACP server '%s'", id);
		return;
	}
	if (!acpserver_accepts(req->accept, "text/event-stream")) {
		reply_problem(resp, 406, "not_acceptable",
		    "Accept must allow text/event-stream");
		return;
	}
	if (req->last_event_id != NULL && *req->last_event_id != '\0') {
		after = strtoull(req->last_event_id, &end, 10);
		if (*end != '\0' || *req->last_event_id < '0' ||
		    *req->last_event_id > '9') {
			reply_problem(resp, 400, "invalid_request",
			    "Last-Event-ID must be a message number");
			return;
		}
	}
	/* Never a silent fresh stream for a cursor we cannot honour. */
	if (after > journal_last(srv->journal)) {
		reply_problem(resp, 409, "stream_gap",
		    "Last-Event-ID %llu is "
		    "past the last message (%llu) of ACP server '%s': it was "
		    "recreated; reconnect without Last-Event-ID",
		    after, (unsigned long long)journal_last(srv->journal), id);
		return;
	}
	resp->kind = API_STREAM;
	resp->status = 200;
	resp->stream_ops = &acpserver_stream_ops;
	resp->stream = srv;
	acpserver_ref(srv);
	resp->offset = after;
	resp->include_raw = 1;
}

/*
 * DELETE: stop the agents of its sessions (SIGTERM then SIGKILL runs in
 * the background, nothing waits here), give the sessions back to the
 * universal API (ended, still in the log), forget the server. Unknown ids
 * get 204 too: idempotent.
 */
void
acpserver_delete(
    const struct api_request *req, const char *id, struct api_response *resp)
{
	struct acpserver *srv;
	struct acp_bound *b;
	struct session	 *s;

	resp->kind = API_REPLY;
	resp->status = 204;
	if ((srv = acpserver_find(id)) == NULL)
		return;
	while ((b = TAILQ_FIRST(&srv->bound)) != NULL) {
		/* acpserver_unbind took the last b off b->srv->bound, which
		 * is srv->bound: this b is the next one, not a freed one.
		 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		s = b->s;
		session_ref(s);
		acpserver_unbind(b, "the ACP server was deleted");
		(void)session_terminate(s);
		session_unref(s);
	}
	LIST_REMOVE(srv, entry);
	srv->dead = 1;
	if (store_remove(journal_store(srv->journal)) != 0)
		log_error(
		    "acp %s: removing its files: %s", id, strerror(errno));
	journal_wake(srv->journal); /* its streams see it dead and end */
	log_info("acp %s: deleted", id);
	acpserver_unref(srv);
}

void
acpserver_list(const struct api_request *req, struct api_response *resp)
{
	struct acpserver *srv;
	struct acp_bound *b;
	cJSON		 *list, *o, *ids;

	list = json_array();
	LIST_FOREACH(srv, &acpservers, entry) {
		o = json_object();
		json_set_str(o, "serverId", srv->id);
		json_set_str(o, "agent", srv->profile->id);
		json_set_int(o, "createdAtMs", srv->created_ms);
		ids = json_array();
		TAILQ_FOREACH(b, &srv->bound, entry)
			json_append(ids, json_string(b->id));
		json_set(o, "sessions", ids);
		json_set_int(
		    o, "lastEventId", (long long)journal_last(srv->journal));
		json_append(list, o);
	}
	o = json_object();
	json_set(o, "servers", list);
	resp->kind = API_REPLY;
	resp->status = 200;
	resp->content_type = "application/json";
	resp->body = json_print(o, &resp->len);
	json_free(o);
}

/* A stored message's cursor: how far its session had been translated. */
static int
acpserver_mark_cb(void *arg, uint64_t seq, const char *msg, size_t len,
    const char *mark, size_t mark_len)
{
	struct acpserver *srv = arg;
	struct acp_bound *b;
	const char	 *err;
	cJSON		 *o;
	long long	  v;

	if (mark == NULL || (o = json_parse(mark, mark_len, &err)) == NULL)
		return (0);
	b = acpserver_bound(srv, json_get_str(o, "session"));
	if (b != NULL && json_get_int(o, "event", &v) == 0 && v > 0 &&
	    (uint64_t)v > b->until)
		b->until = (uint64_t)v;
	json_free(o);
	return (0);
}

/*
 * After a restart, before anything is sent: each session goes on where
 * its last stored message says it got (not only where server.json, older,
 * says), with its translation state rebuilt by translating again, muted,
 * from its last turn end (see the top). messages is the last message
 * server.json covered: only the ones after it are read.
 */
static void
acpserver_recover(struct acpserver *srv, uint64_t messages)
{
	struct store	 *st = journal_store(srv->journal);
	struct acp_bound *b;
	int		  n;

	TAILQ_FOREACH(b, &srv->bound, entry) {
		b->until = b->cursor;
		b->cursor = b->settled;
	}
	while (messages < journal_last(srv->journal)) {
		n = store_read(st, messages + 1, ACPSERVER_READ_MAX,
		    acpserver_mark_cb, srv);
		if (n <= 0) {
			log_error("acp %s: reading its messages: %s", srv->id,
			    strerror(errno));
			break;
		}
		messages += (uint64_t)n;
	}
	srv->muted = 1;
	TAILQ_FOREACH(b, &srv->bound, entry) {
		if (b->until > session_last_seq(b->s))
			b->until = session_last_seq(b->s);
		acpserver_translate_to(b, b->until);
	}
	srv->muted = 0;
}

/* Rebuild one server from its store and server.json; catch up. */
static void
acpserver_load_one(const char *id)
{
	const struct agent_profile *p = NULL;
	struct acpserver	   *srv;
	struct acp_bound	   *b;
	struct session		   *s;
	struct store		   *st;
	const cJSON		   *e;
	const char		   *err, *agent;
	char			   *meta, *cause;
	cJSON			   *o = NULL;
	uint64_t		    last;
	size_t			    len;
	long long		    v, cursor;

	st = store_open(STORE_MESSAGES, options.data_dir, id, &last, &cause);
	if (st == NULL) {
		log_error("acp %s: %s", id, cause);
		free(cause);
		return;
	}
	if ((meta = store_read_meta(st, &len)) == NULL)
		log_error("acp %s: server.json: %s", id, strerror(errno));
	else if ((o = json_parse(meta, len, &err)) == NULL)
		log_error("acp %s: server.json: %s", id, err);
	else if ((agent = json_get_str(o, "agent")) == NULL ||
	    (p = adapter_find_agent(agent)) == NULL)
		log_error("acp %s: server.json: no agent '%s'", id,
		    agent != NULL ? agent : "");
	free(meta);
	if (p == NULL) {
		json_free(o);
		store_close(st);
		return;
	}
	srv = acpserver_new_server(id, p, st);
	if (json_get_int(o, "createdAtMs", &v) == 0)
		srv->created_ms = v;
	JSON_FOREACH(e, json_get_arr(o, "sessions")) {
		if (json_get_str(e, "id") == NULL ||
		    (s = session_find(json_get_str(e, "id"))) == NULL)
			continue;
		if (json_get_int(e, "cursor", &cursor) != 0 || cursor < 0)
			cursor = 0;
		b = acpserver_bind(srv, s, (uint64_t)cursor);
		if (json_get_int(e, "settled", &v) == 0 && v >= 0 && v < cursor)
			b->settled = (uint64_t)v;
	}
	/* A server.json from before "messages" goes with unmarked ones. */
	if (json_get_int(o, "messages", &v) != 0 || v < 0 || (uint64_t)v > last)
		v = (long long)last;
	json_free(o);
	acpserver_recover(srv, (uint64_t)v);
	TAILQ_FOREACH(b, &srv->bound, entry)
		acpserver_translate(b);
	acpserver_save(srv);
	/* Until a client speaks to it, its log holds no descriptor. */
	journal_rest(srv->journal);
	log_info("acp %s: loaded (%llu messages)", id,
	    (unsigned long long)journal_last(srv->journal));
}

/* At start, after the sessions: every <data-dir>/acp/<id>/server.json. */
int
acpserver_load_all(char **cause)
{
	char **ids;
	size_t n, i;

	if (store_list(STORE_MESSAGES, options.data_dir, &ids, &n) != 0)
		return (0); /* no ACP server yet */
	for (i = 0; i < n; i++) {
		acpserver_load_one(ids[i]);
		free(ids[i]);
	}
	free(ids);
	return (0);
}

/* agentd stops: make the streams and cursors durable. */
void
acpserver_shutdown(void)
{
	struct acpserver *srv;

	LIST_FOREACH(srv, &acpservers, entry) {
		journal_sync(srv->journal);
		acpserver_save(srv);
	}
}
