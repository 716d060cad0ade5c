/*
 * procs.c: the processes and terminals of /v1/processes (sandbox-agent
 * 0.4.2's routes and shapes): commands run to completion, long-running
 * processes (a dev server, a shell on a terminal), their logs, input,
 * signals and terminal size.
 *
 * A process is a child (core/child.c: pipes, or a pseudo-terminal) and a
 * log: every read of its output is one entry,
 *   {"sequence":N,"stream":"stdout"|"stderr"|"pty","timestampMs":T,
 *    "data":"<base64>","encoding":"base64"}
 * appended to a journal over the store (kind STORE_LOGS: the same
 * numbered, durable log as a session's events, in
 * <data_dir>/processes/<id>/), so followers (SSE, a terminal's
 * WebSocket) are cursors over it and a slow one costs nothing. The store
 * keeps the last maxLogBytesPerProcess bytes of entries on disk (it
 * rotates); the journal's ring keeps the recent ones in memory.
 *
 * process.json holds what GET /v1/processes/{id} answers, plus the pid's
 * start time and the boot id. An agentd that starts and finds a process
 * recorded as running (it was killed, or the machine went down) reports
 * it as exited with exitCode null and says why in endReason; if the
 * process still runs (same pid, start time and boot), it is ended
 * (SIGTERM, SIGKILL after the grace): nothing reads its output any more.
 *
 * Processes outlive the requests and clients that made them; they end
 * when they exit, when stopped or killed, and when agentd stops (SIGTERM
 * to each group). A run (POST /v1/processes/run) is not recorded: its
 * output is kept in memory up to maxOutputBytes a stream and answered
 * once it exits or its timeout kills it.
 *
 * Every call made for a client returns 0 or an HTTP status with a cause.
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

#define PROCS_MAX_RECORDS 1024		     /* processes kept, ended or not */
#define PROCS_SCROLL	  256		     /* entries remembered for it */
#define PROCS_SCROLL_MAX  (64 * 1024)	     /* terminal scrollback, bytes */
#define PROCS_LOGS_MAX	  (16 * 1024 * 1024) /* bytes of one logs answer */
#define PROCS_WAIT_MAX_MS (10 * 60 * 1000)   /* waitMs cap */

/* The runtime limits (ProcessConfig), sandbox-agent's defaults. */
static struct {
	long long max_concurrent;
	long long default_run_timeout_ms;
	long long max_run_timeout_ms;
	long long max_output_bytes;
	long long max_log_bytes;
	long long max_input_bytes;
} procs_cfg = { 64, 30000, 300000, 1048576, 10485760, 65536 };

/* Each member: its name, and the most a client may set it to. */
static const struct {
	const char *name;
	long long  *value;
	long long   max;
} procs_cfg_members[] = {
	{ "maxConcurrentProcesses", &procs_cfg.max_concurrent, 1024 },
	{ "defaultRunTimeoutMs", &procs_cfg.default_run_timeout_ms,
	    24LL * 3600 * 1000 },
	{ "maxRunTimeoutMs", &procs_cfg.max_run_timeout_ms,
	    24LL * 3600 * 1000 },
	{ "maxOutputBytes", &procs_cfg.max_output_bytes, 64LL << 20 },
	{ "maxLogBytesPerProcess", &procs_cfg.max_log_bytes, 1LL << 30 },
	{ "maxInputBytesPerRequest", &procs_cfg.max_input_bytes, 16LL << 20 },
};

struct procs_waiter {
	struct process	  *p;
	procs_wait_cb	   cb;
	void		  *arg;
	struct loop_timer *timer;
	TAILQ_ENTRY(procs_waiter) entry;
};

struct process {
	char   *id;
	char   *command;
	cJSON  *args; /* array of strings */
	char   *cwd;
	int	tty;
	int	interactive;
	int64_t created_ms;

	struct child	  *child; /* NULL once exited */
	pid_t		   pid;
	unsigned long long start; /* the pid's start time */
	int		   running;
	int		   exit_code; /* -1: none (a signal, or unknown) */
	int		   exit_signal;
	int64_t		   exited_ms; /* -1: unknown */
	char		  *end;	      /* how it ended, in words */
	int		   stopping;  /* stop or kill asked */

	struct journal *log;
	uint64_t	seq; /* entries appended */
	int		cols, rows;

	/* The last entries of a terminal, for a viewer's scrollback. */
	uint64_t sb_seq[PROCS_SCROLL];
	size_t	 sb_len[PROCS_SCROLL];
	size_t	 sb_n, sb_next;

	TAILQ_HEAD(, procs_waiter) waiters;
	int refs;
	int dead; /* deleted: nothing more is written */
	LIST_ENTRY(process) entry;
};

static LIST_HEAD(, process) procs = LIST_HEAD_INITIALIZER(procs);
static unsigned long procs_next_id = 1;
static int	     procs_nrecords;
static int	     procs_nrunning; /* processes and runs */

static void procs_exit_cb(void *, int);
static void procs_output_cb(void *, int, const char *, size_t);
static const struct child_cbs procs_child_cbs = { procs_output_cb,
	procs_exit_cb };

/* GET /v1/processes/config */
cJSON *
procs_config(void)
{
	cJSON *o;
	size_t i;

	o = json_object();
	for (i = 0; i < nitems(procs_cfg_members); i++)
		json_set_int(
		    o, procs_cfg_members[i].name, *procs_cfg_members[i].value);
	return (o);
}

/*
 * POST /v1/processes/config: the members given replace the current ones
 * (sandbox-agent wants them all; a missing one keeps its value here).
 * Each must be a whole number above 0 and under its cap; the default
 * run timeout is clamped to the maximum, as sandbox-agent does.
 */
int
procs_set_config(const cJSON *body, cJSON **out, char **cause)
{
	long long v[nitems(procs_cfg_members)] = { 0 };
	double	  d;
	size_t	  i;

	for (i = 0; i < nitems(procs_cfg_members); i++) {
		v[i] = *procs_cfg_members[i].value;
		if (json_get(body, procs_cfg_members[i].name) == NULL)
			continue;
		if (json_get_num(body, procs_cfg_members[i].name, &d) != 0 ||
		    d != (double)(long long)d || d < 1 ||
		    d > (double)procs_cfg_members[i].max) {
			xasprintf(cause,
			    "%s must be a whole number from 1 to %lld",
			    procs_cfg_members[i].name,
			    procs_cfg_members[i].max);
			return (400);
		}
		v[i] = (long long)d;
	}
	for (i = 0; i < nitems(procs_cfg_members); i++)
		*procs_cfg_members[i].value = v[i];
	if (procs_cfg.default_run_timeout_ms > procs_cfg.max_run_timeout_ms)
		procs_cfg.default_run_timeout_ms = procs_cfg.max_run_timeout_ms;
	*out = procs_config();
	return (0);
}

/* The command line and environment of a request: 0, or 400 with cause. */
static int
procs_spec(
    const cJSON *body, char ***argvp, char ***envp, char **cwdp, char **cause)
{
	const cJSON *args, *env, *e;
	const char  *command, *cwd;
	char	   **argv, **envv, *abs;
	struct stat  st;
	int	     n = 0, i, status;

	command = json_get_str(body, "command");
	if (command == NULL || *command == '\0') {
		*cause = xstrdup("'command' (a non-empty string) is required");
		return (400);
	}
	args = json_get(body, "args");
	if (args != NULL && !json_is_null(args) && !json_is_arr(args)) {
		*cause = xstrdup("'args' must be an array of strings");
		return (400);
	}
	env = json_get(body, "env");
	if (env != NULL && !json_is_null(env) && !json_is_obj(env)) {
		*cause = xstrdup("'env' must be an object of strings");
		return (400);
	}
	argv = xcalloc((size_t)(json_is_arr(args) ? json_size(args) : 0) + 2,
	    sizeof *argv);
	argv[n++] = xstrdup(command);
	JSON_FOREACH(e, json_is_arr(args) ? args : NULL) {
		if (!json_is_str(e)) {
			for (i = 0; i < n; i++)
				free(argv[i]);
			free(argv);
			*cause = xstrdup("'args' must be an array of strings");
			return (400);
		}
		argv[n++] = xstrdup(json_str(e));
	}
	envv = xcalloc(
	    (size_t)(json_is_obj(env) ? json_size(env) : 0) + 1, sizeof *envv);
	i = 0;
	JSON_FOREACH(e, json_is_obj(env) ? env : NULL) {
		if (!json_is_str(e) || *json_key(e) == '\0' ||
		    strchr(json_key(e), '=') != NULL) {
			for (n = 0; argv[n] != NULL; n++)
				free(argv[n]);
			free(argv);
			for (n = 0; n < i; n++)
				free(envv[n]);
			free(envv);
			xasprintf(cause,
			    "'env' must map names (without '=') to "
			    "strings");
			return (400);
		}
		xasprintf(&envv[i++], "%s=%s", json_key(e), json_str(e));
	}
	/* The working directory: given (relative ones under HOME, as the
	 * file routes do), or the home directory. */
	cwd = json_get_str(body, "cwd");
	if ((status = fs_resolve(
		 cwd != NULL && *cwd != '\0' ? cwd : ".", &abs, cause)) != 0 ||
	    stat(abs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		if (status == 0) {
			xasprintf(cause, "cwd %s is not a directory", abs);
			free(abs);
			status = 400;
		}
		for (n = 0; argv[n] != NULL; n++)
			free(argv[n]);
		free(argv);
		for (n = 0; envv[n] != NULL; n++)
			free(envv[n]);
		free(envv);
		return (status);
	}
	*argvp = argv;
	*envp = envv;
	*cwdp = abs;
	return (0);
}

static void
procs_free_strv(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Add NAME=value to env unless it sets NAME already. */
static char **
procs_env_default(char **env, const char *name, const char *value)
{
	size_t i, len = strlen(name);

	for (i = 0; env[i] != NULL; i++) {
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return (env);
	}
	env = xreallocarray(env, i + 2, sizeof *env);
	xasprintf(&env[i], "%s=%s", name, value);
	env[i + 1] = NULL;
	return (env);
}

/* ProcessInfo, as GET /v1/processes/{id} answers it. */
cJSON *
procs_info(struct process *p)
{
	cJSON *o;

	o = json_object();
	json_set_str(o, "id", p->id);
	json_set_str(o, "command", p->command);
	json_set(o, "args", json_dup(p->args));
	json_set_str(o, "cwd", p->cwd);
	json_set_bool(o, "tty", p->tty);
	json_set_bool(o, "interactive", p->interactive);
	json_set_str(o, "owner", "user");
	json_set_str(o, "status", p->running ? "running" : "exited");
	if (p->running)
		json_set_int(o, "pid", (long long)p->pid);
	else
		json_set(o, "pid", json_null());
	if (!p->running && p->exit_code >= 0)
		json_set_int(o, "exitCode", p->exit_code);
	else
		json_set(o, "exitCode", json_null());
	if (p->exit_signal > 0)
		json_set_int(o, "exitSignal", p->exit_signal);
	json_set_int(o, "createdAtMs", p->created_ms);
	if (!p->running && p->exited_ms >= 0)
		json_set_int(o, "exitedAtMs", p->exited_ms);
	else
		json_set(o, "exitedAtMs", json_null());
	if (p->end != NULL)
		json_set_str(o, "endReason", p->end);
	return (o);
}

/* process.json: the info, with what a restart needs to find the pid. */
static void
procs_save(struct process *p)
{
	cJSON *o;
	char  *text, *cause;
	size_t len;

	if (p->dead)
		return;
	o = procs_info(p);
	json_set_int(o, "pid", (long long)p->pid);
	json_set_bool(o, "running", p->running);
	json_set_int(o, "pidStart", (long long)p->start);
	json_set_str(o, "boot", proc_boot_id());
	json_set_int(o, "cols", p->cols);
	json_set_int(o, "rows", p->rows);
	text = json_print(o, &len);
	json_free(o);
	if (store_write_meta(journal_store(p->log), text, len, &cause) != 0) {
		log_error("process %s: %s", p->id, cause);
		free(cause);
	}
	free(text);
}

void
procs_ref(struct process *p)
{
	p->refs++;
}

static void
procs_free(struct process *p)
{
	journal_free(p->log);
	free(p->id);
	free(p->command);
	json_free(p->args);
	free(p->cwd);
	free(p->end);
	free(p);
}

void
procs_unref(struct process *p)
{
	if (--p->refs > 0)
		return;
	procs_free(p);
}

/* Remember a terminal entry of len bytes for the scrollback. */
static void
procs_scroll_add(struct process *p, uint64_t seq, size_t len)
{
	p->sb_seq[p->sb_next] = seq;
	p->sb_len[p->sb_next] = len;
	p->sb_next = (p->sb_next + 1) % PROCS_SCROLL;
	if (p->sb_n < PROCS_SCROLL)
		p->sb_n++;
}

/*
 * The cursor a new terminal viewer starts from: just before the recent
 * entries that hold at most PROCS_SCROLL_MAX bytes of output, so it gets
 * the recent screen again and goes on live.
 */
uint64_t
procs_scrollback(struct process *p)
{
	size_t	 i, k, bytes = 0;
	uint64_t from = p->seq;

	for (k = 0; k < p->sb_n; k++) {
		i = (p->sb_next + PROCS_SCROLL - 1 - k) % PROCS_SCROLL;
		if (bytes + p->sb_len[i] > PROCS_SCROLL_MAX && k > 0)
			break;
		bytes += p->sb_len[i];
		from = p->sb_seq[i] - 1;
	}
	if (p->sb_n == 0 && p->seq > 16)
		from = p->seq - 16; /* after a restart: the last few */
	else if (p->sb_n == 0)
		from = 0;
	return (from);
}

/*
 * One read of the child's output becomes one log entry, built in one
 * buffer kept while processes run (an entry is never copied: the journal
 * has no ring for process logs; followers read the store).
 */
static char  *procs_line;
static size_t procs_line_cap;

static void
procs_output_cb(void *arg, int stream, const char *buf, size_t len)
{
	static const char *names[] = { "stdout", "stderr", "pty" };
	static const char  tail[] = "\",\"encoding\":\"base64\"}";
	struct process	  *p = arg;
	size_t		   n, cap;
	uint64_t	   seq;

	if (p->dead || len == 0)
		return;
	seq = p->seq + 1;
	cap = base64_encoded_len(len) + 160;
	if (cap > procs_line_cap) {
		free(procs_line);
		procs_line = xmalloc(cap);
		procs_line_cap = cap;
	}
	n = (size_t)snprintf(procs_line, cap,
	    "{\"sequence\":%llu,\"stream\":\"%s\",\"timestampMs\":%lld,"
	    "\"data\":\"",
	    (unsigned long long)seq, names[stream], (long long)loop_wall_ms());
	n += base64_encode_to(buf, len, procs_line + n);
	memcpy(procs_line + n, tail, sizeof tail - 1);
	n += sizeof tail - 1;
	if ((p->seq = journal_append_message_copy(p->log, procs_line, n)) !=
	    seq)
		fatalx("process %s: log entry %llu numbered %llu", p->id,
		    (unsigned long long)seq, (unsigned long long)p->seq);
	if (p->tty)
		procs_scroll_add(p, p->seq, len);
}

/* The journal cannot write (a full disk): stop reading the child. */
static void
procs_stall_cb(void *arg, int stalled)
{
	struct process *p = arg;

	if (p->child != NULL)
		child_pause(p->child, stalled);
}

static void
procs_child_free_cb(void *arg)
{
	child_free(arg);
}

static void
procs_waiter_fire(struct procs_waiter *w)
{
	struct process *p = w->p;

	TAILQ_REMOVE(&p->waiters, w, entry);
	loop_timer_free(w->timer);
	w->cb(w->arg, p);
	free(w);
	procs_unref(p);
}

/* The child exited and its output is in the log. */
static void
procs_exit_cb(void *arg, int status)
{
	struct process *p = arg;
	char		buf[128];

	p->running = 0;
	if (--procs_nrunning == 0) {
		free(procs_line); /* nothing prints now */
		procs_line = NULL;
		procs_line_cap = 0;
	}
	p->exited_ms = loop_wall_ms();
	if (WIFEXITED(status)) {
		p->exit_code = WEXITSTATUS(status);
		(void)snprintf(
		    buf, sizeof buf, "exited with status %d", p->exit_code);
	} else if (WIFSIGNALED(status)) {
		p->exit_signal = WTERMSIG(status);
		(void)snprintf(buf, sizeof buf, "killed by signal %d (%s)%s",
		    p->exit_signal, strsignal(p->exit_signal),
		    p->stopping && p->exit_signal == SIGKILL ? " after a stop"
							     : "");
	} else
		(void)snprintf(
		    buf, sizeof buf, "ended (wait status %d)", status);
	free(p->end);
	p->end = xstrdup(buf);
	log_info("process %s (pid %ld) %s", p->id, (long)p->pid, buf);
	loop_defer(procs_child_free_cb, p->child);
	p->child = NULL;
	if (!p->dead) {
		procs_save(p);
		journal_rest(p->log); /* nothing more: no descriptors */
		journal_wake(p->log); /* followers see the end */
	}
	/* procs_waiter_fire takes w off w->p->waiters, which is
	 * p->waiters, and p lives on: its reference goes below. */
	while (!TAILQ_EMPTY(&p->waiters))
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		procs_waiter_fire(TAILQ_FIRST(&p->waiters));
	procs_unref(p); /* the running child's reference */
}

static struct process *
procs_new(const char *id)
{
	struct process *p;

	p = xcalloc(1, sizeof *p);
	p->id = xstrdup(id);
	p->exit_code = -1;
	p->exited_ms = -1;
	p->cols = 80;
	p->rows = 24;
	TAILQ_INIT(&p->waiters);
	p->refs = 1; /* the registry's */
	return (p);
}

/*
 * POST /v1/processes: start a long-running process (ProcessInfo). With
 * tty, on a terminal of 80x24 (TERM=xterm-256color unless env sets it).
 */
int
procs_create(const cJSON *body, cJSON **out, char **cause)
{
	struct process *p;
	struct store   *st;
	char	      **argv, **env, *cwd, id[32];
	int		tty = 0, interactive = 0, i, status;

	if (json_get(body, "tty") != NULL &&
	    !json_is_null(json_get(body, "tty")) &&
	    json_get_bool(body, "tty", &tty) != 0) {
		*cause = xstrdup("'tty' must be a boolean");
		return (400);
	}
	if (json_get(body, "interactive") != NULL &&
	    !json_is_null(json_get(body, "interactive")) &&
	    json_get_bool(body, "interactive", &interactive) != 0) {
		*cause = xstrdup("'interactive' must be a boolean");
		return (400);
	}
	if ((status = procs_spec(body, &argv, &env, &cwd, cause)) != 0)
		return (status);
	if (procs_nrunning >= procs_cfg.max_concurrent ||
	    procs_nrecords >= PROCS_MAX_RECORDS) {
		xasprintf(cause,
		    procs_nrunning >= procs_cfg.max_concurrent
			? "%lld processes run already (maxConcurrentProcesses)"
			: "%lld processes are recorded: delete ended ones",
		    procs_nrunning >= procs_cfg.max_concurrent
			? procs_cfg.max_concurrent
			: (long long)PROCS_MAX_RECORDS);
		status = 409;
		goto out;
	}
	(void)snprintf(id, sizeof id, "proc_%lu", procs_next_id);
	if ((st = store_create(STORE_LOGS, options.data_dir, id, cause)) ==
	    NULL) {
		status = 507;
		goto out;
	}
	procs_next_id++;
	store_set_cap(st, (uint64_t)procs_cfg.max_log_bytes);
	p = procs_new(id);
	p->command = xstrdup(argv[0]);
	p->args = json_array();
	for (i = 1; argv[i] != NULL; i++)
		json_append(p->args, json_string(argv[i]));
	p->cwd = cwd;
	cwd = NULL;
	p->tty = tty;
	p->interactive = interactive;
	p->created_ms = loop_wall_ms();
	p->log = journal_new(st, id);
	journal_set_ring(p->log, 0);
	journal_on_stall(p->log, procs_stall_cb, p);
	if (tty)
		env = procs_env_default(env, "TERM", "xterm-256color");
	p->child = child_spawn(argv, env, p->cwd, tty ? CHILD_PTY : 0, p->cols,
	    p->rows, &procs_child_cbs, p, cause);
	if (p->child == NULL) {
		store_remove(journal_store(p->log));
		procs_free(p);
		status = 500;
		goto out;
	}
	p->pid = child_pid(p->child);
	p->start = proc_start_time(p->pid);
	p->running = 1;
	p->refs++; /* the running child's */
	procs_nrunning++;
	procs_nrecords++;
	LIST_INSERT_HEAD(&procs, p, entry);
	procs_save(p);
	*out = procs_info(p);
	status = 0;
out:
	procs_free_strv(argv);
	procs_free_strv(env);
	free(cwd);
	return (status);
}

struct process *
procs_find(const char *id)
{
	struct process *p;

	LIST_FOREACH(p, &procs, entry) {
		if (strcmp(p->id, id) == 0)
			return (p);
	}
	return (NULL);
}

static int
procs_id_cmp(const void *a, const void *b)
{
	const struct process *x = *(struct process *const *)a;
	const struct process *y = *(struct process *const *)b;
	unsigned long	      i = strtoul(x->id + 5, NULL, 10);
	unsigned long	      j = strtoul(y->id + 5, NULL, 10);

	return (i < j ? -1 : i > j);
}

/* GET /v1/processes?owner=: every process kept, by id. */
cJSON *
procs_list(const char *owner)
{
	struct process **v, *p;
	cJSON		*o, *a;
	size_t		 n = 0, i;

	a = json_array();
	if (owner == NULL || strcmp(owner, "user") == 0) {
		/* v holds pointers: sizeof *v is a pointer's size.
		 * NOLINTNEXTLINE(bugprone-sizeof-expression) */
		v = xcalloc((size_t)procs_nrecords + 1, sizeof *v);
		LIST_FOREACH(p, &procs, entry)
			v[n++] = p;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
		qsort(v, n, sizeof *v, procs_id_cmp);
		for (i = 0; i < n; i++)
			json_append(a, procs_info(v[i]));
		free(v);
	}
	o = json_object();
	json_set(o, "processes", a);
	return (o);
}

int
procs_running(struct process *p)
{
	return (p->running);
}

int
procs_is_tty(struct process *p)
{
	return (p->tty);
}

const char *
procs_id(struct process *p)
{
	return (p->id);
}

struct journal *
procs_journal(struct process *p)
{
	return (p->log);
}

uint64_t
procs_last_seq(struct process *p)
{
	return (p->seq);
}

/* DELETE /v1/processes/{id}: forget an ended process and its log. */
int
procs_delete(struct process *p, char **cause)
{
	if (p->running) {
		xasprintf(cause,
		    "process %s is still running: stop or kill it "
		    "first",
		    p->id);
		return (409);
	}
	LIST_REMOVE(p, entry);
	procs_nrecords--;
	p->dead = 1;
	if (store_remove(journal_store(p->log)) != 0)
		log_warn("process %s: its log could not be removed", p->id);
	journal_wake(p->log); /* followers see it gone */
	procs_unref(p);
	return (0);
}

/*
 * Bytes a client sends: data in encoding "base64" (the default, as
 * sandbox-agent's), "utf8" or "text". 0 with a malloc'd buffer, or a
 * status (400, or 413 over maxInputBytesPerRequest).
 */
int
procs_decode_input(const char *data, const char *encoding, char **out,
    size_t *len, char **cause)
{
	size_t n;

	if (data == NULL) {
		*cause = xstrdup("'data' (a string) is required");
		return (400);
	}
	n = strlen(data);
	if (encoding == NULL || strcmp(encoding, "base64") == 0) {
		*out = xmalloc(n / 4 * 3 + 3);
		if (base64_decode(data, n, (unsigned char *)*out, len) != 0) {
			free(*out);
			*cause = xstrdup("'data' is not valid base64");
			return (400);
		}
	} else if (strcmp(encoding, "utf8") == 0 ||
	    strcmp(encoding, "text") == 0) {
		*out = xmemdup(data, n);
		*len = n;
	} else {
		*cause = xstrdup("encoding must be one of: base64, utf8, text");
		return (400);
	}
	if ((long long)*len > procs_cfg.max_input_bytes) {
		free(*out);
		xasprintf(cause,
		    "input of %zu bytes exceeds maxInputBytesPerRequest (%lld)",
		    *len, procs_cfg.max_input_bytes);
		return (413);
	}
	return (0);
}

/* Bytes to the process's stdin or terminal. */
int
procs_write(struct process *p, const char *buf, size_t len, char **cause)
{
	if (!p->running) {
		xasprintf(cause, "process %s is not running", p->id);
		return (409);
	}
	if (child_write(p->child, buf, len) != 0) {
		xasprintf(cause,
		    "process %s does not take input (stdin closed, or it has "
		    "not read what was sent before)",
		    p->id);
		return (409);
	}
	return (0);
}

/*
 * POST /v1/processes/{id}/input {data, encoding?}: ProcessInputResponse.
 */
int
procs_input(struct process *p, const cJSON *body, cJSON **out, char **cause)
{
	char  *buf;
	size_t len;
	int    status;

	if ((status = procs_decode_input(json_get_str(body, "data"),
		 json_get_str(body, "encoding"), &buf, &len, cause)) != 0)
		return (status);
	status = procs_write(p, buf, len, cause);
	free(buf);
	if (status == 0) {
		*out = json_object();
		json_set_int(*out, "bytesWritten", (long long)len);
	}
	return (status);
}

/*
 * Stop (SIGTERM to its group, SIGKILL after the grace) or kill (SIGKILL)
 * a process. An ended one is left as it is.
 */
void
procs_signal(struct process *p, int kill)
{
	if (!p->running)
		return;
	p->stopping = 1;
	if (kill)
		child_signal(p->child, SIGKILL);
	else
		child_stop(p->child, options.kill_grace);
}

static void
procs_waiter_cb(void *arg)
{
	procs_waiter_fire(arg);
}

/*
 * Call cb(arg, p) once p has exited, or after ms milliseconds, whichever
 * is first (at once if it has exited). ms is capped.
 */
void
procs_wait(struct process *p, int64_t ms, procs_wait_cb cb, void *arg)
{
	struct procs_waiter *w;

	if (!p->running || ms <= 0) {
		cb(arg, p);
		return;
	}
	if (ms > PROCS_WAIT_MAX_MS)
		ms = PROCS_WAIT_MAX_MS;
	w = xcalloc(1, sizeof *w);
	w->p = p;
	w->cb = cb;
	w->arg = arg;
	w->timer = loop_timer_new(procs_waiter_cb, w);
	loop_timer_set(w->timer, (double)ms / 1000.0);
	TAILQ_INSERT_TAIL(&p->waiters, w, entry);
	procs_ref(p);
}

/* POST /v1/processes/{id}/terminal/resize, and a terminal's resize frame. */
int
procs_resize(struct process *p, long long cols, long long rows, char **cause)
{
	if (!p->tty) {
		xasprintf(
		    cause, "process %s is not running in tty mode", p->id);
		return (409);
	}
	if (cols < 1 || cols > 65535 || rows < 1 || rows > 65535) {
		*cause = xstrdup("cols and rows must be from 1 to 65535");
		return (400);
	}
	if (!p->running || child_resize(p->child, (int)cols, (int)rows) != 0) {
		xasprintf(cause, "process %s has exited", p->id);
		return (409);
	}
	p->cols = (int)cols;
	p->rows = (int)rows;
	child_signal(p->child, SIGWINCH);
	return (0);
}

/* What a logs query keeps: a stream name (or NULL for the default). */
int
procs_stream_filter(struct process *p, const char *name, int *filter)
{
	static const char *names[] = { "stdout", "stderr", "combined", "pty" };
	size_t		   i;

	if (name == NULL || *name == '\0') {
		*filter = p->tty ? PROCS_PTY : PROCS_COMBINED;
		return (0);
	}
	for (i = 0; i < nitems(names); i++) {
		if (strcmp(names[i], name) == 0) {
			*filter = (int)i;
			return (0);
		}
	}
	return (-1);
}

/* Does a stored entry belong to a stream filter? */
int
procs_entry_matches(const char *line, size_t len, int filter)
{
	static const char *want[] = { "\"stream\":\"stdout\"",
		"\"stream\":\"stderr\"", NULL, "\"stream\":\"pty\"" };
	const char	  *s;

	/* The stream member comes right after the sequence (procs_output_cb
	 * writes it so): look no further than the first 64 bytes. */
	s = memmem(line, len < 64 ? len : 64, "\"stream\":\"", 10);
	if (s == NULL)
		return (0);
	if (filter == PROCS_COMBINED)
		return (strncmp(s + 10, "pty", 3) != 0);
	return (strncmp(s, want[filter], strlen(want[filter])) == 0);
}

/* A terminal entry's bytes (decoded) into out, which holds len bytes. */
int
procs_entry_bytes(const char *line, size_t len, char *out, size_t *outlen)
{
	const char *s, *e;

	if ((s = memmem(line, len, "\"data\":\"", 8)) == NULL)
		return (-1);
	s += 8;
	if ((e = memchr(s, '"', len - (size_t)(s - line))) == NULL)
		return (-1);
	return (
	    base64_decode(s, (size_t)(e - s), (unsigned char *)out, outlen));
}

/* Entries a logs answer collects: copies of the lines, oldest first. */
struct procs_collect {
	int	 filter;
	uint64_t tail;
	char   **line;
	size_t	*len;
	size_t	 first, n, cap;
	size_t	 bytes;
	uint64_t last;
	int	 full;
};

static void
procs_collect_drop(struct procs_collect *c)
{
	c->bytes -= c->len[c->first];
	free(c->line[c->first]);
	c->first++;
	c->n--;
}

static int
procs_collect_cb(void *arg, uint64_t seq, enum event_type type,
    const char *line, size_t len, size_t noraw)
{
	struct procs_collect *c = arg;

	c->last = seq;
	if (!procs_entry_matches(line, len, c->filter))
		return (0);
	if (c->tail == 0 && c->n > 0 && c->bytes + len > PROCS_LOGS_MAX) {
		c->full = 1;
		return (1);
	}
	if (c->first + c->n == c->cap) {
		if (c->first > 0) { /* slide down before growing */
			memmove(c->line, c->line + c->first,
			    c->n * sizeof *c->line);
			memmove(
			    c->len, c->len + c->first, c->n * sizeof *c->len);
			c->first = 0;
		}
		if (c->n == c->cap) {
			c->cap = c->cap == 0 ? 64 : c->cap * 2;
			c->line =
			    xreallocarray(c->line, c->cap, sizeof *c->line);
			c->len = xreallocarray(c->len, c->cap, sizeof *c->len);
		}
	}
	c->line[c->first + c->n] = xmemdup(line, len);
	c->len[c->first + c->n] = len;
	c->n++;
	c->bytes += len;
	/* With tail, only the last ones (and within the byte cap). */
	while (c->tail > 0 && c->n > 1 &&
	    ((uint64_t)c->n > c->tail || c->bytes > PROCS_LOGS_MAX))
		procs_collect_drop(c);
	return (0);
}

/*
 * GET /v1/processes/{id}/logs (not followed): ProcessLogsResponse with
 * the entries after since of the stream asked, the last tail of them if
 * tail is not 0. At most PROCS_LOGS_MAX bytes of entries per answer: a
 * client reads on with since=<the last sequence it got>.
 */
int
procs_logs(struct process *p, int filter, const char *stream_name,
    uint64_t since, uint64_t tail, cJSON **out, char **cause)
{
	struct procs_collect c;
	const char	    *err;
	uint64_t	     after = since;
	cJSON		    *entries, *e;
	size_t		     i;
	int		     n, status = 0;

	memset(&c, 0, sizeof c);
	c.filter = filter;
	c.tail = tail;
	for (;;) {
		c.last = after;
		n = journal_read(p->log, after, 1 << 20, procs_collect_cb, &c);
		if (n < 0) {
			xasprintf(
			    cause, "process %s: reading its log failed", p->id);
			status = 500;
			break;
		}
		if (n == 0 || c.full || c.last <= after)
			break;
		after = c.last;
	}
	entries = json_array();
	for (i = c.first; i < c.first + c.n; i++) {
		if (status == 0 &&
		    (e = json_parse(c.line[i], c.len[i], &err)) != NULL)
			json_append(entries, e);
		free(c.line[i]);
	}
	free(c.line);
	free(c.len);
	if (status != 0) {
		json_free(entries);
		return (status);
	}
	*out = json_object();
	json_set_str(*out, "processId", p->id);
	json_set_str(*out, "stream", stream_name);
	json_set(*out, "entries", entries);
	return (0);
}

/* A one-shot command (POST /v1/processes/run). */
struct procs_run {
	struct child	  *child;
	struct loop_timer *timer;
	int64_t		   started;
	size_t		   max;
	char		  *out[2];
	size_t		   len[2];
	int		   truncated[2];
	int		   timed_out;
	procs_run_cb	   cb;
	void		  *arg;
};

static void
procs_run_output_cb(void *arg, int stream, const char *buf, size_t len)
{
	struct procs_run *r = arg;
	size_t		  n;

	if (stream != CHILD_STDOUT && stream != CHILD_STDERR)
		return;
	n = r->max - r->len[stream];
	if (len > n)
		r->truncated[stream] = 1;
	else
		n = len;
	if (n == 0)
		return;
	r->out[stream] = xrealloc(r->out[stream], r->len[stream] + n);
	memcpy(r->out[stream] + r->len[stream], buf, n);
	r->len[stream] += n;
}

/*
 * Captured output as a JSON string: invalid UTF-8 and NUL bytes (which
 * cJSON's strings cannot hold) become U+FFFD.
 */
static cJSON *
procs_run_text(const char *buf, size_t len)
{
	cJSON *s;
	char  *fixed, *out;
	size_t i, o = 0;

	if (len == 0)
		return (json_string(""));
	if (utf8_valid(buf, len) && memchr(buf, '\0', len) == NULL)
		return (json_stringn(buf, len));
	fixed = utf8_repair(buf, len, &len);
	out = xmalloc(len * 3 + 1);
	for (i = 0; i < len; i++) {
		if (fixed[i] != '\0')
			out[o++] = fixed[i];
		else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	s = json_stringn(out, o);
	free(out);
	free(fixed);
	return (s);
}

static void
procs_run_free_cb(void *arg)
{
	struct procs_run *r = arg;

	child_free(r->child);
	free(r->out[0]);
	free(r->out[1]);
	free(r);
}

static void
procs_run_exit_cb(void *arg, int status)
{
	struct procs_run *r = arg;
	cJSON		 *o;

	procs_nrunning--;
	loop_timer_free(r->timer);
	r->timer = NULL;
	o = json_object();
	if (!r->timed_out && WIFEXITED(status))
		json_set_int(o, "exitCode", WEXITSTATUS(status));
	else
		json_set(o, "exitCode", json_null());
	if (!r->timed_out && WIFSIGNALED(status))
		json_set_int(o, "exitSignal", WTERMSIG(status));
	json_set_bool(o, "timedOut", r->timed_out);
	json_set(o, "stdout", procs_run_text(r->out[0], r->len[0]));
	json_set(o, "stderr", procs_run_text(r->out[1], r->len[1]));
	json_set_bool(o, "stdoutTruncated", r->truncated[0]);
	json_set_bool(o, "stderrTruncated", r->truncated[1]);
	json_set_int(o, "durationMs", loop_now_ms() - r->started);
	r->cb(r->arg, o);
	loop_defer(procs_run_free_cb, r);
}

static void
procs_run_timeout_cb(void *arg)
{
	struct procs_run *r = arg;

	r->timed_out = 1;
	child_signal(r->child, SIGKILL);
}

static const struct child_cbs procs_run_cbs = { procs_run_output_cb,
	procs_run_exit_cb };

/*
 * POST /v1/processes/run {command, args?, cwd?, env?, timeoutMs?,
 * maxOutputBytes?}: start it; cb gets ProcessRunResponse when it has
 * exited (or was killed at its timeout). The run goes on to its end even
 * if the client leaves; its output is kept up to maxOutputBytes a stream.
 */
int
procs_run(const cJSON *body, procs_run_cb cb, void *arg, char **cause)
{
	struct procs_run *r;
	char		**argv, **env, *cwd;
	double		  d;
	long long	  timeout = procs_cfg.default_run_timeout_ms;
	long long	  max = procs_cfg.max_output_bytes;
	int		  status;

	if (json_get(body, "timeoutMs") != NULL &&
	    !json_is_null(json_get(body, "timeoutMs"))) {
		if (json_get_num(body, "timeoutMs", &d) != 0 || d < 0) {
			*cause = xstrdup("'timeoutMs' must be a number >= 0");
			return (400);
		}
		if (d > 0)
			timeout = d > (double)procs_cfg.max_run_timeout_ms
			    ? procs_cfg.max_run_timeout_ms
			    : (long long)d;
	}
	if (json_get(body, "maxOutputBytes") != NULL &&
	    !json_is_null(json_get(body, "maxOutputBytes"))) {
		if (json_get_num(body, "maxOutputBytes", &d) != 0 || d < 0) {
			*cause =
			    xstrdup("'maxOutputBytes' must be a number >= 0");
			return (400);
		}
		if (d < (double)max)
			max = (long long)d;
	}
	if (procs_nrunning >= procs_cfg.max_concurrent) {
		xasprintf(cause,
		    "%lld processes run already "
		    "(maxConcurrentProcesses)",
		    procs_cfg.max_concurrent);
		return (409);
	}
	if ((status = procs_spec(body, &argv, &env, &cwd, cause)) != 0)
		return (status);
	env = procs_env_default(env, "TERM", "xterm-256color");
	r = xcalloc(1, sizeof *r);
	r->max = (size_t)max;
	r->cb = cb;
	r->arg = arg;
	r->started = loop_now_ms();
	r->child = child_spawn(
	    argv, env, cwd, CHILD_NO_STDIN, 0, 0, &procs_run_cbs, r, cause);
	procs_free_strv(argv);
	procs_free_strv(env);
	free(cwd);
	if (r->child == NULL) {
		free(r);
		return (500);
	}
	procs_nrunning++;
	r->timer = loop_timer_new(procs_run_timeout_cb, r);
	loop_timer_set(r->timer, (double)timeout / 1000.0);
	return (0);
}

/* Load one process recorded by an earlier agentd. */
static int
procs_load(const char *id, char **cause)
{
	struct process *p;
	struct store   *st;
	uint64_t	last;
	long long	v;
	const char     *s, *boot;
	cJSON	       *o;
	char	       *text;
	size_t		len;
	int		running = 0;
	unsigned long	n;

	if ((st = store_open(STORE_LOGS, options.data_dir, id, &last, cause)) ==
	    NULL)
		return (-1);
	text = store_read_meta(st, &len);
	o = text != NULL ? json_parse(text, len, NULL) : NULL;
	free(text);
	if (o == NULL || json_get_str(o, "command") == NULL) {
		xasprintf(cause, "process %s: no readable process.json", id);
		json_free(o);
		store_close(st);
		return (-1);
	}
	store_set_cap(st, (uint64_t)procs_cfg.max_log_bytes);
	p = procs_new(id);
	p->command = xstrdup(json_get_str(o, "command"));
	p->args = json_is_arr(json_get(o, "args"))
	    ? json_dup(json_get(o, "args"))
	    : json_array();
	p->cwd = xstrdup(
	    json_get_str(o, "cwd") != NULL ? json_get_str(o, "cwd") : "/");
	(void)json_get_bool(o, "tty", &p->tty);
	(void)json_get_bool(o, "interactive", &p->interactive);
	(void)json_get_bool(o, "running", &running);
	if (json_get_int(o, "createdAtMs", &v) == 0)
		p->created_ms = v;
	if (json_get_int(o, "exitCode", &v) == 0)
		p->exit_code = (int)v;
	if (json_get_int(o, "exitSignal", &v) == 0)
		p->exit_signal = (int)v;
	if (json_get_int(o, "exitedAtMs", &v) == 0)
		p->exited_ms = v;
	if ((s = json_get_str(o, "endReason")) != NULL)
		p->end = xstrdup(s);
	if (json_get_int(o, "pid", &v) == 0)
		p->pid = (pid_t)v;
	if (json_get_int(o, "pidStart", &v) == 0)
		p->start = (unsigned long long)v;
	if (json_get_int(o, "cols", &v) == 0)
		p->cols = (int)v;
	if (json_get_int(o, "rows", &v) == 0)
		p->rows = (int)v;
	boot = json_get_str(o, "boot");
	p->log = journal_new(st, id);
	journal_set_ring(p->log, 0);
	p->seq = last;
	if (running) {
		/*
		 * It ran when its agentd went away: its exit was not seen.
		 * If it still runs, end it (nothing reads its output now).
		 */
		free(p->end);
		if (proc_end_orphan(
			p->pid, p->start, boot, options.kill_grace)) {
			p->exited_ms = loop_wall_ms();
			p->end =
			    xstrdup("agentd restarted while it ran: it was "
				    "still running and was stopped, as "
				    "nothing could read its output any more");
		} else
			p->end = xstrdup("agentd stopped while it ran: it "
					 "ended unseen, its exit status is "
					 "unknown");
		p->exit_code = -1;
		procs_save(p);
	}
	/* It ended: its log holds no descriptor until it is read. */
	journal_rest(p->log);
	json_free(o);
	n = strtoul(id + 5, NULL, 10);
	if (n >= procs_next_id)
		procs_next_id = n + 1;
	LIST_INSERT_HEAD(&procs, p, entry);
	procs_nrecords++;
	return (0);
}

/* Load every process an earlier agentd recorded. */
int
procs_load_all(char **cause)
{
	char **ids;
	size_t n, i;
	char  *why = NULL;

	if (store_list(STORE_LOGS, options.data_dir, &ids, &n) != 0) {
		if (errno == ENOENT)
			return (0); /* no process was ever started here */
		xasprintf(cause, "cannot list %s/processes: %s",
		    options.data_dir, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		/* One bad process must not keep the others (or agentd) down. */
		if (strncmp(ids[i], "proc_", 5) == 0 &&
		    procs_load(ids[i], &why) != 0) {
			log_error("%s", why != NULL ? why : ids[i]);
			free(why);
			why = NULL;
		}
		free(ids[i]);
	}
	free(ids);
	return (0);
}

/*
 * agentd stops: SIGTERM to every running process's group. Their exits
 * will not be seen; process.json still says running, so the next agentd
 * reports them ended (and ends any that ignored the signal).
 */
void
procs_shutdown(void)
{
	struct process *p;

	LIST_FOREACH(p, &procs, entry) {
		if (!p->running)
			continue;
		child_signal(p->child, SIGTERM);
		journal_sync(p->log);
	}
}
