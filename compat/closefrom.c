/*
 * closefrom.c: close every descriptor from lowfd up, for a child between
 * fork and exec. musl 1.2.3 has no closefrom(3); close_range(2) is tried
 * first (Linux 5.9+), then /proc/self/fd would need malloc, which is not
 * safe after fork, so the fallback walks up to the descriptor limit.
 */
#include <sys/resource.h>
#include <sys/syscall.h>

#include <unistd.h>

#include "compat.h"

void
compat_closefrom(int lowfd)
{
	struct rlimit rl;
	long	      fd, max;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	max = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = (long)rl.rlim_cur;
	if (max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		close((int)fd);
}
