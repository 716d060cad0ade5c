/*
 * test_writeall.c: compat_writeall, compat_writeline and compat_writevall
 * through a pipe: nothing to write, empty pieces anywhere, a line and its
 * newline, pieces split by a short write, and the errors of a full pipe
 * and a reader gone.
 */
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../../compat/compat.h"
#include "test.h"

/* Read what the pipe holds (it must not block: O_NONBLOCK). */
static size_t
drain(int fd, char *buf, size_t size)
{
	size_t	got = 0;
	ssize_t n;

	while (got < size && (n = read(fd, buf + got, size - got)) > 0)
		got += (size_t)n;
	return (got);
}

/* An empty buffer, or pieces all empty, is 0 and writes nothing. */
TEST(nothing_to_write)
{
	struct iovec iov[3];
	char	     buf[8];
	int	     p[2];

	CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	CHECK_INT(compat_writeall(p[1], "", 0), 0);
	iov[0].iov_base = iov[1].iov_base = iov[2].iov_base = buf;
	iov[0].iov_len = iov[1].iov_len = iov[2].iov_len = 0;
	CHECK_INT(compat_writevall(p[1], iov, 3), 0);
	CHECK_INT(compat_writevall(p[1], iov, 0), 0);
	CHECK_INT(drain(p[0], buf, sizeof buf), 0);
	close(p[0]);
	close(p[1]);
}

/* Empty pieces first, between and last: the bytes, in order. */
TEST(empty_pieces_anywhere)
{
	static const char *const pieces[] = { "", "abc", "", "de", "f", "" };
	struct iovec		 iov[nitems(pieces)];
	char			 buf[16];
	size_t			 i;
	int			 p[2];

	CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	for (i = 0; i < nitems(pieces); i++) {
		iov[i].iov_base = (void *)pieces[i];
		iov[i].iov_len = strlen(pieces[i]);
	}
	CHECK_INT(compat_writevall(p[1], iov, (int)nitems(pieces)), 0);
	CHECK_INT(drain(p[0], buf, sizeof buf), 6);
	CHECK(memcmp(buf, "abcdef", 6) == 0);
	close(p[0]);
	close(p[1]);
}

/* compat_writeline: the line, then its newline; an empty line is "\n". */
TEST(line_and_newline)
{
	char buf[16];
	int  p[2];

	CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	CHECK_INT(compat_writeline(p[1], "abc", 3), 0);
	CHECK_INT(compat_writeline(p[1], "", 0), 0);
	CHECK_INT(compat_writeline(p[1], "de", 2), 0);
	CHECK_INT(drain(p[0], buf, sizeof buf), 8);
	CHECK(memcmp(buf, "abc\n\nde\n", 8) == 0);
	close(p[0]);
	close(p[1]);
}

static void
alarm_cb(int sig)
{
	(void)sig;
}

/*
 * More than the pipe holds, to a slow reader, with a timer interrupting
 * the writer every millisecond (no SA_RESTART): writev(2) comes back
 * short many times (an interrupt before any byte, EINTR, is not forced),
 * and every byte still arrives once, in order, an empty piece in the
 * middle skipped.
 */
TEST(short_writes)
{
	static char	 big[300000];
	char		 got[4096];
	struct iovec	 iov[3];
	struct sigaction sa;
	struct itimerval it;
	size_t		 i, n = 0;
	ssize_t		 r;
	pid_t		 pid;
	int		 p[2], status;

	for (i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 + i / 251);
	CHECK(pipe(p) == 0);
	if ((pid = fork()) == 0) {
		close(p[1]);
		while ((r = read(p[0], got, sizeof got)) > 0) {
			if (n + (size_t)r > sizeof big ||
			    memcmp(got, big + n, (size_t)r) != 0)
				_exit(1);
			n += (size_t)r;
			usleep(100);
		}
		_exit(n == sizeof big ? 0 : 2);
	}
	close(p[0]);
	signal(SIGPIPE, SIG_IGN); /* a child that stopped fails the CHECK */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = alarm_cb;
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	memset(&it, 0, sizeof it);
	it.it_interval.tv_usec = it.it_value.tv_usec = 1000;
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	iov[0].iov_base = big;
	iov[0].iov_len = 100000;
	iov[1].iov_base = big + 100000;
	iov[1].iov_len = 0;
	iov[2].iov_base = big + 100000;
	iov[2].iov_len = sizeof big - 100000;
	CHECK_INT(compat_writevall(p[1], iov, 3), 0);
	memset(&it, 0, sizeof it);
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	close(p[1]);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
}

/* A full non-blocking pipe is EAGAIN; a pipe without a reader EPIPE. */
TEST(errors)
{
	static char buf[1 << 20];
	int	    p[2];

	CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	errno = 0;
	CHECK_INT(compat_writeall(p[1], buf, sizeof buf), -1);
	CHECK_INT(errno, EAGAIN);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	CHECK_INT(compat_writeall(p[1], "x", 1), -1);
	CHECK_INT(errno, EPIPE);
	close(p[1]);
}

TEST_MAIN(TEST_ENTRY(nothing_to_write), TEST_ENTRY(empty_pieces_anywhere),
    TEST_ENTRY(line_and_newline), TEST_ENTRY(short_writes), TEST_ENTRY(errors))
