/*
 * home.c: where a session's agent keeps its own state.
 *
 * Every agent CLI keeps its conversations in its own store under its HOME:
 * Claude Code in ~/.claude/projects, Codex in ~/.codex/sessions, OpenCode
 * in ~/.local/share/opencode, Gemini in ~/.gemini/tmp, Pi in
 * ~/.pi/agent/sessions. agentd resumes a session by handing the agent its
 * native id, so the store must still be there when the next message comes.
 * A session picks where that store lives ("home" at create, or the daemon's
 * --agent-home):
 *
 *   none     the agent inherits agentd's own environment (HOME included):
 *            its store is wherever agentd's user keeps it
 *   session  <data-dir>/homes/<id>, one private HOME for this session only
 *   shared   <data-dir>/home, one HOME for every session that asks for it
 *
 * For the last two the store is on the same volume as the sessions' logs,
 * so a new sandbox that mounts that volume resumes every session natively.
 * agentd then sets HOME and every variable an agent reads to find its store
 * instead of HOME (home_vars), so that none of them, set in agentd's own
 * environment, sends a store elsewhere; a request's env may not set them.
 *
 * Invariant: a home directory is made 0700 and only ever under the data
 * dir; home_remove never follows a symbolic link out of it.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

#define HOME_RM_DEPTH 64 /* deeper trees are left, and said so */

/* The variables a home sets, each to the home plus a suffix. */
static const struct {
	const char *name;
	const char *suffix;
} home_vars[] = {
	{ "HOME", "" },
	{ "CLAUDE_CONFIG_DIR", "/.claude" },
	{ "CODEX_HOME", "/.codex" },
	{ "XDG_CONFIG_HOME", "/.config" },
	{ "XDG_DATA_HOME", "/.local/share" },
	{ "XDG_STATE_HOME", "/.local/state" },
	{ "XDG_CACHE_HOME", "/.cache" },
	{ "GEMINI_CLI_HOME", "" },
	{ "PI_CODING_AGENT_DIR", "/.pi/agent" },
};

static const char *home_mode_names[] = { "none", "session", "shared" };

int
home_mode_parse(const char *name, enum home_mode *mode)
{
	size_t i;

	for (i = 0; i < nitems(home_mode_names); i++) {
		if (strcmp(name, home_mode_names[i]) == 0) {
			*mode = (enum home_mode)i;
			return (0);
		}
	}
	return (-1);
}

const char *
home_mode_name(enum home_mode mode)
{
	return (home_mode_names[mode]);
}

/*
 * The data dir as an absolute path: agents run in their own cwd, so the
 * HOME they get must not be relative. Resolved once (agentd never
 * changes its own directory).
 */
const char *
home_data_dir(void)
{
	static char *abs;
	char	     buf[PATH_MAX];

	if (abs != NULL)
		return (abs);
	if (realpath(options.data_dir, buf) != NULL)
		abs = xstrdup(buf);
	else if (*options.data_dir == '/' || getcwd(buf, sizeof buf) == NULL)
		abs = xstrdup(options.data_dir);
	else
		xasprintf(&abs, "%s/%s", buf, options.data_dir);
	return (abs);
}

/* The home of a session of this mode, or NULL for none. */
char *
home_dir(enum home_mode mode, const char *id)
{
	char *dir;

	switch (mode) {
	case HOME_SESSION:
		xasprintf(&dir, "%s/homes/%s", home_data_dir(), id);
		return (dir);
	case HOME_SHARED:
		xasprintf(&dir, "%s/home", home_data_dir());
		return (dir);
	default:
		return (NULL);
	}
}

/*
 * Make a home (and the directories agents expect in it). *made is 1 if
 * the home did not exist before, so a failed create removes only what it
 * made. 0, or -1 with *cause.
 */
int
home_make(const char *dir, int *made, char **cause)
{
	struct stat sb;

	*made = lstat(dir, &sb) == -1 && errno == ENOENT;
	if (store_mkdirs(dir) != 0) {
		xasprintf(cause, "agent home %s: %s", dir, strerror(errno));
		return (-1);
	}
	return (0);
}

/* Set HOME and every store variable (home_vars) to dir. */
void
home_env(struct argv_builder *ab, const char *dir)
{
	char  *value;
	size_t i;

	for (i = 0; i < nitems(home_vars); i++) {
		xasprintf(&value, "%s%s", dir, home_vars[i].suffix);
		argv_env(ab, home_vars[i].name, value);
		free(value);
	}
}

/* Is name one of the variables a home sets? */
int
home_is_var(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(home_vars); i++) {
		if (strcmp(name, home_vars[i].name) == 0)
			return (1);
	}
	return (0);
}

/*
 * A request's env that sets one of the home's variables would send the
 * agent's store off the volume: refused when the session has a home.
 */
int
home_env_clash(const cJSON *env, enum home_mode mode, char **cause)
{
	const cJSON *e;

	if (mode == HOME_NONE)
		return (0);
	JSON_FOREACH(e, env) {
		if (home_is_var(json_key(e))) {
			xasprintf(cause,
			    "'env' sets %s, which the session's agent home "
			    "(\"%s\") sets itself",
			    json_key(e), home_mode_name(mode));
			return (-1);
		}
	}
	return (0);
}

/* Remove the tree under the open directory dfd (not dfd itself). */
static int
home_rm_at(int dfd, int depth)
{
	struct dirent *de;
	DIR	      *d;
	int	       fd, rv = 0;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM) {
			rv = -1;
			continue;
		}
		/* A directory: O_NOFOLLOW, so a link never leads out. */
		fd = openat(dirfd(d), de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 || depth >= HOME_RM_DEPTH) {
			if (fd != -1)
				close(fd);
			rv = -1;
			continue;
		}
		if (home_rm_at(fd, depth + 1) != 0)
			rv = -1;
		if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) != 0)
			rv = -1;
	}
	closedir(d);
	return (rv);
}

/*
 * rm -rf dir, never following a symbolic link. 0, or -1 with errno if
 * anything stayed. A missing dir is not an error.
 */
int
home_remove(const char *dir)
{
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return (errno == ENOENT ? 0 : -1);
	if (home_rm_at(fd, 0) != 0)
		return (-1);
	return (rmdir(dir));
}

#define HOME_DELETED ".agentd-deleted"

/* Mark a home whose session is deleted (see session_sweep_homes). */
void
home_mark_deleted(const char *dir)
{
	char *path;
	int   fd;

	xasprintf(&path, "%s/%s", dir, HOME_DELETED);
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd != -1)
		close(fd);
	free(path);
}

int
home_is_deleted(const char *dir)
{
	struct stat sb;
	char	   *path;
	int	    rv;

	xasprintf(&path, "%s/%s", dir, HOME_DELETED);
	rv = lstat(path, &sb) == 0;
	free(path);
	return (rv);
}
