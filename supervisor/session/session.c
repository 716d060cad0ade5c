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
 *   RESTARTING the agent ignored a cancel for --cancel-grace seconds (the
 *             turn is closed as cancelled), or its MCP servers or skills
 *             changed (between turns): the agent is stopped; at its
 *             exit the session is IDLE (queued messages restart it)
 *   STOPPING  terminate asked: SIGTERM sent, waiting for the exit
 *   ENDED     the agent is gone for good; session.ended is in the log
 *
 * Invariants: a session is freed only when its last reference (registry,
 * subscribers, a running process) is gone; an ended session holds no
 * process and no queued message; a deleted (dead) session writes nothing
 * more to its log, whose files are gone.
 *
 * session.json records the running agent's pid, start time and boot id,
 * so that an agentd started after a kill -9 ends what its predecessor left
 * running (proc_end_orphan) instead of starting a second agent beside it.
 *
 * Lines of stdout that are not JSON at all (garbage) are not handed to the
 * adapter: the host counts them (host_garbage), and tells them, with what
 * the adapter cannot read, at most once a second.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "session.h"

#define SESSION_QUEUE_MAX  64	/* queued messages */
#define SESSION_ACK_SAVE_S 1.0	/* a webhook's ack is saved this late */
#define SESSION_BATCH_MAX  1000 /* events a webhook POST may carry */
#define SESSION_BATCH_DEF  100

enum session_state {
	S_INSTALLING,
	S_IDLE,
	S_READY,
	S_TURN,
	S_RESTARTING,
	S_STOPPING,
	S_ENDED,
	S_NSTATES
};
static const char *session_state_names[] = { "installing", "idle", "ready",
	"running", "restarting", "stopping", "ended" };

enum session_event {
	E_MESSAGE,
	E_TURN_END,
	E_CANCEL,
	E_TERMINATE,
	E_EXIT,
	E_QUIESCE, /* have the agent gone for a while (session_quiesce) */
	E_NEVENTS
};

struct session_msg {
	cJSON *body;
	TAILQ_ENTRY(session_msg) entry;
};

/* One caller of session_quiesce, told once the agent has exited; now:
 * no agent runs, or it is in a turn, and nothing is waited for. */
struct session_quiet {
	session_quiet_cb cb;
	void		*arg;
	int		 now;
	TAILQ_ENTRY(session_quiet) entry;
};

/* The ints sit in pairs between the pointers: no padding holes. */
struct session {
	char			   *id;
	const struct agent_profile *profile;
	cJSON			   *env; /* {NAME: value}, never answered */
	cJSON  *credentials; /* credentials.c: never answered, never logged */
	char   *home_dir;    /* home.c: the agent's HOME, or NULL */
	int64_t created_ms;
	enum home_mode home;

	enum session_state    state;
	struct journal	     *journal;
	struct host	     *host;
	struct proc	     *proc;
	struct contain	     *contain; /* its processes, once one ran */
	struct contain_limits limits;  /* memory.max, pids.max; 0: none */
	struct record	     *record;  /* --record, or NULL */
	char		     *driver;  /* ACP server holding it, or NULL */

	/* Messages waiting for the agent: urgent (sent with "interrupt")
	 * before queue, each in the order posted; nqueued counts both. */
	TAILQ_HEAD(session_queue, session_msg) urgent;
	struct session_queue queue;
	struct loop_timer   *idle_timer;   /* --idle-timeout in a turn */
	struct loop_timer   *cancel_timer; /* --cancel-grace after a cancel */
	int		     nqueued;
	int		     cancelling; /* cancel_timer runs */

	/* Push delivery (http/webhook.c): the session's own webhook, or
	 * NULL for the daemon's (--webhook); what the receiver acknowledged
	 * (for the effective URL, saved in session.json at most every
	 * SESSION_ACK_SAVE_S) and how delivery goes, for SessionInfo. */
	char		  *wh_url;
	char		  *wh_secret;
	uint64_t	   wh_acked;
	struct loop_timer *wh_timer;
	char		  *wh_state;
	char		  *wh_error;
	int64_t		   wh_next_ms;
	unsigned int	   wh_batch;
	unsigned int	   wh_failures;

	/* Waiting for the running agent to be gone (session_quiesce). */
	TAILQ_HEAD(, session_quiet) quiet;

	/* Its own MCP servers and skills ({name: entry}, or NULL), set by
	 * its config; relaunch: the running agent is to be restarted
	 * (resumed) at the end of its turn so that they reach it. */
	cJSON *own_mcp;
	cJSON *own_skills;
	int    relaunch;

	int refs;
	int dead;
	int home_made; /* the create made home_dir: its undo removes it */
	LIST_ENTRY(session) entry;
};

static LIST_HEAD(, session) sessions = LIST_HEAD_INITIALIZER(sessions);

/* Who follows every session (webhook.c), told of each one added. */
static session_added_cb session_added;
static void	       *session_added_arg;

/* The totals of deleted sessions, by agent: the metrics' counters by
 * agent must not go down when a session goes. */
struct session_gone {
	const struct agent_profile *profile;
	struct host_usage	    usage;
	uint64_t		    events;
	LIST_ENTRY(session_gone) entry;
};
static LIST_HEAD(, session_gone) session_gone = LIST_HEAD_INITIALIZER(
    session_gone);

static int  session_fsm(struct session *, enum session_event, void *, char **);
static void session_save(struct session *);
static int  session_save_meta(struct session *, char **);
static void session_idle_cb(void *);
static void session_cancel_cb(void *);
static void session_relaunch(struct session *);
static int  session_start_agent(struct session *, char **);
static int  session_install(struct session *, char **);
static void session_drop_queue(struct session *);
static void session_reap(struct session *);
static void session_quiet_done(struct session *);
static void session_remove_home(struct session *);
static void session_sweep_homes(void);
static void session_seed_options(struct session *);
static int  session_do_cancel(struct session *, void *, char **);

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

/* Free every queued message. */
static void
session_clear_queue(struct session *s)
{
	struct session_msg *m;

	while ((m = TAILQ_FIRST(&s->urgent)) != NULL) {
		TAILQ_REMOVE(&s->urgent, m, entry);
		json_free(m->body);
		free(m);
	}
	while ((m = TAILQ_FIRST(&s->queue)) != NULL) {
		TAILQ_REMOVE(&s->queue, m, entry);
		json_free(m->body);
		free(m);
	}
	s->nqueued = 0;
}

static void
session_free(struct session *s)
{
	session_clear_queue(s);
	contain_free(s->contain);
	host_free(s->host);
	journal_free(s->journal);
	loop_timer_free(s->idle_timer);
	loop_timer_free(s->cancel_timer);
	loop_timer_free(s->wh_timer);
	free(s->wh_url);
	xfree_secret(s->wh_secret);
	free(s->wh_state);
	free(s->wh_error);
	free(s->id);
	json_free(s->env);
	json_free(s->own_mcp);
	json_free(s->own_skills);
	credentials_free(s->credentials);
	free(s->home_dir);
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

/* The session's limits as SessionInfo and session.json have them. */
static cJSON *
session_limits_json(struct session *s)
{
	cJSON *o;

	o = json_object();
	if (s->limits.memory > 0)
		json_set_int(o, "memory", (long long)s->limits.memory);
	if (s->limits.pids > 0)
		json_set_int(o, "pids", s->limits.pids);
	return (o);
}

/* A host's usage totals, as session.json keeps them. */
static cJSON *
session_usage_json(const struct host_usage *u)
{
	cJSON *o;

	o = json_object();
	json_set_int(o, "turns", (long long)u->turns);
	json_set_int(o, "input_tokens", (long long)u->input_tokens);
	json_set_int(o, "output_tokens", (long long)u->output_tokens);
	json_set_int(o, "cache_read_tokens", (long long)u->cache_read_tokens);
	json_set_int(o, "cache_write_tokens", (long long)u->cache_write_tokens);
	json_set_num(o, "cost_usd", u->cost_usd);
	return (o);
}

static void
session_load_usage(struct session *s, const cJSON *o)
{
	struct host_usage u;
	long long	  v[5];
	const char	 *names[] = { "turns", "input_tokens", "output_tokens",
		      "cache_read_tokens", "cache_write_tokens" };
	size_t		  i;

	if (o == NULL)
		return;
	for (i = 0; i < nitems(v); i++) {
		if (json_get_int(o, names[i], &v[i]) != 0 || v[i] < 0)
			v[i] = 0;
	}
	memset(&u, 0, sizeof u);
	u.turns = (uint64_t)v[0];
	u.input_tokens = (uint64_t)v[1];
	u.output_tokens = (uint64_t)v[2];
	u.cache_read_tokens = (uint64_t)v[3];
	u.cache_write_tokens = (uint64_t)v[4];
	if (json_get_num(o, "cost_usd", &u.cost_usd) != 0 || u.cost_usd < 0)
		u.cost_usd = 0;
	host_set_usage(s->host, &u);
}

/* The webhook the session delivers to: its own, or the daemon's. */
static const char *
session_webhook_url(struct session *s)
{
	return (s->wh_url != NULL ? s->wh_url : options.webhook_url);
}

/* The session's own webhook (secret included: session.json is 0600, as
 * for env) and how far delivery got, with the URL that acknowledged. */
static void
session_save_webhook(struct session *s, cJSON *o)
{
	cJSON *w;

	if (s->wh_url != NULL) {
		w = json_object();
		json_set_str(w, "url", s->wh_url);
		if (s->wh_secret != NULL)
			json_set_str(w, "secret", s->wh_secret);
		json_set_int(w, "batch", s->wh_batch);
		json_set(o, "webhook", w);
	}
	if (session_webhook_url(s) != NULL && s->wh_acked > 0) {
		w = json_object();
		json_set_str(w, "url", session_webhook_url(s));
		json_set_int(w, "sequence", (long long)s->wh_acked);
		json_set(o, "webhookAcked", w);
	}
}

/* Is url one this agentd can POST to: http://host[:port][/path]? */
static int
session_webhook_url_ok(const char *url)
{
	const char *h;
	size_t	    len;

	if (strncmp(url, "http://", 7) != 0 || strlen(url) > 2048)
		return (0);
	h = url + 7;
	len = strcspn(h, "/?#");
	if (len == 0 || h[0] == ':' || strchr(url, ' ') != NULL)
		return (0);
	return (1);
}

/*
 * The create request's "webhook": {"url", "secret"?, "batch"?}. 0, or 400
 * with *cause.
 */
static int
session_parse_webhook(const cJSON *req, struct session *s, char **cause)
{
	const cJSON *w = json_get(req, "webhook"), *v;
	long long    batch = SESSION_BATCH_DEF;

	if (w == NULL || json_is_null(w))
		return (0);
	if (!json_is_obj(w))
		goto bad;
	if (json_get_str(w, "url") == NULL ||
	    !session_webhook_url_ok(json_get_str(w, "url"))) {
		if (json_get_str(w, "url") != NULL &&
		    strncmp(json_get_str(w, "url"), "https://", 8) == 0) {
			*cause =
			    xstrdup("'webhook.url': agentd has no TLS; use "
				    "http:// (to a local relay for TLS, see "
				    "docs/deploy.md)");
			return (400);
		}
		goto bad;
	}
	if ((v = json_get(w, "secret")) != NULL && !json_is_null(v) &&
	    (!json_is_str(v) || *json_str(v) == '\0'))
		goto bad;
	if (json_get(w, "batch") != NULL &&
	    (json_get_int(w, "batch", &batch) != 0 || batch < 1 ||
		batch > SESSION_BATCH_MAX))
		goto bad;
	if (s != NULL) {
		s->wh_url = xstrdup(json_get_str(w, "url"));
		if (json_get_str(w, "secret") != NULL)
			s->wh_secret = xstrdup(json_get_str(w, "secret"));
		s->wh_batch = (unsigned int)batch;
	}
	return (0);
bad:
	xasprintf(cause,
	    "'webhook' must be {\"url\": \"http://host[:port]/path\", "
	    "\"secret\"?: a non-empty string, \"batch\"?: 1 to %d}",
	    SESSION_BATCH_MAX);
	return (400);
}

/* The webhook and the acknowledged sequence session.json kept. */
static void
session_load_webhook(struct session *s, const cJSON *o)
{
	const cJSON *w = json_get_obj(o, "webhook"), *a;
	const char  *url;
	long long    v;

	if (w != NULL && (url = json_get_str(w, "url")) != NULL &&
	    session_webhook_url_ok(url)) {
		s->wh_url = xstrdup(url);
		if (json_get_str(w, "secret") != NULL)
			s->wh_secret = xstrdup(json_get_str(w, "secret"));
		s->wh_batch = json_get_int(w, "batch", &v) == 0 && v >= 1 &&
			v <= SESSION_BATCH_MAX
		    ? (unsigned int)v
		    : SESSION_BATCH_DEF;
	}
	/* Resume where the same receiver left off; a new URL gets all. */
	a = json_get_obj(o, "webhookAcked");
	if ((url = json_get_str(a, "url")) != NULL &&
	    session_webhook_url(s) != NULL &&
	    strcmp(url, session_webhook_url(s)) == 0 &&
	    json_get_int(a, "sequence", &v) == 0 && v > 0)
		s->wh_acked = (uint64_t)v;
}

/* Where the running agent's processes are (contain.c), so that the next
 * agentd can end them if this one is killed. */
static void
session_save_contain(struct session *s, cJSON *o)
{
	const char *dirs[4];
	cJSON	   *a;
	size_t	    i;

	if (s->contain == NULL)
		return;
	contain_dirs(s->contain, dirs, nitems(dirs));
	if (dirs[0] != NULL) {
		a = json_array();
		for (i = 0; dirs[i] != NULL; i++)
			json_append(a, json_string(dirs[i]));
		json_set(o, "agentCgroups", a);
	}
	json_set_str(o, "agentTag", contain_tag(s->contain));
}

/*
 * Write session.json (temp file and rename, in store.c); -1 with *cause
 * and errno if the store refused it. The running agent's pid and start
 * time go with it (see the top).
 */
static int
session_save_meta(struct session *s, char **cause)
{
	cJSON *o;
	char  *text;
	size_t len;
	int    rv, saved;

	if (s->dead || s->host == NULL)
		return (0);
	o = session_meta(s, 1);
	session_save_webhook(s, o);
	if (s->proc != NULL && proc_start(s->proc) != 0) {
		json_set_int(o, "agentPid", (long long)proc_pid(s->proc));
		json_set_int(o, "agentStart", (long long)proc_start(s->proc));
		json_set_str(o, "agentBoot", proc_boot_id());
		session_save_contain(s, o);
	}
	text = json_print(o, &len);
	json_free(o);
	rv = store_write_meta(journal_store(s->journal), text, len, cause);
	saved = errno;
	xfree_secret(text); /* it may hold credentials */
	errno = saved;
	return (rv);
}

/*
 * What session.json holds of a session, but its process and its webhook
 * (a URL, a secret and a delivery state of this agentd's, which an export
 * does not carry): with secrets, the env and credentials values too;
 * without (an export that was not asked for them), only their names
 * (envKeys, credentialNames).
 */
cJSON *
session_meta(struct session *s, int secrets)
{
	struct host *h = s->host;
	const cJSON *e;
	cJSON	    *o, *keys;

	o = json_object();
	json_set_int(o, "version", 1);
	json_set_str(o, "id", s->id);
	json_set_str(o, "agent", s->profile->id);
	if (host_model(h) != NULL)
		json_set_str(o, "model", host_model(h));
	if (host_permission_mode(h) != NULL)
		json_set_str(o, "permissionMode", host_permission_mode(h));
	if (host_effort(h) != NULL)
		json_set_str(o, "effort", host_effort(h));
	if (json_size(host_options(h)) > 0)
		json_set(o, "options", json_dup(host_options(h)));
	json_set_str(o, "cwd", host_cwd(h));
	if (secrets && s->env != NULL)
		json_set(o, "env", json_dup(s->env));
	if (secrets && s->credentials != NULL)
		json_set(o, "credentials", json_dup(s->credentials));
	if (!secrets) {
		keys = json_array();
		JSON_FOREACH(e, s->env)
			json_append(keys, json_string(json_key(e)));
		json_set(o, "envKeys", keys);
		json_set(
		    o, "credentialNames", credentials_names(s->credentials));
	}
	if (s->home != HOME_NONE)
		json_set_str(o, "home", home_mode_name(s->home));
	if (secrets && s->home_dir != NULL)
		json_set_str(o, "agentHome", s->home_dir);
	if (host_mcp(h) != NULL)
		json_set(o, "mcp", json_dup(host_mcp(h)));
	/* As "mcp": their env goes wherever session.json goes. */
	if (s->own_mcp != NULL)
		json_set(o, "sessionMcp", json_dup(s->own_mcp));
	if (s->own_skills != NULL)
		json_set(o, "sessionSkills", json_dup(s->own_skills));
	if (host_agent_command(h) != NULL)
		json_set(o, "agentCommand", json_dup(host_agent_command(h)));
	if (host_native_id(h) != NULL)
		json_set_str(o, "nativeSessionId", host_native_id(h));
	if (host_agent_version(h) != NULL)
		json_set_str(o, "agentVersion", host_agent_version(h));
	json_set_int(o, "createdAt", s->created_ms);
	json_set_bool(o, "ended", s->state == S_ENDED);
	json_set_bool(o, "inTurn", host_in_turn(h));
	if (s->limits.memory > 0 || s->limits.pids > 0)
		json_set(o, "limits", session_limits_json(s));
	json_set(o, "usage", session_usage_json(host_usage(h)));
	return (o);
}

/* Where the session's agent is and keeps its state (archive.c). */
void
session_place(struct session *s, struct session_place *pl)
{
	pl->home = s->home;
	pl->home_dir = s->home_dir;
	pl->env = s->env;
	pl->native_id = host_native_id(s->host);
	pl->cwd = host_cwd(s->host);
	pl->running = s->proc != NULL;
}

static void
session_save(struct session *s)
{
	char *cause;

	if (session_save_meta(s, &cause) != 0) {
		log_error("session %s: %s", s->id, cause);
		free(cause);
	}
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
	struct session *s = arg;

	session_save(s);
	agents_learn(s->profile, host_options(s->host));
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
	if (s->cancel_timer != NULL)
		loop_timer_stop(s->cancel_timer);
	s->cancelling = 0;
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

	if (s->dead)
		return;
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

/*
 * A line of the agent's stdout: made valid UTF-8, its lone surrogate and
 * NUL escapes made U+FFFD (json_scan_repair: else the whole line would be
 * lost, or a string cut), then to the adapter. The framer's newline search
 * tells what the line may need (may): one it saw all ASCII is valid UTF-8
 * already, and one without a backslash followed by a 'u' has no escape to
 * repair (utf8_repair only replaces bytes, it never makes such a pair).
 * Repaired here, before anything reads it, so that the event's raw is the
 * text the adapter read.
 */
static void
session_line_cb(void *arg, const char *line, size_t len, int may)
{
	struct session *s = arg;
	char	       *fixed = NULL, *esc;

	if (len == 0 || s->dead)
		return;
	record_line(s->record, '<', line, len);
	if (host_in_turn(s->host) && s->idle_timer != NULL)
		loop_timer_set(s->idle_timer, options.idle_timeout);
	if ((may & MEMFIND_HIGH) != 0 && !utf8_valid(line, len))
		line = fixed = utf8_repair(line, len, &len);
	if ((may & MEMFIND_ESC_U) != 0 &&
	    (esc = json_scan_repair(line, len)) != NULL) {
		free(fixed);
		line = fixed = esc;
	}
	if (host_garbage(s->host, line, len)) {
		free(fixed);
		return;
	}
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

	if (s->dead)
		return;

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

	/* What the agent left is ended; a limit it hit is told first. */
	if (s->contain != NULL)
		contain_stopped(s->contain);
	record_exit(s->record,
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	record_close(s->record);
	s->record = NULL;
	if (s->dead) {
		/* Deleted: its files are gone, nothing more is written. */
		s->state = S_ENDED;
		if (s->home == HOME_SESSION)
			session_remove_home(s);
		session_reap(s);
		return;
	}
	host_unparsed_flush(s->host);
	(void)session_fsm(s, E_EXIT, &status, NULL);
}

static const struct proc_cbs session_proc_cbs = { session_line_cb,
	session_toolong_cb, session_exit_cb };

/* A deleted session's private home goes with it. */
static void
session_remove_home(struct session *s)
{
	if (home_remove(s->home_dir) != 0)
		log_warn("session %s: could not remove %s: %s", s->id,
		    s->home_dir, strerror(errno));
}

/* The HTTP status for a resource failure: out of descriptors or
 * processes is passing (503), anything else is storage (507). */
static int
session_errno_status(int error)
{
	if (error == EMFILE || error == ENFILE || error == EAGAIN ||
	    error == ENOMEM)
		return (503);
	return (507);
}

/*
 * The session went over a limit of its cgroup (contain.c): memory stops
 * it at once, with an error that names the limit; a refused fork (pids)
 * is told, the agent left to cope.
 */
static void
session_limit_cb(void *arg, const char *what, const char *msg)
{
	struct session *s = arg;
	cJSON	       *details;
	int		memory = strcmp(what, "memory") == 0;

	if (s->dead)
		return;
	log_warn("session %s: %s", s->id, msg);
	details = json_object();
	json_set_str(details, "limit", what);
	if (memory)
		json_set_int(
		    details, "memory_max", (long long)s->limits.memory);
	else
		json_set_int(details, "pids_max", s->limits.pids);
	host_error(
	    s->host, msg, memory ? "memory_limit" : "pids_limit", details);
	if (!memory || s->proc == NULL)
		return;
	(void)session_fsm(s, E_TERMINATE, NULL, NULL);
	(void)contain_kill(s->contain); /* no grace: memory is out */
}

/*
 * The MCP servers and skills of this start, read again each time so that
 * a change to the directory's config reaches the next start (a resume).
 */
static int
session_launch(struct session *s, char **cause)
{
	struct dirconfig_launch dl;
	struct host_launch	hl;

	if (dirconfig_launch(s->id, host_cwd(s->host), host_mcp(s->host),
		s->own_mcp, s->own_skills, &dl, cause) != 0)
		return (-1);
	hl.mcp = dl.mcp;
	hl.mcp_file = dl.mcp_file;
	hl.skills_dir = dl.skills_dir;
	host_set_launch(s->host, &hl);
	dirconfig_launch_free(&dl);
	return (0);
}

/*
 * Spawn the agent process and start the adapter's handshake. Returns 0,
 * or an HTTP status with *cause: 429 over --max-processes, 503 when agentd
 * is out of descriptors or processes or cannot make the session's cgroup
 * (try again later), 502 otherwise.
 */
static int
session_start_agent(struct session *s, char **cause)
{
	char		     *path;
	struct argv_builder   ab;
	const cJSON	     *e;
	const struct adapter *a = s->profile->adapter;
	int		      saved;

	if (session_launch(s, cause) != 0)
		return (502);
	memset(&ab, 0, sizeof ab);
	if (a->spawn_argv(s->host, &ab, cause) != 0) {
		argv_free(&ab);
		return (502);
	}
	/* A bare command is looked for where installs go first, then PATH. */
	if (strchr(ab.argv[0], '/') == NULL &&
	    (path = agents_find(ab.argv[0])) != NULL) {
		free(ab.argv[0]);
		ab.argv[0] = path;
	}
	JSON_FOREACH(e, s->env)
		argv_env(&ab, json_key(e), json_str(e));
	if (s->home_dir != NULL) {
		home_env(&ab, s->home_dir);
		if (store_mkdirs(s->home_dir) != 0) {
			xasprintf(cause, "agent home %s: %s", s->home_dir,
			    strerror(errno));
			argv_free(&ab);
			return (502);
		}
		/* Credential files go only into a private home. */
		if (s->home == HOME_SESSION &&
		    credentials_write(s->credentials, s->home_dir, cause) !=
			0) {
			argv_free(&ab);
			return (502);
		}
	}
	credentials_env(s->credentials, &ab);
	native_before_start(
	    s->profile, s->home_dir, s->env, host_native_id(s->host));
	native_wrap(
	    s->profile, s->home_dir, s->env, host_native_id(s->host), &ab);
	if (contain_budget_take(cause) != 0) {
		argv_free(&ab);
		return (429);
	}
	if (s->contain == NULL)
		s->contain =
		    contain_new(s->id, &s->limits, session_limit_cb, s);
	if (contain_prepare(s->contain, cause) != 0) {
		contain_budget_give();
		argv_free(&ab);
		return (503);
	}
	s->proc = proc_spawn_in(s->contain, ab.argv, ab.env, host_cwd(s->host),
	    options.max_line, &session_proc_cbs, s, cause);
	saved = errno;
	if (s->proc != NULL) {
		contain_started(
		    s->contain, proc_pid(s->proc), proc_start(s->proc));
		s->record = record_open(s->id, s->profile->id, ab.argv);
	}
	argv_free(&ab);
	if (s->proc == NULL) {
		contain_budget_give();
		return (session_errno_status(saved) == 503 ? 503 : 502);
	}
	session_ref(s); /* held until the process is reaped */
	s->state = S_READY;
	session_save(s); /* its pid, for the next agentd after a crash */
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

	if ((m = TAILQ_FIRST(&s->urgent)) != NULL)
		TAILQ_REMOVE(&s->urgent, m, entry);
	else if ((m = TAILQ_FIRST(&s->queue)) != NULL)
		TAILQ_REMOVE(&s->queue, m, entry);
	else
		return;
	s->nqueued--;
	s->state = S_TURN;
	host_turn_start(s->host);
	content = json_array();
	json_append(content, event_part_text(json_get_str(m->body, "message")));
	host_user_message(s->host,
	    attach_parts(json_get_arr(m->body, "attachments"), content));

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

/*
 * Free the queued messages of a session that will run no more turns, and
 * say how many were dropped (unless it was deleted: it has no log).
 */
static void
session_drop_queue(struct session *s)
{
	cJSON *details;
	char   msg[128];
	int    n = s->nqueued;

	session_clear_queue(s);
	if (n == 0 || s->dead)
		return;
	snprintf(msg, sizeof msg,
	    "%d queued message%s dropped: the session ended before %s ran", n,
	    n == 1 ? " was" : "s were", n == 1 ? "it" : "they");
	details = json_object();
	json_set_int(details, "count", n);
	host_error(s->host, msg, "queue_dropped", details);
}

/* Emit session.ended with the exit status and stderr. */
static void
session_ended(struct session *s, int status, int by_daemon)
{
	cJSON *data, *err;
	char  *head, *tail;
	int    truncated, code = -1;

	session_drop_queue(s);
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

/* The agent process is gone: release it and its adapter state (and, for
 * a session that ends, its cgroups). */
static void
session_reap(struct session *s)
{
	if (s->state == S_ENDED) {
		contain_free(s->contain);
		s->contain = NULL;
	}
	s->profile->adapter->free(s->host);
	host_set_adapter_data(s->host, NULL);
	loop_defer(session_proc_free_cb, s->proc);
	s->proc = NULL;
	s->relaunch = 0; /* the next start reads them anyway */
	contain_budget_give();
	if (s->cancel_timer != NULL)
		loop_timer_stop(s->cancel_timer);
	s->cancelling = 0;
	session_quiet_done(s);
	session_unref(s); /* the process's reference */
}

/*
 * Tell whoever waits in session_quiesce that the agent is gone. Called
 * before the state moves on, so that an export lists the agent's files
 * before messages queued meanwhile start it again.
 */
static void
session_quiet_done(struct session *s)
{
	struct session_quiet *q;

	while ((q = TAILQ_FIRST(&s->quiet)) != NULL) {
		TAILQ_REMOVE(&s->quiet, q, entry);
		q->cb(q->arg);
		free(q);
	}
}

/*
 * Have the agent's files whole before they are read (an export): an
 * agent writes some behind its events (Claude Code queues its transcript
 * for 100 ms and may answer a turn before the first write). Between turns
 * the agent is stopped as at a relaunch, which it takes as the end of its
 * input and flushes; the next message resumes it. cb(arg) is called at its
 * exit. Returns 1, without calling cb, when no agent runs or a turn is under
 * way (in a turn it is not stopped: what it changes meanwhile fails the
 * copy).
 */
int
session_quiesce(struct session *s, session_quiet_cb cb, void *arg)
{
	struct session_quiet *q;

	q = xcalloc(1, sizeof *q);
	q->cb = cb;
	q->arg = arg;
	(void)session_fsm(s, E_QUIESCE, q, NULL);
	if (q->now) {
		free(q);
		return (1);
	}
	return (0);
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

/* Does this message body ask to interrupt the running turn? */
static int
session_urgent(const cJSON *body)
{
	int interrupt = 0;

	(void)json_get_bool(body, "interrupt", &interrupt);
	return (interrupt);
}

/*
 * Queue a message: an interrupting one after the interrupting messages
 * already waiting and before every ordinary one, so that nothing queued
 * can run between the cancelled turn and it. Returns the entry, or NULL
 * with *cause (the queue is full).
 */
static struct session_msg *
session_enqueue(struct session *s, const cJSON *body, char **cause)
{
	struct session_msg *m;

	if (s->nqueued >= SESSION_QUEUE_MAX) {
		xasprintf(
		    cause, "%d messages are already queued", SESSION_QUEUE_MAX);
		return (NULL);
	}
	m = xcalloc(1, sizeof *m);
	m->body = json_dup(body);
	TAILQ_INSERT_TAIL(
	    session_urgent(body) ? &s->urgent : &s->queue, m, entry);
	s->nqueued++;
	return (m);
}

/* Take back a message just queued (what it asked for failed). */
static void
session_unqueue(struct session *s, struct session_msg *m)
{
	TAILQ_REMOVE(
	    session_urgent(m->body) ? &s->urgent : &s->queue, m, entry);
	s->nqueued--;
	json_free(m->body);
	free(m);
}

static int
session_do_queue(struct session *s, void *arg, char **cause)
{
	if (session_enqueue(s, arg, cause) == NULL)
		return (409);
	if (s->state == S_READY)
		session_dispatch(s);
	return (0);
}

/*
 * A message during a turn: queued; an interrupting one goes to the head
 * and cancels the turn, whose end (E_TURN_END, or the --cancel-grace
 * fallback and restart) hands it over next. If the cancel cannot be
 * asked, the message is taken back: nothing half done.
 */
static int
session_do_queue_turn(struct session *s, void *arg, char **cause)
{
	struct session_msg *m;
	int		    status;

	if ((m = session_enqueue(s, arg, cause)) == NULL)
		return (409);
	if (!session_urgent(arg))
		return (0);
	if ((status = session_do_cancel(s, NULL, cause)) != 0)
		session_unqueue(s, m);
	return (status);
}

static int
session_do_start(struct session *s, void *arg, char **cause)
{
	char *why;
	int   status;

	/* Loaded after a restart, its CLI gone: install it first, again. */
	if (host_agent_command(s->host) == NULL && s->profile->argv != NULL &&
	    !(s->profile->flags & AGENT_BUILTIN) &&
	    !agents_installed(s->profile)) {
		if ((status = agents_can_install(s->profile, cause)) != 0 ||
		    (status = session_install(s, cause)) != 0)
			return (status);
		return (session_do_queue(s, arg, cause));
	}
	if ((status = session_start_agent(s, &why)) != 0) {
		xasprintf(cause, "cannot start the agent: %s", why);
		host_error(s->host, *cause,
		    status == 429 ? "process_limit" : "spawn_failed", NULL);
		free(why);
		return (status);
	}
	return (session_do_queue(s, arg, cause));
}

static int
session_do_turn_done(struct session *s, void *arg, char **cause)
{
	if (s->relaunch) {
		session_relaunch(s);
		return (0);
	}
	s->state = S_READY;
	if (s->nqueued > 0) {
		/* Not from inside the adapter's callback: next loop pass. */
		session_ref(s);
		loop_defer(session_dispatch_cb, s);
	}
	return (0);
}

/* Ask the agent to cancel; if it has not ended the turn --cancel-grace
 * seconds later, session_cancel_cb does. A repeated cancel does not push
 * that deadline back. */
static int
session_do_cancel(struct session *s, void *arg, char **cause)
{
	host_pending_cancel(s->host, session_tell_cb, s);
	if (s->profile->adapter->cancel(s->host) != 0) {
		*cause = xstrdup("the agent cannot cancel this turn");
		return (502);
	}
	if (s->cancel_timer == NULL)
		s->cancel_timer = loop_timer_new(session_cancel_cb, s);
	if (!s->cancelling) {
		s->cancelling = 1;
		loop_timer_set(s->cancel_timer, options.cancel_grace);
	}
	return (0);
}

/*
 * Stop the agent so that the session is IDLE at its exit
 * (session_do_exit_restart) and the next message starts it again with its
 * native resume id: a relaunch, an ignored cancel, a quiesce.
 */
static void
session_stop_resumable(struct session *s)
{
	s->state = S_RESTARTING;
	proc_stop(s->proc, options.kill_grace);
}

/*
 * New MCP servers or skills (session_configure) reach a running agent
 * only at its start: stop it between turns, as a --cancel-grace restart
 * does; at its exit the session is IDLE, and messages queued meanwhile
 * start it again, resumed, with them.
 */
static void
session_relaunch(struct session *s)
{
	s->relaunch = 0;
	log_info("session %s: restarting the agent for its new MCP servers "
		 "or skills",
	    s->id);
	session_stop_resumable(s);
}

/*
 * The agent ignored a cancel for --cancel-grace seconds: end the turn as
 * cancelled, say why, and stop the agent. At its exit the session is IDLE,
 * as after an agentd restart: the next message starts the agent again
 * with its native resume id.
 */
static void
session_cancel_cb(void *arg)
{
	struct session *s = arg;
	char		msg[160];

	s->cancelling = 0;
	if (s->dead || s->state != S_TURN || !host_in_turn(s->host))
		return;
	snprintf(msg, sizeof msg,
	    "the agent ignored cancel for %g s (--cancel-grace): the turn is "
	    "ended and the agent restarted; the next message resumes it",
	    options.cancel_grace);
	log_warn("session %s: %s", s->id, msg);
	host_error(s->host, msg, "cancel_ignored", NULL);
	host_pending_cancel(s->host, NULL, NULL);
	host_turn_close(s->host, "cancelled", NULL, -1);
	session_stop_resumable(s);
}

static int
session_do_stop(struct session *s, void *arg, char **cause)
{
	s->state = S_STOPPING;
	proc_stop(s->proc, options.kill_grace);
	if (s->contain != NULL)
		(void)contain_signal(s->contain, SIGTERM);
	return (0);
}

/* Terminate while the agent is being stopped for a restart: the stop is
 * under way already; at the exit the session ends. */
static int
session_do_stop_restart(struct session *s, void *arg, char **cause)
{
	s->state = S_STOPPING;
	return (0);
}

static int
session_do_end_idle(struct session *s, void *arg, char **cause)
{
	cJSON *data;

	session_drop_queue(s);
	data = json_object();
	json_set_str(data, "reason", "terminated");
	json_set_str(data, "terminated_by", "daemon");
	host_emit(s->host, EVENT_SESSION_ENDED, data, 1);
	s->state = S_ENDED;
	contain_free(s->contain);
	s->contain = NULL;
	session_save(s);
	journal_rest(s->journal);
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
	session_reap(s);
	/* s is alive: it is not dead, so still listed in sessions, whose
	 * reference outlives the process's one session_reap dropped.
	 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	session_save(s);
	journal_rest(s->journal);
	return (0);
}

static int
session_do_exit_stopped(struct session *s, void *arg, char **cause)
{
	host_pending_cancel(s->host, NULL, NULL);
	host_turn_close(s->host, "cancelled", NULL, -1);
	session_ended(s, *(int *)arg, 1);
	s->state = S_ENDED;
	session_reap(s);
	/* s is alive: it is not dead, so still listed in sessions, whose
	 * reference outlives the process's one session_reap dropped.
	 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	session_save(s);
	journal_rest(s->journal);
	return (0);
}

/* The agent stopped for a restart is gone: IDLE, and if messages came
 * meanwhile, start it again for them. */
static int
session_do_exit_restart(struct session *s, void *arg, char **cause)
{
	char *why, *msg;

	session_reap(s);
	/* s is alive: listed in sessions, as in session_do_exit.
	 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	s->state = S_IDLE;
	session_save(s);
	log_info(
	    "session %s: agent stopped; idle until the next message", s->id);
	if (s->nqueued == 0)
		return (0);
	if (session_start_agent(s, &why) != 0) {
		xasprintf(&msg, "cannot start the agent again: %s", why);
		host_error(s->host, msg, "spawn_failed", NULL);
		free(msg);
		free(why);
		session_drop_queue(s);
		return (0);
	}
	session_ref(s);
	loop_defer(session_dispatch_cb, s);
	return (0);
}

/* Quiesce with no agent running, or in a turn: nothing to wait for. */
static int
session_do_quiet_now(struct session *s, void *arg, char **cause)
{
	struct session_quiet *q = arg;

	q->now = 1;
	return (0);
}

/* Quiesce while the agent is being stopped: wait for its exit. */
static int
session_do_quiet_wait(struct session *s, void *arg, char **cause)
{
	TAILQ_INSERT_TAIL(&s->quiet, (struct session_quiet *)arg, entry);
	return (0);
}

/* Quiesce between turns: stop the agent as a relaunch does (IDLE at its
 * exit), and wait for it. */
static int
session_do_quiet_stop(struct session *s, void *arg, char **cause)
{
	log_info("session %s: stopping the agent between turns so that its "
		 "files are whole; the next message resumes it",
	    s->id);
	session_stop_resumable(s);
	return (session_do_quiet_wait(s, arg, cause));
}

static const session_action session_table[S_NSTATES][E_NEVENTS] = {
	/*		MESSAGE		    TURN_END
			CANCEL		    TERMINATE		EXIT
			QUIESCE */
	[S_INSTALLING] = { session_do_queue, session_do_ignore,
	    session_do_no_turn, session_do_end_idle, session_do_ignore,
	    session_do_quiet_now },
	[S_IDLE] = { session_do_start, session_do_ignore, session_do_no_turn,
	    session_do_end_idle, session_do_ignore, session_do_quiet_now },
	[S_READY] = { session_do_queue, session_do_ignore, session_do_no_turn,
	    session_do_stop, session_do_exit, session_do_quiet_stop },
	[S_TURN] = { session_do_queue_turn, session_do_turn_done,
	    session_do_cancel, session_do_stop, session_do_exit,
	    session_do_quiet_now },
	[S_RESTARTING] = { session_do_queue, session_do_ignore,
	    session_do_no_turn, session_do_stop_restart,
	    session_do_exit_restart, session_do_quiet_wait },
	[S_STOPPING] = { session_do_refuse, session_do_ignore,
	    session_do_no_turn, session_do_ignore, session_do_exit_stopped,
	    session_do_quiet_wait },
	[S_ENDED] = { session_do_refuse, session_do_ignore, session_do_no_turn,
	    session_do_ignore, session_do_ignore, session_do_quiet_now },
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
	const cJSON   *v, *e;
	enum home_mode mode;

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
			if (!json_is_str(e) || *json_str(e) == '\0')
				goto command;
		}
	} else if (p->flags & AGENT_CUSTOM_COMMAND)
		goto command;
	if ((v = json_get(req, "home")) != NULL && !json_is_null(v) &&
	    (!json_is_str(v) || home_mode_parse(json_str(v), &mode) != 0)) {
		*cause = xstrdup(
		    "'home' must be \"none\", \"session\" or \"shared\"");
		return (-1);
	}
	return (credentials_check(
	    json_get(req, "credentials"), json_get(req, "env"), cause));
env:
	*cause = xstrdup("'env' must be an object of strings");
	return (-1);
command:
	xasprintf(cause,
	    "'agentCommand' must be a non-empty array of non-empty "
	    "strings%s",
	    (p->flags & AGENT_CUSTOM_COMMAND) ? " (required for this agent)"
					      : "");
	return (-1);
}

/*
 * Check that the request's agentCommand names a command that can run, as
 * session_start_agent and the child's execvp will look for it: a path
 * (relative to the session's cwd) must be an executable file; a bare name
 * must be found among the installed agents, on agentd's PATH or on the
 * PATH the request's env gives the agent. Otherwise the create would
 * answer 200 for an agent that can only exit 127.
 */
static int
session_check_command(const cJSON *req, const char *cwd, char **cause)
{
	const cJSON *cmd = json_get_arr(req, "agentCommand");
	const char  *argv0;
	char	    *path;
	struct stat  sb;
	int	     rv = 0;

	if (cmd == NULL || (argv0 = json_str(json_at(cmd, 0))) == NULL ||
	    strcmp(argv0, "@self") == 0)
		return (0);
	if (strchr(argv0, '/') == NULL) {
		if ((path = agents_find(argv0)) == NULL)
			path = agents_which(argv0,
			    json_get_str(json_get_obj(req, "env"), "PATH"));
		if (path == NULL) {
			xasprintf(cause,
			    "agentCommand[0] '%s' is not found: not among the "
			    "installed agents, not on PATH",
			    argv0);
			return (-1);
		}
		free(path);
		return (0);
	}
	if (*argv0 == '/')
		path = xstrdup(argv0);
	else
		xasprintf(&path, "%s/%s", cwd, argv0);
	if (stat(path, &sb) != 0) {
		xasprintf(
		    cause, "agentCommand[0] '%s': %s", path, strerror(errno));
		rv = -1;
	} else if (!S_ISREG(sb.st_mode) || access(path, X_OK) != 0) {
		xasprintf(cause,
		    "agentCommand[0] '%s' is not an executable file", path);
		rv = -1;
	}
	free(path);
	return (rv);
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
	TAILQ_INIT(&s->urgent);
	TAILQ_INIT(&s->queue);
	TAILQ_INIT(&s->quiet);
	snprintf(name, sizeof name, "session %s", id);
	s->journal = journal_new(st, name);
	journal_on_stall(s->journal, session_stall_cb, s);
	s->host = host_new(set, s->journal, &session_host_cbs, s);
	s->refs = 1; /* the registry's */
	LIST_INSERT_HEAD(&sessions, s, entry);
	return (s);
}

/*
 * What the agent offers as far as its profile knows (adapter.c), until
 * the agent itself says more: so a new session already lists, say,
 * Claude's permission modes and Codex's efforts.
 */
static void
session_seed_options(struct session *s)
{
	const struct agent_options *o = s->profile->options;

	if (o == NULL)
		return;
	if (o->models != NULL)
		host_set_option(
		    s->host, "model", NULL, host_choices(o->models));
	if (o->modes != NULL)
		host_set_option(s->host, "mode", NULL, host_choices(o->modes));
	if (o->efforts != NULL)
		host_set_option(
		    s->host, "effort", NULL, host_choices(o->efforts));
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
 * Undo a create that failed after its store was made: unregister the
 * session and remove its files, so that nothing holds the id and nothing
 * is left on disk.
 */
static void
session_undo(struct session *s)
{
	LIST_REMOVE(s, entry);
	if (store_remove(journal_store(s->journal)) != 0)
		log_warn("session %s: could not remove its files: %s", s->id,
		    strerror(errno));
	if (s->home_made && home_remove(s->home_dir) != 0)
		log_warn("session %s: could not remove %s: %s", s->id,
		    s->home_dir, strerror(errno));
	s->dead = 1;
	session_unref(s);
}

/*
 * The agent home of a new session: the request's "home", else the
 * daemon's --agent-home; a session that carries a file credential gets
 * its own home unless it asked for another, which is refused (a shared
 * HOME would hand the file to every agent). 0, or -1 with *cause.
 */
static int
session_pick_home(const cJSON *req, enum home_mode *mode, char **cause)
{
	const char *name = json_get_str(req, "home");
	const char *file;

	file = credentials_file_member(json_get(req, "credentials"));
	if (name != NULL)
		(void)home_mode_parse(name, mode);
	else if (file != NULL)
		*mode = HOME_SESSION;
	else if (options.agent_home == NULL ||
	    home_mode_parse(options.agent_home, mode) != 0)
		*mode = HOME_NONE;
	if (file != NULL && *mode != HOME_SESSION) {
		xasprintf(cause,
		    "'credentials': '%s' is written to a file, which needs "
		    "the session's own agent home (\"home\": \"session\")",
		    file);
		return (-1);
	}
	return (home_env_clash(json_get(req, "env"), *mode, cause));
}

/*
 * The agent's CLI was installed on first use (or failed to be): start
 * it and hand it what was queued meanwhile, or end the session saying
 * why. The session was referenced for the install.
 */
static void
session_installed_cb(void *arg, const char *failed)
{
	struct session *s = arg;
	char	       *why;
	int64_t		took;

	if (s->state != S_INSTALLING || s->dead) {
		session_unref(s); /* terminated or deleted meanwhile */
		return;
	}
	took = loop_wall_ms() - s->created_ms;
	if (failed != NULL) {
		host_error(s->host, failed, "install_failed", NULL);
		(void)session_do_end_idle(s, NULL, NULL);
	} else {
		xasprintf(&why, "%s in %.1f s", s->profile->npm_package,
		    took / 1000.0);
		host_status(s->host, "installed", why);
		free(why);
		s->state = S_IDLE;
		if (session_start_agent(s, &why) != 0) {
			host_error(s->host, why, "spawn_failed", NULL);
			free(why);
			(void)session_do_end_idle(s, NULL, NULL);
		} else if (s->nqueued > 0)
			session_dispatch(s);
	}
	session_unref(s);
}

/*
 * The agent's CLI is missing: install its pinned package now, the
 * session waiting in "installing" (messages queue), with the install's
 * start and end in its log. 0, or an HTTP status with *cause.
 */
static int
session_install(struct session *s, char **cause)
{
	int status;

	s->state = S_INSTALLING;
	host_status(s->host, "installing", s->profile->npm_package);
	session_ref(s);
	if ((status = agents_install(
		 s->profile, session_installed_cb, s, cause)) != 0) {
		session_unref(s);
		return (status);
	}
	log_info(
	    "session %s: installing %s first", s->id, s->profile->npm_package);
	return (0);
}

/*
 * The create request's "limits": {"memory": bytes, "pids": count}, over
 * the daemon's defaults (--session-memory, --session-pids). 0, or an HTTP
 * status with *cause: 400 for a malformed value, 422 for a limit this
 * agentd cannot enforce (no cgroup with that controller).
 */
static int
session_parse_limits(const cJSON *req, struct contain_limits *lim, char **cause)
{
	const cJSON *o = json_get(req, "limits");
	long long    v;

	lim->memory = options.session_memory;
	lim->pids = options.session_pids;
	if (o == NULL || json_is_null(o))
		return (0);
	if (!json_is_obj(o))
		goto bad;
	if (json_get(o, "memory") != NULL) {
		if (json_get_int(o, "memory", &v) != 0 || v < 1048576)
			goto bad;
		if (!contain_can_limit("memory")) {
			xasprintf(cause,
			    "this agentd cannot enforce a memory limit (its "
			    "containment is %s, without the memory "
			    "controller)",
			    contain_mode_name());
			return (422);
		}
		lim->memory = (unsigned long long)v;
	}
	if (json_get(o, "pids") != NULL) {
		if (json_get_int(o, "pids", &v) != 0 || v < 1 || v > 4194304)
			goto bad;
		if (!contain_can_limit("pids")) {
			xasprintf(cause,
			    "this agentd cannot enforce a process limit (its "
			    "containment is %s, without the pids controller)",
			    contain_mode_name());
			return (422);
		}
		lim->pids = (unsigned int)v;
	}
	return (0);
bad:
	*cause = xstrdup("'limits' must be {\"memory\": bytes (at least "
			 "1048576), \"pids\": count (at least 1)}");
	return (400);
}

/* How many sessions are not ended (--max-sessions counts them). */
static unsigned int
session_count_open(void)
{
	struct session *s;
	unsigned int	n = 0;

	LIST_FOREACH(s, &sessions, entry)
		n += s->state != S_ENDED;
	return (n);
}

/* Is the profile's own CLI missing (no agentCommand replaces it)? */
static int
session_needs_install(const struct agent_profile *p, const cJSON *req)
{
	return (json_get(req, "agentCommand") == NULL && p->argv != NULL &&
	    !(p->flags & AGENT_BUILTIN) && !agents_installed(p));
}

/*
 * POST /v1/sessions/{id}: returns 0 with *sp, or an HTTP status with
 * *cause and nothing created: 400 for a bad request (a command that
 * cannot run included), 409 for a taken id, 422 for a limit that cannot
 * be enforced, 429 over --max-sessions or --max-processes, 503 (try
 * again) when agentd is out of descriptors or processes, 507 when the disk
 * refuses the session's files, 502 when the agent cannot be started
 * otherwise.
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
	char			   *effort = NULL;
	char			    buf[4096];
	struct stat		    sb;
	struct contain_limits	    lim;
	char			   *why;
	enum home_mode		    hmode;
	int			    status = 400, install;

	*sp = NULL;
	if (session_find(id) != NULL) {
		xasprintf(cause, "session '%s' already exists", id);
		return (409);
	}
	if (options.max_sessions > 0 &&
	    session_count_open() >= options.max_sessions) {
		xasprintf(cause,
		    "%u sessions are open (--max-sessions %u): end or delete "
		    "one first",
		    session_count_open(), options.max_sessions);
		return (429);
	}
	if ((agent = json_get_str(req, "agent")) == NULL) {
		*cause = xstrdup("'agent' (a string) is required");
		return (400);
	}
	if ((p = adapter_find_agent(agent)) == NULL) {
		xasprintf(cause, "unknown agent '%s'", agent);
		return (400);
	}
	if (session_check_request(req, p, cause) != 0 ||
	    session_pick_home(req, &hmode, cause) != 0)
		return (400);
	if ((status = session_parse_limits(req, &lim, cause)) != 0 ||
	    (status = session_parse_webhook(req, NULL, cause)) != 0)
		return (status);
	status = 400;
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
	    session_opt_str(req, "permissionMode", &mode, cause) != 0 ||
	    session_opt_str(req, "effort", &effort, cause) != 0 ||
	    session_check_command(req, cwd, cause) != 0)
		goto out;
	install = session_needs_install(p, req);
	if (install && (status = agents_can_install(p, cause)) != 0)
		goto out;
	if ((st = store_create(STORE_EVENTS, options.data_dir, id, cause)) ==
	    NULL) {
		status = errno == EEXIST ? 409 : session_errno_status(errno);
		goto out;
	}
	memset(&set, 0, sizeof set);
	set.id = id;
	set.profile = p;
	set.cwd = cwd;
	set.model = model;
	set.permission_mode = mode;
	set.effort = effort;
	set.agent_command = json_get(req, "agentCommand");
	set.mcp = json_get(req, "mcp");
	s = session_new(id, p, st, &set);
	s->limits = lim;
	(void)session_parse_webhook(req, s, cause);
	if (json_get(req, "env") != NULL)
		s->env = json_dup(json_get(req, "env"));
	if (json_get(req, "credentials") != NULL)
		s->credentials = json_dup(json_get(req, "credentials"));
	s->home = hmode;
	if ((s->home_dir = home_dir(hmode, id)) != NULL &&
	    home_make(s->home_dir, &s->home_made, cause) != 0) {
		status = session_errno_status(errno);
		session_undo(s);
		goto out;
	}
	s->created_ms = loop_wall_ms();
	session_seed_options(s);
	/* A session whose session.json cannot be written is not created:
	 * answering 200 for it would lose it at the next start. */
	if (session_save_meta(s, &why) != 0) {
		status = session_errno_status(errno);
		xasprintf(
		    cause, "cannot write the session's metadata: %s", why);
		free(why);
		session_undo(s);
		goto out;
	}
	session_started(s);
	if (install)
		status = session_install(s, &why);
	else
		status = session_start_agent(s, &why);
	if (status != 0) {
		xasprintf(cause, "cannot %s the agent: %s",
		    install ? "install" : "start", why);
		free(why);
		session_undo(s);
		goto out;
	}
	*sp = s;
	log_info("session %s: created (%s)", id, p->id);
	if (session_added != NULL)
		session_added(session_added_arg, s);
out:
	free(cwd);
	free(model);
	free(mode);
	free(effort);
	return (status);
}

/* What a pass over a log tells of a session whose session.json is lost. */
struct session_scan {
	int    in_turn;
	int    ended;
	cJSON *event; /* session_parse_cb: the one event asked for */
};

static int
session_scan_cb(void *arg, uint64_t seq, const char *line, size_t len,
    const char *mark, size_t mark_len)
{
	struct session_scan *sc = arg;
	enum event_type	     type;
	size_t		     noraw;

	if (event_scan(line, len, &type, &noraw) != 0)
		return (0);
	if (type == EVENT_TURN_STARTED)
		sc->in_turn = 1;
	else if (type == EVENT_TURN_ENDED)
		sc->in_turn = 0;
	else if (type == EVENT_SESSION_ENDED)
		sc->ended = 1;
	return (0);
}

static int
session_parse_cb(void *arg, uint64_t seq, const char *line, size_t len,
    const char *mark, size_t mark_len)
{
	struct session_scan *sc = arg;
	const char	    *err;

	sc->event = json_parse(line, len, &err);
	return (1);
}

/* Event seq of a store, parsed; NULL if it cannot be read. */
static cJSON *
session_read_event(struct store *st, uint64_t seq)
{
	struct session_scan sc;

	memset(&sc, 0, sizeof sc);
	if (store_read(st, seq, 1, session_parse_cb, &sc) != 1) {
		json_free(sc.event);
		return (NULL);
	}
	return (sc.event);
}

/* An event's time ("2026-11-22T12:00:00.123Z") in ms, 0 if malformed. */
static int64_t
session_event_ms(const cJSON *ev)
{
	const char *t = json_get_str(ev, "time");
	struct tm   tm;
	int	    ms = 0;

	memset(&tm, 0, sizeof tm);
	if (t == NULL ||
	    sscanf(t, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
		&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return (0);
	tm.tm_year -= 1900;
	tm.tm_mon--;
	return ((int64_t)timegm(&tm) * 1000 + ms);
}

/*
 * Rebuild what session.json held from the log, when the file is lost (a
 * full disk at create, before agentd refused such creates; a hand that
 * removed it): session.started has the agent, model, permission mode,
 * cwd and version, the last event the native session id, a pass over the
 * types whether it ended or was in a turn. The agentCommand, env and mcp
 * servers are not in the log: an agent that needs an agentCommand cannot
 * be started again, but its events stay readable.
 */
static cJSON *
session_rebuild_meta(const char *id, struct store *st, char **cause)
{
	struct session_scan sc;
	cJSON		   *first, *last, *meta, *o;
	const char	   *v;
	uint64_t	    from = 1;
	int		    n;

	first = session_read_event(st, 1);
	meta = json_get_obj(json_get_obj(first, "data"), "metadata");
	v = json_get_str(first, "type");
	if (meta == NULL || v == NULL || strcmp(v, "session.started") != 0 ||
	    json_get_str(meta, "agent") == NULL) {
		xasprintf(cause,
		    "session %s: no session.json and no session.started "
		    "event to rebuild it from",
		    id);
		json_free(first);
		return (NULL);
	}
	memset(&sc, 0, sizeof sc);
	while (
	    (n = store_read(st, from, 1024 * 1024, session_scan_cb, &sc)) > 0)
		from += (uint64_t)n;
	o = json_object();
	json_set_int(o, "version", 1);
	json_set_str(o, "id", id);
	json_set_str(o, "agent", json_get_str(meta, "agent"));
	if ((v = json_get_str(meta, "model")) != NULL)
		json_set_str(o, "model", v);
	if ((v = json_get_str(meta, "permissionMode")) != NULL &&
	    strcmp(v, "default") != 0)
		json_set_str(o, "permissionMode", v);
	if ((v = json_get_str(meta, "cwd")) != NULL)
		json_set_str(o, "cwd", v);
	if ((v = json_get_str(meta, "agentVersion")) != NULL)
		json_set_str(o, "agentVersion", v);
	last = session_read_event(st, store_last_seq(st));
	if ((v = json_get_str(last, "native_session_id")) != NULL)
		json_set_str(o, "nativeSessionId", v);
	json_free(last);
	json_set_int(o, "createdAt", session_event_ms(first));
	json_set_bool(o, "ended", sc.ended);
	json_set_bool(o, "inTurn", sc.in_turn && !sc.ended);
	json_free(first);
	return (o);
}

/* The limits session.json recorded (those the session was created with). */
static void
session_load_limits(struct session *s, const cJSON *o)
{
	long long v;

	if (json_get_int(o, "memory", &v) == 0 && v > 0)
		s->limits.memory = (unsigned long long)v;
	if (json_get_int(o, "pids", &v) == 0 && v > 0)
		s->limits.pids = (unsigned int)v;
}

/*
 * What the previous agentd left running (it was killed): its agent, and
 * every process the agent started, in its cgroups or carrying its tag
 * (contain.c). They are ended, or the next message would start a second
 * agent beside them. A session.json from before containment has only the
 * agent's pid: its process group is ended.
 */
static void
session_reclaim(struct session *s, const cJSON *o)
{
	const char  *dirs[8], *boot = json_get_str(o, "agentBoot");
	const cJSON *a = json_get_arr(o, "agentCgroups"), *e;
	long long    pid = 0, start = 0;
	size_t	     n = 0;
	int	     same_boot, k;

	(void)json_get_int(o, "agentPid", &pid);
	(void)json_get_int(o, "agentStart", &start);
	same_boot = boot != NULL && *proc_boot_id() != '\0' &&
	    strcmp(boot, proc_boot_id()) == 0;
	JSON_FOREACH(e, a) {
		if (json_is_str(e) && n + 1 < nitems(dirs))
			dirs[n++] = json_str(e);
	}
	dirs[n] = NULL;
	if (n > 0 || json_get_str(o, "agentTag") != NULL) {
		k = contain_reclaim(s->id, dirs, json_get_str(o, "agentTag"),
		    (pid_t)pid, (unsigned long long)start, same_boot,
		    options.kill_grace);
		if (k > 0)
			log_warn("session %s: %d process%s of its agent (pid "
				 "%lld) outlived the previous agentd: ending "
				 "them (SIGTERM, SIGKILL after %g s)",
			    s->id, k, k == 1 ? "" : "es", pid,
			    options.kill_grace);
		return;
	}
	if (start > 0 &&
	    proc_end_orphan((pid_t)pid, (unsigned long long)start, boot,
		options.kill_grace))
		log_warn("session %s: its agent (pid %lld) outlived the "
			 "previous agentd: ending it (SIGTERM, SIGKILL after "
			 "%g s)",
		    s->id, pid, options.kill_grace);
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
	const char		   *err, *agent, *v;
	char			   *meta, *hdir, *native = NULL;
	size_t			    len;
	cJSON			   *o;
	long long		    created;
	enum home_mode		    hmode;
	int			    ended = 0, in_turn = 0, rebuilt = 0;
	int			    relocated = 0;

	if ((st = store_open(
		 STORE_EVENTS, options.data_dir, id, &last, cause)) == NULL)
		return (-1);
	meta = store_read_meta(st, &len);
	o = meta != NULL ? json_parse(meta, len, &err) : NULL;
	free(meta);
	if (!json_is_obj(o)) {
		json_free(o);
		if ((o = session_rebuild_meta(id, st, cause)) == NULL) {
			store_close(st);
			return (-1);
		}
		rebuilt = 1;
	}
	if ((agent = json_get_str(o, "agent")) == NULL ||
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
	set.effort = json_get_str(o, "effort");
	set.options = json_get_obj(o, "options");
	set.native_id = json_get_str(o, "nativeSessionId");
	/* The home (and so the volume) moved since: native.c. */
	if (json_get_str(o, "home") == NULL ||
	    home_mode_parse(json_get_str(o, "home"), &hmode) != 0)
		hmode = HOME_NONE;
	hdir = home_dir(hmode, id);
	if ((v = json_get_str(o, "agentHome")) != NULL && hdir != NULL &&
	    strcmp(v, hdir) != 0) {
		log_info(
		    "session %s: its agent home was %s, now %s", id, v, hdir);
		if ((native = native_relocate(p, v, hdir, set.native_id)) !=
		    NULL)
			set.native_id = native;
		relocated = 1;
	}
	set.agent_version = json_get_str(o, "agentVersion");
	set.agent_command = json_get_arr(o, "agentCommand");
	set.mcp = json_get(o, "mcp");
	s = session_new(id, p, st, &set);
	s->env = json_detach(o, "env");
	if (json_is_obj(json_get(o, "sessionMcp")))
		s->own_mcp = json_detach(o, "sessionMcp");
	if (json_is_obj(json_get(o, "sessionSkills")))
		s->own_skills = json_detach(o, "sessionSkills");
	s->credentials = json_detach(o, "credentials");
	s->home = hmode;
	s->home_dir = hdir;
	free(native);
	if (json_get_int(o, "createdAt", &created) == 0)
		s->created_ms = created;
	(void)json_get_bool(o, "ended", &ended);
	(void)json_get_bool(o, "inTurn", &in_turn);
	session_load_limits(s, json_get_obj(o, "limits"));
	session_load_usage(s, json_get_obj(o, "usage"));
	session_load_webhook(s, o);
	session_reclaim(s, o);
	json_free(o);
	s->state = ended ? S_ENDED : S_IDLE;
	if (in_turn)
		host_interrupted(s->host);
	if (relocated)
		session_save(s); /* the home and native id as they are now */
	if (rebuilt) {
		session_save(s);
		log_warn(
		    "session %s: session.json was missing; rebuilt from its "
		    "log (agentCommand, env and mcp are not in it)",
		    id);
	}
	/* No agent runs yet: hold no descriptor until one does. */
	journal_rest(s->journal);
	log_info("session %s: loaded (%llu events, %s)", id,
	    (unsigned long long)last, session_state_names[s->state]);
	if (session_added != NULL)
		session_added(session_added_arg, s);
	return (0);
}

/*
 * Register a session whose directory was just put in place (an import:
 * archive.c): loaded as at start-up. NULL with *cause if it cannot be.
 */
struct session *
session_adopt(const char *id, char **cause)
{
	if (session_find(id) != NULL) {
		xasprintf(cause, "session '%s' already exists", id);
		return (NULL);
	}
	if (session_load(id, cause) != 0)
		return (NULL);
	return (session_find(id));
}

int
session_load_all(char **cause)
{
	char **ids;
	size_t n, i;
	char  *why;

	store_sweep(options.data_dir, &ids, &n);
	for (i = 0; i < n; i++) {
		log_info("removed %s/sessions/%s: an empty session directory "
			 "(no session.json, no events)",
		    options.data_dir, ids[i]);
		free(ids[i]);
	}
	free(ids);
	if (store_list(STORE_EVENTS, options.data_dir, &ids, &n) != 0) {
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
	session_sweep_homes();
	return (0);
}

/*
 * Remove the private homes of deleted sessions: what a delete leaves when
 * agentd stops before the agent's exit (session_delete waits for it and
 * marks the home meanwhile). A home without a session and without the
 * mark is one made ready (config files) for a create to come: it stays.
 */
static void
session_sweep_homes(void)
{
	struct dirent *de;
	struct stat    sb;
	DIR	      *d;
	char	      *dir, *path;

	xasprintf(&dir, "%s/homes", home_data_dir());
	d = opendir(dir);
	if (d == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!session_valid_id(de->d_name) ||
		    session_find(de->d_name) != NULL)
			continue;
		/* A session that failed to load keeps its home; a home made
		 * ready for a create to come stays. */
		xasprintf(
		    &path, "%s/sessions/%s", options.data_dir, de->d_name);
		if (lstat(path, &sb) == 0 || errno != ENOENT) {
			free(path);
			continue;
		}
		free(path);
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (!home_is_deleted(path)) {
			free(path);
			continue;
		}
		if (home_remove(path) == 0)
			log_info("removed %s: the home of no session", path);
		else
			log_warn(
			    "cannot remove %s (the home of no session): %s",
			    path, strerror(errno));
		free(path);
	}
	closedir(d);
	free(dir);
}

/*
 * A setting as SessionInfo tells it: what the session was told (create
 * or config), else what the agent said it runs with, else NULL.
 */
static const char *
session_setting(struct host *h, const char *set, const char *key)
{
	if (set != NULL)
		return (set);
	return (json_get_str(json_get_obj(host_options(h), key), "current"));
}

/* The delivery state of the session's webhook (never its secret). */
static cJSON *
session_webhook_info(struct session *s)
{
	cJSON	*o;
	uint64_t last = journal_last(s->journal);

	o = json_object();
	json_set_str(o, "url", session_webhook_url(s));
	json_set_bool(o, "own", s->wh_url != NULL);
	json_set_bool(o, "signed",
	    (s->wh_url != NULL ? s->wh_secret : options.webhook_secret) !=
		NULL);
	json_set_int(o, "acknowledged", (long long)s->wh_acked);
	json_set_int(o, "pending",
	    (long long)(last > s->wh_acked ? last - s->wh_acked : 0));
	json_set_str(o, "state", s->wh_state != NULL ? s->wh_state : "idle");
	json_set_int(o, "failures", s->wh_failures);
	if (s->wh_error != NULL)
		json_set_str(o, "lastError", s->wh_error);
	if (s->wh_next_ms > 0)
		json_set_int(o, "nextAttemptAt", s->wh_next_ms);
	return (o);
}

/* SessionInfo, as GET /v1/sessions/{id} answers it. Never env values. */
cJSON *
session_info(struct session *s)
{
	struct host *h = s->host;
	const cJSON *e;
	const char  *v;
	cJSON	    *o, *keys, *perms, *qs;
	int64_t	     updated;

	o = json_object();
	json_set_str(o, "sessionId", s->id);
	json_set_str(o, "agent", s->profile->id);
	json_set_str(o, "agentMode", "build");
	v = session_setting(h, host_permission_mode(h), "mode");
	json_set_str(o, "permissionMode", v != NULL ? v : "default");
	if ((v = session_setting(h, host_model(h), "model")) != NULL)
		json_set_str(o, "model", v);
	if ((v = session_setting(h, host_effort(h), "effort")) != NULL)
		json_set_str(o, "effort", v);
	json_set(o, "options", json_dup(host_options(h)));
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
	json_set_str(o, "containment", contain_mode_name());
	if (session_webhook_url(s) != NULL)
		json_set(o, "webhook", session_webhook_info(s));
	if (s->limits.memory > 0 || s->limits.pids > 0)
		json_set(o, "limits", session_limits_json(s));
	keys = json_array();
	JSON_FOREACH(e, s->env)
		json_append(keys, json_string(json_key(e)));
	json_set(o, "envKeys", keys);
	json_set(o, "credentials", credentials_names(s->credentials));
	json_set_str(o, "home", home_mode_name(s->home));
	if (s->home_dir != NULL)
		json_set_str(o, "agentHome", s->home_dir);
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
	const cJSON *v;
	cJSON	    *atts, *msg;
	int	     status;

	if (json_get_str(body, "message") == NULL) {
		*cause = xstrdup("'message' (a string) is required");
		return (400);
	}
	if ((v = json_get(body, "interrupt")) != NULL && !json_is_bool(v)) {
		*cause = xstrdup("'interrupt' must be a boolean");
		return (400);
	}
	if ((status = session_check_store(s, cause)) != 0)
		return (status);
	if ((status = attach_check(json_get(body, "attachments"),
		 host_cwd(s->host), &atts, cause)) != 0)
		return (status);
	/* What is queued: the message with its attachments made whole. */
	msg = json_dup(body);
	json_free(json_detach(msg, "attachments"));
	if (atts != NULL)
		json_set(msg, "attachments", atts);
	status = session_fsm(s, E_MESSAGE, msg, cause);
	json_free(msg);
	return (status);
}

/*
 * 1 if the running agent, restarted now, resumes its session natively,
 * or has had no turn (a fresh start loses nothing: Claude has no session
 * id before its first turn); else 0 with *cause saying why it cannot
 * take new servers or skills.
 */
static int
session_resumable(struct session *s, char **cause)
{
	const struct adapter *a = s->profile->adapter;
	const char	     *native = host_native_id(s->host);

	if (s->state == S_READY && host_usage(s->host)->turns == 0)
		return (1);
	if (a->resumable != NULL
		? a->resumable(s->host)
		: (a->caps & CAP_RESUME) && native != NULL && *native != '\0')
		return (1);
	xasprintf(cause,
	    "agent '%s' is running and cannot resume its session (%s), so "
	    "it cannot take new MCP servers or skills now: set them when "
	    "no agent runs, or terminate it (docs/agents.md)",
	    s->profile->id,
	    native == NULL || *native == '\0' ? "it has no native session yet"
					      : "it does not load sessions");
	return (0);
}

/*
 * POST /v1/sessions/{id}/config: {model?, mode?, permissionMode?,
 * effort?, mcp?, skills?}, at least one; mode and permissionMode name
 * the same setting. Model, mode and effort: non-empty strings the
 * adapter maps to the agent's own way (at once, from the next turn, or
 * at the next start when no agent runs) or refuses, 409 (the agent
 * cannot) or 422 (a value it does not offer). mcp and skills: the
 * session's own servers and skills, {name: entry} as the directory's
 * routes take them, each replacing the whole set; they reach the agent
 * at its next start, so a running one is restarted (resumed) between
 * turns, and one that cannot resume is 409. Taken, a change is in the
 * log (a "config" status item) and session.json, so a restart and a
 * resume keep it. 0, or an HTTP status with *cause; a refusal changes
 * nothing.
 */
int
session_configure(struct session *s, const cJSON *body, char **cause)
{
	static const char *const names[] = { "model", "mode", "permissionMode",
		"effort", "mcp", "skills" };
	const struct adapter	*a = s->profile->adapter;
	struct session_config	 cfg;
	const char		*v[4];
	const cJSON		*e, *mcp, *skills;
	size_t			 i, n = 0;
	int			 status;

	JSON_FOREACH(e, body) {
		for (i = 0; i < nitems(names); i++) {
			if (strcmp(json_key(e), names[i]) == 0)
				break;
		}
		if (i == nitems(names)) {
			xasprintf(cause,
			    "unknown setting '%s' (model, mode, "
			    "permissionMode, effort, mcp, skills)",
			    json_key(e));
			return (400);
		}
	}
	for (i = 0; i < nitems(v); i++) {
		v[i] = NULL;
		if ((e = json_get(body, names[i])) == NULL || json_is_null(e))
			continue;
		if (!json_is_str(e) || *json_str(e) == '\0' ||
		    strlen(json_str(e)) > 256) {
			xasprintf(cause,
			    "'%s' must be a non-empty string (at most 256 "
			    "bytes)",
			    names[i]);
			return (400);
		}
		v[i] = json_str(e);
		n++;
	}
	if ((mcp = json_get(body, "mcp")) != NULL && json_is_null(mcp))
		mcp = NULL;
	if ((skills = json_get(body, "skills")) != NULL && json_is_null(skills))
		skills = NULL;
	if (mcp != NULL &&
	    (status = dirconfig_check_own(DIRCONFIG_MCP, mcp, cause)) != 0)
		return (status);
	if (skills != NULL &&
	    (status = dirconfig_check_own(DIRCONFIG_SKILLS, skills, cause)) !=
		0)
		return (status);
	if (n == 0 && mcp == NULL && skills == NULL) {
		*cause = xstrdup("nothing to change: give model, mode "
				 "(or permissionMode), effort, mcp or skills");
		return (400);
	}
	if (v[1] != NULL && v[2] != NULL && strcmp(v[1], v[2]) != 0) {
		*cause = xstrdup("'mode' and 'permissionMode' name the same "
				 "setting and differ");
		return (400);
	}
	if (s->state == S_ENDED || s->state == S_STOPPING) {
		xasprintf(cause, "session '%s' is %s", s->id,
		    session_state_names[s->state]);
		return (409);
	}
	if ((status = session_check_store(s, cause)) != 0)
		return (status);
	/* Checked before anything is sent: a refusal changes nothing. */
	if ((mcp != NULL || skills != NULL) &&
	    (s->state == S_READY || s->state == S_TURN) &&
	    !session_resumable(s, cause))
		return (409);
	memset(&cfg, 0, sizeof cfg);
	cfg.model = v[0];
	cfg.mode = v[1] != NULL ? v[1] : v[2];
	cfg.effort = v[3];
	if (n > 0 && a->configure == NULL) {
		xasprintf(cause,
		    "agent '%s' cannot change its model, mode or effort "
		    "during a session (docs/agents.md)",
		    s->profile->id);
		return (409);
	}
	if (n > 0 && (status = a->configure(s->host, &cfg, cause)) != 0)
		return (status);
	if (mcp != NULL) {
		json_free(s->own_mcp);
		s->own_mcp = json_dup(mcp);
	}
	if (skills != NULL) {
		json_free(s->own_skills);
		s->own_skills = json_dup(skills);
	}
	cfg.mcp = mcp;
	cfg.skills = skills;
	host_configure(s->host, &cfg); /* saves session.json */
	log_info("session %s: settings changed", s->id);
	if (mcp == NULL && skills == NULL)
		return (0);
	if (s->state == S_READY)
		session_relaunch(s);
	else if (s->state == S_TURN)
		s->relaunch = 1; /* never a running turn: at its end */
	return (0);
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

/* Add a deleted session's totals to its agent's. */
static void
session_count_gone(struct session *s)
{
	const struct host_usage *u = host_usage(s->host);
	struct session_gone	*g;

	LIST_FOREACH(g, &session_gone, entry) {
		if (g->profile == s->profile)
			break;
	}
	if (g == NULL) {
		g = xcalloc(1, sizeof *g);
		g->profile = s->profile;
		LIST_INSERT_HEAD(&session_gone, g, entry);
	}
	g->usage.turns += u->turns;
	g->usage.input_tokens += u->input_tokens;
	g->usage.output_tokens += u->output_tokens;
	g->usage.cache_read_tokens += u->cache_read_tokens;
	g->usage.cache_write_tokens += u->cache_write_tokens;
	g->usage.cost_usd += u->cost_usd;
	g->events += host_seq(s->host);
}

/* DELETE: terminate, forget, remove from disk. Subscribers see it die. */
void
session_delete(struct session *s)
{
	session_count_gone(s);
	(void)session_terminate(s);
	LIST_REMOVE(s, entry);
	if (store_remove(journal_store(s->journal)) != 0)
		log_warn("session %s: could not remove its files", s->id);
	dirconfig_forget(s->id);
	if (s->home == HOME_SESSION) {
		/* The secrets now; the rest once the agent is gone, or it
		 * could write into a home being removed. The mark tells the
		 * next agentd to finish the job if this one stops first. */
		credentials_remove(s->credentials, s->home_dir);
		if (s->proc == NULL)
			session_remove_home(s);
		else
			home_mark_deleted(s->home_dir);
	}
	s->dead = 1;
	host_unparsed_drop(s->host); /* its files are gone: tell nothing */
	journal_wake(s->journal);
	session_unref(s);
}

/*
 * agentd is stopping: signal every agent's group and flush the logs, and
 * end every process of the sessions. The sessions stay resumable:
 * session.json still says they were not ended.
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
		if (s->wh_timer != NULL && loop_timer_pending(s->wh_timer))
			session_save(s); /* a webhook's last ack */
	}
	/* Every process the agents started goes too (contain.c): those
	 * that left the agents' groups get SIGTERM, all SIGKILL after
	 * --kill-grace. This waits: the loop is over. */
	contain_shutdown(options.kill_grace);
}

/* Call cb for each session added from now on (created or loaded), and for
 * every session there is already. One follower (webhook.c). */
void
session_on_added(session_added_cb cb, void *arg)
{
	struct session *s;

	session_added = cb;
	session_added_arg = arg;
	LIST_FOREACH(s, &sessions, entry)
		cb(arg, s);
}

/* The webhook the session delivers to; -1 if it has none. */
int
session_webhook(struct session *s, struct session_webhook *w)
{
	if ((w->url = session_webhook_url(s)) == NULL)
		return (-1);
	if (s->wh_url != NULL) {
		w->secret = s->wh_secret;
		w->batch = s->wh_batch;
	} else {
		w->secret = options.webhook_secret;
		w->batch = SESSION_BATCH_DEF;
	}
	w->acked = s->wh_acked;
	return (0);
}

static void
session_ack_save_cb(void *arg)
{
	struct session *s = arg;

	if (!s->dead)
		session_save(s);
}

/* The receiver acknowledged every event up to seq: saved within
 * SESSION_ACK_SAVE_S (a restart re-sends at most what came since). */
void
session_webhook_acked(struct session *s, uint64_t seq)
{
	if (seq <= s->wh_acked)
		return;
	s->wh_acked = seq;
	if (s->wh_timer == NULL)
		s->wh_timer = loop_timer_new(session_ack_save_cb, s);
	if (!loop_timer_pending(s->wh_timer))
		loop_timer_set(s->wh_timer, SESSION_ACK_SAVE_S);
}

/* How delivery goes, for SessionInfo: state ("idle", "sending",
 * "retrying"), the last failure or NULL, failures in a row, and when the
 * next attempt is (wall ms, 0: none waits). */
void
session_webhook_report(struct session *s, const char *state, const char *error,
    unsigned int failures, int64_t next_ms)
{
	free(s->wh_state);
	s->wh_state = xstrdup(state);
	if (error != NULL) {
		free(s->wh_error);
		s->wh_error = xstrdup(error);
	}
	s->wh_failures = failures;
	s->wh_next_ms = next_ms;
}

/* One session's figures for the metrics. */
static void
session_stat(struct session *s, struct session_stats *st)
{
	cJSON *perms, *qs;

	memset(st, 0, sizeof *st);
	st->id = s->id;
	st->agent = s->profile->id;
	st->state = session_state_names[s->state];
	st->events = host_seq(s->host);
	st->store_bytes = store_bytes(journal_store(s->journal));
	st->usage = *host_usage(s->host);
	perms = json_array();
	qs = json_array();
	host_pending_ids(s->host, perms, qs);
	st->pending_permissions = json_size(perms);
	st->pending_questions = json_size(qs);
	json_free(perms);
	json_free(qs);
	st->queued = s->nqueued;
	if (s->proc != NULL && s->contain != NULL) {
		st->running = 1;
		contain_usage(s->contain, &st->proc);
	}
	if (session_webhook_url(s) != NULL) {
		st->webhook = 1;
		st->webhook_acked = s->wh_acked;
		st->webhook_failures = s->wh_failures;
	}
}

/*
 * The metrics' view: cb for each session, then once per agent with the
 * totals of its deleted sessions (id NULL).
 */
void
session_stats(session_stats_cb cb, void *arg)
{
	struct session	    *s;
	struct session_gone *g;
	struct session_stats st;

	LIST_FOREACH(s, &sessions, entry) {
		session_stat(s, &st);
		cb(arg, &st);
	}
	LIST_FOREACH(g, &session_gone, entry) {
		memset(&st, 0, sizeof st);
		st.agent = g->profile->id;
		st.events = g->events;
		st.usage = g->usage;
		cb(arg, &st);
	}
}
