/*
 * credentials.c: the secrets a session carries for its agent.
 *
 * A create request may give "credentials": an object whose members are
 * either environment variables (a NAME of [A-Za-z_][A-Za-z0-9_]* and a
 * string: ANTHROPIC_API_KEY, OPENAI_API_KEY, …) or one of the kinds of
 * credentials_kinds (claudeOAuthToken, codexAuthJson, …), which agentd
 * puts where that agent looks for them: a variable, or a file in the
 * agent's home written 0600 in a 0700 directory.
 *
 * Rules, checked by tests/integration/test_volume.py:
 * - a value goes only into the environment of this session's agent, or a
 *   file in this session's private home (a file credential needs one: a
 *   shared home or agentd's own HOME would hand it to other agents);
 * - no answer carries a value (SessionInfo lists the names), no log line
 *   names one, an export leaves them out unless asked for explicitly;
 * - they are kept in session.json (0600, in the 0700 data dir) so that a
 *   restarted agentd can resume the agent, and leave the disk with the
 *   session: delete removes session.json, the files and the home.
 *
 * A file is written only where none is: an agent that refreshes its own
 * token (Codex rewrites auth.json) keeps what it wrote.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

#define CREDENTIALS_MAX	      32	  /* members */
#define CREDENTIALS_VALUE_MAX (64 * 1024) /* bytes of one value */

/* The named kinds; anything else must be an environment variable. */
static const struct {
	const char *name;
	const char *env;  /* the variable it becomes, or NULL */
	const char *file; /* the file in the home it becomes, or NULL */
} credentials_kinds[] = {
	{ "claudeOAuthToken", "CLAUDE_CODE_OAUTH_TOKEN", NULL },
	{ "claudeCredentialsJson", NULL, ".claude/.credentials.json" },
	{ "codexAuthJson", NULL, ".codex/auth.json" },
	{ "geminiOAuthCredsJson", NULL, ".gemini/oauth_creds.json" },
	{ "opencodeAuthJson", NULL, ".local/share/opencode/auth.json" },
	{ "piAuthJson", NULL, ".pi/agent/auth.json" },
};

/*
 * Files of a home that hold secrets whoever wrote them (the session's
 * credentials, or the agent after a login): an export leaves them out
 * unless asked for credentials.
 */
static const char *credentials_secret_files[] = {
	".claude/.credentials.json",
	".claude/.claude.json", /* may hold primaryApiKey */
	".codex/auth.json",
	".gemini/oauth_creds.json",
	".gemini/google_accounts.json",
	".local/share/opencode/auth.json",
	".pi/agent/auth.json",
};

static int
credentials_kind(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(credentials_kinds); i++) {
		if (strcmp(name, credentials_kinds[i].name) == 0)
			return ((int)i);
	}
	return (-1);
}

static int
credentials_env_name(const char *name)
{
	const char *p;

	if (*name == '\0' || (*name >= '0' && *name <= '9'))
		return (0);
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '_'))
			return (0);
	}
	return (1);
}

/* The variable a member becomes, or NULL for a file. */
static const char *
credentials_var(const cJSON *e)
{
	int k = credentials_kind(json_key(e));

	if (k == -1)
		return (json_key(e));
	return (credentials_kinds[k].env);
}

/*
 * Check a request's credentials: their shape and sizes, and that no
 * variable is also in env or set by the session's home. Says nothing of
 * the values in *cause. 0, or -1.
 */
int
credentials_check(const cJSON *creds, const cJSON *env, char **cause)
{
	const cJSON *e;
	const char  *var;
	char	    *text;
	size_t	     len;
	int	     k, n = 0;

	if (creds == NULL)
		return (0);
	if (!json_is_obj(creds)) {
		*cause = xstrdup("'credentials' must be an object");
		return (-1);
	}
	JSON_FOREACH(e, creds) {
		if (++n > CREDENTIALS_MAX) {
			xasprintf(cause, "'credentials': at most %d members",
			    CREDENTIALS_MAX);
			return (-1);
		}
		k = credentials_kind(json_key(e));
		if (k == -1 && !credentials_env_name(json_key(e))) {
			xasprintf(cause,
			    "'credentials': '%.64s' is neither a known kind "
			    "nor an environment variable name",
			    json_key(e));
			return (-1);
		}
		if (k != -1 && credentials_kinds[k].file != NULL) {
			if (!json_is_obj(e) && !json_is_str(e))
				goto type;
			text = json_is_str(e) ? NULL : json_print(e, &len);
			if (text == NULL)
				len = strlen(json_str(e));
			xfree_secret(text);
		} else {
			if (!json_is_str(e))
				goto type;
			len = strlen(json_str(e));
		}
		if (len > CREDENTIALS_VALUE_MAX) {
			xasprintf(cause, "'credentials': '%s' is over %d bytes",
			    json_key(e), CREDENTIALS_VALUE_MAX);
			return (-1);
		}
		if ((var = credentials_var(e)) == NULL)
			continue;
		if (json_get(env, var) != NULL) {
			xasprintf(cause,
			    "'%s' is in both 'env' and 'credentials'", var);
			return (-1);
		}
		if (home_is_var(var)) {
			xasprintf(cause,
			    "'credentials' may not set %s (the agent's home)",
			    var);
			return (-1);
		}
	}
	return (0);
type:
	xasprintf(cause, "'credentials': '%s' must be a %s", json_key(e),
	    k != -1 && credentials_kinds[k].file != NULL ? "JSON object"
							 : "string");
	return (-1);
}

/* The first member that becomes a file, or NULL. */
const char *
credentials_file_member(const cJSON *creds)
{
	const cJSON *e;

	JSON_FOREACH(e, creds) {
		if (credentials_var(e) == NULL)
			return (json_key(e));
	}
	return (NULL);
}

/* The variables, for the agent's environment. */
void
credentials_env(const cJSON *creds, struct argv_builder *ab)
{
	const cJSON *e;
	const char  *var;

	JSON_FOREACH(e, creds) {
		if ((var = credentials_var(e)) != NULL)
			argv_env(ab, var, json_str(e));
	}
}

/* Write one file credential unless the file exists (see the top). */
static int
credentials_write_one(const char *path, const char *data, size_t len)
{
	struct stat sb;
	char	   *tmp, *dir;
	int	    fd, rv = -1, saved;

	/*
	 * The folder must be a real one: an agent of an earlier run could
	 * have left a symlink there to have the secret written elsewhere.
	 */
	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	if (store_mkdirs(dir) != 0 || lstat(dir, &sb) != 0) {
		free(dir);
		return (-1);
	}
	free(dir);
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return (-1);
	}
	xasprintf(&tmp, "%s.agentd-new", path);
	(void)unlink(tmp);
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		goto out;
	if (compat_writeall(fd, data, len) != 0 || fsync(fd) != 0)
		goto out;
	/* link(2) never replaces: an existing file is the agent's. */
	if (link(tmp, path) != 0 && errno != EEXIST)
		goto out;
	rv = 0;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	errno = saved;
	return (rv);
}

/*
 * Write the file credentials into home (which must be the session's own).
 * 0, or -1 with *cause naming the file, never its content.
 */
int
credentials_write(const cJSON *creds, const char *home, char **cause)
{
	const cJSON *e;
	char	    *path, *text;
	size_t	     len;
	int	     k, rv;

	JSON_FOREACH(e, creds) {
		if ((k = credentials_kind(json_key(e))) == -1 ||
		    credentials_kinds[k].file == NULL)
			continue;
		xasprintf(&path, "%s/%s", home, credentials_kinds[k].file);
		if (json_is_str(e))
			rv = credentials_write_one(
			    path, json_str(e), strlen(json_str(e)));
		else {
			text = json_print(e, &len);
			rv = credentials_write_one(path, text, len);
			xfree_secret(text);
		}
		if (rv != 0) {
			xasprintf(cause, "cannot write %s: %s", path,
			    strerror(errno));
			free(path);
			return (-1);
		}
		free(path);
	}
	return (0);
}

/* Remove the file credentials from home (the session is deleted). */
void
credentials_remove(const cJSON *creds, const char *home)
{
	const cJSON *e;
	char	    *path;
	int	     k;

	JSON_FOREACH(e, creds) {
		if ((k = credentials_kind(json_key(e))) == -1 ||
		    credentials_kinds[k].file == NULL)
			continue;
		xasprintf(&path, "%s/%s", home, credentials_kinds[k].file);
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
		free(path);
	}
}

/* Is this home-relative path a file that holds secrets? */
int
credentials_secret_file(const char *relative)
{
	size_t i;

	for (i = 0; i < nitems(credentials_secret_files); i++) {
		if (strcmp(relative, credentials_secret_files[i]) == 0)
			return (1);
	}
	return (0);
}

/* The names, for SessionInfo. */
cJSON *
credentials_names(const cJSON *creds)
{
	const cJSON *e;
	cJSON	    *a;

	a = json_array();
	JSON_FOREACH(e, creds)
		json_append(a, json_string(json_key(e)));
	return (a);
}

/* Overwrite every string value, then free. */
static void
credentials_scrub(cJSON *v)
{
	cJSON *e;

	if (json_is_str(v))
		explicit_bzero((char *)json_str(v), strlen(json_str(v)));
	JSON_FOREACH(e, v)
		credentials_scrub(e);
}

void
credentials_free(cJSON *creds)
{
	if (creds == NULL)
		return;
	credentials_scrub(creds);
	json_free(creds);
}
