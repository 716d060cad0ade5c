/*
 * dirconfig.c: MCP servers and skills set for a directory (sandbox-agent
 * 0.4.2's /v1/config/mcp and /v1/config/skills, with its shapes), and
 * what a session started in that directory hands its agent from them.
 *
 * Each kind is one file under the data dir, config/mcp.json and
 * config/skills.json: {directory: {name: entry}}, replaced atomically on
 * every change (store_write_file), read back whole on every use: they
 * are small (capped), and a file read is what makes a change seen by the
 * next start without a cache to keep right.
 *
 * At each start of an agent (create, resume, restart) dirconfig_launch
 * merges the session's own servers (set live by its config, in the
 * directory's shape), the create request's "mcp" (ACP McpServer[]) and
 * the directory's servers (the first wins a name more have) into one
 * ACP list for the adapters, writes Claude Code's --mcp-config file from
 * it and makes a folder whose .claude/skills/<name> are links to the
 * session's own and the directory's skill folders (Claude reads the
 * skills of an --add-dir).
 * Both live in <data-dir>/launch/<session id>/, 0700: the file carries
 * the servers' env, which may be secrets, so it is never on a command
 * line.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

#define DIRCONFIG_MAX	   (1024UL * 1024) /* each file */
#define DIRCONFIG_NAME_MAX 64
#define DIRCONFIG_LINKS	   64 /* skill folders linked per session */

static const char *dirconfig_files[] = { "mcp.json", "skills.json" };

static char *
dirconfig_dir(void)
{
	char *dir;

	xasprintf(&dir, "%s/config", home_data_dir());
	return (dir);
}

/*
 * The file of kind, parsed: {} when missing; NULL (500, *cause) when it
 * cannot be read or is not a JSON object.
 */
static cJSON *
dirconfig_read(enum dirconfig_kind kind, char **cause)
{
	char  *dir, *buf;
	cJSON *o;
	size_t len;

	dir = dirconfig_dir();
	buf = store_read_file(dir, dirconfig_files[kind], DIRCONFIG_MAX, &len);
	if (buf == NULL) {
		if (errno == ENOENT) {
			free(dir);
			return (json_object());
		}
		xasprintf(cause, "%s/%s: %s", dir, dirconfig_files[kind],
		    strerror(errno));
		free(dir);
		return (NULL);
	}
	if ((o = json_parse(buf, len, NULL)) == NULL || !json_is_obj(o)) {
		json_free(o);
		xasprintf(cause, "%s/%s: not a JSON object", dir,
		    dirconfig_files[kind]);
		o = NULL;
	}
	free(buf);
	free(dir);
	return (o);
}

static int
dirconfig_write(enum dirconfig_kind kind, const cJSON *o, char **cause)
{
	char  *dir, *text;
	size_t len;
	int    r;

	dir = dirconfig_dir();
	if (store_mkdirs(dir) != 0) {
		xasprintf(cause, "%s: %s", dir, strerror(errno));
		free(dir);
		return (500);
	}
	text = json_print(o, &len);
	r = store_write_file(
	    dir, dirconfig_files[kind], text, len, DIRCONFIG_MAX, cause);
	free(text);
	free(dir);
	if (r != 0)
		return (errno == EFBIG ? 413 : errno == ENOSPC ? 507 : 500);
	return (0);
}

/*
 * The key of a directory: absolute, without trailing slashes, and its
 * real path when it exists (so that a session's cwd, which is one, finds
 * it whatever link the config was set through). NULL with *cause if the
 * directory is not absolute.
 */
static char *
dirconfig_key(const char *dir, char **cause)
{
	char   buf[PATH_MAX], *key;
	size_t len;

	if (dir == NULL || *dir != '/' || strlen(dir) >= PATH_MAX) {
		*cause = xstrdup("'directory' must be an absolute path");
		return (NULL);
	}
	if (realpath(dir, buf) != NULL)
		return (xstrdup(buf));
	key = xstrdup(dir);
	len = strlen(key);
	while (len > 1 && key[len - 1] == '/')
		key[--len] = '\0';
	return (key);
}

/* A name: 1 to 64 of [A-Za-z0-9_-], what every agent takes as a key. */
static int
dirconfig_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || *name == '\0' || strlen(name) > DIRCONFIG_NAME_MAX)
		return (0);
	for (i = 0; name[i] != '\0'; i++) {
		if (!(name[i] >= 'a' && name[i] <= 'z') &&
		    !(name[i] >= 'A' && name[i] <= 'Z') &&
		    !(name[i] >= '0' && name[i] <= '9') && name[i] != '_' &&
		    name[i] != '-')
			return (0);
	}
	return (1);
}

/* v absent or null or of the type test says. */
static int
dirconfig_opt(const cJSON *o, const char *name, int (*test)(const cJSON *))
{
	const cJSON *v = json_get(o, name);

	return (v == NULL || json_is_null(v) || test(v));
}

/* An array (or, map != 0, an object) of strings only. */
static int
dirconfig_strs(const cJSON *v, int map)
{
	const cJSON *e;

	if (map ? !json_is_obj(v) : !json_is_arr(v))
		return (0);
	JSON_FOREACH(e, v) {
		if (!json_is_str(e))
			return (0);
	}
	return (1);
}

static int
dirconfig_str_array(const cJSON *v)
{
	return (dirconfig_strs(v, 0));
}

static int
dirconfig_str_map(const cJSON *v)
{
	return (dirconfig_strs(v, 1));
}

/* A McpServerConfig: {type:"local", command, …} or {type:"remote", url}. */
static int
dirconfig_check_mcp(const cJSON *b, char **cause)
{
	const char *type = json_get_str(b, "type");

	if (type != NULL && strcmp(type, "local") == 0) {
		if (json_get_str(b, "command") == NULL ||
		    *json_get_str(b, "command") == '\0' ||
		    !dirconfig_opt(b, "args", dirconfig_str_array) ||
		    !dirconfig_opt(b, "env", dirconfig_str_map) ||
		    !dirconfig_opt(b, "cwd", json_is_str)) {
			*cause = xstrdup("a local MCP server needs 'command' "
					 "(a string); 'args' an array of "
					 "strings, 'env' an object of strings, "
					 "'cwd' a string");
			return (-1);
		}
	} else if (type != NULL && strcmp(type, "remote") == 0) {
		if (json_get_str(b, "url") == NULL ||
		    *json_get_str(b, "url") == '\0' ||
		    !dirconfig_opt(b, "headers", dirconfig_str_map) ||
		    !dirconfig_opt(b, "transport", json_is_str)) {
			*cause = xstrdup("a remote MCP server needs 'url' (a "
					 "string); 'headers' an object of "
					 "strings");
			return (-1);
		}
	} else {
		*cause = xstrdup("'type' must be \"local\" or \"remote\"");
		return (-1);
	}
	if (!dirconfig_opt(b, "enabled", json_is_bool) ||
	    !dirconfig_opt(b, "timeoutMs", json_is_num)) {
		*cause = xstrdup("'enabled' must be a boolean, 'timeoutMs' a "
				 "number");
		return (-1);
	}
	return (0);
}

/*
 * A SkillsConfig: {sources: [{type, source, ref?, subpath?, skills?}]}.
 * agentd reads skills from the sandbox's disk only: a source of type
 * "local" is a folder; github and git sources would need a fetch agentd
 * does not make, so they are refused (422) rather than kept and ignored.
 */
static int
dirconfig_check_skills(const cJSON *b, char **cause)
{
	const cJSON *srcs, *e;
	const char  *type, *src;

	if ((srcs = json_get_arr(b, "sources")) == NULL) {
		*cause = xstrdup("'sources' (an array) is required");
		return (400);
	}
	JSON_FOREACH(e, srcs) {
		type = json_get_str(e, "type");
		src = json_get_str(e, "source");
		if (type == NULL || src == NULL || *src == '\0' ||
		    !dirconfig_opt(e, "subpath", json_is_str) ||
		    !dirconfig_opt(e, "ref", json_is_str) ||
		    !dirconfig_opt(e, "skills", dirconfig_str_array)) {
			*cause = xstrdup(
			    "each source needs 'type' and 'source' (strings); "
			    "'subpath' and 'ref' strings, 'skills' an array of "
			    "strings");
			return (400);
		}
		if (strcmp(type, "local") != 0) {
			xasprintf(cause,
			    "skill source type '%s': agentd takes only "
			    "\"local\" (a folder in the sandbox)",
			    type);
			return (422);
		}
		if (*src != '/') {
			*cause = xstrdup("a local skill source must be an "
					 "absolute path");
			return (400);
		}
	}
	return (0);
}

static const char *
dirconfig_name_arg(enum dirconfig_kind kind)
{
	return (kind == DIRCONFIG_MCP ? "mcpName" : "skillName");
}

/* The key and a checked name: 0, or 400 with *cause. */
static int
dirconfig_args(enum dirconfig_kind kind, const char *dir, const char *name,
    char **key, char **cause)
{
	if ((*key = dirconfig_key(dir, cause)) == NULL)
		return (400);
	if (!dirconfig_name_ok(name)) {
		xasprintf(cause,
		    "'%s' must be 1 to %d letters, digits, '_' or '-'",
		    dirconfig_name_arg(kind), DIRCONFIG_NAME_MAX);
		free(*key);
		*key = NULL;
		return (400);
	}
	return (0);
}

/* dirconfig_args, then the file of kind: 0, or 400 or 500 with *cause. */
static int
dirconfig_open(enum dirconfig_kind kind, const char *dir, const char *name,
    char **key, cJSON **all, char **cause)
{
	int status;

	if ((status = dirconfig_args(kind, dir, name, key, cause)) != 0)
		return (status);
	if ((*all = dirconfig_read(kind, cause)) == NULL) {
		free(*key);
		*key = NULL;
		return (500);
	}
	return (0);
}

/* GET: the entry, or 400, 404, 500 with *cause. */
int
dirconfig_get(enum dirconfig_kind kind, const char *dir, const char *name,
    cJSON **out, char **cause)
{
	cJSON	    *all;
	const cJSON *e;
	char	    *key;
	int	     status;

	if ((status = dirconfig_open(kind, dir, name, &key, &all, cause)) != 0)
		return (status);
	if ((e = json_get(json_get_obj(all, key), name)) == NULL) {
		xasprintf(cause, "no %s '%s' for %s",
		    kind == DIRCONFIG_MCP ? "MCP server" : "skills entry", name,
		    key);
		status = 404;
	} else
		*out = json_dup(e);
	json_free(all);
	free(key);
	return (status);
}

/* PUT: 0, or 400, 422, 413, 500, 507 with *cause. */
int
dirconfig_set(enum dirconfig_kind kind, const char *dir, const char *name,
    const cJSON *body, char **cause)
{
	cJSON *all, *d;
	char  *key;
	int    status;

	if ((status = dirconfig_args(kind, dir, name, &key, cause)) != 0)
		return (status);
	if (!json_is_obj(body)) {
		*cause = xstrdup("the body must be a JSON object");
		free(key);
		return (400);
	}
	if (kind == DIRCONFIG_MCP)
		status = dirconfig_check_mcp(body, cause) == 0 ? 0 : 400;
	else
		status = dirconfig_check_skills(body, cause);
	if (status != 0) {
		free(key);
		return (status);
	}
	if ((all = dirconfig_read(kind, cause)) == NULL) {
		free(key);
		return (500);
	}
	if ((d = json_get_obj(all, key)) == NULL) {
		json_free(json_detach(all, key));
		d = json_object();
		json_set(all, key, d);
	}
	json_free(json_detach(d, name));
	json_set(d, name, json_dup(body));
	status = dirconfig_write(kind, all, cause);
	json_free(all);
	free(key);
	return (status);
}

/* DELETE: 0 whether or not it was there, or 400, 500 with *cause. */
int
dirconfig_delete(
    enum dirconfig_kind kind, const char *dir, const char *name, char **cause)
{
	cJSON *all, *d, *gone;
	char  *key;
	int    status;

	if ((status = dirconfig_open(kind, dir, name, &key, &all, cause)) != 0)
		return (status);
	if ((d = json_get_obj(all, key)) != NULL &&
	    (gone = json_detach(d, name)) != NULL) {
		json_free(gone);
		if (json_size(d) == 0)
			json_free(json_detach(all, key));
		status = dirconfig_write(kind, all, cause);
	}
	json_free(all);
	free(key);
	return (status);
}

/* [{name, value}] of an object of strings (ACP's env and headers). */
static cJSON *
dirconfig_pairs(const cJSON *map)
{
	const cJSON *e;
	cJSON	    *arr, *p;

	arr = json_array();
	JSON_FOREACH(e, map) {
		p = json_object();
		json_set_str(p, "name", json_key(e));
		json_set_str(p, "value", json_str(e));
		json_append(arr, p);
	}
	return (arr);
}

/* A McpServerConfig as an ACP McpServer named name. */
static cJSON *
dirconfig_acp_server(const char *name, const cJSON *c)
{
	const char *transport;
	cJSON	   *o;

	o = json_object();
	json_set_str(o, "name", name);
	if (strcmp(json_get_str(c, "type"), "local") == 0) {
		json_set_str(o, "command", json_get_str(c, "command"));
		json_set(o, "args",
		    json_get_arr(c, "args") != NULL
			? json_dup(json_get_arr(c, "args"))
			: json_array());
		json_set(o, "env", dirconfig_pairs(json_get_obj(c, "env")));
		return (o);
	}
	transport = json_get_str(c, "transport");
	json_set_str(o, "type",
	    transport != NULL && strcmp(transport, "sse") == 0 ? "sse"
							       : "http");
	json_set_str(o, "url", json_get_str(c, "url"));
	json_set(o, "headers", dirconfig_pairs(json_get_obj(c, "headers")));
	return (o);
}

/* 1 if the ACP list has a server of that name. */
static int
dirconfig_has(const cJSON *list, const char *name)
{
	const cJSON *e;

	JSON_FOREACH(e, list) {
		if (json_get_str(e, "name") != NULL &&
		    strcmp(json_get_str(e, "name"), name) == 0)
			return (1);
	}
	return (0);
}

/* An object of strings from ACP's [{name, value}]. */
static cJSON *
dirconfig_map(const cJSON *pairs)
{
	const cJSON *e;
	cJSON	    *o;

	o = json_object();
	JSON_FOREACH(e, pairs) {
		if (json_get_str(e, "name") != NULL &&
		    json_get_str(e, "value") != NULL)
			json_set_str(o, json_get_str(e, "name"),
			    json_get_str(e, "value"));
	}
	return (o);
}

/* Claude Code's {"mcpServers": {name: {…}}} from an ACP list. */
static cJSON *
dirconfig_claude(const cJSON *list)
{
	const cJSON *e;
	cJSON	    *servers, *s, *top;
	const char  *type;

	servers = json_object();
	JSON_FOREACH(e, list) {
		if (json_get_str(e, "name") == NULL ||
		    json_get(servers, json_get_str(e, "name")) != NULL)
			continue;
		s = json_object();
		type = json_get_str(e, "type");
		if (type != NULL && json_get_str(e, "url") != NULL) {
			json_set_str(s, "type", type);
			json_set_str(s, "url", json_get_str(e, "url"));
			json_set(s, "headers",
			    dirconfig_map(json_get_arr(e, "headers")));
		} else if (json_get_str(e, "command") != NULL) {
			json_set_str(s, "type", "stdio");
			json_set_str(s, "command", json_get_str(e, "command"));
			json_set(s, "args",
			    json_get_arr(e, "args") != NULL
				? json_dup(json_get_arr(e, "args"))
				: json_array());
			json_set(
			    s, "env", dirconfig_map(json_get_arr(e, "env")));
		} else {
			json_free(s);
			continue;
		}
		json_set(servers, json_get_str(e, "name"), s);
	}
	top = json_object();
	json_set(top, "mcpServers", servers);
	return (top);
}

/* 1 if path/SKILL.md is a regular file. */
static int
dirconfig_is_skill(const char *path)
{
	struct stat sb;
	char	   *f;
	int	    r;

	xasprintf(&f, "%s/SKILL.md", path);
	r = stat(f, &sb) == 0 && S_ISREG(sb.st_mode);
	free(f);
	return (r);
}

/* Link links/<name> to the skill folder path, once per name. */
static void
dirconfig_link(const char *links, const char *path, const char *name, int *n)
{
	char *to;

	if (*n >= DIRCONFIG_LINKS || !dirconfig_name_ok(name) ||
	    !dirconfig_is_skill(path))
		return;
	xasprintf(&to, "%s/%s", links, name);
	if (symlink(path, to) == 0)
		(*n)++;
	else if (errno != EEXIST)
		log_warn("%s: %s", to, strerror(errno));
	free(to);
}

/*
 * The skill folders of one local source: the named ones under it, or the
 * source itself when it is a skill, or each of its subfolders that is.
 */
static void
dirconfig_source(const cJSON *src, const char *links, int *n)
{
	const cJSON   *names, *e;
	const char    *sub = json_get_str(src, "subpath"), *base;
	char	      *root, *path;
	DIR	      *d;
	struct dirent *de;

	if (sub != NULL && *sub != '\0')
		xasprintf(&root, "%s/%s", json_get_str(src, "source"), sub);
	else
		root = xstrdup(json_get_str(src, "source"));
	if ((names = json_get_arr(src, "skills")) != NULL &&
	    json_size(names) > 0) {
		JSON_FOREACH(e, names) {
			if (json_str(e) == NULL ||
			    !dirconfig_name_ok(json_str(e)))
				continue;
			xasprintf(&path, "%s/%s", root, json_str(e));
			dirconfig_link(links, path, json_str(e), n);
			free(path);
		}
	} else if (dirconfig_is_skill(root)) {
		base = strrchr(root, '/');
		dirconfig_link(links, root, base + 1, n);
	} else if ((d = opendir(root)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			xasprintf(&path, "%s/%s", root, de->d_name);
			dirconfig_link(links, path, de->d_name, n);
			free(path);
		}
		closedir(d);
	}
	free(root);
}

/* Remove the links and folders an earlier start made under dir. */
static void
dirconfig_clear_links(const char *dir)
{
	char	      *p;
	DIR	      *d;
	struct dirent *de;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' ||
			(de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		xasprintf(&p, "%s/%s", dir, de->d_name);
		(void)unlink(p); /* links only: never into a skill */
		free(p);
	}
	closedir(d);
}

static char *
dirconfig_launch_dir(const char *id)
{
	char *dir;

	xasprintf(&dir, "%s/launch/%s", home_data_dir(), id);
	return (dir);
}

/*
 * Append to list the servers of a {name: McpServerConfig} map that are
 * enabled, well formed and not named in list already (an earlier source
 * wins a name).
 */
static void
dirconfig_add_servers(cJSON *list, const cJSON *map)
{
	const cJSON *e;
	char	    *err = NULL;
	int	     on;

	JSON_FOREACH(e, map) {
		if (json_get_bool(e, "enabled", &on) == 0 && !on)
			continue;
		if (!json_is_obj(e) || dirconfig_has(list, json_key(e)) ||
		    dirconfig_check_mcp(e, &err) != 0) {
			free(err);
			err = NULL;
			continue;
		}
		json_append(list, dirconfig_acp_server(json_key(e), e));
	}
}

/* Link the skills of a {name: SkillsConfig} map; 0, or -1 with *cause. */
static int
dirconfig_add_skills(const cJSON *map, const char *links, int *n, char **cause)
{
	const cJSON *e, *src;

	JSON_FOREACH(e, map) {
		JSON_FOREACH(src, json_get_arr(e, "sources")) {
			if (json_get_str(src, "type") == NULL ||
			    strcmp(json_get_str(src, "type"), "local") != 0 ||
			    json_get_str(src, "source") == NULL)
				continue;
			if (*n == 0 && store_mkdirs(links) != 0) {
				xasprintf(
				    cause, "%s: %s", links, strerror(errno));
				return (-1);
			}
			dirconfig_source(src, links, n);
		}
	}
	return (0);
}

/*
 * A session's own servers or skills (POST /v1/sessions/{id}/config):
 * {name: entry}, each as the directory's routes take it, at most
 * DIRCONFIG_LINKS entries. 0, or 400 or 422 with *cause.
 */
int
dirconfig_check_own(enum dirconfig_kind kind, const cJSON *map, char **cause)
{
	const char  *what = kind == DIRCONFIG_MCP ? "mcp" : "skills";
	const cJSON *e;
	char	    *why;
	int	     status;

	if (!json_is_obj(map)) {
		xasprintf(cause,
		    "'%s' must be an object of name: %s (as PUT "
		    "/v1/config/%s takes it)",
		    what,
		    kind == DIRCONFIG_MCP ? "McpServerConfig" : "SkillsConfig",
		    what);
		return (400);
	}
	if (json_size(map) > DIRCONFIG_LINKS) {
		xasprintf(cause, "'%s' has more than %d entries", what,
		    DIRCONFIG_LINKS);
		return (400);
	}
	JSON_FOREACH(e, map) {
		if (!dirconfig_name_ok(json_key(e))) {
			xasprintf(cause,
			    "%s name '%.64s' must be 1 to %d letters, digits, "
			    "'_' or '-'",
			    what, json_key(e), DIRCONFIG_NAME_MAX);
			return (400);
		}
		why = NULL;
		if (!json_is_obj(e)) {
			why = xstrdup("must be an object");
			status = 400;
		} else if (kind == DIRCONFIG_MCP)
			status = dirconfig_check_mcp(e, &why) == 0 ? 0 : 400;
		else
			status = dirconfig_check_skills(e, &why);
		if (status != 0) {
			xasprintf(cause, "%s '%s': %s", what, json_key(e), why);
			free(why);
			return (status);
		}
	}
	return (0);
}

/*
 * What the session's agent gets at this start: the merged ACP list (the
 * session's own servers, then the create request's, then the
 * directory's; the first wins a name), and the Claude file and skills
 * folder when there is something to put in them. 0, or -1 with *cause
 * (a file agentd could not write).
 */
int
dirconfig_launch(const char *id, const char *cwd, const cJSON *mcp,
    const cJSON *own_mcp, const cJSON *own_skills, struct dirconfig_launch *out,
    char **cause)
{
	cJSON	    *all, *claude;
	const cJSON *e;
	char	    *key, *dir, *links, *text, *err = NULL;
	size_t	     len;
	int	     n = 0;

	memset(out, 0, sizeof *out);
	out->mcp = json_array();
	dirconfig_add_servers(out->mcp, own_mcp);
	JSON_FOREACH(e, json_is_arr(mcp) ? mcp : NULL) {
		if (json_get_str(e, "name") == NULL ||
		    !dirconfig_has(out->mcp, json_get_str(e, "name")))
			json_append(out->mcp, json_dup(e));
	}
	key = dirconfig_key(cwd, &err);
	free(err);
	err = NULL;
	if (key != NULL &&
	    (all = dirconfig_read(DIRCONFIG_MCP, &err)) != NULL) {
		dirconfig_add_servers(out->mcp, json_get_obj(all, key));
		json_free(all);
	}
	if (err != NULL) {
		log_warn("%s", err);
		free(err);
		err = NULL;
	}
	dir = dirconfig_launch_dir(id);
	xasprintf(&links, "%s/skills/.claude/skills", dir);
	dirconfig_clear_links(links);
	if (dirconfig_add_skills(own_skills, links, &n, cause) != 0)
		goto fail;
	if (key != NULL &&
	    (all = dirconfig_read(DIRCONFIG_SKILLS, &err)) != NULL) {
		if (dirconfig_add_skills(
			json_get_obj(all, key), links, &n, cause) != 0) {
			json_free(all);
			goto fail;
		}
		json_free(all);
	}
	free(err);
	err = NULL;
	if (n > 0)
		xasprintf(&out->skills_dir, "%s/skills", dir);
	if (json_size(out->mcp) > 0) {
		if (store_mkdirs(dir) != 0) {
			xasprintf(cause, "%s: %s", dir, strerror(errno));
			goto fail;
		}
		claude = dirconfig_claude(out->mcp);
		text = json_print(claude, &len);
		json_free(claude);
		if (store_write_file(dir, "claude-mcp.json", text, len,
			DIRCONFIG_MAX, cause) != 0) {
			free(text);
			goto fail;
		}
		free(text);
		xasprintf(&out->mcp_file, "%s/claude-mcp.json", dir);
	}
	free(links);
	free(dir);
	free(key);
	return (0);

fail:
	free(links);
	free(dir);
	free(key);
	dirconfig_launch_free(out);
	return (-1);
}

void
dirconfig_launch_free(struct dirconfig_launch *l)
{
	json_free(l->mcp);
	free(l->mcp_file);
	free(l->skills_dir);
	memset(l, 0, sizeof *l);
}

/* The session is gone: its launch folder too (links, never their targets). */
void
dirconfig_forget(const char *id)
{
	char *dir, *p;

	if (*id == '\0' || strchr(id, '/') != NULL || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0)
		return; /* never a path out of launch/ */
	dir = dirconfig_launch_dir(id);
	xasprintf(&p, "%s/skills/.claude/skills", dir);
	dirconfig_clear_links(p);
	(void)rmdir(p);
	free(p);
	xasprintf(&p, "%s/skills/.claude", dir);
	(void)rmdir(p);
	free(p);
	xasprintf(&p, "%s/skills", dir);
	(void)rmdir(p);
	free(p);
	xasprintf(&p, "%s/claude-mcp.json", dir);
	(void)unlink(p);
	free(p);
	(void)rmdir(dir);
	free(dir);
}
