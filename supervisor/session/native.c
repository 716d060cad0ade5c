/*
 * native.c: what agentd knows of each agent's own session store.
 *
 * agentd resumes an agent by its native id; the agent finds the rest in
 * its store. This file holds what agentd must know of those stores to move
 * a session (export, import, a volume mounted elsewhere) and to work round
 * a store that cannot find its own sessions.
 *
 * Gemini CLI 0.61.0 (session/load): the ACP loadSession sets up the
 * session's config first, and that starts a new chat recording for the
 * very session id it is about to load, in
 * ~/.gemini/tmp/<project>/chats/session-<YYYY-MM-DDTHH-MM>-<id[0:8]>.jsonl,
 * named by the current minute. Within the minute the session was created
 * in, that is the session's own file: the recording appends a record that
 * resets the conversation to the bare session context, the load then
 * finds no resumable session ("No previous sessions found for this
 * project") and agentd had to open a new one. Outside that minute it
 * works. So before a resume agentd renames the session's files to end in
 * -agentd.jsonl, a name no recording ever picks: Gemini lists every
 * session-*.jsonl, finds the session in it by the id in its first line,
 * and goes on appending there.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

#define NATIVE_SUFFIX "-agentd.jsonl"

/*
 * A variable of the agent's environment: the session's env, else
 * agentd's own (a session without a home inherits it).
 */
static const char *
native_getenv(const cJSON *env, const char *name)
{
	const char *v = json_get_str(env, name);

	return (v != NULL ? v : getenv(name));
}

/* Does the first line of path hold "sessionId":"<id>"? */
static int
native_gemini_owns(int dfd, const char *name, const char *id)
{
	char	buf[1024], want[160];
	ssize_t n;
	int	fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return (0);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(want, sizeof want, "\"sessionId\":\"%s\"", id);
	return (strstr(buf, want) != NULL);
}

/* Rename the session's files in one chats directory (see the top). */
static void
native_gemini_chats(const char *dir, const char *id)
{
	struct dirent *de;
	DIR	      *d;
	char	       tail[32], *to;
	size_t	       len, tlen;

	if ((d = opendir(dir)) == NULL)
		return;
	snprintf(tail, sizeof tail, "-%.8s.jsonl", id);
	tlen = strlen(tail);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "session-", 8) != 0 || len <= tlen ||
		    strcmp(de->d_name + len - tlen, tail) != 0 ||
		    !native_gemini_owns(dirfd(d), de->d_name, id))
			continue;
		xasprintf(
		    &to, "%.*s%s", (int)(len - 6), de->d_name, NATIVE_SUFFIX);
		/* link(2) never replaces: a file already moved stays. */
		if (linkat(dirfd(d), de->d_name, dirfd(d), to, 0) == 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
		else if (errno != EEXIST)
			log_warn("%s/%s: cannot rename for resume: %s", dir,
			    de->d_name, strerror(errno));
		log_debug("%s/%s: renamed to %s", dir, de->d_name, to);
		free(to);
	}
	closedir(d);
}

static void
native_gemini_resume(const char *home, const cJSON *env, const char *id)
{
	struct dirent *de;
	DIR	      *d;
	const char    *root;
	char	      *tmp, *chats;

	if (home != NULL)
		root = home; /* GEMINI_CLI_HOME is the home (home.c) */
	else if ((root = native_getenv(env, "GEMINI_CLI_HOME")) == NULL ||
	    *root == '\0')
		root = native_getenv(env, "HOME");
	if (root == NULL || *root != '/' || strchr(id, '/') != NULL)
		return;
	xasprintf(&tmp, "%s/.gemini/tmp", root);
	if ((d = opendir(tmp)) == NULL) {
		free(tmp);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		xasprintf(&chats, "%s/%s/chats", tmp, de->d_name);
		native_gemini_chats(chats, id);
		free(chats);
	}
	closedir(d);
	free(tmp);
}

/*
 * The agent is about to start with native id (NULL: a new session):
 * make its store ready to find it. home is the session's agent home, or
 * NULL when the agent inherits agentd's (env is then the session's).
 */
void
native_before_start(const struct agent_profile *p, const char *home,
    const cJSON *env, const char *native)
{
	if (native == NULL || *native == '\0')
		return;
	if (strcmp(p->id, "gemini") == 0)
		native_gemini_resume(home, env, native);
}
