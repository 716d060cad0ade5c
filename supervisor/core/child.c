/*
 * child.c: a child process whose output is a byte stream, not lines: the
 * commands, dev servers and shells of /v1/processes, on plain pipes or on
 * a pseudo-terminal (CHILD_PTY). proc.c is the agents' kind (stdout split
 * into JSON lines, stderr kept as head and tail); this one hands every
 * read to its owner as it comes.
 *
 * As for agents: the child runs in its own session and process group
 * (setsid), so a stop reaches what it started; every descriptor agentd
 * opens is close-on-exec and the child gets exactly 0-2; its exit is
 * reaped through the loop (ev_child), never waited for; stop is SIGTERM to
 * the group, then SIGKILL after a grace. A PTY child is the session
 * leader of its terminal (TIOCSCTTY), so job control and SIGWINCH work.
 *
 * Output is read in chunks of up to CHILD_READ_MAX (pipes are enlarged
 * to CHILD_PIPE_SIZE where the system allows) and handed on at once;
 * nothing is buffered here, and the owner may pause reading (when its log
 * cannot take more) so that backpressure reaches the child's pipe. Input
 * is queued up to CHILD_STDIN_MAX and written when the descriptor is
 * writable (outq.c), so a child that never reads cannot block the loop.
 *
 * The end: when the exit status arrives, what the child wrote before it
 * exited is still in the pipes (or the terminal); it is drained then, the
 * descriptors closed and the exit callback made, exactly once. A
 * grandchild that keeps the pipe open is not waited for: the process the
 * client started has ended, and the grandchild's next write fails.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core.h"

#define CHILD_READ_MAX	(256 * 1024)  /* one read, one log entry */
#define CHILD_PIPE_SIZE (1024 * 1024) /* what a pipe holds, if allowed */
#define CHILD_STDIN_MAX (1024 * 1024)
#define CHILD_DRAIN_MAX (4 * 1024 * 1024) /* read at exit, at most */

struct child {
	pid_t			pid;
	int			flags; /* CHILD_PTY, CHILD_NO_STDIN */
	struct outq	       *in;  /* stdin pipe or the PTY master, or NULL */
	int			out; /* stdout pipe, or the PTY master */
	int			err; /* stderr pipe; -1 for a PTY */
	struct loop_io	       *out_io, *err_io;
	struct loop_timer      *kill_timer;
	const struct child_cbs *cbs;
	void		       *arg;

	int state;
#define CHILD_EXITED 0x1 /* exit status in; the callback was made */
#define CHILD_PAUSED 0x2
};

static char	   *child_buf;	/* the read buffer */
static unsigned int child_live; /* children not yet exited */

static void child_out_cb(int, void *);
static void child_err_cb(int, void *);
static void child_exit_cb(pid_t, int, void *);

static void
child_close_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fds[i] != -1)
			close(fds[i]);
	}
}

static void
child_say(const char *a, const char *b)
{
	(void)!write(2, a, strlen(a));
	(void)!write(2, b, strlen(b));
	(void)!write(2, "\n", 1);
}

/* In the child: own session, the terminal or pipes on 0-2, exec. */
static __dead void
child_exec(char **argv, char **env, const char *cwd, int flags, int fds[6],
    const char *slave)
{
	char	    self[PATH_MAX];
	const char *path;
	sigset_t    set;
	int	    i, s;

	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	for (i = 1; i < NSIG; i++)
		signal(i, SIG_DFL);
	setsid();
	if (flags & CHILD_PTY) {
		/* Opened after setsid: it becomes our controlling terminal. */
		if ((s = open(slave, O_RDWR)) == -1)
			_exit(127);
		(void)ioctl(s, TIOCSCTTY, 0);
		if (dup2(s, 0) == -1 || dup2(s, 1) == -1 || dup2(s, 2) == -1)
			_exit(127);
	} else if (dup2(fds[0], 0) == -1 || dup2(fds[3], 1) == -1 ||
	    dup2(fds[5], 2) == -1)
		_exit(127);
	compat_closefrom(3);
	proc_child_limits();
	if (cwd != NULL && chdir(cwd) != 0) {
		child_say("agentd: cannot chdir to ", cwd);
		_exit(127);
	}
	for (i = 0; env != NULL && env[i] != NULL; i++)
		putenv(env[i]);
	path = proc_exec_path(argv[0], self, sizeof self);
	execvp(path, argv);
	child_say("agentd: exec failed: ", strerror(errno));
	_exit(127);
}

/* A new terminal: the master (non-blocking, close-on-exec) and its slave's
 * path, with the window size set. */
static int
child_openpty(int cols, int rows, char *slave, size_t len, char **cause)
{
	struct winsize ws;
	int	       m;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m == -1 || grantpt(m) != 0 || unlockpt(m) != 0 ||
	    ptsname_r(m, slave, len) != 0) {
		xasprintf(cause, "cannot open a terminal: %s", strerror(errno));
		if (m != -1)
			close(m);
		return (-1);
	}
	memset(&ws, 0, sizeof ws);
	ws.ws_col = (unsigned short)cols;
	ws.ws_row = (unsigned short)rows;
	(void)ioctl(m, TIOCSWINSZ, &ws);
	return (m);
}

/*
 * Start argv in cwd with env (NAME=value entries added to agentd's). With
 * CHILD_PTY, on a new terminal of cols x rows; else on three pipes (stdin
 * from /dev/null with CHILD_NO_STDIN). NULL with *cause if it could not
 * start; a command that is not found starts, says why on its stderr and
 * exits 127.
 */
struct child *
child_spawn(char **argv, char **env, const char *cwd, int flags, int cols,
    int rows, const struct child_cbs *cbs, void *arg, char **cause)
{
	struct child *c;
	char	      slave[PATH_MAX];
	int	      fds[6] = { -1, -1, -1, -1, -1, -1 }, m = -1, in, i;
	sigset_t      all, old;

	if (flags & CHILD_PTY) {
		if ((m = child_openpty(
			 cols, rows, slave, sizeof slave, cause)) == -1)
			return (NULL);
	} else {
		for (i = 0; i < 3; i++) {
			if (pipe2(fds + 2 * i, O_CLOEXEC) != 0) {
				xasprintf(cause, "pipe: %s", strerror(errno));
				child_close_fds(fds, 6);
				return (NULL);
			}
		}
		if (flags & CHILD_NO_STDIN) {
			close(fds[0]);
			fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		}
	}
	c = xcalloc(1, sizeof *c);
	c->flags = flags;
	c->cbs = cbs;
	c->arg = arg;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	c->pid = fork();
	if (c->pid == 0)
		child_exec(argv, env, cwd, flags, fds, slave);
	if (c->pid == -1) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		xasprintf(cause, "fork: %s", strerror(errno));
		child_close_fds(fds, 6);
		if (m != -1)
			close(m);
		free(c);
		return (NULL);
	}
	loop_child_watch(c->pid, child_exit_cb, c);
	sigprocmask(SIG_SETMASK, &old, NULL);
	child_live++;

	if (flags & CHILD_PTY) {
		in = c->out = m;
		c->err = -1;
	} else {
		close(fds[0]);
		close(fds[3]);
		close(fds[5]);
		in = (flags & CHILD_NO_STDIN) ? -1 : fds[1];
		if (flags & CHILD_NO_STDIN)
			close(fds[1]);
		c->out = fds[2];
		c->err = fds[4];
		/* Bigger pipes: fewer, larger reads of a fast writer (each read
		 * costs its owner a log entry). Best effort. */
		(void)fcntl(c->out, F_SETPIPE_SZ, CHILD_PIPE_SIZE);
		(void)fcntl(c->err, F_SETPIPE_SZ, CHILD_PIPE_SIZE);
	}
	if (in != -1) {
		c->in = outq_new(in, CHILD_STDIN_MAX,
		    (flags & CHILD_PTY) ? OUTQ_KEEP_FD : 0, NULL, NULL);
	}
	fcntl(c->out, F_SETFL, fcntl(c->out, F_GETFL) | O_NONBLOCK);
	c->out_io = loop_io_new(c->out, 0, child_out_cb, c);
	loop_io_start(c->out_io);
	if (c->err != -1) {
		fcntl(c->err, F_SETFL, fcntl(c->err, F_GETFL) | O_NONBLOCK);
		c->err_io = loop_io_new(c->err, 0, child_err_cb, c);
		loop_io_start(c->err_io);
	}
	log_info("started %s (pid %ld%s)", argv[0], (long)c->pid,
	    (flags & CHILD_PTY) ? ", terminal" : "");
	return (c);
}

pid_t
child_pid(struct child *c)
{
	return (c->pid);
}

/*
 * Queue input. -1 if the child's stdin is gone, or if it has not read
 * CHILD_STDIN_MAX bytes queued already (the caller says so: 409).
 */
int
child_write(struct child *c, const char *buf, size_t len)
{
	if (c->in == NULL || (c->state & CHILD_EXITED))
		return (-1);
	return (outq_write(c->in, buf, len));
}

/* Close stdin once what is queued is written (a pipe child sees EOF). */
void
child_end_input(struct child *c)
{
	if (c->in != NULL)
		outq_end(c->in);
}

/*
 * Read once from fd: >0 bytes handed on, 0 at EOF, -1 nothing now. One
 * buffer serves every child (one thread; the owner copies what it keeps),
 * while any runs.
 */
static ssize_t
child_read(struct child *c, int fd, int stream)
{
	ssize_t n;

	if (child_buf == NULL)
		child_buf = xmalloc(CHILD_READ_MAX);
	n = read(fd, child_buf, CHILD_READ_MAX);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return (-1);
	if (n > 0) {
		c->cbs->output(c->arg, stream, child_buf, (size_t)n);
		return (n);
	}
	return (0); /* EOF, or EIO: a terminal whose slave is gone */
}

static void
child_out_cb(int fd, void *arg)
{
	struct child *c = arg;

	if (child_read(
		c, fd, (c->flags & CHILD_PTY) ? CHILD_TERM : CHILD_STDOUT) == 0)
		loop_io_stop(c->out_io); /* the end comes with the exit */
}

static void
child_err_cb(int fd, void *arg)
{
	struct child *c = arg;

	if (child_read(c, fd, CHILD_STDERR) == 0)
		loop_io_stop(c->err_io);
}

/* At exit: what the child wrote before it went, then close. */
static void
child_drain(struct child *c, int *fd, struct loop_io **io, int stream)
{
	size_t	total = 0;
	ssize_t n;

	if (*fd == -1)
		return;
	while (total < CHILD_DRAIN_MAX && (n = child_read(c, *fd, stream)) > 0)
		total += (size_t)n;
	loop_io_free(*io);
	*io = NULL;
	if (stream == CHILD_TERM) { /* the master is the terminal's input too */
		outq_free(c->in);
		c->in = NULL;
	}
	close(*fd);
	*fd = -1;
}

static void
child_exit_cb(pid_t pid, int status, void *arg)
{
	struct child *c = arg;

	loop_timer_free(c->kill_timer);
	c->kill_timer = NULL;
	child_drain(c, &c->out, &c->out_io,
	    (c->flags & CHILD_PTY) ? CHILD_TERM : CHILD_STDOUT);
	child_drain(c, &c->err, &c->err_io, CHILD_STDERR);
	outq_free(c->in);
	c->in = NULL;
	c->state |= CHILD_EXITED;
	if (--child_live == 0) {
		free(child_buf);
		child_buf = NULL;
	}
	c->cbs->exit(c->arg, status);
}

/* Set the terminal's size; the kernel sends SIGWINCH to its foreground. */
int
child_resize(struct child *c, int cols, int rows)
{
	struct winsize ws;

	if (!(c->flags & CHILD_PTY) || c->out == -1)
		return (-1);
	memset(&ws, 0, sizeof ws);
	ws.ws_col = (unsigned short)cols;
	ws.ws_row = (unsigned short)rows;
	return (ioctl(c->out, TIOCSWINSZ, &ws));
}

/* A signal to the child's whole process group. */
void
child_signal(struct child *c, int sig)
{
	if (c->state & CHILD_EXITED)
		return;
	kill(-c->pid, sig);
	if (sig == SIGTERM || sig == SIGHUP || sig == SIGINT)
		kill(-c->pid, SIGCONT);
}

static void
child_kill_cb(void *arg)
{
	struct child *c = arg;

	log_warn("pid %ld ignored SIGTERM: SIGKILL", (long)c->pid);
	child_signal(c, SIGKILL);
}

/* SIGTERM to the group, SIGKILL after grace seconds if it is still up. */
void
child_stop(struct child *c, double grace)
{
	if (c->state & CHILD_EXITED)
		return;
	child_signal(c, SIGTERM);
	if (c->kill_timer == NULL)
		c->kill_timer = loop_timer_new(child_kill_cb, c);
	if (!loop_timer_pending(c->kill_timer))
		loop_timer_set(c->kill_timer, grace);
}

/* Stop or restart reading output (the owner's log is full). */
void
child_pause(struct child *c, int pause)
{
	if (pause)
		c->state |= CHILD_PAUSED;
	else
		c->state &= ~CHILD_PAUSED;
	if (c->out_io != NULL)
		pause ? loop_io_stop(c->out_io) : loop_io_start(c->out_io);
	if (c->err_io != NULL)
		pause ? loop_io_stop(c->err_io) : loop_io_start(c->err_io);
}

/* Free a child whose exit callback was made. */
void
child_free(struct child *c)
{
	if (c == NULL)
		return;
	outq_free(c->in);
	loop_io_free(c->out_io);
	loop_io_free(c->err_io);
	if (c->out != -1)
		close(c->out);
	if (c->err != -1)
		close(c->err);
	loop_timer_free(c->kill_timer);
	free(c);
}
