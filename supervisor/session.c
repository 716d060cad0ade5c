/*
 * session.c: a session is one agent process plus its durable event log.
 *
 * This file owns the registry, the lifecycle and the normalisation of
 * DESIGN.md section 3: ids and sequences, items that always start before
 * they complete, synthetic deltas and turns, permissions and questions
 * keyed by our own ids. Adapters reach it through the host functions of
 * adapters.h; api.c and server.c through supervisor.h.
 *
 * The lifecycle is a table of states by events (session_fsm); each cell is
 * a small function. States:
 *   IDLE      no agent process (not started yet, or agentd restarted: the
 *             next message starts it again with its native resume id)
 *   READY     the agent runs, no turn
 *   TURN      a turn runs; new messages are queued
 *   STOPPING  terminate asked: SIGTERM sent, waiting for the exit
 *   ENDED     the agent is gone for good; session.ended is in the log
 *
 * Invariants: sequence numbers are contiguous from 1; every event is in
 * the store before any subscriber can see it; a session is freed only when
 * its last reference (registry, subscribers, a running process) is gone.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor.h"

#define SESSION_TEXT_MAX  (4UL * 1024 * 1024) /* kept per item */
#define SESSION_QUEUE_MAX 64		      /* queued messages */

enum session_state {
	S_IDLE,
	S_READY,
	S_TURN,
	S_STOPPING,
	S_ENDED,
	S_NSTATES
};
static const char *session_state_names[] = { "idle", "ready", "running",
	"stopping", "ended" };

enum session_event {
	E_MESSAGE,
	E_TURN_END,
	E_CANCEL,
	E_TERMINATE,
	E_EXIT,
	E_NEVENTS
};

struct session_item {
	char	      *native_id;
	char	       item_id[24];
	enum item_kind kind;
	enum item_role role;
	char	      *text; /* streamed so far, capped */
	size_t	       textlen;
	int	       deltas;
	LIST_ENTRY(session_item) entry;
};

struct session_pending {
	char  id[24]; /* perm_N or q_N */
	char *native_id;
	char *action;
	int   question;
	LIST_ENTRY(session_pending) entry;
};

struct session_msg {
	cJSON *body;
	TAILQ_ENTRY(session_msg) entry;
};

/* An event the disk refused, kept until it can be written. */
struct session_backlog {
	uint64_t	seq;
	enum event_type type;
	char	       *line;
	size_t		len;
	size_t		noraw;
	TAILQ_ENTRY(session_backlog) entry;
};

struct session {
	char			   *id;
	const struct agent_profile *profile;
	char			   *model;
	char			   *permission_mode;
	char			   *cwd;
	cJSON			   *env; /* {NAME: value}, never answered */
	cJSON			   *mcp;
	cJSON			   *agent_command;
	char			   *native_id;
	char			   *agent_version;
	int64_t			    created_ms;
	int64_t			    updated_ms;

	enum session_state state;
	struct journal	  *journal;
	struct proc	  *proc;
	struct record	  *record; /* --record, or NULL */
	void		  *adapter_data;
	void		  *server_slot;
	void (*watch_cb)(void *); /* session_watch */
	void *watch_arg;
	char *driver;		   /* ACP server holding it, or NULL */
	void (*driver_cb)(void *); /* session_set_driver */
	void	*driver_arg;
	uint64_t seq;
	uint64_t nitems;
	uint64_t npending;
	uint64_t nturns;
	char	 turn_id[24];
	int	 in_turn;

	LIST_HEAD(, session_item) items;
	LIST_HEAD(, session_pending) pending;
	TAILQ_HEAD(, session_msg) queue;
	int nqueued;
	TAILQ_HEAD(, session_backlog) backlog;
	struct loop_timer *retry_timer;
	struct loop_timer *idle_timer; /* --idle-timeout in a turn */

	const char *raw; /* native line being handled */
	size_t	    rawlen;
	int	    unparsed; /* raw is not JSON */
	int	    store_failed;
	int	    wake_pending;
	int	    refs;
	int	    dead;
	LIST_ENTRY(session) entry;
};

static LIST_HEAD(, session) sessions = LIST_HEAD_INITIALIZER(sessions);

static void session_emit(struct session *, enum event_type, cJSON *, int);
static int  session_fsm(struct session *, enum session_event, void *, char **);
static void session_save(struct session *);
static void session_backlog_add(
    struct session *, uint64_t, enum event_type, char *, size_t, size_t);
static void session_retry_cb(void *);
static void session_idle_cb(void *);
static int  session_start_agent(struct session *, char **);

/* Session ids: 1-128 of [A-Za-z0-9._-], not starting with '.'. */
int
session_valid_id(const char *id)
{
	size_t i, len = strlen(id);

	if (len == 0 || len > 128 || id[0] == '.')
		return (0);
	for (i = 0; i < len; i++) {
		if (strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789._-",
			id[i]) == NULL)
			return (0);
	}
	return (1);
}

struct session *
session_find(const char *id)
{
	struct session *s;

	LIST_FOREACH(s, &sessions, entry)
	{
		if (strcmp(s->id, id) == 0)
			return (s);
	}
	return (NULL);
}

void
session_ref(struct session *s)
{
	s->refs++;
}

static void
session_free(struct session *s)
{
	struct session_msg *m;

	while ((m = TAILQ_FIRST(&s->queue)) != NULL) {
		TAILQ_REMOVE(&s->queue, m, entry);
		json_free(m->body);
		free(m);
	}
	journal_free(s->journal);
	loop_timer_free(s->idle_timer);
	loop_timer_free(s->retry_timer);
	free(s->id);
	free(s->model);
	free(s->permission_mode);
	free(s->cwd);
	json_free(s->env);
	json_free(s->mcp);
	json_free(s->agent_command);
	free(s->native_id);
	free(s->agent_version);
	free(s->driver);
	free(s);
}

void
session_unref(struct session *s)
{
	if (--s->refs == 0)
		session_free(s);
}

void **
session_server_slot(struct session *s)
{
	return (&s->server_slot);
}

int
session_is_dead(struct session *s)
{
	return (s->dead);
}

uint64_t
session_last_seq(struct session *s)
{
	/* What readers can have: events waiting for a full disk are not. */
	return (journal_last(s->journal));
}

int
session_read(struct session *s, uint64_t after, size_t max, session_read_cb cb,
    void *arg)
{
	return (journal_read(s->journal, after, max, cb, arg));
}

/* One in-process subscriber (agentd run), woken as the server's are. */
void
session_watch(struct session *s, void (*cb)(void *), void *arg)
{
	s->watch_cb = cb;
	s->watch_arg = arg;
}

/*
 * A driver (an ACP server, acpserver.c) holds the session: it is woken
 * with the subscribers to translate new events, and universal clients
 * may only read the session meanwhile (api.c, server.c answer 409).
 */
void
session_set_driver(
    struct session *s, const char *name, void (*cb)(void *), void *arg)
{
	free(s->driver);
	s->driver = name != NULL ? xstrdup(name) : NULL;
	s->driver_cb = cb;
	s->driver_arg = arg;
}

const char *
session_driver(struct session *s)
{
	return (s->driver);
}

/* Host accessors for adapters. */
const char *
session_id(struct session *s)
{
	return (s->id);
}

const char *
session_cwd(struct session *s)
{
	return (s->cwd);
}

const char *
session_model(struct session *s)
{
	return (s->model);
}

const char *
session_permission_mode(struct session *s)
{
	return (s->permission_mode);
}

const char *
session_native_id(struct session *s)
{
	return (s->native_id);
}

const struct agent_profile *
session_profile(struct session *s)
{
	return (s->profile);
}

const cJSON *
session_agent_command(struct session *s)
{
	return (s->agent_command);
}

const cJSON *
session_mcp(struct session *s)
{
	return (s->mcp);
}

void *
session_adapter_data(struct session *s)
{
	return (s->adapter_data);
}

void
session_set_adapter_data(struct session *s, void *data)
{
	s->adapter_data = data;
}

void
session_set_native_id(struct session *s, const char *id)
{
	if (s->native_id != NULL && strcmp(s->native_id, id) == 0)
		return;
	free(s->native_id);
	s->native_id = xstrdup(id);
	session_save(s);
}

void
session_set_agent_version(struct session *s, const char *version)
{
	free(s->agent_version);
	s->agent_version = xstrdup(version);
	session_save(s);
}

/* Write session.json (temp file and rename, in store.c). */
static void
session_save(struct session *s)
{
	cJSON *o;
	char  *text, *cause;
	size_t len;

	if (s->dead)
		return;
	o = json_object();
	json_set_int(o, "version", 1);
	json_set_str(o, "id", s->id);
	json_set_str(o, "agent", s->profile->id);
	if (s->model != NULL)
		json_set_str(o, "model", s->model);
	if (s->permission_mode != NULL)
		json_set_str(o, "permissionMode", s->permission_mode);
	json_set_str(o, "cwd", s->cwd);
	if (s->env != NULL)
		json_set(o, "env", json_dup(s->env));
	if (s->mcp != NULL)
		json_set(o, "mcp", json_dup(s->mcp));
	if (s->agent_command != NULL)
		json_set(o, "agentCommand", json_dup(s->agent_command));
	if (s->native_id != NULL)
		json_set_str(o, "nativeSessionId", s->native_id);
	if (s->agent_version != NULL)
		json_set_str(o, "agentVersion", s->agent_version);
	json_set_int(o, "createdAt", s->created_ms);
	json_set_bool(o, "ended", s->state == S_ENDED);
	json_set_bool(o, "inTurn", s->in_turn);
	text = json_print(o, &len);
	json_free(o);
	if (store_write_meta(journal_store(s->journal), text, len, &cause) !=
	    0) {
		log_error("session %s: %s", s->id, cause);
		free(cause);
	}
	free(text);
}

static void
session_wake_cb(void *arg)
{
	struct session *s = arg;

	s->wake_pending = 0;
	server_session_wake(s);
	if (s->watch_cb != NULL)
		s->watch_cb(s->watch_arg);
	if (s->driver_cb != NULL)
		s->driver_cb(s->driver_arg);
	session_unref(s);
}

/* Wake subscribers once per loop pass, however many events arrived. */
static void
session_wake(struct session *s)
{
	if (s->wake_pending)
		return;
	s->wake_pending = 1;
	session_ref(s);
	loop_defer(session_wake_cb, s);
}

/* Quote a native line that is not JSON, so "raw" stays valid JSON. */
static char *
session_raw_string(const char *line, size_t len, size_t *outlen)
{
	cJSON *str;
	char  *text;

	str = json_stringn(line, len);
	text = json_print(str, outlen);
	json_free(str);
	return (text);
}

/*
 * Number, serialise, store and publish one event; takes data. Events made
 * by agentd (daemon) carry no raw; agent events carry the native line.
 */
static void
session_emit(
    struct session *s, enum event_type type, cJSON *data, int synthetic)
{
	struct event ev;
	char	    *line, *quoted = NULL, *cause = NULL;
	size_t	     len, noraw;

	memset(&ev, 0, sizeof ev);
	ev.sequence = s->seq + 1;
	ev.time_ms = loop_wall_ms();
	ev.session_id = s->id;
	ev.native_session_id = s->native_id;
	ev.daemon = s->raw == NULL;
	ev.synthetic = synthetic;
	ev.type = type;
	ev.data = data;
	if (s->raw != NULL && s->unparsed)
		ev.raw = quoted =
		    session_raw_string(s->raw, s->rawlen, &ev.rawlen);
	else if (s->raw != NULL) {
		ev.raw = s->raw;
		ev.rawlen = s->rawlen;
	}
	line = event_serialize(&ev, &len, &noraw);
	free(quoted);
	json_free(data);
	s->seq = ev.sequence;
	s->updated_ms = ev.time_ms;
	if (TAILQ_EMPTY(&s->backlog) &&
	    journal_append(
		s->journal, ev.sequence, type, line, len, noraw, &cause) == 0) {
		free(line);
		session_wake(s);
		return;
	}
	if (cause != NULL)
		log_error("session %s: %s", s->id, cause);
	free(cause);
	session_backlog_add(s, ev.sequence, type, line, len, noraw);
}

/*
 * The disk refused an event (ENOSPC, EIO). Nothing is dropped: it waits in
 * the backlog with its sequence, the agent's output is paused (its pipe
 * fills and it blocks), and a timer retries every second; API writes
 * answer 507 meanwhile. Once the backlog is written, reading resumes.
 */
static void
session_backlog_add(struct session *s, uint64_t seq, enum event_type type,
    char *line, size_t len, size_t noraw)
{
	struct session_backlog *b;

	b = xcalloc(1, sizeof *b);
	b->seq = seq;
	b->type = type;
	b->line = line;
	b->len = len;
	b->noraw = noraw;
	TAILQ_INSERT_TAIL(&s->backlog, b, entry);
	if (s->store_failed)
		return;
	s->store_failed = 1;
	log_error("session %s: cannot write its log; pausing the agent until "
		  "the disk takes writes again",
	    s->id);
	if (s->proc != NULL)
		proc_pause(s->proc, 1);
	if (s->retry_timer == NULL)
		s->retry_timer = loop_timer_new(session_retry_cb, s);
	loop_timer_set(s->retry_timer, 1.0);
}

static void
session_retry_cb(void *arg)
{
	struct session	       *s = arg;
	struct session_backlog *b;
	char		       *cause;

	while ((b = TAILQ_FIRST(&s->backlog)) != NULL) {
		if (journal_append(s->journal, b->seq, b->type, b->line, b->len,
			b->noraw, &cause) != 0) {
			free(cause);
			loop_timer_set(s->retry_timer, 1.0);
			return;
		}
		TAILQ_REMOVE(&s->backlog, b, entry);
		free(b->line);
		free(b);
	}
	s->store_failed = 0;
	log_info("session %s: log writable again", s->id);
	if (s->proc != NULL)
		proc_pause(s->proc, 0);
	session_wake(s);
}

/* Send one JSON message to the agent's stdin as a line; takes msg. */
void
session_send_json(struct session *s, cJSON *msg)
{
	char  *text;
	size_t len;

	text = json_print(msg, &len);
	json_free(msg);
	record_line(s->record, '>', text, len);
	text = xrealloc(text, len + 1);
	text[len++] = '\n';
	if (s->proc == NULL || proc_write(s->proc, text, len) != 0)
		log_warn("session %s: the agent does not take input", s->id);
	free(text);
}

static struct session_item *
session_item_find(struct session *s, const char *native_id)
{
	struct session_item *it;

	LIST_FOREACH(it, &s->items, entry)
	{
		if (strcmp(it->native_id, native_id) == 0)
			return (it);
	}
	return (NULL);
}

static void
session_item_free(struct session_item *it)
{
	LIST_REMOVE(it, entry);
	free(it->native_id);
	free(it->text);
	free(it);
}

static struct session_item *
session_item_new(struct session *s, const struct item_spec *spec, int synthetic)
{
	struct session_item *it, *parent = NULL;
	cJSON		    *data;

	it = xcalloc(1, sizeof *it);
	it->native_id = xstrdup(spec->native_id);
	it->kind = spec->kind;
	it->role = spec->role;
	snprintf(it->item_id, sizeof it->item_id, "itm_%llu",
	    (unsigned long long)++s->nitems);
	LIST_INSERT_HEAD(&s->items, it, entry);
	if (spec->parent_native_id != NULL)
		parent = session_item_find(s, spec->parent_native_id);
	data = json_object();
	json_set(data, "item",
	    event_item(it->item_id, spec->native_id,
		parent != NULL ? parent->item_id : NULL, spec->kind, spec->role,
		ITEM_IN_PROGRESS, spec->content));
	session_emit(s, EVENT_ITEM_STARTED, data, synthetic);
	return (it);
}

const char *
session_item_start(struct session *s, const struct item_spec *spec)
{
	struct session_item *it;

	if ((it = session_item_find(s, spec->native_id)) != NULL) {
		json_free(spec->content);
		return (it->item_id);
	}
	return (session_item_new(s, spec, 0)->item_id);
}

int
session_item_open(struct session *s, const char *native_id)
{
	return (session_item_find(s, native_id) != NULL);
}

/* Emit a delta; remember the text (capped) for item.completed. */
static void
session_item_text(
    struct session *s, struct session_item *it, const char *text, int synthetic)
{
	cJSON *data;
	size_t len = strlen(text);

	if (it->textlen + len <= SESSION_TEXT_MAX) {
		it->text = xrealloc(it->text, it->textlen + len + 1);
		memcpy(it->text + it->textlen, text, len + 1);
		it->textlen += len;
	}
	it->deltas++;
	data = json_object();
	json_set_str(data, "item_id", it->item_id);
	json_set_str(data, "native_item_id", it->native_id);
	json_set_str(data, "delta", text);
	session_emit(s, EVENT_ITEM_DELTA, data, synthetic);
}

void
session_item_delta(struct session *s, const char *native_id, const char *text)
{
	struct session_item *it;
	struct item_spec     spec;

	if ((it = session_item_find(s, native_id)) == NULL) {
		memset(&spec, 0, sizeof spec);
		spec.native_id = native_id;
		spec.kind = ITEM_MESSAGE;
		spec.role = ROLE_ASSISTANT;
		it = session_item_new(s, &spec, 1);
	}
	session_item_text(s, it, text, 0);
}

/* The text of the first text or reasoning part of a content array. */
static const char *
session_content_text(const cJSON *content)
{
	const cJSON *part;
	const char  *type;

	JSON_FOREACH(part, content)
	{
		type = json_get_str(part, "type");
		if (type != NULL &&
		    (strcmp(type, "text") == 0 ||
			strcmp(type, "reasoning") == 0))
			return (json_get_str(part, "text"));
	}
	return (NULL);
}

void
session_item_complete(
    struct session *s, const char *native_id, int failed, cJSON *content)
{
	struct session_item *it;
	struct item_spec     spec;
	const char	    *text;
	cJSON		    *data;

	if ((it = session_item_find(s, native_id)) == NULL) {
		memset(&spec, 0, sizeof spec);
		spec.native_id = native_id;
		spec.kind = ITEM_MESSAGE;
		spec.role = ROLE_ASSISTANT;
		it = session_item_new(s, &spec, 1);
	}
	if (content == NULL) {
		content = json_array();
		if (it->kind == ITEM_REASONING)
			json_append(content,
			    event_part_reasoning(
				it->text != NULL ? it->text : "", NULL));
		else if (it->text != NULL || it->kind == ITEM_MESSAGE)
			json_append(content,
			    event_part_text(it->text != NULL ? it->text : ""));
	}
	/* A message that streamed nothing gets its text as one delta. */
	if (it->deltas == 0 &&
	    (it->kind == ITEM_MESSAGE || it->kind == ITEM_REASONING) &&
	    it->role != ROLE_USER &&
	    (text = session_content_text(content)) != NULL && *text != '\0')
		session_item_text(s, it, text, 1);
	data = json_object();
	json_set(data, "item",
	    event_item(it->item_id, it->native_id, NULL, it->kind, it->role,
		failed ? ITEM_FAILED : ITEM_COMPLETED, content));
	session_emit(s, EVENT_ITEM_COMPLETED, data, 0);
	session_item_free(it);
}

void
session_turn_start(struct session *s)
{
	cJSON *data;

	if (s->in_turn)
		return;
	s->in_turn = 1;
	snprintf(s->turn_id, sizeof s->turn_id, "turn_%llu",
	    (unsigned long long)++s->nturns);
	data = json_object();
	json_set_str(data, "turn_id", s->turn_id);
	session_emit(s, EVENT_TURN_STARTED, data, s->raw == NULL);
	session_save(s); /* a restart must know a turn was running */
	if (options.idle_timeout > 0) {
		if (s->idle_timer == NULL)
			s->idle_timer = loop_timer_new(session_idle_cb, s);
		loop_timer_set(s->idle_timer, options.idle_timeout);
	}
}

/*
 * The agent said nothing for --idle-timeout seconds in a turn: it hangs.
 * Say so and stop it (SIGTERM, then SIGKILL); the session ends.
 */
static void
session_idle_cb(void *arg)
{
	struct session *s = arg;
	char		msg[96];

	snprintf(msg, sizeof msg,
	    "the agent was silent for %.0f s in a turn "
	    "(--idle-timeout): stopping it",
	    options.idle_timeout);
	log_warn("session %s: %s", s->id, msg);
	session_error(s, msg, "idle_timeout", NULL);
	(void)session_fsm(s, E_TERMINATE, NULL, NULL);
}

/* Emit turn.ended (closing open items first); no state change. */
static void
session_turn_close(
    struct session *s, const char *stop_reason, cJSON *usage, double cost)
{
	struct session_item *it;
	cJSON		    *data;

	if (!s->in_turn) {
		json_free(usage);
		return;
	}
	while ((it = LIST_FIRST(&s->items)) != NULL)
		session_item_complete(s, it->native_id, 0, NULL);
	data = json_object();
	json_set_str(data, "turn_id", s->turn_id);
	if (stop_reason != NULL)
		json_set_str(data, "stop_reason", stop_reason);
	if (usage != NULL)
		json_set(data, "usage", usage);
	if (cost >= 0)
		json_set_num(data, "cost_usd", cost);
	session_emit(s, EVENT_TURN_ENDED, data, 0);
	s->in_turn = 0;
	if (s->idle_timer != NULL)
		loop_timer_stop(s->idle_timer);
	journal_sync(s->journal);
	session_save(s);
}

void
session_turn_end(
    struct session *s, const char *stop_reason, cJSON *usage, double cost)
{
	session_turn_close(s, stop_reason, usage, cost);
	(void)session_fsm(s, E_TURN_END, NULL, NULL);
}

static struct session_pending *
session_pending_add(
    struct session *s, const char *native_id, const char *action, int question)
{
	struct session_pending *p;

	p = xcalloc(1, sizeof *p);
	snprintf(p->id, sizeof p->id, "%s_%llu", question ? "q" : "perm",
	    (unsigned long long)++s->npending);
	p->native_id = xstrdup(native_id);
	p->action = xstrdup(action != NULL ? action : "");
	p->question = question;
	LIST_INSERT_HEAD(&s->pending, p, entry);
	return (p);
}

static void
session_pending_free(struct session_pending *p)
{
	LIST_REMOVE(p, entry);
	free(p->native_id);
	free(p->action);
	free(p);
}

static struct session_pending *
session_pending_find(struct session *s, const char *id, int question)
{
	struct session_pending *p;

	LIST_FOREACH(p, &s->pending, entry)
	{
		if (p->question == question && strcmp(p->id, id) == 0)
			return (p);
	}
	return (NULL);
}

void
session_permission_request(struct session *s, const char *native_id,
    const char *action, cJSON *metadata)
{
	struct session_pending *p;
	cJSON		       *data;

	p = session_pending_add(s, native_id, action, 0);
	data = json_object();
	json_set_str(data, "permission_id", p->id);
	json_set_str(data, "action", p->action);
	json_set_str(data, "status", "requested");
	json_set(data, "metadata", metadata != NULL ? metadata : json_object());
	session_emit(s, EVENT_PERMISSION_REQUESTED, data, 0);
	journal_sync(s->journal);
}

void
session_question_request(
    struct session *s, const char *native_id, cJSON *questions)
{
	struct session_pending *p;
	cJSON		       *data;

	p = session_pending_add(s, native_id, NULL, 1);
	data = json_object();
	json_set_str(data, "question_id", p->id);
	json_set(
	    data, "questions", questions != NULL ? questions : json_array());
	session_emit(s, EVENT_QUESTION_REQUESTED, data, 0);
	journal_sync(s->journal);
}

static void
session_permission_resolved(
    struct session *s, struct session_pending *p, const char *status)
{
	cJSON *data;

	data = json_object();
	json_set_str(data, "permission_id", p->id);
	json_set_str(data, "action", p->action);
	json_set_str(data, "status", status);
	session_emit(s, EVENT_PERMISSION_RESOLVED, data, 0);
}

static void
session_question_resolved(struct session *s, struct session_pending *p,
    const char *status, const cJSON *answers)
{
	cJSON *data;

	data = json_object();
	json_set_str(data, "question_id", p->id);
	json_set_str(data, "status", status);
	if (answers != NULL)
		json_set(data, "answers", json_dup(answers));
	session_emit(s, EVENT_QUESTION_RESOLVED, data, 0);
}

/* Resolve every pending request as cancelled, telling the agent if alive. */
static void
session_pending_cancel(struct session *s, int tell_agent)
{
	const struct adapter   *a = s->profile->adapter;
	struct session_pending *p;

	while ((p = LIST_FIRST(&s->pending)) != NULL) {
		if (p->question) {
			if (tell_agent)
				(void)a->reply_question(s, p->native_id, NULL);
			session_question_resolved(s, p, "cancelled", NULL);
		} else {
			if (tell_agent)
				(void)a->reply_permission(
				    s, p->native_id, PERMISSION_CANCELLED);
			session_permission_resolved(s, p, "cancelled");
		}
		session_pending_free(p);
	}
}

void
session_error(
    struct session *s, const char *message, const char *code, cJSON *details)
{
	cJSON *data;

	data = json_object();
	json_set_str(data, "message", message);
	if (code != NULL)
		json_set_str(data, "code", code);
	if (details != NULL)
		json_set(data, "details", details);
	session_emit(s, EVENT_ERROR, data, 0);
}

void
session_unparsed(struct session *s, const char *error, const char *location)
{
	cJSON *data;

	s->unparsed = 1;
	data = json_object();
	json_set_str(data, "error", error);
	json_set_str(data, "location", location);
	session_emit(s, EVENT_AGENT_UNPARSED, data, 0);
}

/*
 * Replace the raw text of the line being handled, for the events that
 * follow. For agents that repeat a whole partial message in every line
 * (pi), storing each line verbatim would make the log quadratic in the
 * length of a reply; their adapter keeps the part that matters. raw must
 * be valid JSON and live until on_line returns.
 */
void
session_set_raw(struct session *s, const char *raw, size_t len)
{
	if (s->raw == NULL)
		return; /* only inside on_line */
	s->raw = raw;
	s->rawlen = len;
	s->unparsed = 0;
}

void
session_status(struct session *s, const char *label, const char *detail)
{
	struct item_spec spec;
	char		 nid[32];
	cJSON		*content;

	snprintf(
	    nid, sizeof nid, "status-%llu", (unsigned long long)s->nitems + 1);
	content = json_array();
	json_append(content, event_part_status(label, detail));
	memset(&spec, 0, sizeof spec);
	spec.native_id = nid;
	spec.kind = ITEM_STATUS;
	spec.role = ROLE_SYSTEM;
	spec.content = json_dup(content);
	session_item_start(s, &spec);
	session_item_complete(s, nid, 0, content);
}

/* A line of the agent's stdout: made valid UTF-8, then to the adapter. */
static void
session_line_cb(void *arg, const char *line, size_t len)
{
	struct session *s = arg;
	char	       *fixed = NULL;

	if (len == 0)
		return;
	record_line(s->record, '<', line, len);
	if (s->in_turn && s->idle_timer != NULL)
		loop_timer_set(s->idle_timer, options.idle_timeout);
	if (!utf8_valid(line, len))
		line = fixed = utf8_repair(line, len, &len);
	s->raw = line;
	s->rawlen = len;
	s->unparsed = 0;
	s->profile->adapter->on_line(s, line, len);
	s->raw = NULL;
	s->rawlen = 0;
	s->unparsed = 0;
	free(fixed);
}

static void
session_toolong_cb(void *arg, size_t len)
{
	struct session *s = arg;
	char		msg[128];

	snprintf(msg, sizeof msg,
	    "line of %zu bytes over the limit of %zu "
	    "(--max-line): skipped",
	    len, options.max_line);
	session_unparsed(s, msg, "stdout");
}

static void
session_exit_cb(void *arg, int status)
{
	struct session *s = arg;

	record_exit(s->record,
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	record_close(s->record);
	s->record = NULL;
	(void)session_fsm(s, E_EXIT, &status, NULL);
}

static const struct proc_cbs session_proc_cbs = { session_line_cb,
	session_toolong_cb, session_exit_cb };

/* Spawn the agent process and start the adapter's handshake. */
static int
session_start_agent(struct session *s, char **cause)
{
	char		     *path;
	struct argv_builder   ab;
	const cJSON	     *e;
	const struct adapter *a = s->profile->adapter;

	memset(&ab, 0, sizeof ab);
	if (a->spawn_argv(s, &ab, cause) != 0) {
		argv_free(&ab);
		return (-1);
	}
	/* A bare command is looked for where installs go first, then PATH. */
	if (strchr(ab.argv[0], '/') == NULL &&
	    (path = agents_find(ab.argv[0])) != NULL) {
		free(ab.argv[0]);
		ab.argv[0] = path;
	}
	JSON_FOREACH(e, s->env)
	argv_env(&ab, json_key(e), json_str(e));
	s->proc = proc_spawn(ab.argv, ab.env, s->cwd, options.max_line,
	    &session_proc_cbs, s, cause);
	if (s->proc != NULL)
		s->record = record_open(s->id, s->profile->id, ab.argv);
	argv_free(&ab);
	if (s->proc == NULL)
		return (-1);
	session_ref(s); /* held until the process is reaped */
	s->state = S_READY;
	a->on_start(s);
	return (0);
}

/* Hand the next queued message to the agent, starting a turn. */
static void
session_dispatch(struct session *s)
{
	struct session_msg *m;
	struct user_message um;
	struct item_spec    spec;
	char		    nid[32];
	cJSON		   *content;

	if ((m = TAILQ_FIRST(&s->queue)) == NULL)
		return;
	TAILQ_REMOVE(&s->queue, m, entry);
	s->nqueued--;
	s->state = S_TURN;
	session_turn_start(s);

	snprintf(nid, sizeof nid, "user-%llu", (unsigned long long)s->nturns);
	content = json_array();
	json_append(content, event_part_text(json_get_str(m->body, "message")));
	memset(&spec, 0, sizeof spec);
	spec.native_id = nid;
	spec.kind = ITEM_MESSAGE;
	spec.role = ROLE_USER;
	spec.content = json_dup(content);
	session_item_start(s, &spec);
	session_item_complete(s, nid, 0, content);

	um.text = json_get_str(m->body, "message");
	um.attachments = json_get_arr(m->body, "attachments");
	if (s->profile->adapter->send_message(s, &um) != 0) {
		session_error(s, "the agent did not accept the message",
		    "send_failed", NULL);
		session_turn_end(s, "error", NULL, -1);
	}
	json_free(m->body);
	free(m);
}

static void
session_dispatch_cb(void *arg)
{
	struct session *s = arg;

	if (s->state == S_READY && !s->dead)
		session_dispatch(s);
	session_unref(s);
}

/* Emit session.ended with the exit status and stderr. */
static void
session_ended(struct session *s, int status, int by_daemon)
{
	cJSON *data, *err;
	char  *head, *tail;
	int    truncated, code = -1;

	data = json_object();
	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	if (by_daemon)
		json_set_str(data, "reason", "terminated");
	else
		json_set_str(data, "reason", code == 0 ? "completed" : "error");
	json_set_str(data, "terminated_by", by_daemon ? "daemon" : "agent");
	if (WIFSIGNALED(status)) {
		char msg[64];

		snprintf(
		    msg, sizeof msg, "killed by signal %d", WTERMSIG(status));
		json_set_str(data, "message", msg);
	} else
		json_set_int(data, "exit_code", code);
	if (s->proc != NULL) {
		proc_stderr(s->proc, &head, &tail, &truncated);
		err = json_object();
		json_set_str(err, "head", head);
		json_set_str(err, "tail", tail);
		json_set_bool(err, "truncated", truncated);
		json_set(data, "stderr", err);
		free(head);
		free(tail);
	}
	session_emit(s, EVENT_SESSION_ENDED, data, 1);
	journal_sync(s->journal);
}

static void
session_proc_free_cb(void *arg)
{
	proc_free(arg);
}

/* The agent process is gone: release it and its adapter state. */
static void
session_reap(struct session *s)
{
	s->profile->adapter->free(s);
	s->adapter_data = NULL;
	loop_defer(session_proc_free_cb, s->proc);
	s->proc = NULL;
	session_unref(s); /* the process's reference */
}

/*
 * The lifecycle table: one small function per (state, event). Each
 * returns 0, or an HTTP status with *cause for the client that asked.
 */
typedef int (*session_action)(struct session *, void *, char **);

static int
session_do_ignore(struct session *s, void *arg, char **cause)
{
	return (0);
}

static int
session_do_no_turn(struct session *s, void *arg, char **cause)
{
	if (cause != NULL)
		*cause = xstrdup("no turn is running");
	return (409);
}

static int
session_do_refuse(struct session *s, void *arg, char **cause)
{
	if (cause != NULL)
		xasprintf(cause, "session '%s' is %s", s->id,
		    session_state_names[s->state]);
	return (409);
}

static int
session_do_queue(struct session *s, void *arg, char **cause)
{
	struct session_msg *m;

	if (s->nqueued >= SESSION_QUEUE_MAX) {
		xasprintf(
		    cause, "%d messages are already queued", SESSION_QUEUE_MAX);
		return (409);
	}
	m = xcalloc(1, sizeof *m);
	m->body = json_dup(arg);
	TAILQ_INSERT_TAIL(&s->queue, m, entry);
	s->nqueued++;
	if (s->state == S_READY)
		session_dispatch(s);
	return (0);
}

static int
session_do_start(struct session *s, void *arg, char **cause)
{
	char *why;

	if (session_start_agent(s, &why) != 0) {
		xasprintf(cause, "cannot start the agent: %s", why);
		session_error(s, *cause, "spawn_failed", NULL);
		free(why);
		return (502);
	}
	return (session_do_queue(s, arg, cause));
}

static int
session_do_turn_done(struct session *s, void *arg, char **cause)
{
	s->state = S_READY;
	if (!TAILQ_EMPTY(&s->queue)) {
		/* Not from inside the adapter's callback: next loop pass. */
		session_ref(s);
		loop_defer(session_dispatch_cb, s);
	}
	return (0);
}

static int
session_do_cancel(struct session *s, void *arg, char **cause)
{
	session_pending_cancel(s, 1);
	if (s->profile->adapter->cancel(s) != 0) {
		*cause = xstrdup("the agent cannot cancel this turn");
		return (502);
	}
	return (0);
}

static int
session_do_stop(struct session *s, void *arg, char **cause)
{
	s->state = S_STOPPING;
	proc_stop(s->proc, options.kill_grace);
	return (0);
}

static int
session_do_end_idle(struct session *s, void *arg, char **cause)
{
	cJSON *data;

	data = json_object();
	json_set_str(data, "reason", "terminated");
	json_set_str(data, "terminated_by", "daemon");
	session_emit(s, EVENT_SESSION_ENDED, data, 1);
	s->state = S_ENDED;
	session_save(s);
	journal_sync(s->journal);
	return (0);
}

/* The agent exited on its own, between turns or in one. */
static int
session_do_exit(struct session *s, void *arg, char **cause)
{
	int  status = *(int *)arg;
	char msg[96];

	if (s->in_turn || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			snprintf(msg, sizeof msg,
			    "the agent exited with "
			    "status %d",
			    WEXITSTATUS(status));
		else
			snprintf(msg, sizeof msg,
			    "the agent was killed by "
			    "signal %d",
			    WTERMSIG(status));
		session_error(s, msg, "agent_exited", NULL);
	}
	session_pending_cancel(s, 0);
	session_turn_close(s, "error", NULL, -1);
	session_ended(s, status, 0);
	s->state = S_ENDED;
	session_save(s);
	session_reap(s);
	return (0);
}

static int
session_do_exit_stopped(struct session *s, void *arg, char **cause)
{
	session_pending_cancel(s, 0);
	session_turn_close(s, "cancelled", NULL, -1);
	session_ended(s, *(int *)arg, 1);
	s->state = S_ENDED;
	session_save(s);
	session_reap(s);
	return (0);
}

static const session_action session_table[S_NSTATES][E_NEVENTS] = {
	/*		MESSAGE		    TURN_END
			CANCEL		    TERMINATE		EXIT */
	[S_IDLE] = { session_do_start, session_do_ignore, session_do_no_turn,
	    session_do_end_idle, session_do_ignore },
	[S_READY] = { session_do_queue, session_do_ignore, session_do_no_turn,
	    session_do_stop, session_do_exit },
	[S_TURN] = { session_do_queue, session_do_turn_done, session_do_cancel,
	    session_do_stop, session_do_exit },
	[S_STOPPING] = { session_do_refuse, session_do_ignore,
	    session_do_no_turn, session_do_ignore, session_do_exit_stopped },
	[S_ENDED] = { session_do_refuse, session_do_ignore, session_do_no_turn,
	    session_do_ignore, session_do_ignore },
};

static int
session_fsm(struct session *s, enum session_event ev, void *arg, char **cause)
{
	return (session_table[s->state][ev](s, arg, cause));
}

/* Read a string member of the create request; -1 if of the wrong type. */
static int
session_opt_str(const cJSON *req, const char *name, char **out, char **cause)
{
	const cJSON *v = json_get(req, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_str(v)) {
		xasprintf(cause, "'%s' must be a string", name);
		return (-1);
	}
	*out = xstrdup(json_str(v));
	return (0);
}

/* Check the optional members of a create request. */
static int
session_check_request(
    const cJSON *req, const struct agent_profile *p, char **cause)
{
	const cJSON *v, *e;

	if ((v = json_get(req, "env")) != NULL) {
		if (!json_is_obj(v))
			goto env;
		JSON_FOREACH(e, v)
		{
			if (!json_is_str(e) || *json_key(e) == '\0' ||
			    strchr(json_key(e), '=') != NULL)
				goto env;
		}
	}
	if ((v = json_get(req, "agentCommand")) != NULL) {
		if (!json_is_arr(v) || json_size(v) == 0)
			goto command;
		JSON_FOREACH(e, v)
		{
			if (!json_is_str(e))
				goto command;
		}
	} else if (p->flags & AGENT_CUSTOM_COMMAND)
		goto command;
	return (0);
env:
	*cause = xstrdup("'env' must be an object of strings");
	return (-1);
command:
	xasprintf(cause,
	    "'agentCommand' must be a non-empty array of "
	    "strings%s",
	    (p->flags & AGENT_CUSTOM_COMMAND) ? " (required for this agent)"
					      : "");
	return (-1);
}

static struct session *
session_new(const char *id, const struct agent_profile *p)
{
	struct session *s;

	s = xcalloc(1, sizeof *s);
	s->id = xstrdup(id);
	s->profile = p;
	LIST_INIT(&s->items);
	LIST_INIT(&s->pending);
	TAILQ_INIT(&s->queue);
	TAILQ_INIT(&s->backlog);
	s->refs = 1; /* the registry's */
	LIST_INSERT_HEAD(&sessions, s, entry);
	return (s);
}

/* Emit session.started with the session's metadata. */
static void
session_started(struct session *s)
{
	cJSON *data, *meta;

	meta = json_object();
	json_set_str(meta, "agent", s->profile->id);
	if (s->agent_version != NULL)
		json_set_str(meta, "agentVersion", s->agent_version);
	else
		json_set(meta, "agentVersion", json_null());
	if (s->model != NULL)
		json_set_str(meta, "model", s->model);
	else
		json_set(meta, "model", json_null());
	json_set_str(meta, "permissionMode",
	    s->permission_mode != NULL ? s->permission_mode : "default");
	json_set_str(meta, "cwd", s->cwd);
	data = json_object();
	json_set(data, "metadata", meta);
	session_emit(s, EVENT_SESSION_STARTED, data, 1);
}

/*
 * POST /v1/sessions/{id}: returns 0, or an HTTP status with *cause.
 */
int
session_create(
    const char *id, const cJSON *req, struct session **sp, char **cause)
{
	const struct agent_profile *p;
	struct session		   *s;
	struct store		   *st;
	const char		   *agent;
	char			   *cwd = NULL, *model, *mode, buf[4096];
	struct stat		    sb;

	if (session_find(id) != NULL) {
		xasprintf(cause, "session '%s' already exists", id);
		return (409);
	}
	if ((agent = json_get_str(req, "agent")) == NULL) {
		*cause = xstrdup("'agent' (a string) is required");
		return (400);
	}
	if ((p = adapter_find_agent(agent)) == NULL) {
		xasprintf(cause, "unknown agent '%s'", agent);
		return (400);
	}
	if (session_check_request(req, p, cause) != 0)
		return (400);
	if (session_opt_str(req, "cwd", &cwd, cause) != 0)
		return (400);
	if (cwd == NULL)
		cwd = xstrdup(getcwd(buf, sizeof buf) != NULL ? buf : "/");
	if (*cwd != '/' || stat(cwd, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		xasprintf(cause,
		    "cwd '%s' is not an existing absolute "
		    "directory",
		    cwd);
		free(cwd);
		return (400);
	}
	if (session_opt_str(req, "model", &model, cause) != 0) {
		free(cwd);
		return (400);
	}
	if (session_opt_str(req, "permissionMode", &mode, cause) != 0) {
		free(cwd);
		free(model);
		return (400);
	}
	if ((st = store_create(options.data_dir, id, cause)) == NULL) {
		free(cwd);
		free(model);
		free(mode);
		return (errno == EEXIST ? 409 : 507);
	}
	s = session_new(id, p);
	s->journal = journal_new(st);
	s->cwd = cwd;
	s->model = model;
	s->permission_mode = mode;
	if (json_get(req, "env") != NULL)
		s->env = json_dup(json_get(req, "env"));
	if (json_get(req, "mcp") != NULL)
		s->mcp = json_dup(json_get(req, "mcp"));
	if (json_get(req, "agentCommand") != NULL)
		s->agent_command = json_dup(json_get(req, "agentCommand"));
	s->created_ms = s->updated_ms = loop_wall_ms();
	session_save(s);
	session_started(s);
	*sp = s;
	if (session_start_agent(s, cause) != 0) {
		session_error(s, *cause, "spawn_failed", NULL);
		session_do_end_idle(s, NULL, NULL);
		return (502);
	}
	log_info("session %s: created (%s)", id, p->id);
	return (0);
}

/* Rebuild one session from its directory at start-up. */
static int
session_load(const char *id, char **cause)
{
	const struct agent_profile *p;
	struct session		   *s;
	struct store		   *st;
	uint64_t		    last;
	const char		   *err, *agent;
	char			   *meta;
	size_t			    len;
	cJSON			   *o;
	long long		    created;
	int			    ended = 0, in_turn = 0;

	if ((st = store_open(options.data_dir, id, &last, cause)) == NULL)
		return (-1);
	meta = store_read_meta(st, &len);
	o = meta != NULL ? json_parse(meta, len, &err) : NULL;
	free(meta);
	if (o == NULL || (agent = json_get_str(o, "agent")) == NULL ||
	    (p = adapter_find_agent(agent)) == NULL) {
		xasprintf(cause, "session %s: unreadable session.json", id);
		json_free(o);
		store_close(st);
		return (-1);
	}
	s = session_new(id, p);
	s->journal = journal_new(st);
	s->seq = last;
	(void)session_opt_str(o, "model", &s->model, cause);
	(void)session_opt_str(o, "permissionMode", &s->permission_mode, cause);
	(void)session_opt_str(o, "cwd", &s->cwd, cause);
	(void)session_opt_str(o, "nativeSessionId", &s->native_id, cause);
	(void)session_opt_str(o, "agentVersion", &s->agent_version, cause);
	if (s->cwd == NULL)
		s->cwd = xstrdup("/");
	s->env = json_detach(o, "env");
	s->mcp = json_detach(o, "mcp");
	s->agent_command = json_detach(o, "agentCommand");
	if (json_get_int(o, "createdAt", &created) == 0)
		s->created_ms = created;
	s->updated_ms = s->created_ms;
	(void)json_get_bool(o, "ended", &ended);
	(void)json_get_bool(o, "inTurn", &in_turn);
	json_free(o);
	s->state = ended ? S_ENDED : S_IDLE;
	s->nturns = last; /* turn ids stay unique across restarts */
	s->nitems = last;
	s->npending = last;
	if (in_turn) {
		/* agentd died in a turn: close it in the log, truthfully. */
		s->in_turn = 1;
		snprintf(s->turn_id, sizeof s->turn_id, "turn_interrupted");
		session_error(s, "agentd restarted during this turn",
		    "interrupted", NULL);
		session_turn_close(s, "interrupted", NULL, -1);
		session_save(s);
	}
	log_info("session %s: loaded (%llu events, %s)", id,
	    (unsigned long long)last, session_state_names[s->state]);
	return (0);
}

int
session_load_all(char **cause)
{
	char **ids;
	size_t n, i;
	char  *why;

	if (store_list(options.data_dir, &ids, &n) != 0) {
		xasprintf(cause, "cannot list %s/sessions", options.data_dir);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (session_load(ids[i], &why) != 0) {
			/* One bad session must not keep the others down. */
			log_error("%s", why);
			free(why);
		}
		free(ids[i]);
	}
	free(ids);
	return (0);
}

/* SessionInfo, as GET /v1/sessions/{id} answers it. Never env values. */
cJSON *
session_info(struct session *s)
{
	struct session_pending *p;
	const cJSON	       *e;
	cJSON		       *o, *keys, *perms, *qs;

	o = json_object();
	json_set_str(o, "sessionId", s->id);
	json_set_str(o, "agent", s->profile->id);
	json_set_str(o, "agentMode", "build");
	json_set_str(o, "permissionMode",
	    s->permission_mode != NULL ? s->permission_mode : "default");
	if (s->model != NULL)
		json_set_str(o, "model", s->model);
	if (s->native_id != NULL)
		json_set_str(o, "nativeSessionId", s->native_id);
	if (s->agent_version != NULL)
		json_set_str(o, "agentVersion", s->agent_version);
	json_set_str(o, "directory", s->cwd);
	json_set_str(o, "state", session_state_names[s->state]);
	json_set_bool(o, "ended", s->state == S_ENDED);
	json_set_int(o, "eventCount", (long long)s->seq);
	json_set_int(o, "queuedMessages", s->nqueued);
	json_set_int(o, "createdAt", s->created_ms);
	json_set_int(o, "updatedAt", s->updated_ms);
	if (s->proc != NULL)
		json_set_int(o, "pid", proc_pid(s->proc));
	keys = json_array();
	JSON_FOREACH(e, s->env)
	json_append(keys, json_string(json_key(e)));
	json_set(o, "envKeys", keys);
	perms = json_array();
	qs = json_array();
	LIST_FOREACH(p, &s->pending, entry)
	json_append(p->question ? qs : perms, json_string(p->id));
	json_set(o, "pendingPermissions", perms);
	json_set(o, "pendingQuestions", qs);
	return (o);
}

cJSON *
session_list(void)
{
	struct session *s;
	cJSON	       *a;

	a = json_array();
	LIST_FOREACH(s, &sessions, entry)
	json_append(a, session_info(s));
	return (a);
}

/* The store refused writes: say so instead of taking more work. */
static int
session_check_store(struct session *s, char **cause)
{
	if (!s->store_failed)
		return (0);
	xasprintf(
	    cause, "session '%s' cannot write its log (disk full?)", s->id);
	return (507);
}

int
session_post_message(struct session *s, const cJSON *body, char **cause)
{
	int status;

	if (json_get_str(body, "message") == NULL) {
		*cause = xstrdup("'message' (a string) is required");
		return (400);
	}
	if ((status = session_check_store(s, cause)) != 0)
		return (status);
	return (session_fsm(s, E_MESSAGE, (void *)body, cause));
}

int
session_reply_permission(struct session *s, const char *id,
    enum permission_reply reply, char **cause)
{
	static const char *names[] = { "accept", "accept_for_session", "reject",
		"cancelled" };
	struct session_pending *p;

	if ((p = session_pending_find(s, id, 0)) == NULL) {
		xasprintf(cause, "no pending permission '%s'", id);
		return (404);
	}
	if (s->profile->adapter->reply_permission(s, p->native_id, reply) !=
	    0) {
		*cause = xstrdup("the agent did not take the reply");
		return (502);
	}
	session_permission_resolved(s, p, names[reply]);
	session_pending_free(p);
	return (0);
}

int
session_reply_question(
    struct session *s, const char *id, const cJSON *answers, char **cause)
{
	struct session_pending *p;

	if ((p = session_pending_find(s, id, 1)) == NULL) {
		xasprintf(cause, "no pending question '%s'", id);
		return (404);
	}
	if (s->profile->adapter->reply_question(s, p->native_id, answers) !=
	    0) {
		*cause = xstrdup("the agent did not take the reply");
		return (502);
	}
	session_question_resolved(
	    s, p, answers != NULL ? "answered" : "rejected", answers);
	session_pending_free(p);
	return (0);
}

int
session_cancel(struct session *s, char **cause)
{
	return (session_fsm(s, E_CANCEL, NULL, cause));
}

int
session_terminate(struct session *s)
{
	return (session_fsm(s, E_TERMINATE, NULL, NULL));
}

/* DELETE: terminate, forget, remove from disk. Subscribers see it die. */
void
session_delete(struct session *s)
{
	(void)session_terminate(s);
	LIST_REMOVE(s, entry);
	if (store_remove(journal_store(s->journal)) != 0)
		log_warn("session %s: could not remove its files", s->id);
	s->dead = 1;
	server_session_wake(s);
	session_unref(s);
}

/*
 * agentd is stopping: signal every agent's group and flush the logs. The
 * sessions stay resumable: session.json still says they were not ended.
 */
void
session_shutdown(void)
{
	struct session *s;

	LIST_FOREACH(s, &sessions, entry)
	{
		if (s->proc != NULL) {
			kill(-proc_pid(s->proc), SIGTERM);
			kill(-proc_pid(s->proc), SIGCONT);
		}
		journal_sync(s->journal);
	}
}
