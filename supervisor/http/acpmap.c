/*
 * acpmap.c: universal events as ACP session/update notifications, for the
 * ACP servers of acpserver.c. No I/O: an event in, messages out.
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
 * Every shape here is checked by the ACP SDK's schema on the client side
 * (zod): a member it does not know, or a null where it wants a string,
 * makes the client drop the whole update.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* An item still streaming: which chunk its deltas become. */
struct acpmap_item {
	char	    id[24];
	const char *update; /* "agent_message_chunk", … */
	int	    deltas;
	LIST_ENTRY(acpmap_item) entry;
};

struct acpmap {
	char *session_id;
	LIST_HEAD(, acpmap_item) items;
};

/* Tool name (a substring, any case) to ACP ToolKind; first match wins. */
static const struct {
	const char *word;
	const char *kind;
} acpmap_kinds[] = {
	{ "read", "read" },
	{ "view", "read" },
	{ "cat", "read" },
	{ "write", "edit" },
	{ "edit", "edit" },
	{ "patch", "edit" },
	{ "delete", "delete" },
	{ "remove", "delete" },
	{ "move", "move" },
	{ "rename", "move" },
	{ "grep", "search" },
	{ "glob", "search" },
	{ "search", "search" },
	{ "find", "search" },
	{ "list", "search" },
	{ "fetch", "fetch" },
	{ "web", "fetch" },
	{ "http", "fetch" },
	{ "bash", "execute" },
	{ "shell", "execute" },
	{ "exec", "execute" },
	{ "command", "execute" },
	{ "run", "execute" },
	{ "echo", "execute" },
	{ "think", "think" },
	{ "todo", "think" },
	{ "plan", "think" },
};

/* Universal stop reasons to ACP's; NULL: the turn failed. */
static const struct {
	const char *universal;
	const char *acp;
} acpmap_stops[] = {
	{ "end_turn", "end_turn" },
	{ "cancelled", "cancelled" },
	{ "max_tokens", "max_tokens" },
	{ "max_turns", "max_turn_requests" },
	{ "max_turn_requests", "max_turn_requests" },
	{ "refusal", "refusal" },
	{ "error", NULL },
	{ "interrupted", NULL },
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
	if (m == NULL)
		return;
	while (!LIST_EMPTY(&m->items))
		acpmap_item_free(LIST_FIRST(&m->items));
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

/* Append a session/update notification carrying update to out. */
static void
acpmap_emit(struct acpmap *m, cJSON *out, cJSON *update)
{
	cJSON *params;

	params = json_object();
	json_set_str(params, "sessionId", m->session_id);
	json_set(params, "update", update);
	json_append(out, jsonrpc_notification(1, "session/update", params));
}

static void
acpmap_chunk(struct acpmap *m, cJSON *out, const char *update,
    const char *item_id, const char *text)
{
	cJSON *u, *c;

	if (text == NULL || *text == '\0')
		return;
	c = json_object();
	json_set_str(c, "type", "text");
	json_set_str(c, "text", text);
	u = json_object();
	json_set_str(u, "sessionUpdate", update);
	json_set(u, "content", c);
	if (item_id != NULL)
		json_set_str(u, "messageId", item_id);
	acpmap_emit(m, out, u);
}

/* The text of an item's text or reasoning parts, malloc'd. */
static char *
acpmap_text(const cJSON *item)
{
	const cJSON *p;
	const char  *t;
	char	    *s = xstrdup(""), *n;

	JSON_FOREACH(p, json_get_arr(item, "content")) {
		if ((t = json_get_str(p, "text")) == NULL)
			continue;
		xasprintf(&n, "%s%s", s, t);
		free(s);
		s = n;
	}
	return (s);
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

/* ACP's ToolKind for a tool name. */
const char *
acpmap_tool_kind(const char *name)
{
	size_t i, len, j;

	if (name == NULL)
		return ("other");
	len = strlen(name);
	for (i = 0; i < nitems(acpmap_kinds); i++) {
		for (j = 0; j + strlen(acpmap_kinds[i].word) <= len; j++) {
			if (strncasecmp(name + j, acpmap_kinds[i].word,
				strlen(acpmap_kinds[i].word)) == 0)
				return (acpmap_kinds[i].kind);
		}
	}
	return ("other");
}

/* A tool_call or tool_call_update for a tool_call item. */
static void
acpmap_tool_call(struct acpmap *m, cJSON *out, const cJSON *item,
    const char *update, const char *status)
{
	const cJSON *part = acpmap_part(item, "tool_call");
	const char  *name, *args, *path, *err;
	cJSON	    *u, *input, *loc, *locs;

	if (part == NULL || json_get_str(part, "call_id") == NULL)
		return;
	name = json_get_str(part, "name");
	u = json_object();
	json_set_str(u, "sessionUpdate", update);
	json_set_str(u, "toolCallId", json_get_str(part, "call_id"));
	json_set_str(u, "title", name != NULL ? name : "tool");
	json_set_str(u, "kind", acpmap_tool_kind(name));
	json_set_str(u, "status", status);
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
	acpmap_emit(m, out, u);
}

/* Append one line of a unified diff hunk to old or new text. */
static void
acpmap_diff_line(char **old, char **new, const char *l, size_t len)
{
	char *t;

	if (len > 0 && (l[0] == ' ' || l[0] == '-')) {
		xasprintf(&t, "%s%.*s\n", *old, (int)len - 1, l + 1);
		free(*old);
		*old = t;
	}
	if (len > 0 && (l[0] == ' ' || l[0] == '+')) {
		xasprintf(&t, "%s%.*s\n", *new, (int)len - 1, l + 1);
		free(*new);
		*new = t;
	}
}

/*
 * A file_ref with a unified diff as ACP diff content: the hunks' old and
 * new lines (ACP wants whole texts; the hunks are what we have).
 */
static cJSON *
acpmap_diff(const cJSON *part)
{
	const char *diff = json_get_str(part, "diff"), *l, *e;
	char	   *old = xstrdup(""), *new = xstrdup("");
	int	    created = 0;
	cJSON	   *d;

	for (l = diff; l != NULL && *l != '\0'; l = *e != '\0' ? e + 1 : e) {
		if ((e = strchr(l, '\n')) == NULL)
			e = l + strlen(l);
		if (strncmp(l, "--- /dev/null", 13) == 0)
			created = 1;
		if (strncmp(l, "---", 3) == 0 || strncmp(l, "+++", 3) == 0 ||
		    strncmp(l, "@@", 2) == 0 || *l == '\\')
			continue;
		acpmap_diff_line(&old, &new, l, (size_t)(e - l));
	}
	d = json_object();
	json_set_str(d, "type", "diff");
	json_set_str(d, "path", json_get_str(part, "path"));
	if (!created)
		json_set_str(d, "oldText", old);
	json_set_str(d, "newText", new);
	free(old);
	free(new);
	return (d);
}

/* A tool_result item as a tool_call_update. */
static void
acpmap_tool_result(struct acpmap *m, cJSON *out, const cJSON *item)
{
	const cJSON *res = acpmap_part(item, "tool_result"), *p;
	const char  *st = json_get_str(item, "status"), *t, *output;
	cJSON	    *u, *content, *c, *text;
	int	     is_error = 0;

	if (res == NULL || json_get_str(res, "call_id") == NULL)
		return;
	(void)json_get_bool(res, "is_error", &is_error);
	content = json_array();
	if ((output = json_get_str(res, "output")) != NULL && *output != '\0') {
		text = json_object();
		json_set_str(text, "type", "text");
		json_set_str(text, "text", output);
		c = json_object();
		json_set_str(c, "type", "content");
		json_set(c, "content", text);
		json_append(content, c);
	}
	JSON_FOREACH(p, json_get_arr(item, "content")) {
		if ((t = json_get_str(p, "type")) != NULL &&
		    strcmp(t, "file_ref") == 0 && json_get_str(p, "path") &&
		    json_get_str(p, "diff") != NULL)
			json_append(content, acpmap_diff(p));
	}
	u = json_object();
	json_set_str(u, "sessionUpdate", "tool_call_update");
	json_set_str(u, "toolCallId", json_get_str(res, "call_id"));
	json_set_str(u, "status",
	    is_error || (st != NULL && strcmp(st, "failed") == 0)
		? "failed"
		: "completed");
	json_set(u, "content", content);
	if (output != NULL)
		json_set_str(u, "rawOutput", output);
	acpmap_emit(m, out, u);
}

/* The chunk an item's text streams as, or NULL. */
static const char *
acpmap_chunk_kind(const cJSON *item)
{
	const char *kind = json_get_str(item, "kind");
	const char *role = json_get_str(item, "role");

	if (kind == NULL)
		return (NULL);
	if (strcmp(kind, "reasoning") == 0)
		return ("agent_thought_chunk");
	if (strcmp(kind, "message") != 0 || role == NULL)
		return (NULL);
	if (strcmp(role, "user") == 0)
		return ("user_message_chunk");
	if (strcmp(role, "assistant") == 0)
		return ("agent_message_chunk");
	return (NULL);
}

static void
acpmap_started(struct acpmap *m, cJSON *out, const cJSON *item, int replay)
{
	const char	   *chunk = acpmap_chunk_kind(item);
	const char	   *id = json_get_str(item, "item_id");
	const char	   *kind = json_get_str(item, "kind");
	struct acpmap_item *it;

	if (replay || id == NULL || kind == NULL)
		return;
	if (strcmp(kind, "tool_call") == 0)
		acpmap_tool_call(m, out, item, "tool_call", "in_progress");
	if (chunk == NULL || strcmp(chunk, "user_message_chunk") == 0 ||
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
	const char	   *chunk = acpmap_chunk_kind(item), *st;
	const char	   *id = json_get_str(item, "item_id");
	const char	   *kind = json_get_str(item, "kind");
	struct acpmap_item *it = NULL;
	char		   *text;

	if (id == NULL || kind == NULL)
		return;
	if (strcmp(kind, "tool_call") == 0) {
		st = json_get_str(item, "status");
		if (replay || (st != NULL && strcmp(st, "failed") == 0))
			acpmap_tool_call(m, out, item,
			    replay ? "tool_call" : "tool_call_update",
			    st != NULL && strcmp(st, "failed") == 0
				? "failed"
				: "completed");
		else
			acpmap_tool_call(m, out, item, "tool_call_update",
			    "in_progress"); /* the final arguments */
		return;
	}
	if (strcmp(kind, "tool_result") == 0) {
		acpmap_tool_result(m, out, item);
		return;
	}
	if (chunk == NULL)
		return;
	if (!replay && (it = acpmap_item_find(m, id)) == NULL &&
	    strcmp(chunk, "user_message_chunk") == 0)
		return; /* the client sent it: no echo */
	if (replay || it == NULL || it->deltas == 0) {
		text = acpmap_text(item);
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
	    strcmp(it->update, "user_message_chunk") != 0) {
		it->deltas++;
		acpmap_chunk(
		    m, out, it->update, it->id, json_get_str(data, "delta"));
	}
	return (out);
}

/* ACP's stopReason for a universal one; NULL means the turn failed. */
const char *
acpmap_stop_reason(const char *reason)
{
	size_t i;

	if (reason == NULL)
		return ("end_turn");
	for (i = 0; i < nitems(acpmap_stops); i++) {
		if (strcmp(acpmap_stops[i].universal, reason) == 0)
			return (acpmap_stops[i].acp);
	}
	return ("end_turn");
}

/* Universal turn usage as ACP's PromptResponse.usage, or NULL. */
cJSON *
acpmap_usage(const cJSON *usage)
{
	static const char *const map[][2] = {
		{ "input_tokens", "inputTokens" },
		{ "output_tokens", "outputTokens" },
		{ "cache_read_tokens", "cachedReadTokens" },
		{ "cache_write_tokens", "cachedWriteTokens" },
	};
	long long v, total = 0;
	cJSON	 *u;
	size_t	  i;

	if (!json_is_obj(usage))
		return (NULL);
	u = json_object();
	for (i = 0; i < nitems(map); i++) {
		v = 0;
		(void)json_get_int(usage, map[i][0], &v);
		json_set_int(u, map[i][1], v);
		if (i < 2)
			total += v;
	}
	json_set_int(u, "totalTokens", total);
	return (u);
}
