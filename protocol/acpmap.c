/*
 * acpmap.c: universal events as ACP session/update notifications, for the
 * ACP-over-HTTP facade (supervisor/http/acpserver.c). No I/O: an event in,
 * messages out, every shape from acpmsg.c.
 *
 * Live, an assistant message streams as agent_message_chunk (messageId =
 * item id), reasoning as agent_thought_chunk, a tool_call item becomes a
 * tool_call (toolCallId = call_id, kind guessed from the tool's name,
 * rawInput = its arguments) and its tool_result a tool_call_update
 * (completed or failed, the output as text, file_ref diffs as diff
 * content). In replay (session/load) deltas are skipped and each
 * completed item is sent whole, the user's messages included as
 * user_message_chunk, as ACP agents replay a history. Status and system
 * items have no ACP counterpart and are left out; permissions, questions
 * and turn ends need request ids and are acpserver.c's.
 *
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

/* An item still streaming: which chunk its deltas become. */
struct acpmap_item {
	char		   id[24];
	enum acpmsg_update update; /* the chunk its deltas become */
	int		   deltas;
	LIST_ENTRY(acpmap_item) entry;
};

struct acpmap {
	char *session_id;
	LIST_HEAD(, acpmap_item) items;
};

struct acpmap *
acpmap_new(const char *session_id)
{
	struct acpmap *m;

	m = xcalloc(1, sizeof *m);
	m->session_id = xstrdup(session_id);
	LIST_INIT(&m->items);
	return (m);
}

static void
acpmap_item_free(struct acpmap_item *it)
{
	LIST_REMOVE(it, entry);
	free(it);
}

void
acpmap_free(struct acpmap *m)
{
	struct acpmap_item *it, *it1;

	if (m == NULL)
		return;
	LIST_FOREACH_SAFE(it, &m->items, entry, it1)
		acpmap_item_free(it);
	free(m->session_id);
	free(m);
}

static struct acpmap_item *
acpmap_item_find(struct acpmap *m, const char *id)
{
	struct acpmap_item *it;

	LIST_FOREACH(it, &m->items, entry) {
		if (strcmp(it->id, id) == 0)
			return (it);
	}
	return (NULL);
}

/* A chunk of kind for item_id, unless there is no text. */
static void
acpmap_chunk(struct acpmap *m, cJSON *out, enum acpmsg_update kind,
    const char *item_id, const char *text)
{
	if (text != NULL && *text != '\0')
		json_append(out,
		    acpmsg_update(
			m->session_id, acpmsg_chunk(kind, text, item_id)));
}

static const cJSON *
acpmap_part(const cJSON *item, const char *type)
{
	const cJSON *p;
	const char  *t;

	JSON_FOREACH(p, json_get_arr(item, "content")) {
		if ((t = json_get_str(p, "type")) != NULL &&
		    strcmp(t, type) == 0)
			return (p);
	}
	return (NULL);
}

/* A tool_call or tool_call_update for a tool_call item. */
static void
acpmap_tool_call(struct acpmap *m, cJSON *out, const cJSON *item,
    enum acpmsg_update update, enum acpmsg_status status)
{
	const cJSON *part = acpmap_part(item, "tool_call");
	const char  *name, *args, *path, *err;
	cJSON	    *u, *input, *loc, *locs;

	if (part == NULL || json_get_str(part, "call_id") == NULL)
		return;
	name = json_get_str(part, "name");
	u = acpmsg_tool_call((int)update, json_get_str(part, "call_id"),
	    name != NULL ? name : "tool", acpmsg_tool_kind(name), status);
	args = json_get_str(part, "arguments");
	if (args != NULL && *args != '\0' &&
	    (input = json_parse(args, strlen(args), &err)) != NULL) {
		if ((path = json_get_str(input, "path")) != NULL ||
		    (path = json_get_str(input, "file_path")) != NULL) {
			loc = json_object();
			json_set_str(loc, "path", path);
			locs = json_array();
			json_append(locs, loc);
			json_set(u, "locations", locs);
		}
		json_set(u, "rawInput", input);
	}
	json_append(out, acpmsg_update(m->session_id, u));
}

/*
 * A file_ref with a unified diff as ACP diff content: the hunks' old and
 * new lines (ACP wants whole texts; the hunks are what we have). A diff
 * from /dev/null is a new file.
 */
static cJSON *
acpmap_diff(const cJSON *part)
{
	const char *diff = json_get_str(part, "diff"), *l, *e;
	struct buf  old, new;
	int	    created = 0;
	cJSON	   *d;

	buf_init(&old, DIFF_MAX);
	buf_init(&new, DIFF_MAX);
	for (l = diff; l != NULL && *l != '\0'; l = *e != '\0' ? e + 1 : e) {
		if ((e = strchr(l, '\n')) == NULL)
			e = l + strlen(l);
		if (strncmp(l, "--- /dev/null", 13) == 0)
			created = 1;
		if (strncmp(l, "---", 3) == 0 || strncmp(l, "+++", 3) == 0 ||
		    strncmp(l, "@@", 2) == 0 || *l == '\\' || e == l)
			continue;
		/* The line without its mark, with a newline. */
		if (*l == ' ' || *l == '-')
			(void)buf_printf(
			    &old, "%.*s\n", (int)(e - l - 1), l + 1);
		if (*l == ' ' || *l == '+')
			(void)buf_printf(
			    &new, "%.*s\n", (int)(e - l - 1), l + 1);
	}
	d = acpmsg_content_diff(json_get_str(part, "path"),
	    created ? NULL : (old.p != NULL ? old.p : ""),
	    new.p != NULL ? new.p : "");
	buf_free(&old);
	buf_free(&new);
	return (d);
}

/* A tool_result item as a tool_call_update. */
static void
acpmap_tool_result(struct acpmap *m, cJSON *out, const cJSON *item)
{
	const cJSON *res = acpmap_part(item, "tool_result"), *p;
	const char  *st = json_get_str(item, "status"), *t, *output;
	cJSON	    *u, *content;
	int	     is_error = 0;

	if (res == NULL || json_get_str(res, "call_id") == NULL)
		return;
	(void)json_get_bool(res, "is_error", &is_error);
	content = json_array();
	if ((output = json_get_str(res, "output")) != NULL && *output != '\0')
		json_append(content, acpmsg_content_text(output));
	JSON_FOREACH(p, json_get_arr(item, "content")) {
		if ((t = json_get_str(p, "type")) != NULL &&
		    strcmp(t, "file_ref") == 0 && json_get_str(p, "path") &&
		    json_get_str(p, "diff") != NULL)
			json_append(content, acpmap_diff(p));
	}
	u = acpmsg_tool_call(ACPMSG_TOOL_CALL_UPDATE,
	    json_get_str(res, "call_id"), NULL, NULL,
	    is_error || (st != NULL && strcmp(st, "failed") == 0)
		? ACPMSG_FAILED
		: ACPMSG_COMPLETED);
	json_set(u, "content", content);
	json_set_str(u, "rawOutput", output);
	json_append(out, acpmsg_update(m->session_id, u));
}

/* The chunk an item's text streams as (enum acpmsg_update), or -1. */
static int
acpmap_chunk_kind(const cJSON *item)
{
	const char *kind = json_get_str(item, "kind");
	const char *role = json_get_str(item, "role");

	if (kind == NULL)
		return (-1);
	if (strcmp(kind, "reasoning") == 0)
		return (ACPMSG_THOUGHT_CHUNK);
	if (strcmp(kind, "message") != 0 || role == NULL)
		return (-1);
	if (strcmp(role, "user") == 0)
		return (ACPMSG_USER_CHUNK);
	if (strcmp(role, "assistant") == 0)
		return (ACPMSG_AGENT_CHUNK);
	return (-1);
}

static void
acpmap_started(struct acpmap *m, cJSON *out, const cJSON *item, int replay)
{
	int		    chunk = acpmap_chunk_kind(item);
	const char	   *id = json_get_str(item, "item_id");
	const char	   *kind = json_get_str(item, "kind");
	struct acpmap_item *it;

	if (replay || id == NULL || kind == NULL)
		return;
	if (strcmp(kind, "tool_call") == 0)
		acpmap_tool_call(
		    m, out, item, ACPMSG_TOOL_CALL, ACPMSG_IN_PROGRESS);
	if (chunk < 0 || chunk == ACPMSG_USER_CHUNK ||
	    strlen(id) >= sizeof it->id || acpmap_item_find(m, id) != NULL)
		return; /* the user's text came from the client */
	it = xcalloc(1, sizeof *it);
	snprintf(it->id, sizeof it->id, "%s", id);
	it->update = chunk;
	LIST_INSERT_HEAD(&m->items, it, entry);
}

static void
acpmap_completed(struct acpmap *m, cJSON *out, const cJSON *item, int replay)
{
	int		    chunk = acpmap_chunk_kind(item);
	const char	   *id = json_get_str(item, "item_id"), *st;
	const char	   *kind = json_get_str(item, "kind");
	struct acpmap_item *it = NULL;
	char		   *text;

	if (id == NULL || kind == NULL)
		return;
	if (strcmp(kind, "tool_call") == 0) {
		st = json_get_str(item, "status");
		if (replay || (st != NULL && strcmp(st, "failed") == 0))
			acpmap_tool_call(m, out, item,
			    replay ? ACPMSG_TOOL_CALL : ACPMSG_TOOL_CALL_UPDATE,
			    st != NULL && strcmp(st, "failed") == 0
				? ACPMSG_FAILED
				: ACPMSG_COMPLETED);
		else
			acpmap_tool_call(m, out, item, ACPMSG_TOOL_CALL_UPDATE,
			    ACPMSG_IN_PROGRESS); /* the final arguments */
		return;
	}
	if (strcmp(kind, "tool_result") == 0) {
		acpmap_tool_result(m, out, item);
		return;
	}
	if (chunk < 0)
		return;
	if (!replay && (it = acpmap_item_find(m, id)) == NULL &&
	    chunk == ACPMSG_USER_CHUNK)
		return; /* the client sent it: no echo */
	if (replay || it == NULL || it->deltas == 0) {
		text = json_join(json_get_arr(item, "content"), "text", "");
		acpmap_chunk(m, out, chunk, id, text);
		free(text);
	}
	if (it != NULL)
		acpmap_item_free(it);
}

/*
 * The ACP messages (an array, maybe empty) for one universal event; in
 * replay mode as a history for session/load.
 */
cJSON *
acpmap_event(struct acpmap *m, const cJSON *ev, int replay)
{
	const char	   *type = json_get_str(ev, "type");
	const cJSON	   *data = json_get_obj(ev, "data");
	struct acpmap_item *it;
	cJSON		   *out;

	out = json_array();
	if (type == NULL)
		return (out);
	if (strcmp(type, "item.started") == 0)
		acpmap_started(m, out, json_get_obj(data, "item"), replay);
	else if (strcmp(type, "item.completed") == 0)
		acpmap_completed(m, out, json_get_obj(data, "item"), replay);
	else if (strcmp(type, "item.delta") == 0 && !replay &&
	    json_get_str(data, "item_id") != NULL &&
	    (it = acpmap_item_find(m, json_get_str(data, "item_id"))) != NULL &&
	    it->update != ACPMSG_USER_CHUNK) {
		it->deltas++;
		acpmap_chunk(
		    m, out, it->update, it->id, json_get_str(data, "delta"));
	}
	return (out);
}

/* Universal turn usage as ACP's PromptResponse.usage, or NULL. */
cJSON *
acpmap_usage(const cJSON *usage)
{
	static const char *const names[4] = { "input_tokens", "output_tokens",
		"cache_read_tokens", "cache_write_tokens" };
	long long		 v[4];
	size_t			 i;

	if (!json_is_obj(usage))
		return (NULL);
	for (i = 0; i < nitems(v); i++) {
		v[i] = 0;
		(void)json_get_int(usage, names[i], &v[i]);
	}
	return (acpmsg_usage(v[0], v[1], v[2], v[3]));
}
