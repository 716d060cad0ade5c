/*
 * scratch.h: a scratch data directory for unit tests that need the store
 * and the event loop (journal timers): made once, under /tmp, with the
 * loop and the store initialised over it, and removed at exit.
 *
 * Include it after core.h; scratch_dir names the directory once made.
 */
#ifndef SCRATCH_H
#define SCRATCH_H

#include <sys/stat.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

static char scratch_dir[] = "/tmp/agentd-unit.XXXXXX";

static int
scratch_rm_cb(
    const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return (remove(path));
}

static void
scratch_cleanup(void)
{
	nftw(scratch_dir, scratch_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* The directory, the loop and the store, once; -1 (said on stderr) if
 * any cannot be had. */
static int __attribute__((unused)) scratch_setup(void)
{
	static int done;
	char	  *cause = NULL;

	if (done)
		return (0);
	if (mkdtemp(scratch_dir) == NULL) {
		perror("# mkdtemp");
		return (-1);
	}
	atexit(scratch_cleanup);
	loop_init();
	if (store_init(scratch_dir, &cause) != 0) {
		fprintf(stderr, "# %s\n", cause);
		free(cause);
		return (-1);
	}
	done = 1;
	return (0);
}

#endif /* SCRATCH_H */
