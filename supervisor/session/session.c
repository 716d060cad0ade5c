/*
 * session.c: a session is one agent process plus its durable event log.
 *
 * This file owns the registry, the lifecycle, the message queue, the
 * agent's process and the session's metadata on disk. What the agent says
 * goes through its adapter to the session's host (supervisor/host, the
 * normaliser of DESIGN.md section 3), which appends to the journal;
 * readers subscribe to that journal. HTTP reaches sessions through
 * session.h and is never called from here.
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
 * Invariants: a session is freed only when its last reference (registry,
 * subscribers, a running process) is gone; an ended session holds no
 * process.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

#define SESSION_QUEUE_MAX 64 /* queued messages */

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

struct session_msg {
	cJSON *body;
	TAILQ_ENTRY(session_msg) entry;
};

struct session {
	char			   *id;
	const struct agent_profile *profile;
	cJSON			   *env; /* {NAME: value}, never answered */
	int64_t			    created_ms;

	enum session_state state;
	struct journal	  *journal;
	struct host	  *host;
	struct proc	  *proc;
	struct record	  *record; /* --record, or NULL */
	char		  *driver; /* ACP server holding it, or NULL */

	TAILQ_HEAD(, session_msg) queue;
	int		   nqueued;
	struct loop_timer *idle_timer; /* --idle-timeout in a turn */

	int refs;
	int dead;
	LIST_ENTRY(session) entry;
};

static LIST_HEAD(, session) sessions = LIST_HEAD_INITIALIZER(sessions);

static int  session_fsm(struct session *, enum session_event, void *, char **);
static void session_save(struct session *);
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

	LIST_FOREACH(s, &sessions, entry) {
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
	host_free(s->host);
	journal_free(s->journal);
	loop_timer_free(s->idle_timer);
	free(s->id);
	json_free(s->env);
	free(s->driver);
	free(s);
}

void
session_unref(struct session *s)
{
	if (--s->refs == 0)
		session_free(s);
}

int
session_is_dead(struct session *s)
{
	return (s->dead);
}

const char *
session_name(struct session *s)
{
	return (s->id);
}

const struct agent_profile *
session_agent(struct session *s)
{
	return (s->profile);
}

/* The session's event log: readers subscribe to it and read from it. */
struct journal *
session_journal(struct session *s)
{
	return (s->journal);
}

uint64_t
session_last_seq(struct session *s)
{
	/* What readers can have: events waiting for a full disk are not. */
	return (journal_last(s->journal));
}

int
session_read(struct session *s, uint64_t after, size_t max, journal_read_cb cb,
    void *arg)
{
	return (journal_read(s->journal, after, max, cb, arg));
}

/*
 * A driver (an ACP server, acpserver.c) holds the session: universal
 * clients may only read it meanwhile (api.c, server.c answer 409).
 */
void
session_set_driver(struct session *s, const char *name)
{
	free(s->driver);
	s->driver = name != NULL ? xstrdup(name) : NULL;
}

const char *
session_driver(struct session *s)
{
	return (s->driver);
}

/* Write session.json (temp file and rename, in store.c). */
static void
session_save(struct session *s)
{
	struct host *h = s->host;
	cJSON	    *o;
	char	    *text, *cause;
	size_t	     len;

	if (s->dead || h == NULL)
		return;
	o = json_object();
	json_set_int(o, "version", 1);
	json_set_str(o, "id", s->id);
	json_set_str(o, "agent", s->profile->id);
	if (host_model(h) != NULL)
		json_set_str(o, "model", host_model(h));
	if (host_permission_mode(h) != NULL)
		json_set_str(o, "permissionMode", host_permission_mode(h));
	json_set_str(o, "cwd", host_cwd(h));
	if (s->env != NULL)
		json_set(o, "env", json_dup(s->env));
	if (host_mcp(h) != NULL)
		json_set(o, "mcp", json_dup(host_mcp(h)));
	if (host_agent_command(h) != NULL)
		json_set(o, "agentCommand", json_dup(host_agent_command(h)));
	if (host_native_id(h) != NULL)
		json_set_str(o, "nativeSessionId", host_native_id(h));
	if (host_agent_version(h) != NULL)
		json_set_str(o, "agentVersion", host_agent_version(h));
	json_set_int(o, "createdAt", s->created_ms);
	json_set_bool(o, "ended", s->state == S_ENDED);
	json_set_bool(o, "inTurn", host_in_turn(h));
	text = json_print(o, &len);
	json_free(o);
	if (store_write_meta(journal_store(s->journal), text, len, &cause) !=
	    0) {
		log_error("session %s: %s", s->id, cause);
		free(cause);
	}
	free(text);
}

/* The host's line for the agent's stdin. */
static void
session_send_cb(void *arg, const char *line, size_t len)
{
	struct session *s = arg;

	record_line(s->record, '>', line, len - 1);
	if (s->proc == NULL || proc_write(s->proc, line, len) != 0)
		log_warn("session %s: the agent does not take input", s->id);
}

static void
session_changed_cb(void *arg)
{
	session_save(arg);
}

/* A turn started or ended in the log: save, time it, go on. */
static void
session_turn_cb(void *arg, enum host_turn what)
{
	struct session *s = arg;

	session_save(s); /* a restart must know whether a turn was running */
	if (what == HOST_TURN_STARTED) {
		if (options.idle_timeout > 0) {
			if (s->idle_timer == NULL)
				s->idle_timer =
				    loop_timer_new(session_idle_cb, s);
			loop_timer_set(s->idle_timer, options.idle_timeout);
		}
		return;
	}
	if (s->idle_timer != NULL)
		loop_timer_stop(s->idle_timer);
	if (what == HOST_TURN_ENDED)
		(void)session_fsm(s, E_TURN_END, NULL, NULL);
}

static const struct host_cbs session_host_cbs = { session_send_cb,
	session_turn_cb, session_changed_cb };

/* The journal could not write: hold the agent's output until it can. */
static void
session_stall_cb(void *arg, int stalled)
{
	struct session *s = arg;

	if (s->proc != NULL)
		proc_pause(s->proc, stalled);
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
	host_error(s->host, msg, "idle_timeout", NULL);
	(void)session_fsm(s, E_TERMINATE, NULL, NULL);
}

/* Tell the agent that a pending request was cancelled. */
static void
session_tell_cb(void *arg, const char *native_id, int question)
{
	struct session	     *s = arg;
	const struct adapter *a = s->profile->adapter;

	if (question)
		(void)a->reply_question(s->host, native_id, NULL);
	else
		(void)a->reply_permission(
		    s->host, native_id, PERMISSION_CANCELLED);
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
	if (host_in_turn(s->host) && s->idle_timer != NULL)
		loop_timer_set(s->idle_timer, options.idle_timeout);
	if (!utf8_valid(line, len))
		line = fixed = utf8_repair(line, len, &len);
	host_line_begin(s->host, line, len);
	s->profile->adapter->on_line(s->host, line, len);
	host_line_end(s->host);
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
	host_unparsed(s->host, msg, "stdout");
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
	if (a->spawn_argv(s->host, &ab, cause) != 0) {
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
	s->proc = proc_spawn(ab.argv, ab.env, host_cwd(s->host),
	    options.max_line, &session_proc_cbs, s, cause);
	if (s->proc != NULL)
		s->record = record_open(s->id, s->profile->id, ab.argv);
	argv_free(&ab);
	if (s->proc == NULL)
		return (-1);
	session_ref(s); /* held until the process is reaped */
	s->state = S_READY;
	a->on_start(s->host);
	return (0);
}

/* Hand the next queued message to the agent, starting a turn. */
static void
session_dispatch(struct session *s)
{
	struct session_msg *m;
	struct user_message um;
	cJSON		   *content;

	if ((m = TAILQ_FIRST(&s->queue)) == NULL)
		return;
	TAILQ_REMOVE(&s->queue, m, entry);
	s->nqueued--;
	s->state = S_TURN;
	host_turn_start(s->host);
	content = json_array();
	json_append(content, event_part_text(json_get_str(m->body, "message")));
	host_user_message(s->host, content);

	um.text = json_get_str(m->body, "message");
	um.attachments = json_get_arr(m->body, "attachments");
	if (s->profile->adapter->send_message(s->host, &um) != 0) {
		host_error(s->host, "the agent did not accept the message",
		    "send_failed", NULL);
		host_turn_end(s->host, "error", NULL, -1);
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
	host_emit(s->host, EVENT_SESSION_ENDED, data, 1);
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
	s->profile->adapter->free(s->host);
	host_set_adapter_data(s->host, NULL);
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
		host_error(s->host, *cause, "spawn_failed", NULL);
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
	host_pending_cancel(s->host, session_tell_cb, s);
	if (s->profile->adapter->cancel(s->host) != 0) {
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
	host_emit(s->host, EVENT_SESSION_ENDED, data, 1);
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

	if (host_in_turn(s->host) || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
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
		host_error(s->host, msg, "agent_exited", NULL);
	}
	host_pending_cancel(s->host, NULL, NULL);
	host_turn_close(s->host, "error", NULL, -1);
	session_ended(s, status, 0);
	s->state = S_ENDED;
	session_save(s);
	session_reap(s);
	return (0);
}

static int
session_do_exit_stopped(struct session *s, void *arg, char **cause)
{
	host_pending_cancel(s->host, NULL, NULL);
	host_turn_close(s->host, "cancelled", NULL, -1);
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
		JSON_FOREACH(e, v) {
			if (!json_is_str(e) || *json_key(e) == '\0' ||
			    strchr(json_key(e), '=') != NULL)
				goto env;
		}
	}
	if ((v = json_get(req, "agentCommand")) != NULL) {
		if (!json_is_arr(v) || json_size(v) == 0)
			goto command;
		JSON_FOREACH(e, v) {
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

/*
 * A session over an open store; takes st. The host gets its settings and
 * goes on from the journal's last sequence.
 */
static struct session *
session_new(const char *id, const struct agent_profile *p, struct store *st,
    const struct host_settings *set)
{
	struct session *s;
	char		name[160];

	s = xcalloc(1, sizeof *s);
	s->id = xstrdup(id);
	s->profile = p;
	TAILQ_INIT(&s->queue);
	snprintf(name, sizeof name, "session %s", id);
	s->journal = journal_new(st, name);
	journal_on_stall(s->journal, session_stall_cb, s);
	s->host = host_new(set, s->journal, &session_host_cbs, s);
	s->refs = 1; /* the registry's */
	LIST_INSERT_HEAD(&sessions, s, entry);
	return (s);
}

/* Emit session.started with the session's metadata. */
static void
session_started(struct session *s)
{
	struct host *h = s->host;
	cJSON	    *data, *meta;

	meta = json_object();
	json_set_str(meta, "agent", s->profile->id);
	if (host_agent_version(h) != NULL)
		json_set_str(meta, "agentVersion", host_agent_version(h));
	else
		json_set(meta, "agentVersion", json_null());
	if (host_model(h) != NULL)
		json_set_str(meta, "model", host_model(h));
	else
		json_set(meta, "model", json_null());
	json_set_str(meta, "permissionMode",
	    host_permission_mode(h) != NULL ? host_permission_mode(h)
					    : "default");
	json_set_str(meta, "cwd", host_cwd(h));
	data = json_object();
	json_set(data, "metadata", meta);
	host_emit(h, EVENT_SESSION_STARTED, data, 1);
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
	struct host_settings	    set;
	const char		   *agent;
	char			   *cwd = NULL, *model = NULL, *mode = NULL;
	char			    buf[4096];
	struct stat		    sb;
	int			    status = 400;

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
		goto out;
	}
	if (session_opt_str(req, "model", &model, cause) != 0 ||
	    session_opt_str(req, "permissionMode", &mode, cause) != 0)
		goto out;
	if ((st = store_create(options.data_dir, id, cause)) == NULL) {
		status = errno == EEXIST ? 409 : 507;
		goto out;
	}
	memset(&set, 0, sizeof set);
	set.id = id;
	set.profile = p;
	set.cwd = cwd;
	set.model = model;
	set.permission_mode = mode;
	set.agent_command = json_get(req, "agentCommand");
	set.mcp = json_get(req, "mcp");
	s = session_new(id, p, st, &set);
	if (json_get(req, "env") != NULL)
		s->env = json_dup(json_get(req, "env"));
	s->created_ms = loop_wall_ms();
	session_save(s);
	session_started(s);
	*sp = s;
	status = 0;
	if (session_start_agent(s, cause) != 0) {
		host_error(s->host, *cause, "spawn_failed", NULL);
		session_do_end_idle(s, NULL, NULL);
		status = 502;
	} else
		log_info("session %s: created (%s)", id, p->id);
out:
	free(cwd);
	free(model);
	free(mode);
	return (status);
}

/* Rebuild one session from its directory at start-up. */
static int
session_load(const char *id, char **cause)
{
	const struct agent_profile *p;
	struct session		   *s;
	struct store		   *st;
	struct host_settings	    set;
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
	memset(&set, 0, sizeof set);
	set.id = id;
	set.profile = p;
	set.cwd = json_get_str(o, "cwd") != NULL ? json_get_str(o, "cwd") : "/";
	set.model = json_get_str(o, "model");
	set.permission_mode = json_get_str(o, "permissionMode");
	set.native_id = json_get_str(o, "nativeSessionId");
	set.agent_version = json_get_str(o, "agentVersion");
	set.agent_command = json_get_arr(o, "agentCommand");
	set.mcp = json_get(o, "mcp");
	s = session_new(id, p, st, &set);
	s->env = json_detach(o, "env");
	if (json_get_int(o, "createdAt", &created) == 0)
		s->created_ms = created;
	(void)json_get_bool(o, "ended", &ended);
	(void)json_get_bool(o, "inTurn", &in_turn);
	json_free(o);
	s->state = ended ? S_ENDED : S_IDLE;
	if (in_turn)
		host_interrupted(s->host);
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
	struct host *h = s->host;
	const cJSON *e;
	cJSON	    *o, *keys, *perms, *qs;
	int64_t	     updated;

	o = json_object();
	json_set_str(o, "sessionId", s->id);
	json_set_str(o, "agent", s->profile->id);
	json_set_str(o, "agentMode", "build");
	json_set_str(o, "permissionMode",
	    host_permission_mode(h) != NULL ? host_permission_mode(h)
					    : "default");
	if (host_model(h) != NULL)
		json_set_str(o, "model", host_model(h));
	if (host_native_id(h) != NULL)
		json_set_str(o, "nativeSessionId", host_native_id(h));
	if (host_agent_version(h) != NULL)
		json_set_str(o, "agentVersion", host_agent_version(h));
	json_set_str(o, "directory", host_cwd(h));
	json_set_str(o, "state", session_state_names[s->state]);
	json_set_bool(o, "ended", s->state == S_ENDED);
	json_set_int(o, "eventCount", (long long)host_seq(h));
	json_set_int(o, "queuedMessages", s->nqueued);
	json_set_int(o, "createdAt", s->created_ms);
	updated = host_updated_ms(h);
	json_set_int(
	    o, "updatedAt", updated > s->created_ms ? updated : s->created_ms);
	if (s->proc != NULL)
		json_set_int(o, "pid", proc_pid(s->proc));
	keys = json_array();
	JSON_FOREACH(e, s->env)
		json_append(keys, json_string(json_key(e)));
	json_set(o, "envKeys", keys);
	perms = json_array();
	qs = json_array();
	host_pending_ids(h, perms, qs);
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
	if (!journal_stalled(s->journal))
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
	const char *native;

	if ((native = host_pending_native(s->host, id, 0)) == NULL) {
		xasprintf(cause, "no pending permission '%s'", id);
		return (404);
	}
	if (s->profile->adapter->reply_permission(s->host, native, reply) !=
	    0) {
		*cause = xstrdup("the agent did not take the reply");
		return (502);
	}
	host_pending_resolve(
	    s->host, id, 0, event_permission_status(reply), NULL);
	return (0);
}

int
session_reply_question(
    struct session *s, const char *id, const cJSON *answers, char **cause)
{
	const char *native;

	if ((native = host_pending_native(s->host, id, 1)) == NULL) {
		xasprintf(cause, "no pending question '%s'", id);
		return (404);
	}
	if (s->profile->adapter->reply_question(s->host, native, answers) !=
	    0) {
		*cause = xstrdup("the agent did not take the reply");
		return (502);
	}
	host_pending_resolve(
	    s->host, id, 1, answers != NULL ? "answered" : "rejected", answers);
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
	journal_wake(s->journal);
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

	LIST_FOREACH(s, &sessions, entry) {
		if (s->proc != NULL) {
			kill(-proc_pid(s->proc), SIGTERM);
			kill(-proc_pid(s->proc), SIGCONT);
		}
		journal_sync(s->journal);
	}
}
