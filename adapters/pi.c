/*
 * pi.c: the Pi coding agent over `pi --mode rpc`.
 *
 * Commands go to stdin as JSONL ({"id", "type":"prompt"|"abort"|…}), each
 * answered by {"id","type":"response","success",…}; events arrive without
 * an id. An assistant message streams as message_update events keyed by
 * contentIndex: *_start opens a block, *_delta extends it, *_end closes it,
 * and ends may come after later blocks have started, so blocks are matched
 * by index, never by order. Tool results come as toolResult messages. Pi
 * asks no permissions (its tools just run); extensions may ask through
 * extension_ui_request, which becomes a question.
 *
 * Every message_update repeats the whole partial message so far, twice
 * (as "message" and as the event's "partial"). Parsing or storing that
 * would make agentd quadratic in the length of a reply, so for
 * message_update only the start of the assistantMessageEvent member is
 * found (json_scan_key), its members are walked once with "partial"
 * skipped, and the rest parsed and kept as the event's raw: each byte of
 * the line is searched for its newline once, and each byte of "partial"
 * for its closing quote once; "message", after the event, not at all.
 *
 * Turns: one prompt is one agent run (agent_start … agent_end); pi's own
 * turn_start/turn_end are model calls inside it. A run pi starts by itself
 * (a retry after compaction) becomes a turn of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters.h"

#define PI_BLOCKS 64 /* content blocks tracked per message */

struct pi {
	unsigned long long nreq;	      /* our command ids */
	unsigned long long nmsg;	      /* assistant messages seen */
	int		   blocks[PI_BLOCKS]; /* open item per index */
	long long	   usage[4];	      /* input, output, cache r/w */
	double		   cost;
	char		  *stop_reason; /* of the last assistant message */
	char		  *error;	/* its errorMessage */
	int		   in_run;
	char		   id[64]; /* the last key pi_block_id made */
	unsigned long long id_msg; /* of this message */
	long long	   id_idx; /* and this block */
};

static int  pi_spawn_argv(struct host *, struct argv_builder *, char **);
static void pi_on_start(struct host *);
static void pi_on_line(struct host *, const char *, size_t);
static int  pi_send_message(struct host *, const struct user_message *);
static int
pi_reply_permission(struct host *, const char *, enum permission_reply);
static int  pi_reply_question(struct host *, const char *, const cJSON *);
static int  pi_cancel(struct host *);
static int  pi_configure(struct host *, const struct session_config *, char **);
static void pi_free(struct host *);

const struct adapter adapter_pi = { .name = "pi",
	.caps = CAP_QUESTIONS | CAP_REASONING | CAP_TOOL_CALLS |
	    CAP_FILE_CHANGES | CAP_STREAMING | CAP_RESUME | CAP_CANCEL |
	    CAP_USAGE,
	.spawn_argv = pi_spawn_argv,
	.on_start = pi_on_start,
	.on_line = pi_on_line,
	.send_message = pi_send_message,
	.reply_permission = pi_reply_permission,
	.reply_question = pi_reply_question,
	.cancel = pi_cancel,
	.configure = pi_configure,
	.free = pi_free };

static void pi_learn(struct host *, const cJSON *);
static void pi_command(struct host *, const char *, cJSON *);

static struct pi *
pi_state(struct host *s)
{
	return (host_adapter_data(s));
}

/* pi --mode rpc [--session FILE] [--model M] [--thinking LEVEL] */
static int
pi_spawn_argv(struct host *s, struct argv_builder *b, char **cause)
{
	if (argv_command(s, b, cause) != 0)
		return (-1);
	argv_add(b, "--mode");
	argv_add(b, "rpc");
	if (host_native_id(s) != NULL) {
		argv_add(b, "--session");
		argv_add(b, host_native_id(s));
	}
	if (host_model(s) != NULL) {
		argv_add(b, "--model");
		argv_add(b, host_model(s));
	}
	if (host_effort(s) != NULL) {
		argv_add(b, "--thinking");
		argv_add(b, host_effort(s));
	}
	return (0);
}

/* Send one command, with an id of ours. */
static void
pi_command(struct host *s, const char *type, cJSON *o)
{
	struct pi *p = pi_state(s);
	char	   id[32];

	snprintf(id, sizeof id, "agentd-%llu", ++p->nreq);
	json_set_str(o, "id", id);
	json_set_str(o, "type", type);
	host_send_json(s, o);
}

static void
pi_on_start(struct host *s)
{
	struct pi *p;

	p = xcalloc(1, sizeof *p);
	host_set_adapter_data(s, p);
	/* The session file is pi's resume handle. */
	pi_command(s, "get_state", json_object());
}

/*
 * The prompt: images as pi's images ({type, data, mimeType}), files named
 * in the text (pi reads them with its own tools).
 */
static int
pi_send_message(struct host *s, const struct user_message *m)
{
	const cJSON *att;
	const char  *kind, *path;
	cJSON	    *o, *images = NULL, *img;
	char	    *text, *next;

	text = xstrdup(m->text != NULL ? m->text : "");
	JSON_FOREACH(att, m->attachments) {
		kind = json_get_str(att, "kind");
		path = json_get_str(att, "path");
		if (kind != NULL && strcmp(kind, "image") == 0) {
			if (images == NULL)
				images = json_array();
			img = json_object();
			json_set_str(img, "type", "image");
			json_set_str(img, "data", json_get_str(att, "data"));
			json_set_str(
			    img, "mimeType", json_get_str(att, "mime"));
			json_append(images, img);
		} else if (path != NULL) {
			xasprintf(&next, "%s\n\nAttached file: %s", text, path);
			free(text);
			text = next;
		}
	}
	o = json_object();
	json_set_str(o, "message", text);
	if (images != NULL)
		json_set(o, "images", images);
	pi_command(s, "prompt", o);
	free(text);
	return (0);
}

static int
pi_reply_permission(struct host *s, const char *id, enum permission_reply reply)
{
	return (-1); /* pi asks none */
}

/* extension_ui_response: the chosen value, a confirmation, or cancelled. */
static int
pi_reply_question(struct host *s, const char *id, const cJSON *answers)
{
	const cJSON *first = NULL;
	const char  *label = NULL;
	cJSON	    *o;

	if (answers != NULL && (first = json_at(answers, 0)) != NULL)
		label = json_str(json_at(first, 0));
	o = json_object();
	json_set_str(o, "type", "extension_ui_response");
	json_set_str(o, "id", id);
	if (label == NULL)
		json_set_bool(o, "cancelled", 1);
	else if (strcmp(label, "Yes") == 0 || strcmp(label, "No") == 0)
		json_set_bool(o, "confirmed", strcmp(label, "Yes") == 0);
	else
		json_set_str(o, "value", label);
	host_send_json(s, o);
	return (0);
}

static int
pi_cancel(struct host *s)
{
	pi_command(s, "abort", json_object());
	return (0);
}

static void
pi_free(struct host *s)
{
	struct pi *p = pi_state(s);

	if (p == NULL)
		return;
	free(p->stop_reason);
	free(p->error);
	free(p);
	host_set_adapter_data(s, NULL);
}

/*
 * The item key of block idx of the current assistant message, valid until
 * the next call. A block's deltas come in a row, so the last key is kept:
 * a delta costs no snprintf.
 */
static const char *
pi_block_id(struct pi *p, long long idx)
{
	if (p->id[0] == '\0' || p->id_idx != idx || p->id_msg != p->nmsg) {
		snprintf(p->id, sizeof p->id, "pi-%llu-%lld", p->nmsg, idx);
		p->id_msg = p->nmsg;
		p->id_idx = idx;
	}
	return (p->id);
}

static const char *
pi_text_of(const cJSON *content)
{
	const cJSON *part;

	JSON_FOREACH(part, content) {
		if (json_get_str(part, "text") != NULL)
			return (json_get_str(part, "text"));
	}
	return ("");
}

/* A tool call's parts: the call, and the file it writes or edits. */
static cJSON *
pi_tool_parts(const cJSON *call)
{
	const char  *name = json_get_str(call, "name");
	const cJSON *args = json_get(call, "arguments");
	const char  *path = json_get_str(args, "path");
	cJSON	    *content;
	char	    *text;

	content = json_array();
	text = args != NULL ? json_print(args, NULL) : xstrdup("{}");
	json_append(content,
	    event_part_tool_call(
		name != NULL ? name : "tool", text, json_get_str(call, "id")));
	free(text);
	if (name != NULL && path != NULL && strcmp(name, "write") == 0)
		json_append(content,
		    event_part_file_ref(
			path, "write", json_get_str(args, "content")));
	else if (name != NULL && path != NULL && strcmp(name, "edit") == 0)
		json_append(content, event_part_file_ref(path, "patch", NULL));
	return (content);
}

/* *_start: open the item of a block. */
static void
pi_block_start(struct host *s, struct pi *p, long long idx, enum item_kind kind)
{
	struct item_spec spec;

	if (idx < 0 || idx >= PI_BLOCKS)
		return;
	memset(&spec, 0, sizeof spec);
	spec.native_id = pi_block_id(p, idx);
	spec.kind = kind;
	spec.role = ROLE_ASSISTANT;
	host_item_start(s, &spec);
	p->blocks[idx] = 1;
}

/* *_end: complete a block's item with its final content. */
static void
pi_block_end(struct host *s, struct pi *p, long long idx, cJSON *content)
{
	if (idx < 0 || idx >= PI_BLOCKS) {
		json_free(content);
		return;
	}
	host_item_complete(s, pi_block_id(p, idx), 0, content);
	p->blocks[idx] = 0;
}

/* One assistantMessageEvent of a message_update. */
static void
pi_update(struct host *s, struct pi *p, const cJSON *ev)
{
	const char *type = json_get_str(ev, "type"), *text;
	long long   idx = -1;
	cJSON	   *content;

	if (type == NULL)
		return;
	(void)json_get_int(ev, "contentIndex", &idx);
	if (strcmp(type, "text_start") == 0)
		pi_block_start(s, p, idx, ITEM_MESSAGE);
	else if (strcmp(type, "thinking_start") == 0)
		pi_block_start(s, p, idx, ITEM_REASONING);
	else if (strcmp(type, "toolcall_start") == 0)
		pi_block_start(s, p, idx, ITEM_TOOL_CALL);
	else if ((strcmp(type, "text_delta") == 0 ||
		     strcmp(type, "thinking_delta") == 0) &&
	    (text = json_get_str(ev, "delta")) != NULL && *text != '\0')
		host_item_delta(s, pi_block_id(p, idx), text);
	else if (strcmp(type, "text_end") == 0 ||
	    strcmp(type, "thinking_end") == 0) {
		text = json_get_str(ev, "content");
		content = json_array();
		json_append(content,
		    type[1] == 'h'
			? event_part_reasoning(text != NULL ? text : "", NULL)
			: event_part_text(text != NULL ? text : ""));
		pi_block_end(s, p, idx, content);
	} else if (strcmp(type, "toolcall_end") == 0)
		pi_block_end(
		    s, p, idx, pi_tool_parts(json_get(ev, "toolCall")));
	/* toolcall_delta: the arguments come whole at toolcall_end. */
}

/* The members of an assistantMessageEvent but its partial message. */
#define PI_EVENT_MEMBERS 16
struct pi_event_members {
	const char *s;
	struct {
		const char *key;
		size_t	    klen, off, vlen;
	} m[PI_EVENT_MEMBERS];
	int    n;
	size_t len; /* of the object they make */
};

static int
pi_event_member_cb(void *arg, const char *key, size_t klen, size_t off,
    size_t vlen, size_t sep)
{
	struct pi_event_members *t = arg;

	if (klen == 9 && memcmp(key, "\"partial\"", 9) == 0)
		return (0);
	if (t->n == PI_EVENT_MEMBERS)
		return (-1);
	t->m[t->n].key = key;
	t->m[t->n].klen = klen;
	t->m[t->n].off = off;
	t->m[t->n].vlen = vlen;
	t->n++;
	t->len += klen + 1 + vlen + 1;
	return (0);
}

/* What a message_update keeps as raw: its type, then its event. */
#define PI_RAW_HEAD "{\"type\":\"message_update\",\"assistantMessageEvent\":"

/*
 * The raw kept for a message_update whose event is s[0, len): PI_RAW_HEAD,
 * the event without "partial", '}' (malloc'd, NUL-terminated, its length
 * in *outlen), so the event is at sizeof PI_RAW_HEAD - 1 and one byte
 * short of the end. NULL if the event is not an object of at most
 * PI_EVENT_MEMBERS members.
 */
static char *
pi_event_raw(const char *s, size_t len, size_t *outlen)
{
	struct pi_event_members t;
	char		       *out, *p;
	int			i;

	memset(&t, 0, sizeof t);
	t.s = s;
	if (json_scan_members(s, len, pi_event_member_cb, &t) != 0 ||
	    t.n == PI_EVENT_MEMBERS)
		return (NULL);
	out = xmalloc(sizeof PI_RAW_HEAD + t.len + 3);
	memcpy(out, PI_RAW_HEAD, sizeof PI_RAW_HEAD - 1);
	p = out + sizeof PI_RAW_HEAD - 1;
	*p++ = '{';
	for (i = 0; i < t.n; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, t.m[i].key, t.m[i].klen);
		p += t.m[i].klen;
		*p++ = ':';
		memcpy(p, s + t.m[i].off, t.m[i].vlen);
		p += t.m[i].vlen;
	}
	*p++ = '}';
	*p++ = '}';
	*p = '\0';
	*outlen = (size_t)(p - out);
	return (out);
}

/*
 * message_update: parse only the event, keep only it as raw. The event
 * repeats the whole partial message too (as "partial"): that member is
 * skipped by the scan, neither parsed nor kept, so each byte of it is
 * looked at once and the log grows with the deltas, not with the reply
 * times the deltas.
 */
static void
pi_message_update(struct host *s, struct pi *p, const char *line, size_t len)
{
	const char *err;
	size_t	    off, rawlen;
	char	   *raw = NULL;
	cJSON	   *ev = NULL;

	/* The walk of the event's members ends at its closing brace. */
	if (json_scan_key(line, len, "assistantMessageEvent", &off) == 0 &&
	    (raw = pi_event_raw(line + off, len - off, &rawlen)) != NULL)
		ev = json_parse(raw + sizeof PI_RAW_HEAD - 1,
		    rawlen - sizeof PI_RAW_HEAD, &err);
	if (ev == NULL) {
		host_unparsed(s,
		    "message_update without a readable "
		    "assistantMessageEvent",
		    "pi");
		free(raw);
		return;
	}
	host_set_raw(s, raw, rawlen);
	pi_update(s, p, ev);
	json_free(ev);
	free(raw);
}

/* Close what an assistant message left open, and keep its outcome. */
static void
pi_assistant_end(struct host *s, struct pi *p, const cJSON *msg)
{
	static const char *const keys[] = { "input", "output", "cacheRead",
		"cacheWrite" };
	const cJSON		*content = json_get_arr(msg, "content");
	const cJSON		*usage = json_get_obj(msg, "usage");
	const cJSON		*part;
	const char		*v;
	long long		 n;
	double			 cost;
	size_t			 i;
	int			 idx = 0;

	JSON_FOREACH(part, content) {
		if (idx < PI_BLOCKS && p->blocks[idx]) {
			v = json_get_str(part, "type");
			if (v != NULL && strcmp(v, "toolCall") == 0)
				pi_block_end(s, p, idx, pi_tool_parts(part));
			else
				pi_block_end(s, p, idx, NULL);
		}
		idx++;
	}
	for (i = 0; i < nitems(keys); i++) {
		if (json_get_int(usage, keys[i], &n) == 0)
			p->usage[i] += n;
	}
	if (json_get_num(json_get_obj(usage, "cost"), "total", &cost) == 0)
		p->cost += cost;
	free(p->stop_reason);
	v = json_get_str(msg, "stopReason");
	p->stop_reason = v != NULL ? xstrdup(v) : NULL;
	free(p->error);
	v = json_get_str(msg, "errorMessage");
	p->error = v != NULL ? xstrdup(v) : NULL;
}

/* A toolResult message: the tool_result item. */
static void
pi_tool_result(struct host *s, const cJSON *msg)
{
	struct item_spec spec;
	const char	*call = json_get_str(msg, "toolCallId");
	char		 id[160];
	cJSON		*content;
	int		 err = 0;

	if (call == NULL)
		return;
	(void)json_get_bool(msg, "isError", &err);
	snprintf(id, sizeof id, "%s:result", call);
	content = json_array();
	json_append(content,
	    event_part_tool_result(
		call, pi_text_of(json_get_arr(msg, "content")), err));
	memset(&spec, 0, sizeof spec);
	spec.native_id = id;
	spec.kind = ITEM_TOOL_RESULT;
	spec.role = ROLE_TOOL;
	spec.content = json_dup(content);
	host_item_start(s, &spec);
	host_item_complete(s, id, err, content);
}

static void
pi_message_end(struct host *s, struct pi *p, const cJSON *o)
{
	const cJSON *msg = json_get_obj(o, "message");
	const char  *role = json_get_str(msg, "role");

	if (role == NULL)
		return;
	if (strcmp(role, "assistant") == 0)
		pi_assistant_end(s, p, msg);
	else if (strcmp(role, "toolResult") == 0)
		pi_tool_result(s, msg);
	/* user: the session already shows the user's message. */
}

/* A new assistant message: its blocks get keys of their own. */
static void
pi_message_start(struct pi *p, const cJSON *o)
{
	const char *role = json_get_str(json_get_obj(o, "message"), "role");

	if (role != NULL && strcmp(role, "assistant") == 0) {
		p->nmsg++;
		memset(p->blocks, 0, sizeof p->blocks);
	}
}

/* agent_end: the run is over; its last message says how. */
static void
pi_agent_end(struct host *s, struct pi *p)
{
	static const struct {
		const char *pi;
		const char *ours;
	} reasons[] = {
		{ "stop", "end_turn" },
		{ "toolUse", "end_turn" },
		{ "aborted", "cancelled" },
		{ "length", "max_tokens" },
		{ "error", "error" },
	};
	const char *reason = "end_turn";
	cJSON	   *usage;
	size_t	    i;

	for (i = 0; p->stop_reason != NULL && i < nitems(reasons); i++) {
		if (strcmp(p->stop_reason, reasons[i].pi) == 0)
			reason = reasons[i].ours;
	}
	if (strcmp(reason, "error") == 0)
		host_error(s,
		    p->error != NULL ? p->error : "the model call failed",
		    "model_error", NULL);
	usage = event_usage(p->usage[0], p->usage[1], p->usage[2], p->usage[3]);
	host_turn_end(s, reason, usage, p->cost);
	memset(p->usage, 0, sizeof p->usage);
	p->cost = 0;
	p->in_run = 0;
}

/* A command's response: failures are errors; get_state names the file. */
static void
pi_response(struct host *s, const cJSON *o)
{
	const char *cmd = json_get_str(o, "command");
	const char *file;
	int	    ok = 0;

	(void)json_get_bool(o, "success", &ok);
	if (!ok) {
		host_error(s,
		    json_get_str(o, "error") != NULL ? json_get_str(o, "error")
						     : "pi refused the command",
		    cmd, NULL);
		if (cmd != NULL && strcmp(cmd, "prompt") == 0)
			host_turn_end(s, "error", NULL, -1);
		return;
	}
	if (cmd != NULL && strcmp(cmd, "get_state") == 0) {
		if ((file = json_get_str(
			 json_get_obj(o, "data"), "sessionFile")) != NULL)
			host_set_native_id(s, file);
		pi_learn(s, json_get_obj(o, "data"));
	} else if (cmd != NULL &&
	    (strcmp(cmd, "set_model") == 0 ||
		strcmp(cmd, "set_thinking_level") == 0))
		pi_command(s, "get_state", json_object());
}

/* get_state's model ("provider/id") and thinkingLevel, as options. */
static void
pi_learn(struct host *s, const cJSON *state)
{
	const struct agent_profile *p = host_profile(s);
	const cJSON		   *model = json_get_obj(state, "model");
	const char		   *id = json_get_str(model, "id");
	const char		   *provider = json_get_str(model, "provider");
	const char *level = json_get_str(state, "thinkingLevel");
	char	   *name;

	if (id != NULL) {
		if (provider != NULL)
			xasprintf(&name, "%s/%s", provider, id);
		else
			name = xstrdup(id);
		host_set_option(s, "model", name, NULL);
		free(name);
	}
	if (level != NULL)
		host_set_option(s, "effort", level,
		    p != NULL && p->options != NULL
			? host_choices(p->options->efforts)
			: NULL);
}

/*
 * set_model {provider, modelId} for a model named "provider/id", and
 * set_thinking_level {level}: pi takes them for its next model call.
 * With no pi running, --model and --thinking give them at the next
 * start. Pi has no modes: it asks no permissions (409).
 */
static int
pi_configure(struct host *s, const struct session_config *cfg, char **cause)
{
	const char *slash = NULL;
	char	   *provider;
	cJSON	   *o;
	int	    status;

	if (cfg->mode != NULL) {
		*cause = xstrdup("pi has no modes: it asks no permissions");
		return (409);
	}
	if (cfg->model != NULL &&
	    ((slash = strchr(cfg->model, '/')) == NULL || slash == cfg->model ||
		slash[1] == '\0')) {
		xasprintf(cause,
		    "pi names a model as provider/id (as --model does), not "
		    "'%s'",
		    cfg->model);
		return (422);
	}
	if (cfg->effort != NULL &&
	    (status = host_option_check(s, "effort", cfg->effort, cause)) != 0)
		return (status);
	if (pi_state(s) == NULL)
		return (0);
	if (cfg->model != NULL) {
		provider = xstrndup(cfg->model, (size_t)(slash - cfg->model));
		o = json_object();
		json_set_str(o, "provider", provider);
		json_set_str(o, "modelId", slash + 1);
		pi_command(s, "set_model", o);
		free(provider);
	}
	if (cfg->effort != NULL) {
		o = json_object();
		json_set_str(o, "level", cfg->effort);
		pi_command(s, "set_thinking_level", o);
	}
	return (0);
}

/* extension_ui_request: select and confirm become questions. */
static void
pi_ui_request(struct host *s, const cJSON *o)
{
	const char  *method = json_get_str(o, "method");
	const char  *id = json_get_str(o, "id");
	const cJSON *opt;
	cJSON	    *qs, *q, *opts, *label;

	if (id == NULL || method == NULL)
		return;
	q = json_object();
	json_set_str(q, "question",
	    json_get_str(o, "title") != NULL ? json_get_str(o, "title")
					     : method);
	json_set_bool(q, "multi_select", 0);
	opts = json_array();
	if (strcmp(method, "confirm") == 0) {
		label = json_object();
		json_set_str(label, "label", "Yes");
		json_append(opts, label);
		label = json_object();
		json_set_str(label, "label", "No");
		json_append(opts, label);
	} else {
		JSON_FOREACH(opt, json_get_arr(o, "options")) {
			label = json_object();
			json_set_str(label, "label",
			    json_is_str(opt) ? json_str(opt)
					     : json_get_str(opt, "label"));
			json_append(opts, label);
		}
	}
	json_set(q, "options", opts);
	qs = json_array();
	json_append(qs, q);
	host_question_request(s, id, qs);
}

static void
pi_compaction(struct host *s, const cJSON *o, int end)
{
	const char *err = json_get_str(o, "errorMessage");

	if (err != NULL)
		host_error(s, err, "compaction", NULL);
	else
		host_status(s, end ? "compaction.end" : "compaction.start",
		    json_get_str(o, "reason"));
}

static void
pi_on_line(struct host *s, const char *line, size_t len)
{
	struct pi  *p = pi_state(s);
	const char *type, *err;
	size_t	    off, vlen;
	cJSON	   *o;

	/* The long, repeated line first, without parsing it whole. */
	if (json_scan_member(line, len, "type", &off, &vlen) == 0 &&
	    vlen == 16 && memcmp(line + off, "\"message_update\"", 16) == 0) {
		pi_message_update(s, p, line, len);
		return;
	}
	if ((o = json_parse(line, len, &err)) == NULL) {
		host_unparsed(s, err, "pi");
		return;
	}
	if ((type = json_get_str(o, "type")) == NULL)
		host_unparsed(s, "a line without a type", "pi");
	else if (strcmp(type, "response") == 0)
		pi_response(s, o);
	else if (strcmp(type, "agent_start") == 0) {
		if (!p->in_run)
			host_turn_start(s);
		p->in_run = 1;
	} else if (strcmp(type, "agent_end") == 0)
		pi_agent_end(s, p);
	else if (strcmp(type, "message_start") == 0)
		pi_message_start(p, o);
	else if (strcmp(type, "message_end") == 0)
		pi_message_end(s, p, o);
	else if (strcmp(type, "extension_ui_request") == 0)
		pi_ui_request(s, o);
	else if (strcmp(type, "compaction_start") == 0)
		pi_compaction(s, o, 0);
	else if (strcmp(type, "compaction_end") == 0)
		pi_compaction(s, o, 1);
	/*
	 * Ignored, valid: session (the header), turn_start, turn_end (model
	 * calls inside a run), tool_execution_* (the toolResult message
	 * carries the outcome), auto_retry_*, queue updates.
	 */
	json_free(o);
}
