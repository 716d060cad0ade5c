/*
 * acpmsg.c: the Agent Client Protocol's message shapes, both directions.
 *
 * agentd speaks ACP three times: as a client to ACP agents
 * (adapters/acp.c), and as an agent, to HTTP clients (the facade of
 * supervisor/http/acpserver.c, with acpmap.c) and to the acp adapter
 * itself (the mock agent of supervisor/fake/mockagent.c). Each shape is
 * written here once: the method names, session/update kinds, tool call
 * statuses and kinds, permission options and outcomes, elicitation forms,
 * content blocks, stop reasons and usage. Builders return a new value the
 * caller owns and take ownership of the cJSON values handed to them;
 * readers borrow from what they are given.
 *
 * Every shape an agent sends is checked on the client side by the ACP
 * SDK's schema (zod): a member it does not know, or a null where it wants
 * a string, makes it drop the whole message, so optional members are left
 * out rather than null (oldText alone is nullable: null is a new file).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol.h"

/* Names of enum acpmsg_update, as sessionUpdate spells them. */
static const char *const acpmsg_updates[ACPMSG_UPDATE_COUNT] = {
	[ACPMSG_USER_CHUNK] = "user_message_chunk",
	[ACPMSG_AGENT_CHUNK] = "agent_message_chunk",
	[ACPMSG_THOUGHT_CHUNK] = "agent_thought_chunk",
	[ACPMSG_TOOL_CALL] = "tool_call",
	[ACPMSG_TOOL_CALL_UPDATE] = "tool_call_update",
	[ACPMSG_PLAN] = "plan",
	[ACPMSG_COMMANDS] = "available_commands_update",
	[ACPMSG_MODE] = "current_mode_update",
	[ACPMSG_CONFIG] = "config_option_update",
	[ACPMSG_INFO] = "session_info_update",
	[ACPMSG_USAGE] = "usage_update",
	[ACPMSG_NOTICE] = "notice"
};

/* ToolCallStatus, by enum acpmsg_status. */
static const char *const acpmsg_statuses[ACPMSG_STATUS_COUNT] = {
	[ACPMSG_PENDING] = "pending",
	[ACPMSG_IN_PROGRESS] = "in_progress",
	[ACPMSG_COMPLETED] = "completed",
	[ACPMSG_FAILED] = "failed"
};

/* PermissionOptionKind, by enum acpmsg_option. */
static const char *const acpmsg_options[ACPMSG_OPTION_COUNT] = {
	[ACPMSG_ALLOW_ONCE] = "allow_once",
	[ACPMSG_ALLOW_ALWAYS] = "allow_always",
	[ACPMSG_REJECT_ONCE] = "reject_once",
	[ACPMSG_REJECT_ALWAYS] = "reject_always"
};

/* The reply each option kind gives, by enum acpmsg_option. */
static const enum permission_reply acpmsg_replies[ACPMSG_OPTION_COUNT] = {
	[ACPMSG_ALLOW_ONCE] = PERMISSION_ONCE,
	[ACPMSG_ALLOW_ALWAYS] = PERMISSION_ALWAYS,
	[ACPMSG_REJECT_ONCE] = PERMISSION_REJECT,
	[ACPMSG_REJECT_ALWAYS] = PERMISSION_REJECT
};

/* The option kinds a reply takes, preferred first (CANCELLED takes none). */
static const enum acpmsg_option acpmsg_picks[][2] = {
	[PERMISSION_ONCE] = { ACPMSG_ALLOW_ONCE, ACPMSG_ALLOW_ALWAYS },
	[PERMISSION_ALWAYS] = { ACPMSG_ALLOW_ALWAYS, ACPMSG_ALLOW_ONCE },
	[PERMISSION_REJECT] = { ACPMSG_REJECT_ONCE, ACPMSG_REJECT_ALWAYS }
};

/* PromptResponse.usage's members, in event_usage_from's order. */
const char *const acpmsg_usage_names[4] = { "inputTokens", "outputTokens",
	"cachedReadTokens", "cachedWriteTokens" };

/*
 * Universal stop reasons and ACP's, both ways: to ACP the first row of
 * the universal reason counts, from ACP the first row of the ACP one. A
 * NULL ACP reason is a turn that failed: an error response, not a stop.
 */
static const struct {
	const char *universal;
	const char *acp;
} acpmsg_stops[] = {
	{ "end_turn", "end_turn" },
	{ "cancelled", "cancelled" },
	{ "max_tokens", "max_tokens" },
	{ "max_turns", "max_turn_requests" },
	{ "max_turn_requests", "max_turn_requests" },
	{ "refusal", "refusal" },
	{ "error", NULL },
	{ "interrupted", NULL },
};

/* A tool's name (a substring, any case) to ToolKind; first match wins. */
static const struct {
	const char *word;
	const char *kind;
} acpmsg_kinds[] = {
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

static int acpmsg_lookup(const char *const *, int, const char *);
static int acpmsg_hex(char);

static int
acpmsg_lookup(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; name != NULL && i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return (i);
	}
	return (-1);
}

const char *
acpmsg_update_name(enum acpmsg_update u)
{
	return (u < ACPMSG_UPDATE_COUNT ? acpmsg_updates[u] : NULL);
}

/* A sessionUpdate name as enum acpmsg_update, or -1 (NULL, unknown). */
int
acpmsg_update_parse(const char *name)
{
	return (acpmsg_lookup(acpmsg_updates, ACPMSG_UPDATE_COUNT, name));
}

const char *
acpmsg_status_name(enum acpmsg_status st)
{
	return (st < ACPMSG_STATUS_COUNT ? acpmsg_statuses[st] : NULL);
}

/* A ToolCallStatus as enum acpmsg_status, or -1 (NULL, unknown). */
int
acpmsg_status_parse(const char *name)
{
	return (acpmsg_lookup(acpmsg_statuses, ACPMSG_STATUS_COUNT, name));
}

/* A session/update notification for session, update moved in. */
cJSON *
acpmsg_update(const char *session, cJSON *update)
{
	cJSON *params;

	params = json_object();
	json_set_str(params, "sessionId", session);
	json_set(params, "update", update);
	return (jsonrpc_notification(1, ACPMSG_SESSION_UPDATE, params));
}

/* A text ContentBlock. */
cJSON *
acpmsg_block_text(const char *text)
{
	cJSON *b;

	b = json_object();
	json_set_str(b, "type", "text");
	json_set_str(b, "text", text != NULL ? text : "");
	return (b);
}

/* A resource_link ContentBlock: a file the agent may read itself. */
cJSON *
acpmsg_block_link(const char *uri, const char *name, const char *mime)
{
	cJSON *b;

	b = json_object();
	json_set_str(b, "type", "resource_link");
	json_set_str(b, "uri", uri);
	json_set_str(b, "name", name);
	json_set_str(b, "mimeType", mime);
	return (b);
}

/* An image ContentBlock: base64 data, its type, and where it came from. */
cJSON *
acpmsg_block_image(const char *data, const char *mime, const char *uri)
{
	cJSON *b;

	b = json_object();
	json_set_str(b, "type", "image");
	json_set_str(b, "data", data);
	json_set_str(b, "mimeType", mime);
	json_set_str(b, "uri", uri);
	return (b);
}

/*
 * A prompt's content blocks as one text: text blocks, a resource_link's
 * uri and an embedded resource's text, joined by newlines.
 */
char *
acpmsg_prompt_text(const cJSON *blocks)
{
	const cJSON *c;
	const char  *t, *type;
	struct buf   b;

	buf_init(&b, JSON_JOIN_MAX);
	JSON_FOREACH(c, blocks) {
		type = json_get_str(c, "type");
		t = NULL;
		if (type != NULL && strcmp(type, "text") == 0)
			t = json_get_str(c, "text");
		else if (type != NULL && strcmp(type, "resource_link") == 0)
			t = json_get_str(c, "uri");
		else if (type != NULL && strcmp(type, "resource") == 0)
			t = json_get_str(json_get_obj(c, "resource"), "text");
		if (t == NULL)
			continue;
		if (b.len != 0)
			(void)buf_str(&b, "\n");
		(void)buf_str(&b, t);
	}
	return (buf_take(&b, NULL));
}

/*
 * The path of a file:// URI (host empty or localhost), percent-decoded;
 * NULL for another URI or a path with a NUL.
 */
static char *
acpmsg_file_path(const char *uri)
{
	const char *c;
	char	   *path, *o;
	int	    hi, lo;

	if (uri == NULL || strncmp(uri, "file://", 7) != 0)
		return (NULL);
	uri += 7;
	if (strncmp(uri, "localhost/", 10) == 0)
		uri += 9;
	if (*uri != '/')
		return (NULL);
	o = path = xmalloc(strlen(uri) + 1);
	for (c = uri; *c != '\0'; c++) {
		if (*c == '%' && (hi = acpmsg_hex(c[1])) != -1 &&
		    (lo = acpmsg_hex(c[2])) != -1) {
			if ((*o++ = (char)(hi << 4 | lo)) == '\0') {
				free(path);
				return (NULL);
			}
			c += 2;
		} else
			*o++ = *c;
	}
	*o = '\0';
	return (path);
}

/* A hex digit's value, or -1. */
static int
acpmsg_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * One attachment (attach.c's input form) of a block: data or the path of
 * a file:// uri, its mime and name where given. An image or a blob that
 * is neither is still returned, so that the check of attachments refuses
 * it (400) rather than the block going silently.
 */
static cJSON *
acpmsg_attachment(
    const char *data, const char *uri, const char *mime, const char *name)
{
	cJSON *a;
	char  *path;

	a = json_object();
	if (data != NULL)
		json_set_str(a, "data", data);
	else if ((path = acpmsg_file_path(uri)) != NULL) {
		json_set_str(a, "path", path);
		free(path);
	}
	json_set_str(a, "mime", mime);
	json_set_str(a, "name", name);
	return (a);
}

/*
 * A prompt's content blocks as agentd's message (the ACP facade's
 * session/prompt): *text from text blocks, a resource_link to what is no
 * file and an embedded text resource, joined by newlines; the return is
 * the attachments (NULL for none): an image block (its data, else its
 * file:// uri), a resource_link to a file:// uri, an embedded blob
 * resource (its data: attach.c takes inline data for images only).
 */
cJSON *
acpmsg_prompt_split(const cJSON *blocks, char **text)
{
	const cJSON *c, *r;
	const char  *t, *type;
	char	    *path;
	cJSON	    *atts = NULL, *a;
	struct buf   b;

	buf_init(&b, JSON_JOIN_MAX);
	JSON_FOREACH(c, blocks) {
		type = json_get_str(c, "type");
		t = NULL;
		a = NULL;
		r = json_get_obj(c, "resource");
		if (type == NULL)
			continue;
		if (strcmp(type, "text") == 0)
			t = json_get_str(c, "text");
		else if (strcmp(type, "image") == 0)
			a = acpmsg_attachment(json_get_str(c, "data"),
			    json_get_str(c, "uri"), json_get_str(c, "mimeType"),
			    NULL);
		else if (strcmp(type, "resource_link") == 0) {
			t = json_get_str(c, "uri");
			if ((path = acpmsg_file_path(t)) != NULL) {
				a = acpmsg_attachment(NULL, t,
				    json_get_str(c, "mimeType"),
				    json_get_str(c, "name"));
				t = NULL;
				free(path);
			}
		} else if (strcmp(type, "resource") == 0 &&
		    (t = json_get_str(r, "text")) == NULL &&
		    json_get_str(r, "blob") != NULL)
			a = acpmsg_attachment(json_get_str(r, "blob"), NULL,
			    json_get_str(r, "mimeType"), NULL);
		if (a != NULL) {
			if (atts == NULL)
				atts = json_array();
			json_append(atts, a);
		}
		if (t == NULL)
			continue;
		if (b.len != 0)
			(void)buf_str(&b, "\n");
		(void)buf_str(&b, t);
	}
	*text = buf_take(&b, NULL);
	return (atts);
}

/* A message chunk of kind (user, agent, thought); messageId if given. */
cJSON *
acpmsg_chunk(enum acpmsg_update kind, const char *text, const char *message_id)
{
	cJSON *u;

	u = json_object();
	json_set_str(u, "sessionUpdate", acpmsg_update_name(kind));
	json_set(u, "content", acpmsg_block_text(text));
	json_set_str(u, "messageId", message_id);
	return (u);
}

/* What acpmsg_chunk_scan knows of a line: the members it may hold. */
enum acpmsg_member {
	ACPMSG_M_JSONRPC,
	ACPMSG_M_METHOD,
	ACPMSG_M_PARAMS,
	ACPMSG_M_SESSION,
	ACPMSG_M_UPDATE,
	ACPMSG_M_KIND,
	ACPMSG_M_MESSAGE,
	ACPMSG_M_CONTENT,
	ACPMSG_M_TYPE,
	ACPMSG_M_TEXT,
	ACPMSG_M_COUNT
};

/*
 * Each member: its key, the member it is in and whether it is an object;
 * the members of one object are next to each other.
 */
#define ACPMSG_MEMBER(k, in, obj)               \
	{                                       \
		(k), sizeof(k) - 1, (in), (obj) \
	}
static const struct {
	const char *key;
	size_t	    klen;
	int	    in; /* enum acpmsg_member, -1 the top */
	int	    object;
} acpmsg_members[ACPMSG_M_COUNT] = {
	[ACPMSG_M_JSONRPC] = ACPMSG_MEMBER("jsonrpc", -1, 0),
	[ACPMSG_M_METHOD] = ACPMSG_MEMBER("method", -1, 0),
	[ACPMSG_M_PARAMS] = ACPMSG_MEMBER("params", -1, 1),
	[ACPMSG_M_SESSION] = ACPMSG_MEMBER("sessionId", ACPMSG_M_PARAMS, 0),
	[ACPMSG_M_UPDATE] = ACPMSG_MEMBER("update", ACPMSG_M_PARAMS, 1),
	[ACPMSG_M_KIND] = ACPMSG_MEMBER("sessionUpdate", ACPMSG_M_UPDATE, 0),
	[ACPMSG_M_MESSAGE] = ACPMSG_MEMBER("messageId", ACPMSG_M_UPDATE, 0),
	[ACPMSG_M_CONTENT] = ACPMSG_MEMBER("content", ACPMSG_M_UPDATE, 1),
	[ACPMSG_M_TYPE] = ACPMSG_MEMBER("type", ACPMSG_M_CONTENT, 0),
	[ACPMSG_M_TEXT] = ACPMSG_MEMBER("text", ACPMSG_M_CONTENT, 0),
};

/* The first member of each object, by the member it is the value of, +1. */
static const int acpmsg_first[ACPMSG_M_COUNT + 1] = {
	[0] = ACPMSG_M_JSONRPC,
	[ACPMSG_M_PARAMS + 1] = ACPMSG_M_SESSION,
	[ACPMSG_M_UPDATE + 1] = ACPMSG_M_KIND,
	[ACPMSG_M_CONTENT + 1] = ACPMSG_M_TYPE,
};

/* Every member but sessionId and messageId must be there. */
#define ACPMSG_CHUNK_NEEDS                                          \
	(((1U << ACPMSG_M_COUNT) - 1) & ~(1U << ACPMSG_M_SESSION) & \
	    ~(1U << ACPMSG_M_MESSAGE))

/*
 * The envelope of the last text chunk read in full: its line up to and
 * with the opening quote of its text (head), and from the byte after the
 * text's closing quote to its end (tail), with what they hold. An agent
 * streams the chunks of a message in one envelope, and only the text
 * changes (an ACP firehose spent more than a third of an event in the
 * scanner). A line that is head, a string and tail reads as the kept line
 * did but for the text: the scanner reads left to right, so head leaves
 * it at the text's quote as it left it then; the string ends where
 * decoding it ends; and tail then leads it to the end the same way.
 */
#define ACPMSG_MEMO_MAX 512

struct acpmsg_memo {
	size_t		   headlen; /* 0: nothing kept */
	size_t		   taillen;
	enum acpmsg_update kind;
	int		   has_id;
	char		   env[ACPMSG_MEMO_MAX]; /* head, then tail */
	char		   id[ACPMSG_MEMO_MAX];	 /* messageId, decoded */
};

void
acpmsg_memo_free(struct acpmsg_memo *mo)
{
	free(mo);
}

/* line as the kept envelope around a new text: 0 and *c, or -1. */
static int
acpmsg_memo_read(const struct acpmsg_memo *mo, const char *line, size_t len,
    char *buf, struct acpmsg_chunk *c)
{
	size_t i, end, tlen;

	if (mo->headlen == 0 || len <= mo->headlen + mo->taillen)
		return (-1);
	end = len - mo->taillen;
	if (!buf_same(line, mo->env, mo->headlen) ||
	    !buf_same(line + end, mo->env + mo->headlen, mo->taillen))
		return (-1);
	i = mo->headlen - 1; /* the text's opening quote */
	if (json_scan_decode(line, end, &i, buf, &tlen) != 0 || i != end)
		return (-1);
	c->kind = mo->kind;
	c->message_id = mo->has_id ? mo->id : NULL;
	c->text = buf;
	return (0);
}

/* Keep the envelope of a line read in full; text is its text's node. */
static void
acpmsg_memo_keep(struct acpmsg_memo *mo, const char *line, size_t len,
    const struct json_scan_node *text, const struct acpmsg_chunk *c)
{
	size_t head = text->at + 1, tail = len - text->end, idlen = 0;

	mo->headlen = 0;
	if (c->message_id != NULL)
		idlen = strlen(c->message_id);
	if (head + tail > sizeof mo->env || idlen >= sizeof mo->id)
		return; /* read in full each time */
	memcpy(mo->env, line, head);
	memcpy(mo->env + head, line + text->end, tail);
	mo->taillen = tail;
	mo->kind = c->kind;
	mo->has_id = c->message_id != NULL;
	memcpy(mo->id, c->message_id != NULL ? c->message_id : "", idlen + 1);
	mo->headlen = head;
}

/*
 * The one session/update an agent sends most, a text chunk, read without
 * a tree (the ACP firehose spent more on json_parse and cJSON_Delete than
 * on all the rest): {"jsonrpc":"2.0","method":"session/update","params":
 * {"sessionId":"…","update":{"sessionUpdate":"agent_message_chunk" (or
 * agent_thought_chunk, user_message_chunk),"content":{"type":"text",
 * "text":"…"},"messageId":"…"}}}, its members in any order, sessionId and
 * messageId optional. line is valid UTF-8; buf has len bytes for the
 * decoded strings, which *c points into (or into mo). 0 and *c, or -1 for
 * any other line, including one with another member (_meta, annotations,
 * an id), a member twice, and anything json_scan_flat leaves to
 * json_parse: the caller parses it and dispatches the tree, which reads a
 * line this accepts exactly as this does. If mo is not NULL, *mo is the
 * envelope of the chunk before, tried first, and keeps this one's (made
 * at the first chunk, so that an agent that sends none costs nothing).
 */
int
acpmsg_chunk_scan(struct acpmsg_memo **mo, const char *line, size_t len,
    char *buf, struct acpmsg_chunk *c)
{
	struct json_scan_node nodes[ACPMSG_M_COUNT];
	const char	     *str[ACPMSG_M_COUNT];
	int		      role[ACPMSG_M_COUNT]; /* of each node */
	unsigned int	      seen = 0;
	size_t		      n, k, text = 0;
	int		      m, in, kind;

	if (mo != NULL && *mo != NULL &&
	    acpmsg_memo_read(*mo, line, len, buf, c) == 0)
		return (0);
	if (json_scan_flat(line, len, buf, nodes, nitems(nodes), 0, &n) != 0)
		return (-1);
	for (m = 0; m < ACPMSG_M_COUNT; m++)
		str[m] = ""; /* those seen says are there are set below */
	for (k = 0; k < n; k++) {
		/* Only an object holds members: params, update or content. */
		in = nodes[k].parent < 0 ? -1 : role[nodes[k].parent];
		for (m = acpmsg_first[in + 1];
		     m < ACPMSG_M_COUNT && acpmsg_members[m].in == in; m++) {
			if (nodes[k].klen == acpmsg_members[m].klen &&
			    memcmp(nodes[k].key, acpmsg_members[m].key,
				nodes[k].klen) == 0)
				break;
		}
		if (m == ACPMSG_M_COUNT || acpmsg_members[m].in != in ||
		    (seen & (1U << m)) ||
		    (nodes[k].str == NULL) != acpmsg_members[m].object)
			return (-1);
		seen |= 1U << m;
		role[k] = m;
		str[m] = nodes[k].str;
		if (m == ACPMSG_M_TEXT)
			text = k;
	}
	if ((seen & ACPMSG_CHUNK_NEEDS) != ACPMSG_CHUNK_NEEDS ||
	    strcmp(str[ACPMSG_M_JSONRPC], "2.0") != 0 ||
	    strcmp(str[ACPMSG_M_METHOD], ACPMSG_SESSION_UPDATE) != 0 ||
	    strcmp(str[ACPMSG_M_TYPE], "text") != 0)
		return (-1);
	kind = acpmsg_update_parse(str[ACPMSG_M_KIND]);
	if (kind != ACPMSG_AGENT_CHUNK && kind != ACPMSG_THOUGHT_CHUNK &&
	    kind != ACPMSG_USER_CHUNK)
		return (-1);
	c->kind = (enum acpmsg_update)kind;
	c->message_id =
	    seen & (1U << ACPMSG_M_MESSAGE) ? str[ACPMSG_M_MESSAGE] : NULL;
	c->text = str[ACPMSG_M_TEXT];
	if (mo != NULL) {
		if (*mo == NULL)
			*mo = xcalloc(1, sizeof **mo);
		acpmsg_memo_keep(*mo, line, len, &nodes[text], c);
	}
	return (0);
}

/*
 * A tool call: update is ACPMSG_TOOL_CALL or ACPMSG_TOOL_CALL_UPDATE for
 * a session/update, -1 for the ToolCallUpdate of a permission request
 * (no sessionUpdate member). title and kind NULL are left out (unchanged,
 * in an update); rawInput, content, locations and rawOutput are the
 * caller's to add.
 */
cJSON *
acpmsg_tool_call(int update, const char *id, const char *title,
    const char *tool_kind, enum acpmsg_status status)
{
	cJSON *u;

	u = json_object();
	if (update >= 0)
		json_set_str(u, "sessionUpdate", acpmsg_update_name(update));
	json_set_str(u, "toolCallId", id != NULL ? id : "");
	json_set_str(u, "title", title);
	json_set_str(u, "kind", tool_kind);
	json_set_str(u, "status", acpmsg_status_name(status));
	return (u);
}

/* ToolKind for a tool's name (or a permission's action). */
const char *
acpmsg_tool_kind(const char *name)
{
	size_t i, j, len, wlen;

	if (name == NULL)
		return ("other");
	len = strlen(name);
	for (i = 0; i < nitems(acpmsg_kinds); i++) {
		wlen = strlen(acpmsg_kinds[i].word);
		for (j = 0; j + wlen <= len; j++) {
			if (strncasecmp(name + j, acpmsg_kinds[i].word, wlen) ==
			    0)
				return (acpmsg_kinds[i].kind);
		}
	}
	return ("other");
}

/* ToolCallContent of type content: a text block. */
cJSON *
acpmsg_content_text(const char *text)
{
	cJSON *c;

	c = json_object();
	json_set_str(c, "type", "content");
	json_set(c, "content", acpmsg_block_text(text));
	return (c);
}

/* ToolCallContent of type diff: whole texts; old NULL is a new file. */
cJSON *
acpmsg_content_diff(const char *path, const char *old, const char *new)
{
	cJSON *d;

	d = json_object();
	json_set_str(d, "type", "diff");
	json_set_str(d, "path", path);
	json_set(d, "oldText", old != NULL ? json_string(old) : json_null());
	json_set_str(d, "newText", new != NULL ? new : "");
	return (d);
}

/* The text of a tool call's content blocks, joined by newlines; "" if none. */
char *
acpmsg_tool_text(const cJSON *content)
{
	const cJSON *el;
	const char  *text;
	struct buf   b;

	buf_init(&b, JSON_JOIN_MAX);
	JSON_FOREACH(el, content) {
		text = json_get_str(json_get_obj(el, "content"), "text");
		if (text == NULL)
			continue;
		if (b.len != 0)
			(void)buf_str(&b, "\n");
		(void)buf_str(&b, text);
	}
	return (buf_take(&b, NULL));
}

/* initialize's params: fs methods offered or not, and who we are. */
cJSON *
acpmsg_initialize(int fs, const char *name, const char *version)
{
	cJSON *params, *caps, *f, *info, *el;

	caps = json_object();
	f = json_object();
	json_set_bool(f, "readTextFile", fs);
	json_set_bool(f, "writeTextFile", fs);
	json_set(caps, "fs", f);
	json_set_bool(caps, "terminal", 0);
	el = json_object();
	json_set(el, "form", json_object());
	json_set(caps, "elicitation", el);
	info = json_object();
	json_set_str(info, "name", name);
	json_set_str(info, "version", version);
	params = json_object();
	json_set_int(params, "protocolVersion", ACPMSG_PROTOCOL_VERSION);
	json_set(params, "clientCapabilities", caps);
	json_set(params, "clientInfo", info);
	return (params);
}

/* initialize's result, for an agent: its capabilities and name. */
cJSON *
acpmsg_initialized(const struct acpmsg_agent *ag)
{
	cJSON *r, *caps, *prompt, *mcp, *sess, *info;

	prompt = json_object();
	json_set_bool(prompt, "image", ag->image);
	json_set_bool(prompt, "audio", 0);
	json_set_bool(prompt, "embeddedContext", ag->embedded_context);
	mcp = json_object();
	json_set_bool(mcp, "http", 0);
	json_set_bool(mcp, "sse", 0);
	caps = json_object();
	json_set_bool(caps, "loadSession", ag->load_session);
	json_set(caps, "promptCapabilities", prompt);
	json_set(caps, "mcpCapabilities", mcp);
	if (ag->list_sessions) {
		sess = json_object();
		json_set(sess, "list", json_object());
		json_set(caps, "sessionCapabilities", sess);
	}
	info = json_object();
	json_set_str(info, "name", ag->name);
	json_set_str(info, "title", ag->title);
	json_set_str(info, "version", ag->version);
	r = json_object();
	json_set_int(r, "protocolVersion", ACPMSG_PROTOCOL_VERSION);
	json_set(r, "agentCapabilities", caps);
	json_set(r, "agentInfo", info);
	json_set(r, "authMethods", json_array());
	return (r);
}

/*
 * session/new's params (load_id NULL), or session/load's: the cwd and the
 * MCP servers (a copy of mcp if an array, else none).
 */
cJSON *
acpmsg_session(const char *cwd, const cJSON *mcp, const char *load_id)
{
	cJSON *params;

	params = json_object();
	json_set_str(params, "cwd", cwd);
	json_set(params, "mcpServers",
	    json_is_arr(mcp) ? json_dup(mcp) : json_array());
	json_set_str(params, "sessionId", load_id);
	return (params);
}

/* {sessionId}: session/new's result, session/cancel's params. */
cJSON *
acpmsg_session_id(const char *session)
{
	cJSON *o;

	o = json_object();
	json_set_str(o, "sessionId", session);
	return (o);
}

cJSON *
acpmsg_set_mode(const char *session, const char *mode)
{
	cJSON *params;

	params = acpmsg_session_id(session);
	json_set_str(params, "modeId", mode);
	return (params);
}

/* session/prompt's params; blocks (content blocks) moved in. */
cJSON *
acpmsg_prompt(const char *session, cJSON *blocks)
{
	cJSON *params;

	params = acpmsg_session_id(session);
	json_set(params, "prompt", blocks);
	return (params);
}

/* session/prompt's result; usage (moved in) may be NULL. */
cJSON *
acpmsg_prompt_result(const char *stop_reason, cJSON *usage)
{
	cJSON *r;

	r = json_object();
	json_set_str(r, "stopReason", stop_reason);
	json_set(r, "usage", usage);
	return (r);
}

/* PromptResponse.usage; totalTokens is input plus output. */
cJSON *
acpmsg_usage(long long input, long long output, long long cache_read,
    long long cache_write)
{
	const long long v[4] = { input, output, cache_read, cache_write };
	cJSON	       *u;
	size_t		i;

	u = json_object();
	for (i = 0; i < nitems(v); i++)
		json_set_int(u, acpmsg_usage_names[i], v[i]);
	json_set_int(u, "totalTokens", input + output);
	return (u);
}

/* A usage_update: the context window and the session's cost so far. */
cJSON *
acpmsg_usage_update(long long used, long long size, double cost_usd)
{
	cJSON *u, *cost;

	cost = json_object();
	json_set_num(cost, "amount", cost_usd);
	json_set_str(cost, "currency", "USD");
	u = json_object();
	json_set_str(u, "sessionUpdate", acpmsg_update_name(ACPMSG_USAGE));
	json_set_int(u, "used", used);
	json_set_int(u, "size", size);
	json_set(u, "cost", cost);
	return (u);
}

/* ACP's stopReason for a universal one; NULL: the turn failed. */
const char *
acpmsg_stop_to(const char *universal)
{
	size_t i;

	if (universal == NULL)
		return ("end_turn");
	for (i = 0; i < nitems(acpmsg_stops); i++) {
		if (strcmp(acpmsg_stops[i].universal, universal) == 0)
			return (acpmsg_stops[i].acp);
	}
	return ("end_turn");
}

/* The universal stop reason for ACP's; one we do not know as it is. */
const char *
acpmsg_stop_from(const char *acp)
{
	size_t i;

	if (acp == NULL)
		return ("end_turn");
	for (i = 0; i < nitems(acpmsg_stops); i++) {
		if (acpmsg_stops[i].acp != NULL &&
		    strcmp(acpmsg_stops[i].acp, acp) == 0)
			return (acpmsg_stops[i].universal);
	}
	return (acp);
}

const char *
acpmsg_option_name(enum acpmsg_option kind)
{
	return (kind < ACPMSG_OPTION_COUNT ? acpmsg_options[kind] : NULL);
}

/*
 * session/request_permission's params: the tool call (moved in) and the
 * options an agent offers.
 */
cJSON *
acpmsg_permission(const char *session, cJSON *tool_call,
    const struct acpmsg_choice *choices, size_t n)
{
	cJSON *params, *list, *o;
	size_t i;

	list = json_array();
	for (i = 0; i < n; i++) {
		o = json_object();
		json_set_str(o, "optionId", choices[i].id);
		json_set_str(o, "name", choices[i].name);
		json_set_str(o, "kind", acpmsg_option_name(choices[i].kind));
		json_append(list, o);
	}
	params = acpmsg_session_id(session);
	json_set(params, "toolCall", tool_call);
	json_set(params, "options", list);
	return (params);
}

/*
 * The reply a permission result is, read against the choices offered: 0,
 * or -1 if it selected none of them (cancelled, or an unknown optionId).
 */
int
acpmsg_choice_reply(const struct acpmsg_choice *choices, size_t n,
    const cJSON *result, enum permission_reply *reply)
{
	const char *option = acpmsg_selected(result);
	size_t	    i;

	for (i = 0; option != NULL && i < n; i++) {
		if (strcmp(choices[i].id, option) == 0) {
			*reply = acpmsg_replies[choices[i].kind];
			return (0);
		}
	}
	return (-1);
}

/*
 * The optionId an agent offers for a reply: the first option of the kind
 * the reply prefers, else of its second kind (ALWAYS with only allow_once
 * offered is allowed once); NULL if neither is offered, or for CANCELLED.
 */
const char *
acpmsg_option_for(const cJSON *options, enum permission_reply reply)
{
	const cJSON *el;
	const char  *kind;
	int	     pass;

	if (reply >= nitems(acpmsg_picks))
		return (NULL);
	for (pass = 0; pass < 2; pass++) {
		JSON_FOREACH(el, options) {
			kind = json_get_str(el, "kind");
			if (kind != NULL &&
			    strcmp(kind,
				acpmsg_option_name(
				    acpmsg_picks[reply][pass])) == 0 &&
			    json_get_str(el, "optionId") != NULL)
				return (json_get_str(el, "optionId"));
		}
	}
	return (NULL);
}

/* session/request_permission's result: option_id selected, or NULL. */
cJSON *
acpmsg_outcome(const char *option_id)
{
	cJSON *outcome, *r;

	outcome = json_object();
	if (option_id != NULL) {
		json_set_str(outcome, "outcome", "selected");
		json_set_str(outcome, "optionId", option_id);
	} else
		json_set_str(outcome, "outcome", "cancelled");
	r = json_object();
	json_set(r, "outcome", outcome);
	return (r);
}

/* The optionId a permission result selected; NULL if cancelled. */
const char *
acpmsg_selected(const cJSON *result)
{
	const cJSON *outcome = json_get_obj(result, "outcome");
	const char  *how = json_get_str(outcome, "outcome");

	if (how == NULL || strcmp(how, "selected") != 0)
		return (NULL);
	return (json_get_str(outcome, "optionId"));
}

/*
 * A form field for elicitation/create: a string (or, multi, an array of
 * strings) of title, one of labels (an array of strings, moved in; none
 * means free text).
 */
cJSON *
acpmsg_field(const char *title, cJSON *labels, int multi)
{
	cJSON *p, *items;

	p = json_object();
	json_set_str(p, "type", multi ? "array" : "string");
	json_set_str(p, "title", title);
	if (multi) {
		items = json_object();
		json_set_str(items, "type", "string");
		json_set(items, "enum", labels);
		json_set(p, "items", items);
	} else if (json_size(labels) > 0)
		json_set(p, "enum", labels);
	else
		json_free(labels);
	return (p);
}

/*
 * elicitation/create's params, form mode: message and the fields
 * (properties, moved in), every one of them required.
 */
cJSON *
acpmsg_elicitation(const char *session, const char *message, cJSON *fields)
{
	const cJSON *f;
	cJSON	    *params, *schema, *required;

	required = json_array();
	JSON_FOREACH(f, fields)
		json_append(required, json_string(json_key(f)));
	schema = json_object();
	json_set_str(schema, "type", "object");
	json_set(schema, "properties", fields);
	json_set(schema, "required", required);
	params = acpmsg_session_id(session);
	json_set_str(params, "mode", "form");
	json_set_str(params, "message", message != NULL ? message : "");
	json_set(params, "requestedSchema", schema);
	return (params);
}

/* elicitation/create's result: accept with content (moved in), or decline. */
cJSON *
acpmsg_elicited(cJSON *content)
{
	cJSON *r;

	r = json_object();
	json_set_str(r, "action", content != NULL ? "accept" : "decline");
	json_set(r, "content", content);
	return (r);
}

/*
 * Whether the user accepted an elicitation; *content is then what was
 * filled in (NULL if nothing).
 */
int
acpmsg_accepted(const cJSON *result, const cJSON **content)
{
	const char *action = json_get_str(result, "action");

	*content = json_get_obj(result, "content");
	return (action != NULL && strcmp(action, "accept") == 0);
}

/*
 * Session settings. ACP tells them three ways: modes (session/set_mode),
 * models (the unstable session/set_model) and configOptions, selects by
 * category (session/set_config_option). agentd's own keys are "model",
 * "mode" and "effort"; ACP's thought_level category is effort.
 */
static const char *const acpmsg_categories[][2] = { { "model", "model" },
	{ "mode", "mode" }, { "effort", "thought_level" } };

/* Our key for an ACP config category, or NULL for one we do not map. */
const char *
acpmsg_config_key(const char *category)
{
	size_t i;

	for (i = 0; category != NULL && i < nitems(acpmsg_categories); i++) {
		if (strcmp(acpmsg_categories[i][1], category) == 0)
			return (acpmsg_categories[i][0]);
	}
	return (NULL);
}

/* The ACP config category of one of our keys, or NULL. */
const char *
acpmsg_config_category(const char *key)
{
	size_t i;

	for (i = 0; key != NULL && i < nitems(acpmsg_categories); i++) {
		if (strcmp(acpmsg_categories[i][0], key) == 0)
			return (acpmsg_categories[i][1]);
	}
	return (NULL);
}

/* session/set_model's params (unstable in ACP v1). */
cJSON *
acpmsg_set_model(const char *session, const char *model)
{
	cJSON *params;

	params = acpmsg_session_id(session);
	json_set_str(params, "modelId", model);
	return (params);
}

/* session/set_config_option's params, for a select's value. */
cJSON *
acpmsg_set_config(const char *session, const char *config_id, const char *value)
{
	cJSON *params;

	params = acpmsg_session_id(session);
	json_set_str(params, "configId", config_id);
	json_set_str(params, "value", value);
	return (params);
}

/* {id, name?, description?} from ACP members of those names, or NULL. */
static cJSON *
acpmsg_choice_of(const cJSON *v, const char *id_member)
{
	const char *id = json_get_str(v, id_member);
	const char *name = json_get_str(v, "name");
	const char *desc = json_get_str(v, "description");
	cJSON	   *o;

	if (id == NULL)
		return (NULL);
	o = json_object();
	json_set_str(o, "id", id);
	if (name != NULL)
		json_set_str(o, "name", name);
	if (desc != NULL)
		json_set_str(o, "description", desc);
	return (o);
}

/*
 * A list of values as agentd tells them, [{id, name?, description?}],
 * from an ACP array: availableModes (id_member "id"), availableModels
 * ("modelId") or a select's options ("value", possibly in groups of
 * {group, name, options}).
 */
cJSON *
acpmsg_choices(const cJSON *list, const char *id_member)
{
	const cJSON *v, *g;
	cJSON	    *out, *c;

	out = json_array();
	JSON_FOREACH(v, list) {
		if (json_get_arr(v, "options") != NULL) {
			JSON_FOREACH(g, json_get_arr(v, "options")) {
				if ((c = acpmsg_choice_of(g, id_member)) !=
				    NULL)
					json_append(out, c);
			}
		} else if ((c = acpmsg_choice_of(v, id_member)) != NULL)
			json_append(out, c);
	}
	return (out);
}

/*
 * A select SessionConfigOption {id, name, category, type, currentValue,
 * options} from agentd's key, current value and choices (borrowed).
 */
cJSON *
acpmsg_config_option(const char *id, const char *name, const char *category,
    const char *current, const cJSON *choices)
{
	const cJSON *c;
	cJSON	    *o, *opts, *v;
	const char  *s;

	opts = json_array();
	JSON_FOREACH(c, choices) {
		if ((s = json_get_str(c, "id")) == NULL)
			continue;
		v = json_object();
		json_set_str(v, "value", s);
		s = json_get_str(c, "name");
		json_set_str(v, "name", s != NULL ? s : json_get_str(c, "id"));
		if ((s = json_get_str(c, "description")) != NULL)
			json_set_str(v, "description", s);
		json_append(opts, v);
	}
	o = json_object();
	json_set_str(o, "id", id);
	json_set_str(o, "name", name);
	json_set_str(o, "category", category);
	json_set_str(o, "type", "select");
	json_set_str(o, "currentValue", current != NULL ? current : "");
	json_set(o, "options", opts);
	return (o);
}
