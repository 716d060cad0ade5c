/*
 * writeall.c: write(2) a whole buffer, through short writes and EINTR.
 * Every writer of a file or a pipe that must not lose a byte (the store,
 * the files API, archives, credentials, the fake agents' stdout) had its
 * own loop, each ending differently on a write of nothing.
 */
#include <errno.h>
#include <unistd.h>

#include "compat.h"

/* 0, or -1 with errno (EIO if write(2) took nothing). */
int
compat_writeall(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t	    n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = EIO;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}
