/*
 * contain.c: every process an agent starts, found and ended, however it
 * detaches; per-session memory and process limits; the process budget.
 *
 * An agent runs in its own process group (proc.c), but a tool it starts
 * may leave the group (setsid) or the tree (a double fork re-parents it),
 * and signalling the group then misses it. Two modes find such escapees:
 *
 * - cgroup: each session's agent runs in a cgroup v2 of its own,
 *   <parent>/agentd-<pid>-<start>/s-<id> (the parent is --cgroup-parent
 *   or agentd's own cgroup; the middle one is this agentd's instance, so
 *   that agentds sharing a parent never meet, and what a killed one left
 *   is recognised and swept by the next to start). The child joins it
 *   between fork and exec (contain_child), so everything it ever starts is
 *   in there too. Ending it is cgroup.kill (or SIGKILL to each pid of
 *   cgroup.procs on kernels before 5.14), then rmdir. memory.max and
 *   pids.max limit it where the controllers are available: in the cgroup
 *   v2 tree, or else (hybrid hosts, where memory and pids are still bound
 *   to cgroup v1, as in Firecracker sandboxes) in a v1 cgroup of the same
 *   path beside it.
 * - subreaper: where no cgroup can be made, agentd is a child subreaper
 *   (PR_SET_CHILD_SUBREAPER): orphans of its agents are re-parented to it
 *   instead of to init. A process belongs to a session when it is its
 *   agent (pid and start time), or shares the agent's session or process
 *   group (started no earlier than the agent: a pid that is a live
 *   group's id is never reused), or descends from such a process, or, for
 *   an orphan agentd adopted, carries the session's tag in its
 *   environment (AGENTD_CONTAIN=<random hex>, which contain_child puts in
 *   the agent's; an escapee that both clears its environment and leaves
 *   the session is found only while its parent lives).
 *
 * Adopted orphans are reaped like any child: libev's SIGCHLD handler
 * waits for any pid (waitpid(-1)), not only the watched ones.
 *
 * After a kill -9 of agentd, what its sessions left (recorded in their
 * session.json: cgroup, tag, agent pid and start time) is ended by the
 * next agentd (contain_reclaim): SIGTERM, then SIGKILL after the grace.
 *
 * Limits are watched once a second (contain_tick) and at the agent's exit
 * (contain_check): an OOM kill in the cgroup (memory.events oom_kill, or
 * v1 memory.oom_control) or a refused fork (pids.events max) is told to
 * the session through its callback, which stops it or says so.
 *
 * The process budget (--max-processes) counts the processes agentd itself
 * starts for clients: agents, and the processes of the files/processes
 * API; each takes a slot before it starts and gives it back when reaped.
 */
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define CONTAIN_CGROUP2_MAGIC	0x63677270
#define CONTAIN_CGROUP1_MAGIC	0x27e0eb
#define CONTAIN_TAG_ENV		"AGENTD_CONTAIN="
#define CONTAIN_TICK_S		1.0
#define CONTAIN_RMDIR_S		0.1   /* retry removing a cgroup this often */
#define CONTAIN_RMDIR_MAX	100   /* then give up (10 s) */
#define CONTAIN_KILL_ROUNDS	8     /* scans of a kill that finds more */
#define CONTAIN_SCAN_MAX	65536 /* processes one scan considers */
#define CONTAIN_ENVIRON_MAX	(4UL * 1024 * 1024)
#define CONTAIN_SHUTDOWN_KILL_S 2    /* wait for the SIGKILLed at shutdown */
#define CONTAIN_SWEEP_MAX	4096 /* instances whose liveness is kept */

/* A controller that limits sessions: where its cgroups go, and how. */
struct contain_ctl {
	const char *name;   /* "memory", "pids" */
	char	   *parent; /* where instances go, NULL: unavailable */
	int	    v1;	    /* a cgroup v1 hierarchy of its own */
	char	   *base;   /* v1: this agentd's instance directory */
};
enum {
	CONTAIN_MEMORY,
	CONTAIN_PIDS,
	CONTAIN_NCTL
};

struct contain {
	char		  *id;
	char		  *dir; /* cgroup v2, NULL until made (or subreaper) */
	char		  *v1dir[CONTAIN_NCTL]; /* v1 cgroups for limits */
	int		   joinfd[1 + CONTAIN_NCTL];
	int		   njoin;
	char		   tagenv[sizeof CONTAIN_TAG_ENV + 32];
	pid_t		   pid; /* the agent, 0 if none runs */
	unsigned long long start;
	struct contain_limits lim;
	unsigned long long    oom_seen;
	unsigned long long    pidsmax_seen;
	contain_limit_cb      cb;
	void		     *arg;

	/* Released: being ended, its cgroups removed (the graveyard). */
	int		   rounds;
	double		   grace; /* reclaim: SIGKILL after this */
	int		   all;	  /* reclaim: the tag in any process */
	struct loop_timer *timer;
	LIST_ENTRY(contain) entry;
};
LIST_HEAD(contain_list, contain);

static enum contain_mode contain_mode = CONTAIN_SUBREAPER;
static char *contain_parent;   /* cgroup v2: --cgroup-parent, or agentd's */
static char *contain_base;     /* <parent>/agentd-<pid>-<start>: sessions */
static char  contain_name[64]; /* agentd-<pid>-<start> */
static struct contain_ctl contain_ctls[CONTAIN_NCTL] = {
	{ "memory", NULL, 0, NULL }, { "pids", NULL, 0, NULL }
};
static struct contain_list contain_live = LIST_HEAD_INITIALIZER(contain_live);
static struct contain_list contain_dead = LIST_HEAD_INITIALIZER(contain_dead);
static struct loop_timer  *contain_timer;

/* What a start-up's sweeps learnt of other instances (contain_sweep). */
struct contain_seen_instance {
	long		   pid;
	unsigned long long start;
	int		   runs;
};
static struct contain_seen_instance *contain_seen_instances;
static size_t			     contain_nseen_instances;
static size_t			     contain_seen_cap;
static unsigned int		     contain_budget;

/* One process as /proc/PID/stat tells it. */
struct contain_ps {
	pid_t		   pid, ppid, pgrp, sid;
	unsigned long long start;
	unsigned long long ticks; /* utime + stime */
	unsigned long long rss;	  /* pages */
	int		   member;
};

static void  contain_tick_cb(void *);
static int   contain_ps_read(pid_t, struct contain_ps *);
static char *contain_instance(const char *, int, char **);
static void  contain_check(struct contain *);
static void  contain_dead_cb(void *);

/* Read a small file into buf (NUL-terminated); -1 if it cannot be. */
static int
contain_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return (-1);
	buf[n] = '\0';
	return (0);
}

/* Write a string to a cgroup file; -1 with errno. */
static int
contain_write(const char *dir, const char *file, const char *value)
{
	char	path[4096];
	ssize_t n;
	int	fd, saved;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = write(fd, value, strlen(value));
	saved = errno;
	close(fd);
	errno = saved;
	return (n == (ssize_t)strlen(value) ? 0 : -1);
}

/* The value of "key N" in a flat-keyed cgroup file, 0 if absent. */
static unsigned long long
contain_key(const char *dir, const char *file, const char *key)
{
	char	    path[4096], buf[4096], *p;
	size_t	    klen = strlen(key);
	const char *line;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (contain_read(path, buf, sizeof buf) != 0)
		return (0);
	for (line = buf; line != NULL && *line != '\0'; line = p) {
		if ((p = strchr(line, '\n')) != NULL)
			p++;
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return (strtoull(line + klen + 1, NULL, 10));
	}
	return (0);
}

/* A one-number cgroup file (memory.current, pids.current), 0 if none. */
static unsigned long long
contain_number(const char *dir, const char *file)
{
	char path[4096], buf[64];

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (contain_read(path, buf, sizeof buf) != 0)
		return (0);
	return (strtoull(buf, NULL, 10));
}

/* This process's cgroup in the hierarchy named by key ("" for v2). */
static char *
contain_self_cgroup(const char *key)
{
	char   buf[8192], *line, *p, *c;
	size_t klen = strlen(key);

	if (contain_read("/proc/self/cgroup", buf, sizeof buf) != 0)
		return (NULL);
	for (line = buf; line != NULL && *line != '\0'; line = p) {
		if ((p = strchr(line, '\n')) != NULL)
			*p++ = '\0';
		/* "ID:controllers:path"; controllers is "" for v2. */
		if ((c = strchr(line, ':')) == NULL)
			continue;
		c++;
		if (strncmp(c, key, klen) == 0 && c[klen] == ':')
			return (xstrdup(c + klen + 1));
	}
	return (NULL);
}

static int
contain_is_fs(const char *path, long magic)
{
	struct statfs sf;

	return (statfs(path, &sf) == 0 && (long)sf.f_type == magic);
}

/* Is word among the space-separated words of a cgroup file? */
static int
contain_listed(const char *dir, const char *file, const char *word)
{
	char	    path[4096], buf[1024];
	const char *p;
	size_t	    len = strlen(word);

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (contain_read(path, buf, sizeof buf) != 0)
		return (0);
	for (p = buf; (p = strstr(p, word)) != NULL; p += len) {
		if ((p == buf || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
			return (1);
	}
	return (0);
}

/* Call fn(pid, arg) for each pid a cgroup's cgroup.procs lists; returns
 * how many were listed. */
static int
contain_each_pid(const char *dir, void (*fn)(pid_t, void *), void *arg)
{
	char  path[4096], buf[32];
	FILE *f;
	pid_t pid;
	int   n = 0;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	if ((f = fopen(path, "re")) == NULL)
		return (0);
	while (fgets(buf, sizeof buf, f) != NULL) {
		if ((pid = (pid_t)strtol(buf, NULL, 10)) <= 0)
			continue;
		n++;
		if (fn != NULL)
			fn(pid, arg);
	}
	fclose(f);
	return (n);
}

static void
contain_is_self_cb(pid_t pid, void *arg)
{
	int *others = arg;

	if (pid != getpid())
		(*others)++;
}

/* Does the cgroup hold no process but agentd? */
static int
contain_only_self(const char *dir)
{
	int others = 0;

	return (contain_each_pid(dir, contain_is_self_cb, &others) == 1 &&
	    others == 0);
}

/*
 * Enable the memory and pids controllers for the sessions' cgroups. A
 * cgroup with processes of its own cannot give controllers to its
 * children (cgroup v2's "no internal processes" rule): if agentd is alone
 * in the parent, it moves itself into a leaf, <parent>/agentd, first.
 */
static void
contain_enable(const char *self)
{
	char   leaf[4096], want[64];
	size_t len;
	int    i;

	want[0] = '\0';
	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (!contain_listed(contain_parent, "cgroup.controllers",
			contain_ctls[i].name))
			continue;
		if (contain_listed(contain_parent, "cgroup.subtree_control",
			contain_ctls[i].name)) {
			contain_ctls[i].parent = xstrdup(contain_parent);
			continue;
		}
		len = strlen(want);
		snprintf(want + len, sizeof want - len, "%s+%s",
		    len > 0 ? " " : "", contain_ctls[i].name);
	}
	if (want[0] == '\0')
		return;
	if (contain_write(contain_parent, "cgroup.subtree_control", want) !=
		0 &&
	    errno == EBUSY && self != NULL && contain_only_self(self) &&
	    strcmp(self, contain_parent) == 0) {
		snprintf(leaf, sizeof leaf, "%s/agentd", contain_parent);
		if ((mkdir(leaf, 0755) == 0 || errno == EEXIST) &&
		    contain_write(leaf, "cgroup.procs", "0") == 0) {
			log_info("moved agentd into %s, so that its sessions' "
				 "cgroups may have %s",
			    leaf, want);
			(void)contain_write(
			    contain_parent, "cgroup.subtree_control", want);
		}
	}
	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (contain_ctls[i].parent == NULL &&
		    contain_listed(contain_parent, "cgroup.subtree_control",
			contain_ctls[i].name))
			contain_ctls[i].parent = xstrdup(contain_parent);
	}
}

/*
 * Where cgroup v2 lacks a controller (a hybrid host binds memory and pids
 * to cgroup v1), use its v1 hierarchy for the limit, if agentd can make
 * its instance there and the instance has the limit's file.
 */
static void
contain_enable_v1(void)
{
	char	    dir[4096], f[4200], *self, *cause, *base;
	const char *limit;
	size_t	    len;
	int	    i;

	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (contain_ctls[i].parent != NULL)
			continue;
		snprintf(
		    dir, sizeof dir, "/sys/fs/cgroup/%s", contain_ctls[i].name);
		if (!contain_is_fs(dir, CONTAIN_CGROUP1_MAGIC) ||
		    (self = contain_self_cgroup(contain_ctls[i].name)) == NULL)
			continue;
		len = strlen(dir);
		snprintf(dir + len, sizeof dir - len, "%s",
		    strcmp(self, "/") == 0 ? "" : self);
		free(self);
		limit =
		    i == CONTAIN_MEMORY ? "memory.limit_in_bytes" : "pids.max";
		if ((base = contain_instance(dir, 0, &cause)) == NULL) {
			log_info(
			    "cgroup v1 %s: %s", contain_ctls[i].name, cause);
			free(cause);
			continue;
		}
		snprintf(f, sizeof f, "%s/%s", base, limit);
		if (access(f, F_OK) != 0) {
			log_info("cgroup v1 %s: %s: no %s",
			    contain_ctls[i].name, dir, limit);
			(void)rmdir(base);
			free(base);
			continue;
		}
		contain_ctls[i].parent = xstrdup(dir);
		contain_ctls[i].base = base;
		contain_ctls[i].v1 = 1;
	}
}

/* The cgroup v2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified. */
static const char *
contain_v2_root(void)
{
	if (contain_is_fs("/sys/fs/cgroup", CONTAIN_CGROUP2_MAGIC))
		return ("/sys/fs/cgroup");
	if (contain_is_fs("/sys/fs/cgroup/unified", CONTAIN_CGROUP2_MAGIC))
		return ("/sys/fs/cgroup/unified");
	return (NULL);
}

/*
 * Does the agentd of an instance agentd-<pid>-<start> run? A pid that is
 * gone needs no read of /proc; a live one is compared by start time (the
 * pid may have been reused). The answer is kept for the sweeps of the
 * other hierarchies, which hold the same instances: agentds started at
 * once under one parent (a fleet on one host) each read every other's
 * /proc entry once, not once a hierarchy.
 */
static int
contain_instance_runs(long pid, unsigned long long start)
{
	struct contain_seen_instance *si;
	struct contain_ps	      ps;
	size_t			      i;
	int			      runs;

	for (i = 0; i < contain_nseen_instances; i++) {
		si = &contain_seen_instances[i];
		if (si->pid == pid && si->start == start)
			return (si->runs);
	}
	if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
		runs = 0;
	else
		runs =
		    contain_ps_read((pid_t)pid, &ps) == 0 && ps.start == start;
	if (contain_nseen_instances == contain_seen_cap &&
	    contain_seen_cap < CONTAIN_SWEEP_MAX) {
		contain_seen_cap =
		    contain_seen_cap == 0 ? 64 : contain_seen_cap * 2;
		contain_seen_instances = xreallocarray(contain_seen_instances,
		    contain_seen_cap, sizeof *contain_seen_instances);
	}
	if (contain_nseen_instances < contain_seen_cap) {
		si = &contain_seen_instances[contain_nseen_instances++];
		si->pid = pid;
		si->start = start;
		si->runs = runs;
	}
	return (runs);
}

/*
 * Remove what dead agentds left under parent: instance directories
 * agentd-<pid>-<start> whose process is gone, with the sessions' cgroups
 * in them that are empty (rmdir refuses the others: their processes wait
 * for the next agentd on the same data dir, which ends them from its
 * session.json). Another agentd's live instance is never touched.
 */
static void
contain_sweep(const char *parent)
{
	struct dirent	  *de, *se;
	DIR		  *d, *sd;
	char		   path[4096], sub[4400];
	unsigned long long start;
	long		   pid;
	int		   n, kept;

	if ((d = opendir(parent)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = 0;
		if (sscanf(de->d_name, "agentd-%ld-%llu%n", &pid, &start, &n) !=
			2 ||
		    de->d_name[n] != '\0' ||
		    strcmp(de->d_name, contain_name) == 0)
			continue;
		if (contain_instance_runs(pid, start))
			continue;
		snprintf(path, sizeof path, "%s/%s", parent, de->d_name);
		kept = 0;
		if ((sd = opendir(path)) != NULL) {
			while ((se = readdir(sd)) != NULL) {
				if (se->d_type != DT_DIR ||
				    se->d_name[0] == '.')
					continue;
				snprintf(
				    sub, sizeof sub, "%s/%s", path, se->d_name);
				kept += rmdir(sub) != 0;
			}
			closedir(sd);
		}
		if (rmdir(path) == 0)
			log_info(
			    "removed %s, left by an agentd that is gone", path);
		else if (kept > 0)
			log_info("%s, left by an agentd that is gone, still "
				 "holds %d session%s with processes",
			    path, kept, kept == 1 ? "" : "s");
	}
	closedir(d);
}

/*
 * This agentd's instance directory under parent, agentd-<pid>-<start>:
 * the sessions' cgroups go in it, so that agentds sharing a parent never
 * meet, and one that was killed can be told from one that runs. v2: the
 * controllers its parent gives it are passed on to the sessions. Making
 * it is also the test that agentd may make cgroups there.
 */
static char *
contain_instance(const char *parent, int v2, char **cause)
{
	char  *dir, want[64];
	size_t len;
	int    i;

	contain_sweep(parent);
	xasprintf(&dir, "%s/%s", parent, contain_name);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		free(dir);
		return (NULL);
	}
	want[0] = '\0';
	for (i = 0; v2 && i < CONTAIN_NCTL; i++) {
		if (contain_ctls[i].parent == NULL || contain_ctls[i].v1)
			continue;
		len = strlen(want);
		snprintf(want + len, sizeof want - len, "%s+%s",
		    len > 0 ? " " : "", contain_ctls[i].name);
	}
	if (want[0] != '\0' &&
	    contain_write(dir, "cgroup.subtree_control", want) != 0)
		log_warn(
		    "%s: cannot enable %s: %s", dir, want, strerror(errno));
	return (dir);
}

/* Set up the cgroup mode; -1 with *cause if it cannot be had. */
static int
contain_init_cgroup(char **cause)
{
	struct contain_ps ps;
	const char	 *root;
	char		 *rel, *self = NULL;
	char		  path[4096];
	int		  i;

	if ((root = contain_v2_root()) == NULL) {
		*cause = xstrdup("no cgroup v2 is mounted at /sys/fs/cgroup "
				 "(or /sys/fs/cgroup/unified)");
		return (-1);
	}
	if ((rel = contain_self_cgroup("")) != NULL) {
		xasprintf(
		    &self, "%s%s", root, strcmp(rel, "/") == 0 ? "" : rel);
		free(rel);
	}
	if (options.cgroup_parent != NULL) {
		if (strncmp(options.cgroup_parent, root, strlen(root)) == 0)
			snprintf(
			    path, sizeof path, "%s", options.cgroup_parent);
		else
			snprintf(path, sizeof path, "%s/%s", root,
			    options.cgroup_parent +
				(*options.cgroup_parent == '/'));
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			xasprintf(cause, "--cgroup-parent %s: %s", path,
			    strerror(errno));
			free(self);
			return (-1);
		}
		contain_parent = xstrdup(path);
	} else if (self != NULL)
		contain_parent = xstrdup(self);
	else {
		*cause = xstrdup("agentd's own cgroup is unknown");
		return (-1);
	}
	if (contain_ps_read(getpid(), &ps) != 0)
		ps.start = 0;
	snprintf(contain_name, sizeof contain_name, "agentd-%ld-%llu",
	    (long)getpid(), ps.start);
	contain_enable(self);
	free(self);
	if ((contain_base = contain_instance(contain_parent, 1, cause)) ==
	    NULL) {
		for (i = 0; i < CONTAIN_NCTL; i++) {
			free(contain_ctls[i].parent);
			contain_ctls[i].parent = NULL;
		}
		free(contain_parent);
		contain_parent = NULL;
		return (-1);
	}
	contain_enable_v1();
	free(contain_seen_instances);
	contain_seen_instances = NULL;
	contain_nseen_instances = contain_seen_cap = 0;
	contain_mode = CONTAIN_CGROUP;
	log_info("containment: a cgroup per session under %s (limits: "
		 "memory %s, pids %s)",
	    contain_base,
	    contain_ctls[CONTAIN_MEMORY].parent == NULL ? "no"
		: contain_ctls[CONTAIN_MEMORY].v1	? "cgroup v1"
							: "yes",
	    contain_ctls[CONTAIN_PIDS].parent == NULL ? "no"
		: contain_ctls[CONTAIN_PIDS].v1	      ? "cgroup v1"
						      : "yes");
	return (0);
}

/*
 * Pick the mode (--containment auto, cgroup or subreaper). -1 with
 * *cause if the one asked for cannot be had.
 */
int
contain_init(char **cause)
{
	const char *want = options.containment;
	char	   *why = NULL;

	if (want == NULL || strcmp(want, "auto") == 0 ||
	    strcmp(want, "cgroup") == 0) {
		if (contain_init_cgroup(&why) == 0)
			return (0);
		if (want != NULL && strcmp(want, "cgroup") == 0) {
			xasprintf(cause, "--containment cgroup: %s", why);
			free(why);
			return (-1);
		}
	} else if (strcmp(want, "subreaper") != 0) {
		xasprintf(cause,
		    "--containment: '%s' is not auto, cgroup or "
		    "subreaper",
		    want);
		return (-1);
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
		xasprintf(cause, "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		free(why);
		return (-1);
	}
	contain_mode = CONTAIN_SUBREAPER;
	log_info("containment: subreaper%s%s%s",
	    why != NULL ? " (no cgroup: " : "", why != NULL ? why : "",
	    why != NULL ? ")" : "");
	free(why);
	return (0);
}

const char *
contain_mode_name(void)
{
	return (contain_mode == CONTAIN_CGROUP ? "cgroup" : "subreaper");
}

/* Can a limit of this kind ("memory", "pids") be enforced? */
int
contain_can_limit(const char *what)
{
	int i;

	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (strcmp(contain_ctls[i].name, what) == 0)
			return (contain_mode == CONTAIN_CGROUP &&
			    contain_ctls[i].parent != NULL);
	}
	return (0);
}

struct contain *
contain_new(const char *id, const struct contain_limits *lim,
    contain_limit_cb cb, void *arg)
{
	struct contain *c;
	unsigned char	r[8];
	char		hex[sizeof r * 2 + 1];
	size_t		i;

	c = xcalloc(1, sizeof *c);
	c->id = xstrdup(id);
	if (lim != NULL)
		c->lim = *lim;
	c->cb = cb;
	c->arg = arg;
	for (i = 0; i < nitems(c->joinfd); i++)
		c->joinfd[i] = -1;
	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		for (i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)((loop_wall_ms() >> (i * 3)) ^
			    (getpid() >> i) ^ (uintptr_t)c >> (i * 2));
	}
	sha256_hex(r, sizeof r, hex);
	snprintf(c->tagenv, sizeof c->tagenv, "%s%s", CONTAIN_TAG_ENV, hex);
	LIST_INSERT_HEAD(&contain_live, c, entry);
	return (c);
}

/*
 * Make the session's cgroup in this agentd's instance directory: s-<id>
 * (a session id could be "cgroup.procs"), or s-<id>.N while one of that
 * name is still being removed. Returns the path, or NULL with errno.
 */
static char *
contain_mkdir(const char *base, const char *id)
{
	char path[4096];
	int  n;

	for (n = 0; n < 100; n++) {
		if (n == 0)
			snprintf(path, sizeof path, "%s/s-%s", base, id);
		else
			snprintf(path, sizeof path, "%s/s-%s.%d", base, id, n);
		if (mkdir(path, 0755) == 0)
			return (xstrdup(path));
		if (errno != EEXIST)
			return (NULL);
	}
	errno = EEXIST;
	return (NULL);
}

/* Write the session's limits into its cgroups. */
static int
contain_set_limits(struct contain *c, char **cause)
{
	const char *dir;
	char	    v[32];

	if (c->lim.memory > 0) {
		dir = c->v1dir[CONTAIN_MEMORY] != NULL
		    ? c->v1dir[CONTAIN_MEMORY]
		    : c->dir;
		snprintf(v, sizeof v, "%llu", c->lim.memory);
		if (c->v1dir[CONTAIN_MEMORY] != NULL) {
			if (contain_write(dir, "memory.limit_in_bytes", v) != 0)
				goto fail;
			/* No escape into swap, where the host has it. */
			(void)contain_write(
			    dir, "memory.memsw.limit_in_bytes", v);
		} else {
			if (contain_write(dir, "memory.max", v) != 0)
				goto fail;
			(void)contain_write(dir, "memory.swap.max", "0");
			(void)contain_write(dir, "memory.oom.group", "1");
		}
	}
	if (c->lim.pids > 0) {
		dir = c->v1dir[CONTAIN_PIDS] != NULL ? c->v1dir[CONTAIN_PIDS]
						     : c->dir;
		snprintf(v, sizeof v, "%u", c->lim.pids);
		if (contain_write(dir, "pids.max", v) != 0)
			goto fail;
	}
	return (0);
fail:
	xasprintf(
	    cause, "cannot set the limits in %s: %s", c->dir, strerror(errno));
	return (-1);
}

/* Close the descriptors the child joins its cgroups by. */
static void
contain_close_join(struct contain *c)
{
	int i;

	for (i = 0; i < c->njoin; i++) {
		if (c->joinfd[i] != -1)
			close(c->joinfd[i]);
		c->joinfd[i] = -1;
	}
	c->njoin = 0;
}

static int
contain_open_join(struct contain *c, const char *dir, char **cause)
{
	char path[4096];
	int  fd;

	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	c->joinfd[c->njoin++] = fd;
	return (0);
}

/*
 * Before the fork: make the session's cgroups (once), set their limits and
 * open what the child joins them by. 0, or -1 with *cause and errno.
 */
int
contain_prepare(struct contain *c, char **cause)
{
	int i, saved;

	contain_close_join(c);
	if (contain_mode != CONTAIN_CGROUP)
		return (0);
	if (c->dir == NULL &&
	    (c->dir = contain_mkdir(contain_base, c->id)) == NULL) {
		saved = errno;
		xasprintf(cause, "cannot create a cgroup under %s: %s",
		    contain_base, strerror(saved));
		errno = saved;
		return (-1);
	}
	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (!contain_ctls[i].v1 || c->v1dir[i] != NULL ||
		    (i == CONTAIN_MEMORY && c->lim.memory == 0) ||
		    (i == CONTAIN_PIDS && c->lim.pids == 0))
			continue;
		if ((c->v1dir[i] = contain_mkdir(
			 contain_ctls[i].base, c->id)) == NULL) {
			saved = errno;
			xasprintf(cause, "cannot create a cgroup under %s: %s",
			    contain_ctls[i].base, strerror(saved));
			errno = saved;
			return (-1);
		}
	}
	if (contain_set_limits(c, cause) != 0)
		return (-1);
	if (contain_open_join(c, c->dir, cause) != 0)
		goto fail;
	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (c->v1dir[i] != NULL &&
		    contain_open_join(c, c->v1dir[i], cause) != 0)
			goto fail;
	}
	return (0);
fail:
	saved = errno;
	contain_close_join(c);
	errno = saved;
	return (-1);
}

/*
 * In the child, between fork and exec: join the session's cgroups and
 * carry its tag. Only async-signal-safe calls, but for putenv, as proc.c
 * does for the environment. -1 if a cgroup refused it (the child must not
 * run uncontained).
 */
int
contain_child(struct contain *c)
{
	int i;

	for (i = 0; i < c->njoin; i++) {
		if (write(c->joinfd[i], "0", 1) != 1)
			return (-1);
	}
	putenv(c->tagenv);
	return (0);
}

/* After the fork, in agentd: the agent runs. */
void
contain_started(struct contain *c, pid_t pid, unsigned long long start)
{
	contain_close_join(c);
	c->pid = pid;
	c->start = start;
	if ((c->lim.memory > 0 || c->lim.pids > 0) && contain_timer == NULL) {
		contain_timer = loop_timer_new(contain_tick_cb, NULL);
		loop_timer_set(contain_timer, CONTAIN_TICK_S);
	}
}

/* The tag in the agent's environment, without the variable's name. */
const char *
contain_tag(struct contain *c)
{
	return (c->tagenv + strlen(CONTAIN_TAG_ENV));
}

/* The session's cgroups, v2 first, for session.json (NULL-terminated). */
void
contain_dirs(struct contain *c, const char **dirs, size_t n)
{
	size_t i, k = 0;

	if (c->dir != NULL && k + 1 < n)
		dirs[k++] = c->dir;
	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (c->v1dir[i] != NULL && k + 1 < n)
			dirs[k++] = c->v1dir[i];
	}
	dirs[k] = NULL;
}

/*
 * Read /proc/PID/stat: parent, group, session, start time, CPU ticks and
 * resident pages. -1 for a process that is gone or a zombie.
 */
static int
contain_ps_read(pid_t pid, struct contain_ps *ps)
{
	char		   path[64], buf[1024], *p;
	int		   field;
	unsigned long long v;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (contain_read(path, buf, sizeof buf) != 0)
		return (-1);
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == 'Z' ||
	    p[2] == 'X' || p[2] == '\0')
		return (-1);
	memset(ps, 0, sizeof *ps);
	ps->pid = pid;
	p += 2;
	for (field = 3; field <= 24; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return (-1);
		v = strtoull(p, NULL, 10);
		switch (field) {
		case 4:
			ps->ppid = (pid_t)v;
			break;
		case 5:
			ps->pgrp = (pid_t)v;
			break;
		case 6:
			ps->sid = (pid_t)v;
			break;
		case 14:
		case 15:
			ps->ticks += v;
			break;
		case 22:
			ps->start = v;
			break;
		case 24:
			ps->rss = v;
			break;
		}
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return (0);
}

/* Does the process's environment hold want ("NAME=value")? Read as a
 * stream, so a long environment costs no memory. */
static int
contain_environ_has(pid_t pid, const char *want)
{
	char	path[64], buf[16384];
	size_t	len = strlen(want), pos = 0, total = 0;
	ssize_t n, i;
	int	fd, match = 1, found = 0;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	while (!found && total < CONTAIN_ENVIRON_MAX &&
	    (n = read(fd, buf, sizeof buf)) > 0) {
		total += (size_t)n;
		for (i = 0; i < n && !found; i++) {
			if (buf[i] == '\0') {
				found = match && pos == len;
				match = 1;
				pos = 0;
				continue;
			}
			if (match && (pos >= len || buf[i] != want[pos]))
				match = 0;
			pos++;
		}
	}
	close(fd);
	return (found);
}

static int
contain_ps_cmp(const void *a, const void *b)
{
	const struct contain_ps *x = a, *y = b;

	return (x->pid < y->pid ? -1 : x->pid > y->pid);
}

static struct contain_ps *
contain_ps_find(struct contain_ps *t, size_t n, pid_t pid)
{
	struct contain_ps key;

	memset(&key, 0, sizeof key);
	key.pid = pid;
	return (bsearch(&key, t, n, sizeof *t, contain_ps_cmp));
}

/*
 * Every live process on the machine, sorted by pid, members of the
 * session (leader pid, its start time, its tag) marked. all: look for the
 * tag in every process's environment (after a restart of agentd), not
 * only in orphans agentd adopted. Returns the table (free it) and *n.
 */
static struct contain_ps *
contain_scan(pid_t leader, unsigned long long start, const char *tagenv,
    int all, size_t *np)
{
	struct contain_ps *t = NULL, *ps, *parent;
	struct dirent	  *de;
	DIR		  *d;
	char		  *end;
	long		   pid;
	size_t		   n = 0, cap = 0, i;
	pid_t		   self = getpid();
	int		   changed;

	*np = 0;
	if ((d = opendir("/proc")) == NULL)
		return (NULL);
	while ((de = readdir(d)) != NULL && n < CONTAIN_SCAN_MAX) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 1 || pid == (long)self)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			t = xreallocarray(t, cap, sizeof *t);
		}
		if (contain_ps_read((pid_t)pid, &t[n]) != 0)
			continue;
		ps = &t[n++];
		if (ps->start < start)
			continue; /* older than the agent: not its */
		/* The leader, its session or group, or a process with the
		 * tag in its environment. */
		if ((leader > 0 && ps->pid == leader && ps->start == start) ||
		    (leader > 0 && (ps->sid == leader || ps->pgrp == leader)) ||
		    (tagenv != NULL && (all || ps->ppid == self) &&
			contain_environ_has(ps->pid, tagenv)))
			ps->member = 1;
	}
	closedir(d);
	if (n == 0) {
		free(t);
		return (NULL);
	}
	qsort(t, n, sizeof *t, contain_ps_cmp);
	/* Descendants of members are members. */
	do {
		changed = 0;
		for (i = 0; i < n; i++) {
			if (t[i].member || t[i].start < start)
				continue;
			parent = contain_ps_find(t, n, t[i].ppid);
			if (parent != NULL && parent->member) {
				t[i].member = 1;
				changed = 1;
			}
		}
	} while (changed);
	*np = n;
	return (t);
}

/*
 * The pids a kill signalled already: a SIGKILLed process is still listed
 * until it has exited, and a later round must count and signal only what
 * is new (forked meanwhile).
 */
struct contain_seen {
	pid_t pid[1024];
	int   n;
};

/* Signal pid unless seen signalled it already; 1 if it was signalled. */
static int
contain_seen_kill(struct contain_seen *seen, pid_t pid, int sig)
{
	int i;

	if (seen != NULL) {
		for (i = 0; i < seen->n; i++) {
			if (seen->pid[i] == pid)
				return (0);
		}
	}
	if (kill(pid, sig) != 0)
		return (0);
	if (seen != NULL && seen->n < (int)nitems(seen->pid))
		seen->pid[seen->n++] = pid;
	return (1);
}

struct contain_kill_arg {
	int		     sig;
	int		     n;
	struct contain_seen *seen;
};

static void
contain_kill_cb(pid_t pid, void *arg)
{
	struct contain_kill_arg *k = arg;

	k->n += contain_seen_kill(k->seen, pid, k->sig);
}

/* Signal each pid a cgroup's cgroup.procs lists; returns how many. */
static int
contain_signal_dir(const char *dir, int sig, struct contain_seen *seen)
{
	struct contain_kill_arg k = { sig, 0, seen };

	(void)contain_each_pid(dir, contain_kill_cb, &k);
	return (k.n);
}

/* Signal every member of a scan; returns how many. */
static int
contain_signal_scan(pid_t leader, unsigned long long start, const char *tagenv,
    int all, int sig, struct contain_seen *seen)
{
	struct contain_ps *t;
	size_t		   n, i;
	int		   hit = 0;

	if (leader <= 0 && tagenv == NULL)
		return (0);
	t = contain_scan(leader, start, tagenv, all, &n);
	for (i = 0; i < n; i++) {
		if (t[i].member)
			hit += contain_seen_kill(seen, t[i].pid, sig);
	}
	free(t);
	return (hit);
}

/* Signal every process of the session. Returns how many were. */
int
contain_signal(struct contain *c, int sig)
{
	if (c->dir != NULL)
		return (contain_signal_dir(c->dir, sig, NULL));
	if (c->pid <= 0)
		return (0);
	return (contain_signal_scan(c->pid, c->start, c->tagenv, 0, sig, NULL));
}

/* How many processes the session has. */
static unsigned int
contain_count(struct contain *c)
{
	struct contain_ps *t;
	size_t		   n, i;
	unsigned int	   k = 0;

	if (c->dir != NULL)
		return ((unsigned int)contain_each_pid(c->dir, NULL, NULL));
	if (c->pid <= 0)
		return (0);
	t = contain_scan(c->pid, c->start, c->tagenv, c->all, &n);
	for (i = 0; i < n; i++)
		k += t[i].member;
	free(t);
	return (k);
}

/* SIGKILL everything in a cgroup: cgroup.kill (Linux 5.14), else each
 * pid it lists, a few rounds (a fork between reading and killing). */
static int
contain_kill_dir(const char *dir)
{
	struct contain_seen seen;
	int		    i, n = 0, k;

	if (contain_write(dir, "cgroup.kill", "1") == 0)
		return (1);
	seen.n = 0;
	for (i = 0; i < CONTAIN_KILL_ROUNDS; i++) {
		if ((k = contain_signal_dir(dir, SIGKILL, &seen)) == 0)
			break;
		n += k;
	}
	return (n);
}

/*
 * SIGKILL every process of the session, now (the agent exited, or went
 * over a limit). A kill scan repeats while it finds more: what a member
 * forked meanwhile is found the next time. Returns how many were signalled
 * (cgroup.kill counts as one).
 */
int
contain_kill(struct contain *c)
{
	struct contain_seen seen;
	int		    i, n = 0, k;

	if (c->dir != NULL)
		return (contain_kill_dir(c->dir));
	if (c->pid <= 0)
		return (0);
	seen.n = 0;
	for (i = 0; i < CONTAIN_KILL_ROUNDS; i++) {
		if ((k = contain_signal_scan(c->pid, c->start, c->tagenv,
			 c->all, SIGKILL, &seen)) == 0)
			break;
		n += k;
	}
	return (n);
}

/* The agent is gone (reaped): what it left is killed, the limits read
 * one last time. */
void
contain_stopped(struct contain *c)
{
	int n;

	contain_check(c);
	if ((n = contain_kill(c)) > 0 && c->dir == NULL)
		log_warn("session %s: %d process%s outlived the agent: SIGKILL",
		    c->id, n, n == 1 ? "" : "es");
	c->pid = 0;
}

/*
 * Read the session's limit counters now and tell the session of a new
 * OOM kill ("memory") or a refused fork ("pids").
 */
static void
contain_check(struct contain *c)
{
	unsigned long long v;
	const char	  *dir;
	char		   msg[160];

	if (c->cb == NULL || (c->lim.memory == 0 && c->lim.pids == 0))
		return;
	if (c->lim.memory > 0) {
		if ((dir = c->v1dir[CONTAIN_MEMORY]) != NULL)
			v = contain_key(dir, "memory.oom_control", "oom_kill");
		else
			v = contain_key(c->dir, "memory.events", "oom_kill");
		if (v > c->oom_seen) {
			c->oom_seen = v;
			snprintf(msg, sizeof msg,
			    "the session went over its memory limit "
			    "(memory.max %llu bytes): %llu process%s killed "
			    "by the kernel",
			    c->lim.memory, v, v == 1 ? "" : "es");
			c->cb(c->arg, "memory", msg);
		}
	}
	if (c->lim.pids > 0) {
		dir = c->v1dir[CONTAIN_PIDS] != NULL ? c->v1dir[CONTAIN_PIDS]
						     : c->dir;
		v = contain_key(dir, "pids.events", "max");
		if (v > c->pidsmax_seen) {
			c->pidsmax_seen = v;
			snprintf(msg, sizeof msg,
			    "the session reached its process limit "
			    "(pids.max %u): %llu fork%s refused",
			    c->lim.pids, v, v == 1 ? " was" : "s were");
			c->cb(c->arg, "pids", msg);
		}
	}
}

/* Once a second: the limits of every running session with some. */
static void
contain_tick_cb(void *arg)
{
	struct contain *c, *next;
	int		any = 0;

	LIST_FOREACH_SAFE(c, &contain_live, entry, next) {
		if (c->pid <= 0 || (c->lim.memory == 0 && c->lim.pids == 0))
			continue;
		any = 1;
		contain_check(c); /* the callback may stop the session */
	}
	if (any)
		loop_timer_set(contain_timer, CONTAIN_TICK_S);
	else {
		loop_timer_free(contain_timer);
		contain_timer = NULL;
	}
}

static void
contain_usage_cb(pid_t pid, void *arg)
{
	struct contain_usage *u = arg;
	struct contain_ps     ps;

	if (contain_ps_read(pid, &ps) == 0)
		u->memory_bytes += ps.rss; /* pages, for now */
}

/* What the session's processes use, for the metrics. */
void
contain_usage(struct contain *c, struct contain_usage *u)
{
	struct contain_ps *t;
	const char	  *dir;
	size_t		   n, i;
	long		   tick = sysconf(_SC_CLK_TCK);
	long		   page = sysconf(_SC_PAGESIZE);
	unsigned long long ticks = 0, pages = 0;

	memset(u, 0, sizeof *u);
	if (page <= 0)
		page = 4096;
	if (c->dir != NULL) {
		u->cpu_seconds =
		    contain_key(c->dir, "cpu.stat", "usage_usec") / 1e6;
		u->processes =
		    (unsigned int)contain_each_pid(c->dir, NULL, NULL);
		if ((dir = c->v1dir[CONTAIN_MEMORY]) != NULL)
			u->memory_bytes =
			    contain_number(dir, "memory.usage_in_bytes");
		else if (contain_ctls[CONTAIN_MEMORY].parent != NULL &&
		    !contain_ctls[CONTAIN_MEMORY].v1)
			u->memory_bytes =
			    contain_number(c->dir, "memory.current");
		else { /* no memory controller: the members' RSS */
			(void)contain_each_pid(c->dir, contain_usage_cb, u);
			u->memory_bytes *= (unsigned long long)page;
		}
		return;
	}
	if (c->pid <= 0)
		return;
	t = contain_scan(c->pid, c->start, c->tagenv, 0, &n);
	for (i = 0; i < n; i++) {
		if (!t[i].member)
			continue;
		ticks += t[i].ticks;
		pages += t[i].rss;
		u->processes++;
	}
	free(t);
	if (tick > 0)
		u->cpu_seconds = (double)ticks / tick;
	u->memory_bytes = pages * (unsigned long long)page;
}

/* Remove one cgroup; a dead agentd's instance directory goes with its
 * last session's (reclaimed). 0 when it is gone. */
static int
contain_rmdir(char **dir)
{
	char *slash;

	if (rmdir(*dir) != 0 && errno != ENOENT)
		return (-1);
	if ((slash = strrchr(*dir, '/')) != NULL) {
		*slash = '\0';
		if ((slash = strrchr(*dir, '/')) != NULL &&
		    strncmp(slash + 1, "agentd-", 7) == 0 &&
		    strcmp(slash + 1, contain_name) != 0)
			(void)rmdir(*dir); /* fails while others are in it */
	}
	free(*dir);
	*dir = NULL;
	return (0);
}

/* Remove a released contain's cgroups; 1 when all are gone. */
static int
contain_rmdirs(struct contain *c)
{
	int i, done = 1;

	if (c->dir != NULL && contain_rmdir(&c->dir) != 0)
		done = 0;
	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (c->v1dir[i] != NULL && contain_rmdir(&c->v1dir[i]) != 0)
			done = 0;
	}
	return (done);
}

static void
contain_destroy(struct contain *c)
{
	int i;

	LIST_REMOVE(c, entry);
	contain_close_join(c);
	loop_timer_free(c->timer);
	free(c->dir);
	for (i = 0; i < CONTAIN_NCTL; i++)
		free(c->v1dir[i]);
	free(c->id);
	free(c);
}

/*
 * A released contain: kill what is left (after its grace, for a reclaim)
 * and remove its cgroups; again every CONTAIN_RMDIR_S until they are gone
 * (a killed process takes a moment to exit), CONTAIN_RMDIR_MAX times.
 */
static void
contain_dead_cb(void *arg)
{
	struct contain *c = arg;
	int		n;

	if (c->rounds == 0 && (n = contain_kill(c)) > 0 && c->grace > 0 &&
	    c->dir == NULL)
		log_warn("session %s: %d process%s left by an earlier agentd "
			 "ignored SIGTERM: SIGKILL",
		    c->id, n, n == 1 ? "" : "es");
	else if (c->rounds > 0 && c->dir != NULL)
		(void)contain_kill_dir(c->dir);
	if (contain_rmdirs(c)) {
		contain_destroy(c);
		return;
	}
	if (++c->rounds >= CONTAIN_RMDIR_MAX) {
		log_warn("session %s: cannot remove its cgroup %s: %s", c->id,
		    c->dir != NULL ? c->dir : "(v1)", strerror(errno));
		contain_destroy(c);
		return;
	}
	loop_timer_set(c->timer, CONTAIN_RMDIR_S);
}

/* Move c to the graveyard and start ending it after grace seconds. */
static void
contain_bury(struct contain *c, double grace)
{
	LIST_REMOVE(c, entry);
	LIST_INSERT_HEAD(&contain_dead, c, entry);
	c->cb = NULL;
	c->grace = grace;
	c->timer = loop_timer_new(contain_dead_cb, c);
	if (grace > 0)
		loop_timer_set(c->timer, grace);
	else
		contain_dead_cb(c);
}

/* The session is done with it: kill every process, remove the cgroups. */
void
contain_free(struct contain *c)
{
	if (c == NULL)
		return;
	contain_close_join(c);
	if (c->dir == NULL && c->v1dir[CONTAIN_MEMORY] == NULL &&
	    c->v1dir[CONTAIN_PIDS] == NULL && c->pid <= 0) {
		contain_destroy(c);
		return;
	}
	contain_bury(c, 0);
}

/*
 * What an agentd that was killed left of a session: its cgroups (dirs,
 * NULL-terminated) and, in the boot it was recorded in, the processes of
 * its agent (pid, start time) or carrying its tag (only if same_boot:
 * start times count from boot). SIGTERM now, SIGKILL
 * after grace, then the cgroups are removed. Returns how many processes
 * were signalled.
 */
int
contain_reclaim(const char *id, const char *const *dirs, const char *tag,
    pid_t pid, unsigned long long start, int same_boot, double grace)
{
	struct contain *c;
	struct stat	sb;
	size_t		i;
	int		n = 0, k = 0;

	c = xcalloc(1, sizeof *c);
	c->id = xstrdup(id);
	LIST_INSERT_HEAD(&contain_live, c, entry);
	for (i = 0; i < nitems(c->joinfd); i++)
		c->joinfd[i] = -1;
	for (i = 0; dirs != NULL && dirs[i] != NULL; i++) {
		if (stat(dirs[i], &sb) != 0 || !S_ISDIR(sb.st_mode) ||
		    strstr(dirs[i], "/agentd-") == NULL ||
		    strstr(dirs[i], "/s-") == NULL)
			continue;
		if (k == 0 && c->dir == NULL)
			c->dir = xstrdup(dirs[i]);
		else if (k < CONTAIN_NCTL)
			c->v1dir[k++] = xstrdup(dirs[i]);
		n += contain_signal_dir(dirs[i], SIGTERM, NULL);
	}
	if (c->dir == NULL && same_boot && tag != NULL && *tag != '\0') {
		snprintf(
		    c->tagenv, sizeof c->tagenv, "%s%s", CONTAIN_TAG_ENV, tag);
		c->pid = pid;
		c->start = start;
		c->all = 1;
		n = contain_signal_scan(
		    pid, start, c->tagenv, 1, SIGTERM, NULL);
	}
	if (n == 0 && c->dir == NULL && k == 0) {
		contain_destroy(c);
		return (0);
	}
	contain_bury(c, n > 0 ? grace : 0);
	return (n);
}

/* How many processes the contains of a list have. */
static unsigned int
contain_left(struct contain_list *l)
{
	struct contain *c;
	unsigned int	n = 0;

	LIST_FOREACH(c, l, entry)
		n += contain_count(c);
	return (n);
}

/*
 * agentd stops: every session's processes get SIGTERM (the agents had it
 * already) and grace seconds to go, then SIGKILL until none is left (at
 * most CONTAIN_SHUTDOWN_KILL_S); the cgroups are removed. This blocks:
 * the loop is over.
 */
void
contain_shutdown(double grace)
{
	struct contain *c, *next;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int64_t		until = loop_now_ms() + (int64_t)(grace * 1000);
	unsigned int	left;
	int		i;

	LIST_FOREACH(c, &contain_live, entry)
		(void)contain_signal(c, SIGTERM);
	while (
	    (left = contain_left(&contain_live)) > 0 && loop_now_ms() < until)
		nanosleep(&ts, NULL);
	if (left > 0)
		log_warn("%u process%s of the sessions ignored SIGTERM for %g "
			 "s: SIGKILL",
		    left, left == 1 ? "" : "es", grace);
	/* A killed process is listed until it has exited: wait for that,
	 * so that nothing of the sessions outlives agentd. */
	until = loop_now_ms() + CONTAIN_SHUTDOWN_KILL_S * 1000;
	for (;;) {
		LIST_FOREACH(c, &contain_live, entry)
			(void)contain_kill(c);
		LIST_FOREACH(c, &contain_dead, entry)
			(void)contain_kill(c);
		if (contain_left(&contain_live) + contain_left(&contain_dead) ==
			0 ||
		    loop_now_ms() >= until)
			break;
		nanosleep(&ts, NULL);
	}
	while ((c = LIST_FIRST(&contain_live)) != NULL) {
		LIST_REMOVE(c, entry);
		LIST_INSERT_HEAD(&contain_dead, c, entry);
	}
	for (i = 0; i < 50 && !LIST_EMPTY(&contain_dead); i++) {
		LIST_FOREACH_SAFE(c, &contain_dead, entry, next) {
			if (contain_rmdirs(c))
				contain_destroy(c);
		}
		if (!LIST_EMPTY(&contain_dead))
			nanosleep(&ts, NULL);
	}
	/* This agentd's instance directories, empty now. */
	if (contain_base != NULL)
		(void)rmdir(contain_base);
	for (i = 0; i < CONTAIN_NCTL; i++) {
		if (contain_ctls[i].base != NULL)
			(void)rmdir(contain_ctls[i].base);
	}
}

/* The process budget: take a slot; -1 with *cause over --max-processes. */
int
contain_budget_take(char **cause)
{
	if (options.max_processes > 0 &&
	    contain_budget >= options.max_processes) {
		xasprintf(cause,
		    "agentd runs %u processes for its clients already "
		    "(--max-processes %u)",
		    contain_budget, options.max_processes);
		return (-1);
	}
	contain_budget++;
	return (0);
}

void
contain_budget_give(void)
{
	if (contain_budget > 0)
		contain_budget--;
}

unsigned int
contain_budget_used(void)
{
	return (contain_budget);
}
