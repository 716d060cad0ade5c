/*
 * proc.c: one agent child process and its three pipes.
 *
 * The child runs in its own session and process group (setsid), so that
 * stopping it reaches the tools it spawned too. Every descriptor agentd
 * opens is close-on-exec; the child gets exactly fds 0-2.
 *
 * stdout is split into lines by protocol/jsonl.c (capped); stderr is kept
 * as a bounded head and tail for the session.ended event; stdin writes are
 * buffered (capped) and flushed when the pipe is writable (outq.c), so a
 * child that never reads cannot block the loop.
 *
 * A process is finished when both its stdout EOF and its exit status are
 * in, in either order (tmux's JOB_DEAD and JOB_CLOSED), or at the latest
 * PROC_DRAIN_S after its exit status: a grandchild that left the group
 * (setsid) may hold stdout open forever, and the agent's exit, not the
 * pipe's end, must bound how long a session takes to end. At that point
 * what the pipes hold is read (bounded), they are closed, and whoever
 * still holds them is killed: it outlived the agent and escaped its group.
 * Invariant: the exit callback is called exactly once, after the last
 * line was delivered.
 *
 * The start time of a pid (/proc/PID/stat field 22) names a process
 * uniquely across pid reuse: proc_start_time records it at spawn, and
 * proc_end_orphan signals an earlier agentd's agent only if it still
 * matches.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

#define PROC_HEAD_MAX  (4 * 1024) /* first bytes of stderr kept */
#define PROC_TAIL_MAX  (8 * 1024) /* last bytes of stderr kept */
#define PROC_STDIN_MAX (64UL * 1024 * 1024)
#define PROC_READ_MAX  (64 * 1024)
#define PROC_DRAIN_S   1.0 /* pipes may stay open this long after exit */
#define PROC_DRAIN_MAX 16  /* reads of PROC_READ_MAX at the final drain */

struct proc {
	pid_t		       pid;
	unsigned long long     start;	 /* start time, 0 if unknown */
	struct outq	      *in;	 /* NULL once closed */
	int		       out, err; /* -1 once closed */
	struct loop_io	      *out_io, *err_io;
	struct loop_timer     *kill_timer;
	struct loop_timer     *drain_timer; /* exited, stdout still open */
	struct jsonl	      *lines;
	const struct proc_cbs *cbs;
	void		      *arg;

	char   head[PROC_HEAD_MAX];
	size_t headlen;
	char   tail[PROC_TAIL_MAX]; /* a ring */
	size_t tailpos;
	size_t total_err;

	int flags;
#define PROC_EXITED 0x1 /* exit status in */
#define PROC_EOF    0x2 /* stdout closed */
#define PROC_DONE   0x4 /* exit callback made */
#define PROC_PAUSED 0x8 /* stdout reading paused */
	int status;
};

static void proc_out_cb(int, void *);
static void proc_err_cb(int, void *);
static void proc_in_closed_cb(void *, int);
static void proc_child_cb(pid_t, int, void *);
static void proc_check_done(struct proc *);
static void proc_finish(struct proc *);
static void proc_drain_cb(void *);
static void proc_err_keep(struct proc *, const char *, size_t);

/*
 * Read a process's group (field 5) and start time (field 22, clock ticks
 * since boot) from /proc/PID/stat. -1 if there is no such process or it is
 * a zombie (it holds nothing any more and cannot be signalled usefully).
 */
static int
proc_stat(pid_t pid, pid_t *pgrp, unsigned long long *start)
{
	char		   path[64], buf[1024], *p;
	ssize_t		   n;
	int		   fd, field;
	unsigned long long v;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	/* The command name (field 2) may hold anything but ends at the last
	 * ')'; field 3, the state, follows it. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == 'Z' ||
	    p[2] == '\0')
		return (-1);
	p += 2;
	for (field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return (-1);
		if (field == 5 || field == 22) {
			v = strtoull(p, NULL, 10);
			if (field == 5 && pgrp != NULL)
				*pgrp = (pid_t)v;
			if (field == 22 && start != NULL)
				*start = v;
		}
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return (0);
}

/*
 * This boot's id (/proc/sys/kernel/random/boot_id), "" if unknown. Start
 * times count from boot: a pid and start time recorded in another boot
 * name nothing in this one.
 */
const char *
proc_boot_id(void)
{
	static char id[64];
	static int  done;
	ssize_t	    n = 0;
	int	    fd;

	if (done)
		return (id);
	done = 1;
	if ((fd = open("/proc/sys/kernel/random/boot_id",
		 O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, id, sizeof id - 1);
		close(fd);
	}
	id[n > 0 ? n : 0] = '\0';
	id[strcspn(id, "\n")] = '\0';
	return (id);
}

/* A live process's start time, 0 if it is gone. */
unsigned long long
proc_start_time(pid_t pid)
{
	unsigned long long start;

	if (pid <= 0 || proc_stat(pid, NULL, &start) != 0)
		return (0);
	return (start);
}

/*
 * The soft descriptor limit agentd started with, and whether agentd
 * changed it: children get it back (proc_child_limits), as systemd gives
 * its services 1024: a program that uses select(2) fails on a descriptor
 * past 1024, and a higher limit lets it open one. A child that wants more
 * raises its own soft limit (Node.js does at start).
 */
static struct rlimit proc_nofile;
static int	     proc_nofile_set;

/*
 * Set agentd's soft limit on descriptors to --max-fds, or the hard limit
 * if that is lower. The soft limit is often 1024, and every client, agent
 * pipe and running session's log holds a descriptor: under it a busy
 * daemon answers EMFILE where the machine allows far more. It is lowered
 * too, from the 1048576 some container runtimes set: lws allocates and
 * clears 16 bytes per possible descriptor at start (16 MiB there).
 */
void
proc_raise_nofile(void)
{
	struct rlimit rl;
	rlim_t	      want = options.max_fds;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	proc_nofile = rl;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	if (rl.rlim_cur != want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("cannot set the descriptor limit to %llu "
				 "(it stays %llu): %s",
			    (unsigned long long)want,
			    (unsigned long long)proc_nofile.rlim_cur,
			    strerror(errno));
			return;
		}
		proc_nofile_set = 1;
	}
	if (proc_nofile.rlim_cur == RLIM_INFINITY)
		log_info("descriptor limit: %llu (was unlimited; children "
			 "get that)",
		    (unsigned long long)want);
	else
		log_info("descriptor limit: %llu (was %llu; children get "
			 "that)",
		    (unsigned long long)want,
		    (unsigned long long)proc_nofile.rlim_cur);
}

/* In a child, between fork and exec: the limits agentd started with. */
void
proc_child_limits(void)
{
	if (proc_nofile_set)
		(void)setrlimit(RLIMIT_NOFILE, &proc_nofile);
}

/*
 * Resolve "@self" to agentd's own executable (mock-agent, replay-agent):
 * for agents here and for the processes API (child.c). Safe between fork
 * and exec.
 */
const char *
proc_exec_path(const char *argv0, char *buf, size_t len)
{
	ssize_t n;

	if (strcmp(argv0, "@self") != 0)
		return (argv0);
	n = readlink("/proc/self/exe", buf, len - 1);
	if (n <= 0)
		return (argv0);
	buf[n] = '\0';
	return (buf);
}

/* In the child: wire the pipes, leave our group, join the session's
 * cgroup (contain.c), exec. Never returns. */
static __dead void
proc_child(
    struct contain *c, char **argv, char **env, const char *cwd, int fds[3][2])
{
	char	    self[PATH_MAX];
	const char *path;
	sigset_t    set;
	int	    i;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	setsid();
	if (dup2(fds[0][0], 0) == -1 || dup2(fds[1][1], 1) == -1 ||
	    dup2(fds[2][1], 2) == -1)
		_exit(127);
	if (c != NULL && contain_child(c) != 0) {
		(void)write(
		    2, "agentd: cannot join the session's cgroup\n", 41);
		_exit(126);
	}
	compat_closefrom(3);
	proc_child_limits();
	if (cwd != NULL && chdir(cwd) != 0) {
		(void)write(2, "agentd: cannot chdir to the session cwd\n", 40);
		_exit(127);
	}
	for (i = 0; env != NULL && env[i] != NULL; i++)
		putenv(env[i]);
	path = proc_exec_path(argv[0], self, sizeof self);
	execvp(path, argv);
	(void)write(2, "agentd: exec failed: ", 21);
	(void)write(2, strerror(errno), strlen(strerror(errno)));
	(void)write(2, "\n", 1);
	_exit(127);
}

static void
proc_close_pipes(int fds[3][2])
{
	int i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < 2; j++) {
			if (fds[i][j] != -1)
				close(fds[i][j]);
		}
	}
}

/*
 * Start argv in cwd with env (NAME=value entries added to ours). The
 * callbacks get arg. Returns NULL with *cause and errno if the process
 * could not be started; a command that is not found still starts and
 * exits 127, with the reason in its stderr (the session checks the
 * command before).
 */
struct proc *
proc_spawn(char **argv, char **env, const char *cwd, size_t max_line,
    const struct proc_cbs *cbs, void *arg, char **cause)
{
	return (proc_spawn_in(NULL, argv, env, cwd, max_line, cbs, arg, cause));
}

/*
 * proc_spawn, the child contained by c (contain_prepare was called): it
 * joins c's cgroups and carries its tag before it execs.
 */
struct proc *
proc_spawn_in(struct contain *c, char **argv, char **env, const char *cwd,
    size_t max_line, const struct proc_cbs *cbs, void *arg, char **cause)
{
	struct proc *p;
	int	     fds[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	sigset_t     all, old;
	int	     i, saved;

	for (i = 0; i < 3; i++) {
		if (pipe2(fds[i], O_CLOEXEC) != 0) {
			saved = errno;
			xasprintf(cause, "pipe: %s", strerror(saved));
			proc_close_pipes(fds);
			errno = saved; /* the caller tells EMFILE from others */
			return (NULL);
		}
	}
	p = xcalloc(1, sizeof *p);
	p->cbs = cbs;
	p->arg = arg;
	p->lines = jsonl_new(max_line);

	/* Block signals across fork so the child starts with none pending
	 * handlers of ours running. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	p->pid = fork();
	if (p->pid == 0)
		proc_child(c, argv, env, cwd, fds);
	if (p->pid == -1) {
		saved = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		xasprintf(cause, "fork: %s", strerror(saved));
		proc_close_pipes(fds);
		jsonl_free(p->lines);
		free(p);
		errno = saved;
		return (NULL);
	}
	loop_child_watch(p->pid, proc_child_cb, p);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* Not reaped before the loop runs again: /proc still shows it. */
	p->start = proc_start_time(p->pid);

	close(fds[0][0]);
	close(fds[1][1]);
	close(fds[2][1]);
	p->in = outq_new(fds[0][1], PROC_STDIN_MAX, 0, proc_in_closed_cb, p);
	p->out = fds[1][0];
	p->err = fds[2][0];
	fcntl(p->out, F_SETFL, fcntl(p->out, F_GETFL) | O_NONBLOCK);
	fcntl(p->err, F_SETFL, fcntl(p->err, F_GETFL) | O_NONBLOCK);
	p->out_io = loop_io_new(p->out, 0, proc_out_cb, p);
	p->err_io = loop_io_new(p->err, 0, proc_err_cb, p);
	loop_io_start(p->out_io);
	loop_io_start(p->err_io);
	log_info("spawned %s (pid %ld)", argv[0], (long)p->pid);
	return (p);
}

pid_t
proc_pid(struct proc *p)
{
	return (p->pid);
}

/* The agent's start time (see proc_start_time), 0 if unknown. */
unsigned long long
proc_start(struct proc *p)
{
	return (p->start);
}

static void
proc_close_stdin(struct proc *p)
{
	outq_free(p->in);
	p->in = NULL;
}

/* EPIPE: the agent closed its stdin; the queue refuses writes from now. */
static void
proc_in_closed_cb(void *arg, int error)
{
	struct proc *p = arg;

	log_warn("pid %ld: stdin: %s", (long)p->pid, strerror(error));
}

/*
 * Queue bytes for the agent's stdin. Returns -1 if stdin is closed or the
 * agent has not read PROC_STDIN_MAX bytes already queued.
 */
int
proc_write(struct proc *p, const char *buf, size_t len)
{
	if (p->in == NULL)
		return (-1);
	return (outq_write(p->in, buf, len));
}

/* Hand every complete line to the owner; TOOLONG lines are reported. At
 * EOF, jsonl_finish also yields the last line without a newline. */
static void
proc_deliver(struct proc *p, int eof)
{
	enum jsonl_result r;
	const char	 *line;
	size_t		  len;

	for (;;) {
		if (p->flags & PROC_PAUSED)
			return;
		if (eof)
			r = jsonl_finish(p->lines, &line, &len);
		else
			r = jsonl_next(p->lines, &line, &len);
		if (r == JSONL_AGAIN)
			return;
		if (r == JSONL_LINE)
			p->cbs->line(p->arg, line, len, jsonl_may(p->lines));
		else
			p->cbs->toolong(p->arg, len);
	}
}

static void
proc_out_cb(int fd, void *arg)
{
	struct proc *p = arg;
	char	    *buf;
	size_t	     room;
	ssize_t	     n;

	/* Straight into the line buffer: a long line is copied by the kernel
	 * only, not once more from a buffer here. */
	buf = jsonl_space(p->lines, PROC_READ_MAX, &room);
	n = read(fd, buf, room);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		jsonl_commit(p->lines, (size_t)n);
		proc_deliver(p, 0);
		return;
	}
	/* EOF (or an error, which ends the stream all the same). */
	proc_deliver(p, 1);
	loop_io_free(p->out_io);
	p->out_io = NULL;
	close(p->out);
	p->out = -1;
	p->flags |= PROC_EOF;
	proc_check_done(p);
}

/* Keep the first PROC_HEAD_MAX bytes, and the last PROC_TAIL_MAX in a ring
 * (the two overlap when stderr is short). */
static void
proc_err_keep(struct proc *p, const char *buf, size_t len)
{
	size_t n, i;

	p->total_err += len;
	if (p->headlen < PROC_HEAD_MAX) {
		n = PROC_HEAD_MAX - p->headlen;
		if (n > len)
			n = len;
		memcpy(p->head + p->headlen, buf, n);
		p->headlen += n;
	}
	for (i = 0; i < len; i++) {
		p->tail[p->tailpos % PROC_TAIL_MAX] = buf[i];
		p->tailpos++;
	}
}

static void
proc_err_cb(int fd, void *arg)
{
	struct proc *p = arg;
	char	     buf[PROC_READ_MAX];
	ssize_t	     n;

	n = read(fd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		proc_err_keep(p, buf, (size_t)n);
		return;
	}
	loop_io_free(p->err_io);
	p->err_io = NULL;
	close(p->err);
	p->err = -1;
}

/* stderr as kept: its head and its tail, and whether bytes between the
 * two were dropped. */
void
proc_stderr(struct proc *p, char **head, char **tail, int *truncated)
{
	size_t tlen, start, i;

	*head = xstrndup(p->head, p->headlen);
	tlen = p->tailpos < PROC_TAIL_MAX ? p->tailpos : PROC_TAIL_MAX;
	start = p->tailpos - tlen;
	*tail = xmalloc(tlen + 1);
	for (i = 0; i < tlen; i++)
		(*tail)[i] = p->tail[(start + i) % PROC_TAIL_MAX];
	(*tail)[tlen] = '\0';
	*truncated = p->total_err > PROC_HEAD_MAX + PROC_TAIL_MAX;
}

static void
proc_child_cb(pid_t pid, int status, void *arg)
{
	struct proc *p = arg;

	p->status = status;
	p->flags |= PROC_EXITED;
	loop_timer_free(p->kill_timer);
	p->kill_timer = NULL;
	/* Drain what stderr still holds: the reason for a crash is there. */
	if (p->err != -1)
		proc_err_cb(p->err, p);
	proc_check_done(p);
}

/*
 * The join of EOF and exit status. A child that exits but leaves stdout
 * open is given PROC_DRAIN_S: its group is killed at once (a tool it left
 * running goes, and EOF follows), and whatever left the group and still
 * holds the pipe is dealt with by proc_finish when the grace is over.
 */
static void
proc_check_done(struct proc *p)
{
	if (p->flags & PROC_DONE)
		return;
	if ((p->flags & PROC_EXITED) && !(p->flags & PROC_EOF)) {
		if (p->drain_timer == NULL) {
			kill(-p->pid, SIGKILL);
			p->drain_timer = loop_timer_new(proc_drain_cb, p);
			loop_timer_set(p->drain_timer, PROC_DRAIN_S);
		}
		return;
	}
	if ((p->flags & (PROC_EXITED | PROC_EOF)) != (PROC_EXITED | PROC_EOF))
		return;
	proc_finish(p);
}

static void
proc_drain_cb(void *arg)
{
	struct proc *p = arg;

	log_warn("pid %ld exited %.0f s ago and its stdout is still open "
		 "(held by a process that left its group): closing it",
	    (long)p->pid, PROC_DRAIN_S);
	proc_finish(p);
}

/*
 * Read what a pipe still holds, at most PROC_DRAIN_MAX reads, then close
 * it. Returns the pipe's inode if some process still holds its other end
 * (no EOF came), else 0.
 */
static ino_t
proc_drain(struct proc *p, int *fd, struct loop_io **io, int out)
{
	char	    buf[PROC_READ_MAX];
	struct stat sb;
	ssize_t	    n = -1;
	ino_t	    held = 0;
	int	    i;

	if (*fd == -1)
		return (0);
	for (i = 0; i < PROC_DRAIN_MAX; i++) {
		n = read(*fd, buf, sizeof buf);
		if (n == -1 && errno == EINTR) {
			i--;
			continue;
		}
		if (n <= 0)
			break;
		if (out)
			jsonl_feed(p->lines, buf, (size_t)n);
		else
			proc_err_keep(p, buf, (size_t)n);
	}
	if (n != 0 && fstat(*fd, &sb) == 0)
		held = sb.st_ino;
	loop_io_free(*io);
	*io = NULL;
	close(*fd);
	*fd = -1;
	return (held);
}

/*
 * SIGKILL every other process that holds one of the pipes (by inode, as
 * /proc/PID/fd shows "pipe:[N]"). Only the agent's descendants can: we
 * made the pipes and gave their other ends to the agent alone. Runs only
 * when a pipe outlived the agent, so the scan of /proc is rare.
 */
static void
proc_kill_holders(struct proc *p, const ino_t *ino, int nino)
{
	DIR	      *d, *fds;
	struct dirent *de, *fe;
	char	       path[320], link[64], want[2][40];
	char	      *end;
	long	       pid;
	ssize_t	       len;
	int	       i, hit;

	for (i = 0; i < nino; i++)
		snprintf(want[i], sizeof want[i], "pipe:[%llu]",
		    (unsigned long long)ino[i]);
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%ld/fd", pid);
		if ((fds = opendir(path)) == NULL)
			continue;
		hit = 0;
		while (!hit && (fe = readdir(fds)) != NULL) {
			snprintf(path, sizeof path, "/proc/%ld/fd/%s", pid,
			    fe->d_name);
			if ((len = readlink(path, link, sizeof link - 1)) <= 0)
				continue;
			link[len] = '\0';
			for (i = 0; i < nino; i++)
				hit |= strcmp(link, want[i]) == 0;
		}
		closedir(fds);
		if (hit) {
			log_warn("pid %ld outlived agent %ld and holds its "
				 "output: SIGKILL",
			    pid, (long)p->pid);
			kill((pid_t)pid, SIGKILL);
		}
	}
	closedir(d);
}

/*
 * The process is finished: deliver the last lines (even while paused:
 * the journal keeps what the disk refuses), close the pipes, end what
 * still holds them, and tell the owner, once.
 */
static void
proc_finish(struct proc *p)
{
	ino_t held[2];
	int   n = 0;

	loop_timer_free(p->drain_timer);
	p->drain_timer = NULL;
	p->flags &= ~PROC_PAUSED;
	if ((held[n] = proc_drain(p, &p->out, &p->out_io, 1)) != 0)
		n++;
	p->flags |= PROC_EOF | PROC_DONE;
	proc_deliver(p, 1);
	if ((held[n] = proc_drain(p, &p->err, &p->err_io, 0)) != 0)
		n++;
	if (n > 0)
		proc_kill_holders(p, held, n);
	proc_close_stdin(p);
	p->cbs->exit(p->arg, p->status);
}

static void
proc_kill_cb(void *arg)
{
	struct proc *p = arg;

	log_warn("pid %ld ignored SIGTERM: SIGKILL", (long)p->pid);
	kill(-p->pid, SIGKILL);
}

/* SIGTERM to the whole group, SIGKILL after grace seconds. */
void
proc_stop(struct proc *p, double grace)
{
	if (p->flags & PROC_EXITED)
		return;
	proc_close_stdin(p);
	kill(-p->pid, SIGTERM);
	kill(-p->pid, SIGCONT);
	if (p->kill_timer == NULL)
		p->kill_timer = loop_timer_new(proc_kill_cb, p);
	loop_timer_set(p->kill_timer, grace);
}

/* Stop or restart reading stdout (backpressure when the store fails). */
void
proc_pause(struct proc *p, int pause)
{
	if (p->out_io == NULL)
		return;
	if (pause) {
		p->flags |= PROC_PAUSED;
		loop_io_stop(p->out_io);
	} else {
		p->flags &= ~PROC_PAUSED;
		loop_io_start(p->out_io);
		proc_deliver(p, 0);
	}
}

/* Free a finished process (after its exit callback). */
void
proc_free(struct proc *p)
{
	if (p == NULL)
		return;
	proc_close_stdin(p);
	loop_io_free(p->out_io);
	loop_io_free(p->err_io);
	if (p->out != -1)
		close(p->out);
	if (p->err != -1)
		close(p->err);
	loop_timer_free(p->kill_timer);
	loop_timer_free(p->drain_timer);
	jsonl_free(p->lines);
	free(p);
}

/* An agent an earlier agentd left running, being ended. */
struct proc_orphan {
	pid_t		   pid;
	unsigned long long start;
	struct loop_timer *timer;
};

/*
 * SIGKILL what is left of an orphan: the agent itself if its start time
 * still matches, and every member of its process group that started no
 * earlier than it (its descendants; a pid is not reused while a group of
 * that id exists). Returns the number of processes signalled.
 */
static int
proc_orphan_kill(struct proc_orphan *o)
{
	struct dirent	  *de;
	DIR		  *d;
	char		  *end;
	long		   pid;
	pid_t		   pgrp;
	unsigned long long start;
	int		   n = 0;

	if ((d = opendir("/proc")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 1 || pid == (long)getpid())
			continue;
		if (proc_stat((pid_t)pid, &pgrp, &start) != 0)
			continue;
		if ((pid == o->pid && start == o->start) ||
		    (pgrp == o->pid && start >= o->start)) {
			kill((pid_t)pid, SIGKILL);
			n++;
		}
	}
	closedir(d);
	return (n);
}

static void
proc_orphan_cb(void *arg)
{
	struct proc_orphan *o = arg;
	int		    n;

	if ((n = proc_orphan_kill(o)) > 0)
		log_warn("agent %ld left by an earlier agentd ignored SIGTERM: "
			 "SIGKILL to %d process%s",
		    (long)o->pid, n, n == 1 ? "" : "es");
	loop_timer_free(o->timer);
	free(o);
}

/*
 * End an agent an earlier agentd started (pid, recorded with its start
 * time and boot id) if it still runs: SIGTERM to its group, SIGKILL after
 * grace. A pid whose start time or boot differs is another process and is
 * never signalled. Returns 1 if the agent was found and signalled, 0 if
 * it is gone.
 */
int
proc_end_orphan(
    pid_t pid, unsigned long long start, const char *boot, double grace)
{
	struct proc_orphan *o;
	pid_t		    pgrp;
	unsigned long long  now;

	if (pid <= 1 || start == 0 || pid == getpid() || boot == NULL ||
	    *proc_boot_id() == '\0' || strcmp(boot, proc_boot_id()) != 0)
		return (0);
	if (proc_stat(pid, &pgrp, &now) != 0 || now != start)
		return (0);
	kill(pgrp == pid ? -pid : pid, SIGTERM);
	kill(pgrp == pid ? -pid : pid, SIGCONT);
	o = xcalloc(1, sizeof *o);
	o->pid = pid;
	o->start = start;
	o->timer = loop_timer_new(proc_orphan_cb, o);
	loop_timer_set(o->timer, grace);
	return (1);
}
