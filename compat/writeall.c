/*
 * writeall.c: write(2) or writev(2) a whole buffer, through short writes
 * and EINTR. Every writer of a file or a pipe that must not lose a byte
 * (the store, the files API, archives, credentials, the fake agents'
 * stdout) had its own loop, each ending differently on a write of
 * nothing.
 */
#include <sys/uio.h>

#include <errno.h>
#include <unistd.h>

#include "compat.h"

/* 0, or -1 with errno (EIO if write(2) took nothing). */
int
compat_writeall(int fd, const void *buf, size_t len)
{
	struct iovec iov;

	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	return (compat_writevall(fd, &iov, 1));
}

/*
 * A line and its newline, with one writev(2) when the descriptor takes
 * them whole (no copy to append the '\n'): the store's logs and the
 * replay agent's stdout. 0, or -1 with errno.
 */
int
compat_writeline(int fd, const char *line, size_t len)
{
	struct iovec iov[2];

	iov[0].iov_base = (void *)line;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	return (compat_writevall(fd, iov, 2));
}

/*
 * Every piece of iov, with as few writev(2) calls as it takes; iov is
 * changed (what was written is taken off). Empty pieces are skipped, so
 * nothing to write is 0 without a call, and a call that took nothing is
 * an error. 0, or -1 with errno.
 */
int
compat_writevall(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;
	size_t	done;

	for (;;) {
		while (cnt > 0 && iov->iov_len == 0) {
			iov++;
			cnt--;
		}
		if (cnt == 0)
			return (0);
		if ((n = writev(fd, iov, cnt)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = EIO;
			return (-1);
		}
		for (done = (size_t)n; cnt > 0 && done >= iov->iov_len;
		     iov++, cnt--)
			done -= iov->iov_len;
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
}
