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

/*
 * Where an agent keeps its store, under a home laid out as home.c lays
 * it out (the archive's paths): the variable that moves it, and its path
 * under HOME when the variable is not set.
 */
static const struct native_store {
	const char *agent;
	const char *var;      /* or NULL */
	const char *var_tail; /* appended to the variable's value */
	const char *rel;      /* under HOME, and in an archive's home/ */
} native_stores[] = {
	{ "claude", "CLAUDE_CONFIG_DIR", "", ".claude" },
	{ "codex", "CODEX_HOME", "", ".codex" },
	{ "gemini", "GEMINI_CLI_HOME", "/.gemini", ".gemini" },
	{ "opencode", "XDG_DATA_HOME", "/opencode", ".local/share/opencode" },
	{ "pi", "PI_CODING_AGENT_DIR", "", ".pi/agent" },
	{ "mock", NULL, NULL, ".agentd-mock" },
};

static const struct native_store *
native_store(const struct agent_profile *p)
{
	size_t i;

	for (i = 0; i < nitems(native_stores); i++) {
		if (strcmp(native_stores[i].agent, p->id) == 0)
			return (&native_stores[i]);
	}
	return (NULL);
}

/*
 * The absolute directory of the agent's store: under home when the
 * session has one, else where the agent's environment (the session's env
 * over agentd's) sends it. NULL for an agent agentd knows no store of.
 */
char *
native_store_dir(const struct agent_profile *p, const char *home,
    const cJSON *env, const char **rel)
{
	const struct native_store *ns = native_store(p);
	const char		  *v;
	char			  *dir;

	if (ns == NULL)
		return (NULL);
	*rel = ns->rel;
	if (home != NULL)
		xasprintf(&dir, "%s/%s", home, ns->rel);
	else if (ns->var != NULL && (v = native_getenv(env, ns->var)) != NULL &&
	    *v == '/')
		xasprintf(&dir, "%s%s", v, ns->var_tail);
	else if ((v = native_getenv(env, "HOME")) != NULL && *v == '/')
		xasprintf(&dir, "%s/%s", v, ns->rel);
	else
		return (NULL);
	return (dir);
}

/* Call cb for dir/name if it is a regular file. */
static int
native_file(const char *dir, const char *name, const char *rel,
    native_file_cb cb, void *arg)
{
	struct stat sb;
	char	   *abs, *r;
	int	    rv = 0;

	xasprintf(&abs, "%s/%s", dir, name);
	if (lstat(abs, &sb) == 0 && S_ISREG(sb.st_mode)) {
		xasprintf(&r, "%s/%s", rel, name);
		rv = cb(arg, abs, r);
		free(r);
	}
	free(abs);
	return (rv);
}

/* Call cb for every regular file under dir (rel is its archive path). */
static int
native_tree(
    const char *dir, const char *rel, native_file_cb cb, void *arg, int depth)
{
	struct dirent *de;
	struct stat    sb;
	DIR	      *d;
	char	      *sub, *srel;
	int	       rv = 0;

	if (depth > 16 || (d = opendir(dir)) == NULL)
		return (0);
	while (rv == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&sub, "%s/%s", dir, de->d_name);
		if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			xasprintf(&srel, "%s/%s", rel, de->d_name);
			rv = native_tree(sub, srel, cb, arg, depth + 1);
			free(srel);
		} else
			rv = native_file(dir, de->d_name, rel, cb, arg);
		free(sub);
	}
	closedir(d);
	return (rv);
}

/* Claude: projects/<folder>/<id>.jsonl and projects/<folder>/<id>/. */
static int
native_claude_files(const char *dir, const char *rel, const char *id,
    native_file_cb cb, void *arg)
{
	struct dirent *de;
	DIR	      *d;
	char	      *pdir, *prel, *name, *sub, *srel;
	int	       rv = 0;

	xasprintf(&pdir, "%s/projects", dir);
	xasprintf(&prel, "%s/projects", rel);
	xasprintf(&name, "%s.jsonl", id);
	if ((d = opendir(pdir)) != NULL) {
		while (rv == 0 && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			xasprintf(&sub, "%s/%s", pdir, de->d_name);
			xasprintf(&srel, "%s/%s", prel, de->d_name);
			rv = native_file(sub, name, srel, cb, arg);
			free(sub);
			if (rv == 0) {
				xasprintf(
				    &sub, "%s/%s/%s", pdir, de->d_name, id);
				free(srel);
				xasprintf(
				    &srel, "%s/%s/%s", prel, de->d_name, id);
				rv = native_tree(sub, srel, cb, arg, 0);
				free(sub);
			}
			free(srel);
		}
		closedir(d);
	}
	free(name);
	free(pdir);
	free(prel);
	return (rv);
}

/* Codex: sessions/YYYY/MM/DD/rollout-…-<id>.jsonl (tail "-<id>.jsonl"). */
static int
native_codex_walk(const char *dir, const char *rel, const char *tail, int depth,
    native_file_cb cb, void *arg)
{
	struct dirent *de;
	DIR	      *d;
	char	      *sub, *srel;
	size_t	       len, tlen = strlen(tail);
	int	       rv = 0;

	if ((d = opendir(dir)) == NULL)
		return (0);
	while (rv == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (depth < 3) {
			xasprintf(&sub, "%s/%s", dir, de->d_name);
			xasprintf(&srel, "%s/%s", rel, de->d_name);
			rv = native_codex_walk(
			    sub, srel, tail, depth + 1, cb, arg);
			free(sub);
			free(srel);
			continue;
		}
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "rollout-", 8) == 0 && len > tlen &&
		    strcmp(de->d_name + len - tlen, tail) == 0)
			rv = native_file(dir, de->d_name, rel, cb, arg);
	}
	closedir(d);
	return (rv);
}

/* Gemini: tmp/<project>/chats/session-…-<id[0:8]>….jsonl of this id,
 * and the project's .project_root (which cwd the folder is for). */
static int
native_gemini_files(const char *dir, const char *rel, const char *id,
    native_file_cb cb, void *arg)
{
	struct dirent *de, *ce;
	DIR	      *d, *c;
	char	      *tmp, *chats, *crel, *prel, short_id[16];
	int	       rv = 0, found;

	snprintf(short_id, sizeof short_id, "-%.8s", id);
	xasprintf(&tmp, "%s/tmp", dir);
	if ((d = opendir(tmp)) == NULL) {
		free(tmp);
		return (0);
	}
	while (rv == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		xasprintf(&chats, "%s/%s/chats", tmp, de->d_name);
		xasprintf(&crel, "%s/tmp/%s/chats", rel, de->d_name);
		found = 0;
		if ((c = opendir(chats)) != NULL) {
			while (rv == 0 && (ce = readdir(c)) != NULL) {
				if (strncmp(ce->d_name, "session-", 8) != 0 ||
				    strstr(ce->d_name, short_id) == NULL ||
				    !native_gemini_owns(
					dirfd(c), ce->d_name, id))
					continue;
				found = 1;
				rv = native_file(
				    chats, ce->d_name, crel, cb, arg);
			}
			closedir(c);
		}
		if (rv == 0 && found) {
			xasprintf(&prel, "%s/tmp/%s", rel, de->d_name);
			free(chats);
			xasprintf(&chats, "%s/%s", tmp, de->d_name);
			rv = native_file(chats, ".project_root", prel, cb, arg);
			free(prel);
		}
		free(chats);
		free(crel);
	}
	closedir(d);
	free(tmp);
	return (rv);
}

/*
 * Call cb(arg, absolute path, archive path) for each file of the agent's
 * store that belongs to the session with this native id, when the store
 * is not the session's alone (agentd's HOME, a shared home). For OpenCode
 * there is none to give: it keeps every session of a HOME in one SQLite
 * database (opencode.db), which only a session's own home carries whole.
 * Returns cb's non-zero, or 0.
 */
int
native_files(const struct agent_profile *p, const char *home, const cJSON *env,
    const char *id, native_file_cb cb, void *arg)
{
	const char *rel, *tail;
	char	   *dir, *sub, *srel, *name;
	size_t	    len;
	int	    rv = 0;

	if (id == NULL || *id == '\0' ||
	    (dir = native_store_dir(p, home, env, &rel)) == NULL)
		return (0);
	if (strcmp(p->id, "claude") == 0 && strchr(id, '/') == NULL)
		rv = native_claude_files(dir, rel, id, cb, arg);
	else if (strcmp(p->id, "codex") == 0 && strchr(id, '/') == NULL) {
		xasprintf(&sub, "%s/sessions", dir);
		xasprintf(&srel, "%s/sessions", rel);
		xasprintf(&name, "-%s.jsonl", id);
		rv = native_codex_walk(sub, srel, name, 1, cb, arg);
		free(name);
		free(sub);
		free(srel);
	} else if (strcmp(p->id, "gemini") == 0 && strchr(id, '/') == NULL)
		rv = native_gemini_files(dir, rel, id, cb, arg);
	else if (strcmp(p->id, "pi") == 0) {
		/* The native id is the session file's path. */
		len = strlen(dir);
		if (strncmp(id, dir, len) == 0 && id[len] == '/' &&
		    strstr(id, "/../") == NULL &&
		    (tail = strrchr(id, '/')) != NULL) {
			sub = xstrndup(id, (size_t)(tail - id));
			xasprintf(&srel, "%s%.*s", rel, (int)(tail - id - len),
			    id + len);
			rv = native_file(sub, tail + 1, srel, cb, arg);
			free(sub);
			free(srel);
		}
	} else if (strcmp(p->id, "mock") == 0 && strchr(id, '/') == NULL) {
		xasprintf(&sub, "%s/sessions", dir);
		xasprintf(&srel, "%s/sessions", rel);
		xasprintf(&name, "%s.jsonl", id);
		rv = native_file(sub, name, srel, cb, arg);
		free(name);
		free(sub);
		free(srel);
	}
	free(dir);
	return (rv);
}

/*
 * Files of a home never exported: caches and locks of the old machine,
 * and Codex's state database, which names every rollout by its absolute
 * path: moved, it sends thread/resume to files that are not there ("no
 * rollout found"), while without it Codex finds the rollout in sessions/.
 */
int
native_skip(const char *rel)
{
	static const char *prefixes[] = { ".cache/", ".npm/", ".codex/state_",
		".codex/.tmp/", ".codex/tmp/", ".codex/thread-writer-locks/",
		".local/state/opencode/locks/" };
	size_t		   i;

	for (i = 0; i < nitems(prefixes); i++) {
		if (strncmp(rel, prefixes[i], strlen(prefixes[i])) == 0)
			return (1);
	}
	return (0);
}

/* Claude's hash of a folder name that is too long (a Java String hash). */
static int32_t
native_claude_hash(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t	     h = 0, cp;
	int		     n;

	while (*p != '\0') {
		n = *p < 0x80 ? 0 : *p < 0xe0 ? 1 : *p < 0xf0 ? 2 : 3;
		cp = n == 0 ? *p : (*p & (0x3f >> n));
		for (p++; n > 0 && (*p & 0xc0) == 0x80; n--, p++)
			cp = (cp << 6) | (*p & 0x3f);
		if (cp >= 0x10000) { /* two UTF-16 units */
			cp -= 0x10000;
			h = h * 31 + (0xd800 | (cp >> 10));
			cp = 0xdc00 | (cp & 0x3ff);
		}
		h = h * 31 + cp;
	}
	return ((int32_t)h);
}

/*
 * Claude's project folder for a cwd: every UTF-16 unit that is not
 * [A-Za-z0-9] becomes '-'; over 200, cut and suffixed with the hash in
 * base 36 (its binary's jHs).
 */
static char *
native_claude_folder(const char *cwd)
{
	const unsigned char *p = (const unsigned char *)cwd;
	struct buf	     b;
	char		     num[16], *out, *s;
	int64_t		     h;
	size_t		     i;

	buf_init(&b, 8192);
	while (*p != '\0') {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9'))
			(void)buf_add(&b, p, 1);
		else
			(void)buf_add(&b, (*p & 0xf8) == 0xf0 ? "--" : "-",
			    (*p & 0xf8) == 0xf0 ? 2 : 1);
		for (p++; (*p & 0xc0) == 0x80; p++)
			;
	}
	out = b.p != NULL ? buf_take(&b, NULL) : xstrdup("");
	if (strlen(out) <= 200)
		return (out);
	h = native_claude_hash(cwd);
	if (h < 0)
		h = -h;
	i = sizeof num - 1;
	num[i] = '\0';
	do {
		num[--i] = "0123456789abcdefghijklmnopqrstuvwxyz"[h % 36];
		h /= 36;
	} while (h > 0);
	xasprintf(&s, "%.200s-%s", out, num + i);
	free(out);
	return (s);
}

/* Pi's sessions folder for a cwd: --<cwd less its first '/', '/' and ':'
 * as '-'>--. */
static char *
native_pi_folder(const char *cwd)
{
	char *s, *p;

	if (*cwd == '/' || *cwd == '\\')
		cwd++;
	xasprintf(&s, "--%s--", cwd);
	for (p = s + 2; p[2] != '\0'; p++) {
		if (*p == '/' || *p == '\\' || *p == ':')
			*p = '-';
	}
	return (s);
}

/*
 * The pairs that move a session from one cwd to another, besides the
 * paths themselves: the folder names agents make of the cwd (Claude's
 * projects/<folder>, Pi's sessions/<folder>). Gemini's folder is a name
 * it picked, found again by the .project_root file in it, which holds the
 * cwd and is rewritten with the other text.
 */
void
native_pathmap(struct pathmap *pm, const char *from, const char *to)
{
	char *a, *b;

	pathmap_add(pm, from, to);
	a = native_claude_folder(from);
	b = native_claude_folder(to);
	pathmap_add(pm, a, b);
	free(a);
	free(b);
	a = native_pi_folder(from);
	b = native_pi_folder(to);
	pathmap_add(pm, a, b);
	free(a);
	free(b);
}

/*
 * A home found at another path than it was last used at: the volume is
 * mounted elsewhere in a new sandbox. The working directory is the same
 * (the workspace is restored where it was), so the agents' stores still
 * find their sessions, but for what names the home itself:
 * - Codex's state database (.codex/state_*.sqlite*) names every rollout by
 *   its absolute path, and thread/resume trusts it ("no rollout found"):
 *   it is removed, and Codex finds the rollout in sessions/ again;
 * - Pi's native id is its session file's path, under the old home.
 * Returns the native id to use instead (a new string), or NULL to keep it.
 */
char *
native_relocate(const struct agent_profile *p, const char *from, const char *to,
    const char *native)
{
	struct pathmap *pm;
	struct dirent  *de;
	DIR	       *d;
	char	       *dir, *mapped = NULL;

	if (strcmp(p->id, "codex") == 0) {
		xasprintf(&dir, "%s/.codex", to);
		if ((d = opendir(dir)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (strncmp(de->d_name, "state_", 6) == 0 &&
				    strstr(de->d_name, ".sqlite") != NULL &&
				    unlinkat(dirfd(d), de->d_name, 0) == 0)
					log_info("%s/%s: removed (it names the "
						 "rollouts under %s)",
					    dir, de->d_name, from);
			}
			closedir(d);
		}
		free(dir);
	}
	if (native != NULL && *native == '/') {
		pm = pathmap_new();
		pathmap_add(pm, from, to);
		mapped = pathmap_apply(pm, native);
		pathmap_free(pm);
		if (strcmp(mapped, native) == 0) {
			free(mapped);
			mapped = NULL;
		}
	}
	return (mapped);
}

/*
 * OpenCode keeps a session's working directory in its SQLite database
 * (session.directory and .path), and its session/load opens the session
 * there: a session imported into another cwd would be loaded in a
 * directory that is not here ("OpenCode service failure"). The database
 * is binary and cannot be rewritten as text, so the import leaves the
 * statement that moves the row, and the next start of the agent has
 * OpenCode run it on its own database first (`opencode db`), once.
 */
#define NATIVE_OPENCODE_SQL "agentd-relocate-%s.sql"

static char *
native_opencode_sql_path(const char *home, const cJSON *env, const char *id)
{
	const char *rel;
	char	   *dir, *path;

	if (strchr(id, '/') != NULL ||
	    (dir = native_store_dir(
		 adapter_find_agent("opencode"), home, env, &rel)) == NULL)
		return (NULL);
	xasprintf(&path, "%s/" NATIVE_OPENCODE_SQL, dir, id);
	free(dir);
	return (path);
}

/* Append s to b quoted for SQL: 'it''s'. */
static void
native_sql_quote(struct buf *b, const char *s)
{
	(void)buf_add(b, "'", 1);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			(void)buf_add(b, "''", 2);
		else
			(void)buf_add(b, s, 1);
	}
	(void)buf_add(b, "'", 1);
}

/*
 * A session moved from cwd from to cwd to: after the import put its
 * files in home, leave OpenCode the statement that moves its row. 0, or
 * -1 with errno.
 */
int
native_moved(const struct agent_profile *p, const char *home,
    const char *native, const char *from, const char *to)
{
	struct buf b;
	char	  *path;
	int	   fd, rv = 0;

	if (strcmp(p->id, "opencode") != 0 || native == NULL ||
	    strcmp(from, to) == 0 ||
	    (path = native_opencode_sql_path(home, NULL, native)) == NULL)
		return (0);
	buf_init(&b, 64 * 1024);
	(void)buf_str(&b, "UPDATE session SET directory = ");
	native_sql_quote(&b, to);
	(void)buf_str(&b, ", path = CASE WHEN path = ");
	native_sql_quote(&b, from + 1);
	(void)buf_str(&b, " THEN ");
	native_sql_quote(&b, to + 1);
	(void)buf_str(&b, " ELSE path END WHERE id = ");
	native_sql_quote(&b, native);
	(void)buf_str(&b, " AND directory = ");
	native_sql_quote(&b, from);
	(void)buf_str(&b, ";");
	fd = open(
	    path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, b.p, b.len) != (ssize_t)b.len)
		rv = -1;
	if (fd != -1)
		close(fd);
	buf_free(&b);
	free(path);
	return (rv);
}

/*
 * Before the agent starts: when an import left OpenCode a statement for
 * this session, the agent's command becomes a shell that has OpenCode run
 * it on its database (and removes it when that worked), then execs the
 * agent as it was: "sh -c SCRIPT agentd-opencode ARGV…".
 */
void
native_wrap(const struct agent_profile *p, const char *home, const cJSON *env,
    const char *native, struct argv_builder *ab)
{
	static const char script[] =
	    "f=$AGENTD_OPENCODE_SQL; unset AGENTD_OPENCODE_SQL; "
	    "if [ -f \"$f\" ] && \"$1\" db \"$(cat \"$f\")\" "
	    "</dev/null >&2; then rm -f \"$f\"; fi; exec \"$@\"";
	struct stat sb;
	char	  **argv;
	char	   *path;
	size_t	    i, argc = ab->argc;

	if (strcmp(p->id, "opencode") != 0 || native == NULL ||
	    (path = native_opencode_sql_path(home, env, native)) == NULL)
		return;
	if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		free(path);
		return;
	}
	argv = ab->argv;
	ab->argv = NULL;
	ab->argc = 0;
	argv_add(ab, "/bin/sh");
	argv_add(ab, "-c");
	argv_add(ab, script);
	argv_add(ab, "agentd-opencode");
	for (i = 0; i < argc; i++) {
		argv_add(ab, argv[i]);
		free(argv[i]);
	}
	free(argv);
	argv_env(ab, "AGENTD_OPENCODE_SQL", path);
	log_info(
	    "%s: OpenCode moves session %s to its new cwd first", path, native);
	free(path);
}
