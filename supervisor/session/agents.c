/*
 * agents.c: which agents are here, and installing the pinned ones.
 *
 * GET /v1/agents reports, for every profile of adapters/adapter.c, whether
 * its command is found (in agentd's data dir first, then on PATH), the
 * version installed there, whether a credential is in the environment (a
 * boolean: the value is never read out), its protocol and what that
 * protocol can carry. Nothing here runs an agent: looking is stat(2) only.
 * What an agent offers that only it tells (Claude's and Codex's models,
 * an ACP agent's modes and models) is the last a session of it was told
 * since agentd started (agents_learn), shown where nothing static is.
 *
 * POST /v1/agents/{agent}/install and `agentd install AGENT` run
 * `npm install` of the pinned package into <data-dir>/agents, one install
 * per agent at a time; the caller is told the outcome through a callback
 * once npm is done (the HTTP reply waits for it).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

/*
 * {agent id: {model|mode|effort: available}}, the lists the sessions of
 * each agent were told last (agents_learn).
 */
static cJSON *agents_learned;

static cJSON *agents_options(const struct agent_profile *);

/* Who waits for an install: each is told once, in the order they came. */
struct agents_waiter {
	agents_done_cb done;
	void	      *arg;
	TAILQ_ENTRY(agents_waiter) entry;
};

struct agents_job {
	const struct agent_profile *profile;
	struct proc		   *proc;
	TAILQ_HEAD(, agents_waiter) waiters;
	LIST_ENTRY(agents_job) entry;
};
static LIST_HEAD(, agents_job) agents_jobs = LIST_HEAD_INITIALIZER(agents_jobs);

static const struct {
	int	    cap;
	const char *name;
} agents_caps[] = {
	{ CAP_PERMISSIONS, "permissions" },
	{ CAP_QUESTIONS, "questions" },
	{ CAP_REASONING, "reasoning" },
	{ CAP_TOOL_CALLS, "toolCalls" },
	{ CAP_FILE_CHANGES, "fileChanges" },
	{ CAP_STREAMING, "streamingDeltas" },
	{ CAP_RESUME, "sessionResume" },
	{ CAP_CANCEL, "cancel" },
	{ CAP_USAGE, "usage" },
	{ CAP_IMAGES, "images" },
};

/* <data-dir>/agents, where installs go. */
static char *
agents_dir(void)
{
	char *dir;

	xasprintf(&dir, "%s/agents", options.data_dir);
	return (dir);
}

/* The npm package name of "name@version" ("@scope/name@1.2"). */
static char *
agents_package_name(const char *spec)
{
	const char *at = strrchr(spec, '@');

	if (at == NULL || at == spec)
		return (xstrdup(spec));
	return (xstrndup(spec, (size_t)(at - spec)));
}

static int
agents_executable(const char *path)
{
	struct stat sb;

	return (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    access(path, X_OK) == 0);
}

/* Find cmd: our install dir first, then PATH. Returns a malloc'd path. */
char *
agents_find(const char *cmd)
{
	char *dir, *p;

	if (strcmp(cmd, "@self") == 0)
		return (xstrdup("@self"));
	if (strchr(cmd, '/') != NULL)
		return (agents_executable(cmd) ? xstrdup(cmd) : NULL);
	dir = agents_dir();
	xasprintf(&p, "%s/node_modules/.bin/%s", dir, cmd);
	free(dir);
	if (agents_executable(p))
		return (p);
	free(p);
	return (agents_which(cmd, getenv("PATH")));
}

/* Find a bare cmd in the directories of path (a PATH value, or NULL), as
 * execvp(3) would. Returns a malloc'd path. */
char *
agents_which(const char *cmd, const char *path)
{
	char *p, *copy, *seg, *last;

	if (path == NULL)
		return (NULL);
	copy = xstrdup(path);
	for (seg = strtok_r(copy, ":", &last); seg != NULL;
	     seg = strtok_r(NULL, ":", &last)) {
		xasprintf(&p, "%s/%s", *seg != '\0' ? seg : ".", cmd);
		if (agents_executable(p)) {
			free(copy);
			return (p);
		}
		free(p);
	}
	free(copy);
	return (NULL);
}

/* The version in <data-dir>/agents/node_modules/<pkg>/package.json. */
static char *
agents_installed_version(const struct agent_profile *p)
{
	char	   *dir, *name, *path, buf[16384];
	const char *err, *v;
	ssize_t	    n;
	cJSON	   *o;
	int	    fd;

	if (p->npm_package == NULL)
		return (NULL);
	dir = agents_dir();
	name = agents_package_name(p->npm_package);
	xasprintf(&path, "%s/node_modules/%s/package.json", dir, name);
	free(dir);
	free(name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return (NULL);
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n <= 0 || (o = json_parse(buf, (size_t)n, &err)) == NULL)
		return (NULL);
	v = json_get_str(o, "version");
	name = v != NULL ? xstrdup(v) : NULL;
	json_free(o);
	return (name);
}

static int
agents_credentials(const struct agent_profile *p)
{
	const char *const *e;
	const char	  *v;

	if (p->credential_env == NULL)
		return (p->flags & AGENT_BUILTIN) != 0;
	for (e = p->credential_env; *e != NULL; e++) {
		if ((v = getenv(*e)) != NULL && *v != '\0')
			return (1);
	}
	return (0);
}

/* AgentInfo for one profile. */
cJSON *
agents_info(const struct agent_profile *p)
{
	const char *const *e;
	char		  *path = NULL, *version;
	cJSON		  *o, *caps, *creds;
	size_t		   i;

	o = json_object();
	json_set_str(o, "id", p->id);
	json_set_str(o, "protocol", p->adapter->name);
	if (p->argv != NULL)
		path = agents_find(p->argv[0]);
	json_set_bool(
	    o, "installed", path != NULL || (p->flags & AGENT_CUSTOM_COMMAND));
	if (path != NULL && strcmp(path, "@self") != 0)
		json_set_str(o, "path", path);
	free(path);
	if ((p->flags & AGENT_BUILTIN))
		json_set_str(o, "version", AGENTD_VERSION);
	else if ((version = agents_installed_version(p)) != NULL) {
		json_set_str(o, "version", version);
		free(version);
	}
	if (p->npm_package != NULL)
		json_set_str(o, "npmPackage", p->npm_package);
	json_set_bool(o, "credentialsAvailable", agents_credentials(p));
	creds = json_array();
	for (e = p->credential_env; e != NULL && *e != NULL; e++)
		json_append(creds, json_string(*e));
	json_set(o, "credentialEnv", creds);
	caps = json_object();
	for (i = 0; i < nitems(agents_caps); i++)
		json_set_bool(caps, agents_caps[i].name,
		    (p->adapter->caps & agents_caps[i].cap) != 0);
	json_set(o, "capabilities", caps);
	json_set(o, "options", agents_options(p));
	return (o);
}

/*
 * The profile's options (adapter_options), with what its sessions were
 * told where the profile knows no list: marked "learned", since another
 * session (another configuration) may be told otherwise.
 */
static cJSON *
agents_options(const struct agent_profile *p)
{
	static const char *const keys[] = { "model", "mode", "effort" };
	const cJSON		*learned, *list;
	cJSON			*o, *k;
	size_t			 i;

	o = adapter_options(p);
	learned = json_get_obj(agents_learned, p->id);
	for (i = 0; learned != NULL && i < nitems(keys); i++) {
		k = json_get_obj(o, keys[i]);
		if (k == NULL || json_get(k, "available") != NULL ||
		    (list = json_get_arr(learned, keys[i])) == NULL)
			continue;
		json_set(k, "available", json_dup(list));
		json_set_bool(k, "learned", 1);
	}
	return (o);
}

/*
 * A session of p was told its options (SessionInfo's): keep each
 * non-empty list as the agent's last told, for GET /v1/agents.
 */
void
agents_learn(const struct agent_profile *p, const cJSON *opts)
{
	static const char *const keys[] = { "model", "mode", "effort" };
	const cJSON		*list;
	cJSON			*mine;
	size_t			 i;

	if (agents_learned == NULL)
		agents_learned = json_object();
	for (i = 0; i < nitems(keys); i++) {
		list = json_get_arr(json_get_obj(opts, keys[i]), "available");
		if (json_size(list) <= 0)
			continue;
		if ((mine = json_get_obj(agents_learned, p->id)) == NULL) {
			mine = json_object();
			json_set(agents_learned, p->id, mine);
		}
		if (json_get(mine, keys[i]) == NULL ||
		    !json_equal(json_get(mine, keys[i]), list))
			json_set(mine, keys[i], json_dup(list));
	}
}

cJSON *
agents_list(void)
{
	const struct agent_profile *p;
	cJSON			   *a;

	a = json_array();
	for (p = agent_profiles; p->id != NULL; p++)
		json_append(a, agents_info(p));
	return (a);
}

/* The npm command line; argv strings live as long as the profile. */
static void
agents_npm_argv(
    const struct agent_profile *p, const char *dir, struct argv_builder *b)
{
	argv_add(b, "npm");
	argv_add(b, "install");
	argv_add(b, "--no-audit");
	argv_add(b, "--no-fund");
	argv_add(b, "--no-update-notifier");
	argv_add(b, "--prefix");
	argv_add(b, dir);
	argv_add(b, p->npm_package);
}

static void
agents_job_line_cb(void *arg, const char *line, size_t len, int may)
{
	struct agents_job *j = arg;

	log_debug("npm %s: %.*s", j->profile->id, (int)len, line);
}

static void
agents_job_toolong_cb(void *arg, size_t len)
{
}

static void
agents_job_free_cb(void *arg)
{
	struct agents_job *j = arg;

	proc_free(j->proc);
	free(j);
}

/* npm is done: tell the caller, with the reason of a failure. */
static void
agents_job_exit_cb(void *arg, int status)
{
	struct agents_job    *j = arg;
	struct agents_waiter *w;
	char		     *head, *tail, *cause = NULL;
	int		      truncated, code;

	code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (code == 0)
		log_info("installed %s", j->profile->npm_package);
	else {
		proc_stderr(j->proc, &head, &tail, &truncated);
		if (code == 127)
			xasprintf(&cause,
			    "cannot run npm: is Node.js installed? (%s)", tail);
		else
			xasprintf(&cause,
			    "npm install %s failed (exit %d; is the registry "
			    "reachable?): %.2000s",
			    j->profile->npm_package, code, tail);
		free(head);
		free(tail);
	}
	LIST_REMOVE(j, entry); /* a waiter may start another install */
	while ((w = TAILQ_FIRST(&j->waiters)) != NULL) {
		TAILQ_REMOVE(&j->waiters, w, entry);
		w->done(w->arg, cause);
		free(w);
	}
	free(cause);
	loop_defer(agents_job_free_cb, j);
}

static const struct proc_cbs agents_job_cbs = { agents_job_line_cb,
	agents_job_toolong_cb, agents_job_exit_cb };

/* Is the agent's command found (data dir, then PATH)? */
int
agents_installed(const struct agent_profile *p)
{
	char *path;

	if (p->argv == NULL)
		return (1); /* a command from the request */
	if ((path = agents_find(p->argv[0])) == NULL)
		return (0);
	free(path);
	return (1);
}

/*
 * Can p's CLI be installed here on first use? 0, or 400 with the reason
 * and how to install it by hand.
 */
int
agents_can_install(const struct agent_profile *p, char **cause)
{
	char *npm;

	if (options.no_install) {
		xasprintf(cause,
		    "agent %s is not installed and this agentd installs "
		    "nothing (--no-install): run `agentd install %s` or put "
		    "`%s` on PATH",
		    p->id, p->id, p->argv[0]);
		return (400);
	}
	if (p->npm_package == NULL) {
		xasprintf(cause,
		    "agent %s is not installed and is not on npm: put `%s` "
		    "on PATH",
		    p->id, p->argv[0]);
		return (400);
	}
	if ((npm = agents_which("npm", getenv("PATH"))) == NULL) {
		xasprintf(cause,
		    "agent %s is not installed and npm is not on PATH to "
		    "install %s: install Node.js and npm, or the CLI by hand",
		    p->id, p->npm_package);
		return (400);
	}
	free(npm);
	return (0);
}

static void
agents_wait(struct agents_job *j, agents_done_cb done, void *arg)
{
	struct agents_waiter *w;

	w = xcalloc(1, sizeof *w);
	w->done = done;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&j->waiters, w, entry);
}

/*
 * Install the agent's pinned npm package into <data-dir>/agents. Returns
 * 0 when npm was started, or already runs for this agent (done is then
 * called once, with NULL or the reason it failed), or an HTTP status with
 * *cause when it could not start.
 */
int
agents_install(
    const struct agent_profile *p, agents_done_cb done, void *arg, char **cause)
{
	struct argv_builder b;
	struct agents_job  *j;
	char		   *dir;

	if (p->npm_package == NULL) {
		xasprintf(cause,
		    "agent %s is not installed from npm; install it by hand",
		    p->id);
		return (400);
	}
	LIST_FOREACH(j, &agents_jobs, entry) {
		if (j->profile == p) {
			agents_wait(j, done, arg);
			return (0);
		}
	}
	dir = agents_dir();
	(void)mkdir(dir, 0755);
	memset(&b, 0, sizeof b);
	agents_npm_argv(p, dir, &b);
	j = xcalloc(1, sizeof *j);
	j->profile = p;
	TAILQ_INIT(&j->waiters);
	j->proc =
	    proc_spawn(b.argv, NULL, dir, 1 << 20, &agents_job_cbs, j, cause);
	argv_free(&b);
	free(dir);
	if (j->proc == NULL) {
		free(j);
		return (500);
	}
	agents_wait(j, done, arg);
	LIST_INSERT_HEAD(&agents_jobs, j, entry);
	return (0);
}

/* `agentd agents`: the list, as GET /v1/agents answers it. */
int
agents_main(int argc, char **argv)
{
	cJSON *a;
	char  *text;

	if (options.data_dir == NULL)
		options.data_dir = options_default_data_dir();
	a = agents_list();
	text = json_print(a, NULL);
	json_free(a);
	printf("%s\n", text);
	free(text);
	return (0);
}

/* `agentd install AGENT…`: npm install each, in the foreground. */
int
agents_install_main(int argc, char **argv)
{
	const struct agent_profile *p;
	struct argv_builder	    b;
	char			   *dir;
	pid_t			    pid;
	int			    i, status, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: agentd install AGENT...\n");
		return (2);
	}
	if (options.data_dir == NULL)
		options.data_dir = options_default_data_dir();
	(void)mkdir(options.data_dir, 0700);
	dir = agents_dir();
	(void)mkdir(dir, 0755);
	for (i = 1; i < argc; i++) {
		if ((p = adapter_find_agent(argv[i])) == NULL ||
		    p->npm_package == NULL) {
			fprintf(stderr,
			    "agentd: %s: no npm package to install\n", argv[i]);
			rc = 1;
			continue;
		}
		memset(&b, 0, sizeof b);
		agents_npm_argv(p, dir, &b);
		printf("installing %s into %s\n", p->npm_package, dir);
		fflush(stdout);
		if ((pid = fork()) == 0) {
			execvp("npm", b.argv);
			fprintf(stderr, "agentd: cannot run npm: %s\n",
			    strerror(errno));
			_exit(127);
		}
		argv_free(&b);
		if (pid == -1 || waitpid(pid, &status, 0) == -1 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(
			    stderr, "agentd: installing %s failed\n", p->id);
			rc = 1;
		}
	}
	free(dir);
	return (rc);
}
