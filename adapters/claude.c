/*
 * claude.c: Claude Code over stream-json, one long-lived process per
 * session: claude -p --input-format stream-json --output-format
 * stream-json --verbose --permission-prompt-tool stdio
 * --include-partial-messages. A user line starts the CLI's turn and its
 * "result" line ends it. There is no handshake to wait for: the
 * initialize control request is sent at start only to learn the CLI's
 * models (the session's model choices), and messages go without waiting
 * for its answer.
 *
 * One native content block is one item, keyed "<message id>:<index>".
 * With partial messages a block streams as stream_event lines
 * (content_block_start, text and thinking deltas, input_json_delta for a
 * tool's input, content_block_stop). The CLI also prints each finished
 * block as an "assistant" line of its own (after the last delta, before
 * the stop): that is the block's final value, so it completes the item,
 * matched by tool_use id or else by the message's first unfinished block
 * of the same type. An assistant line for a block that never streamed
 * starts and completes an item of its own; the session then adds the
 * synthetic delta. Tool input is not streamed as deltas: a tool_call
 * item's arguments are known only once complete.
 *
 * Permissions and AskUserQuestion arrive as control_request can_use_tool
 * and are answered with a control_response (allow with updatedInput, or
 * deny); cancel is our own control_request interrupt.
 *
 * Amp (amp -x --stream-json --stream-json-input) speaks the same lines
 * without stream_event and without a control channel. Nothing here
 * depends on either being present, nor on the profile: amp.c reuses this
 * adapter through claude_begin (the state, without initialize) and
 * adapter_claude's on_line, send_message and free, with a spawn_argv and
 * a cancel of its own. The result handler also reads Amp's "error" member.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters.h"

#define CLAUDE_INPUT_MAX   (16UL * 1024 * 1024) /* streamed tool input */
#define CLAUDE_BLOCKS_MAX  1024 /* finished blocks kept to match */
#define CLAUDE_INTERRUPTED "[Request interrupted by user"
#define CLAUDE_FAST_NODES  24 /* members of a delta line, claude_delta_scan */

enum claude_btype {
	CLAUDE_TEXT,
	CLAUDE_THINKING,
	CLAUDE_TOOL,
	CLAUDE_OTHER
};

/* One content block of an assistant message, in the turn that made it. */
struct claude_block {
	char		 *msg;	 /* message id */
	int		  index; /* stream index, -1 if none */
	int		  pos;	 /* position in the message */
	enum claude_btype type;
	char		 *item;	   /* native item id */
	char		 *call_id; /* tool_use id */
	char		 *name;	   /* tool name */
	struct buf	  input;   /* input_json_delta so far, capped */
	int		  done;	   /* item completed */
	int		  final;   /* its assistant line seen */
	TAILQ_ENTRY(claude_block) entry;
};

/* The message a stream of stream_event lines is in, per subagent. */
struct claude_stream {
	char *parent; /* parent_tool_use_id or "" */
	char *msg;
	TAILQ_ENTRY(claude_stream) entry;
};

/* A can_use_tool request waiting for a client. */
struct claude_ask {
	char  *request_id;
	cJSON *input;
	cJSON *suggestions; /* permission_suggestions */
	int    withdrawn;   /* control_cancel_request */
	TAILQ_ENTRY(claude_ask) entry;
};

struct claude {
	unsigned int	     nrequest;	 /* our control requests */
	unsigned int	     init;	 /* initialize's number, 0 if none */
	unsigned int	     nsynth;	 /* synthetic message ids */
	int		     cancelling; /* interrupt sent this turn */
	double		     cost_seen;	 /* total_cost_usd so far */
	char		    *version;
	char		    *error; /* last error this turn */
	unsigned int	     nblocks;
	struct claude_block *hint; /* the block last looked up */
	TAILQ_HEAD(, claude_block) blocks;
	TAILQ_HEAD(, claude_stream) streams;
	TAILQ_HEAD(, claude_ask) asks;
};

int claude_fast_path = 1;

struct claude_type {
	const char *type;
	void (*fn)(struct host *, struct claude *, const cJSON *);
};

static int  claude_spawn_argv(struct host *, struct argv_builder *, char **);
static int  claude_command(struct host *, struct argv_builder *, char **);
static void claude_on_start(struct host *);
static void claude_models(struct host *, const cJSON *);
static void claude_on_line(struct host *, const char *, size_t);
static int  claude_send_message(struct host *, const struct user_message *);
static int
claude_reply_permission(struct host *, const char *, enum permission_reply);
static int claude_reply_question(struct host *, const char *, const cJSON *);
static int claude_cancel(struct host *);
static int
claude_configure(struct host *, const struct session_config *, char **);
static void claude_free(struct host *);

static void claude_system_cb(struct host *, struct claude *, const cJSON *);
static void claude_stream_cb(struct host *, struct claude *, const cJSON *);
static void claude_assistant_cb(struct host *, struct claude *, const cJSON *);
static void claude_user_cb(struct host *, struct claude *, const cJSON *);
static void claude_result_cb(struct host *, struct claude *, const cJSON *);
static void
claude_control_request_cb(struct host *, struct claude *, const cJSON *);
static void
claude_control_response_cb(struct host *, struct claude *, const cJSON *);
static void
claude_control_cancel_cb(struct host *, struct claude *, const cJSON *);
static void claude_ignore_cb(struct host *, struct claude *, const cJSON *);
static void
claude_dispatch(struct host *, struct claude *, const struct claude_type *,
    size_t, const char *, const cJSON *, const cJSON *);

static void claude_init_cb(struct host *, struct claude *, const cJSON *);
static void claude_status_cb(struct host *, struct claude *, const cJSON *);
static void claude_compact_cb(struct host *, struct claude *, const cJSON *);
static void claude_retry_cb(struct host *, struct claude *, const cJSON *);

static void
claude_message_start_cb(struct host *, struct claude *, const cJSON *);
static void
claude_block_start_cb(struct host *, struct claude *, const cJSON *);
static void
claude_block_delta_cb(struct host *, struct claude *, const cJSON *);
static void claude_block_stop_cb(struct host *, struct claude *, const cJSON *);

static int
claude_delta_fast(struct host *, struct claude *, const char *, size_t);
static void	   claude_delta(struct host *, struct claude *, const char *,
	   long long, const char *, const char *);
static const char *claude_delta_key(const char *);
static const char *claude_stream_find(struct claude *, const char *);
static const char *claude_stream_msg(struct claude *, const cJSON *);
static void claude_stream_set(struct claude *, const cJSON *, const char *);
static struct claude_block *
claude_block_find(struct claude *, const char *, int);
static struct claude_block *claude_block_call(struct claude *, const char *);
static struct claude_block *claude_block_match(
    struct claude *, const char *, enum claude_btype, const char *);
static struct claude_block *claude_block_new(struct host *, struct claude *,
    const char *, int, int, const cJSON *, const cJSON *);
static void		    claude_block_final(
		    struct host *, struct claude *, const char *, const cJSON *, const cJSON *);
static struct claude_block *claude_block_late(
    struct host *, struct claude *, const char *, const cJSON *, const cJSON *);
static void
claude_block_done(struct host *, struct claude_block *, int, cJSON *);
static void		 claude_block_free(struct claude_block *);
static void		 claude_blocks_end(struct host *, struct claude *);
static void		 claude_blocks_prune(struct claude *);
static enum claude_btype claude_btype(const char *);
static cJSON *claude_block_content(const struct claude_block *, const cJSON *);
static cJSON *
claude_tool_content(const char *, const char *, const char *, const cJSON *);

static void claude_tool_result(
    struct host *, struct claude *, const cJSON *, const cJSON *);
static char *claude_result_text(const cJSON *, cJSON *);
static void
claude_file_result(struct claude *, const char *, const cJSON *, cJSON *);
static char *claude_diff_patch(const char *, const cJSON *);

static const char *claude_stop_reason(struct claude *, const cJSON *, int);
static char	  *claude_error_text(const cJSON *);
static void	   claude_error(
	   struct host *, struct claude *, const char *, const char *, cJSON *);
static void claude_turn_reset(struct claude *);

static void
claude_control_reply(struct host *, const char *, cJSON *, const char *);
static void claude_can_use_tool_cb(
    struct host *, struct claude *, const char *, const cJSON *);
static cJSON *claude_questions(const cJSON *);
static struct claude_ask *
claude_ask_add(struct claude *, const char *, const cJSON *, const cJSON *);
static struct claude_ask *claude_ask_take(struct claude *, const char *);
static void		  claude_ask_free(struct claude_ask *);
static void claude_ask_answer(struct host *, struct claude_ask *, cJSON *);

static struct claude *claude_get(struct host *);
static const char    *claude_where(struct host *);
static const char    *claude_mode(const char *, char **);
static void	      claude_control(struct host *, struct claude *, cJSON *);

/* result.usage's members, in event_usage_from's order. */
static const char *const claude_usage_names[4] = { "input_tokens",
	"output_tokens", "cache_read_input_tokens",
	"cache_creation_input_tokens" };

const struct adapter adapter_claude = { .name = "claude",
	.caps = CAP_PERMISSIONS | CAP_QUESTIONS | CAP_REASONING |
	    CAP_TOOL_CALLS | CAP_FILE_CHANGES | CAP_STREAMING | CAP_RESUME |
	    CAP_CANCEL | CAP_USAGE | CAP_IMAGES,
	.spawn_argv = claude_spawn_argv,
	.on_start = claude_on_start,
	.on_line = claude_on_line,
	.send_message = claude_send_message,
	.reply_permission = claude_reply_permission,
	.reply_question = claude_reply_question,
	.cancel = claude_cancel,
	.configure = claude_configure,
	.free = claude_free };

/*
 * Top-level line types. Ignored, as valid lines with no place in the
 * universal stream: keep_alive, rate_limit_event, tool_progress,
 * tool_use_summary, auth_status, prompt_suggestion, streamlined_text,
 * streamlined_tool_use_summary and any type not listed (the CLI adds
 * types often, and the SDK ignores unknown ones too).
 */
static const struct claude_type claude_types[] = {
	{ "system", claude_system_cb }, { "stream_event", claude_stream_cb },
	{ "assistant", claude_assistant_cb }, { "user", claude_user_cb },
	{ "result", claude_result_cb },
	{ "control_request", claude_control_request_cb },
	{ "control_response", claude_control_response_cb },
	{ "control_cancel_request", claude_control_cancel_cb },
	{ "keep_alive", claude_ignore_cb },
	{ "rate_limit_event", claude_ignore_cb }
};

/*
 * system subtypes. Ignored: thinking_tokens, hook_*, task_*,
 * session_state_changed, notification, files_persisted, rate_limit,
 * permission_denied, prompt_suggestion, local_command_output and
 * unknown ones.
 */
static const struct claude_type claude_systems[] = { { "init", claude_init_cb },
	{ "status", claude_status_cb },
	{ "compact_boundary", claude_compact_cb },
	{ "api_retry", claude_retry_cb } };

/*
 * stream_event event types. message_delta (per-call usage; the result
 * has the turn's), message_stop, ping and error (an API error comes again
 * as an assistant line with "error") are ignored.
 */
static const struct claude_type claude_events[] = {
	{ "message_start", claude_message_start_cb },
	{ "content_block_start", claude_block_start_cb },
	{ "content_block_delta", claude_block_delta_cb },
	{ "content_block_stop", claude_block_stop_cb }
};

/* The permission modes claude takes; our names first. */
static const char *const claude_modes[][2] = { { "default", "default" },
	{ "acceptEdits", "acceptEdits" },
	{ "bypassPermissions", "bypassPermissions" },
	{ "bypass", "bypassPermissions" }, { "plan", "plan" },
	{ "dontAsk", "dontAsk" }, { "auto", "auto" } };

/* Tools that change a file: the input member naming it, and the action. */
static const struct {
	const char *tool;
	const char *member;
	const char *action;
} claude_file_tools[] = { { "Write", "file_path", "write" },
	{ "Edit", "file_path", "patch" }, { "MultiEdit", "file_path", "patch" },
	{ "NotebookEdit", "notebook_path", "patch" } };

/* How a result subtype ends the turn; unknown error_* ones are "error". */
static const char *const claude_stops[][2] = { { "error_max_turns",
						   "max_turns" },
	{ "error_during_execution", "error" },
	{ "error_max_budget_usd", "error" },
	{ "error_max_structured_output_retries", "error" } };

static struct claude *
claude_get(struct host *s)
{
	return (host_adapter_data(s));
}

/* The location of an agent.unparsed event: "claude", or "amp" for Amp. */
static const char *
claude_where(struct host *s)
{
	const struct agent_profile *p = host_profile(s);

	if (p == NULL || p->adapter == NULL)
		return ("claude");
	return (p->adapter->name);
}

/* Claude's name of a permission mode, or NULL with *cause. */
static const char *
claude_mode(const char *mode, char **cause)
{
	size_t i;

	for (i = 0; i < nitems(claude_modes); i++) {
		if (strcmp(claude_modes[i][0], mode) == 0)
			return (claude_modes[i][1]);
	}
	xasprintf(cause,
	    "permission mode '%s' is not one claude takes: default, "
	    "acceptEdits, bypassPermissions (or bypass), plan, dontAsk, auto",
	    mode);
	return (NULL);
}

/*
 * The command, then the protocol flags and the session's options. An
 * unknown permission mode is refused here, so the create request fails
 * with the reason instead of the CLI exiting on it.
 */
static int
claude_spawn_argv(struct host *s, struct argv_builder *b, char **cause)
{
	static const char *const flags[] = { "-p", "--input-format",
		"stream-json", "--output-format", "stream-json", "--verbose",
		"--permission-prompt-tool", "stdio",
		"--include-partial-messages" };
	const char		*native = host_native_id(s);
	const char		*model = host_model(s);
	const char		*mode = host_permission_mode(s);
	size_t			 i;

	if (mode != NULL && (mode = claude_mode(mode, cause)) == NULL)
		return (-1);
	if (claude_command(s, b, cause) != 0)
		return (-1);
	for (i = 0; i < nitems(flags); i++)
		argv_add(b, flags[i]);
	if (native != NULL && *native != '\0') {
		argv_add(b, "--resume");
		argv_add(b, native);
	}
	if (model != NULL && *model != '\0') {
		argv_add(b, "--model");
		argv_add(b, model);
	}
	if (mode != NULL) {
		argv_add(b, "--permission-mode");
		argv_add(b, mode);
	}
	/* Files the session wrote: the servers' env stays off the argv. */
	if (host_mcp_file(s) != NULL) {
		argv_add(b, "--mcp-config");
		argv_add(b, host_mcp_file(s));
	}
	/* Claude reads the .claude/skills of a directory it may use. */
	if (host_skills_dir(s) != NULL) {
		argv_add(b, "--add-dir");
		argv_add(b, host_skills_dir(s));
	}
	/* As root, claude refuses to skip permissions outside a sandbox. */
	if (geteuid() == 0)
		argv_env(b, "IS_SANDBOX", "1");
	return (0);
}

/* The request's agentCommand (checked by the session), else the profile's. */
static int
claude_command(struct host *s, struct argv_builder *b, char **cause)
{
	const struct agent_profile *p = host_profile(s);
	const cJSON		   *cmd = host_agent_command(s), *el;
	const char *const	   *arg;

	if (json_is_arr(cmd) && json_size(cmd) > 0) {
		if (json_str(json_first(cmd)) == NULL ||
		    *json_str(json_first(cmd)) == '\0') {
			*cause = xstrdup("agentCommand must start with a "
					 "non-empty string");
			return (-1);
		}
		JSON_FOREACH(el, cmd) {
			if (json_str(el) != NULL)
				argv_add(b, json_str(el));
		}
		return (0);
	}
	if (p == NULL || p->argv == NULL || p->argv[0] == NULL) {
		xasprintf(cause, "agent %s has no command",
		    p != NULL ? p->id : "claude");
		return (-1);
	}
	for (arg = p->argv; *arg != NULL; arg++)
		argv_add(b, *arg);
	return (0);
}

/* The child runs: our state, for Claude and Amp alike. */
struct claude *
claude_begin(struct host *s)
{
	struct claude *c;

	c = xcalloc(1, sizeof *c);
	TAILQ_INIT(&c->blocks);
	TAILQ_INIT(&c->streams);
	TAILQ_INIT(&c->asks);
	host_set_adapter_data(s, c);
	return (c);
}

/*
 * Claude's CLI runs: ask its initialize for the models it offers
 * (claude_models); nothing waits for the answer.
 */
static void
claude_on_start(struct host *s)
{
	struct claude *c = claude_begin(s);
	cJSON	      *req;

	req = json_object();
	json_set_str(req, "subtype", "initialize");
	claude_control(s, c, req);
	c->init = c->nrequest;
}

/* One stdout line: parse, then dispatch by its "type". */
static void
claude_on_line(struct host *s, const char *line, size_t len)
{
	struct claude *c = claude_get(s);
	const char    *err, *type;
	cJSON	      *v;
	size_t	       i;

	if (c == NULL || claude_delta_fast(s, c, line, len) == 0)
		return;
	if ((v = json_parse(line, len, &err)) == NULL) {
		host_unparsed(s, err, claude_where(s));
		return;
	}
	if ((type = json_get_str(v, "type")) == NULL) {
		host_unparsed(
		    s, "not an object with a string \"type\"", claude_where(s));
		json_free(v);
		return;
	}
	for (i = 0; i < nitems(claude_types); i++) {
		if (strcmp(claude_types[i].type, type) == 0) {
			claude_types[i].fn(s, c, v);
			break;
		}
	}
	json_free(v);
}

static void
claude_ignore_cb(struct host *s, struct claude *c, const cJSON *v)
{
}

/* Dispatch by member "key" in a table; unknown values are ignored. */
static void
claude_dispatch(struct host *s, struct claude *c,
    const struct claude_type *table, size_t n, const char *key, const cJSON *v,
    const cJSON *arg)
{
	const char *name = json_get_str(v, key);
	size_t	    i;

	if (name == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (strcmp(table[i].type, name) == 0) {
			table[i].fn(s, c, arg);
			return;
		}
	}
}

static void
claude_system_cb(struct host *s, struct claude *c, const cJSON *v)
{
	claude_dispatch(
	    s, c, claude_systems, nitems(claude_systems), "subtype", v, v);
}

/*
 * system/init, once per turn: the session id to resume with, the CLI's
 * version (claude_code_version; Amp has none), and the model and
 * permission mode it runs with.
 */
static void
claude_init_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const char *id = json_get_str(v, "session_id");
	const char *version = json_get_str(v, "claude_code_version");
	const char *model = json_get_str(v, "model");
	const char *mode = json_get_str(v, "permissionMode");
	const struct agent_profile *p = host_profile(s);

	if (id != NULL && *id != '\0')
		host_set_native_id(s, id);
	if (model != NULL)
		host_set_option(s, "model", model, NULL);
	if (mode != NULL)
		host_set_option(s, "mode", mode,
		    p != NULL && p->options != NULL
			? host_choices(p->options->modes)
			: NULL);
	if (version != NULL &&
	    (c->version == NULL || strcmp(c->version, version) != 0)) {
		free(c->version);
		c->version = xstrdup(version);
		host_set_agent_version(s, version);
	}
}

/*
 * system/status: "requesting" before each API call is noise; compacting
 * and a permission mode change are worth a status item.
 */
static void
claude_status_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const char *status = json_get_str(v, "status");
	const char *mode = json_get_str(v, "permissionMode");

	if (status != NULL && strcmp(status, "compacting") == 0)
		host_status(s, "compacting", NULL);
	else if (status == NULL && mode != NULL) {
		host_set_option(s, "mode", mode, NULL);
		host_status(s, "mode", mode);
	}
}

static void
claude_compact_cb(struct host *s, struct claude *c, const cJSON *v)
{
	host_status(s, "compacted",
	    json_get_str(json_get_obj(v, "compact_metadata"), "trigger"));
}

/* system/api_retry: the CLI retries 5xx and overload errors itself. */
static void
claude_retry_cb(struct host *s, struct claude *c, const cJSON *v)
{
	long long attempt = 0, max = 0, status = 0;
	char	  detail[96];

	(void)json_get_int(v, "attempt", &attempt);
	(void)json_get_int(v, "max_retries", &max);
	(void)json_get_int(v, "error_status", &status);
	snprintf(detail, sizeof detail, "attempt %lld of %lld (HTTP %lld)",
	    attempt, max, status);
	host_status(s, "api_retry", detail);
}

/* stream_event: one Anthropic streaming event in "event". */
static void
claude_stream_cb(struct host *s, struct claude *c, const cJSON *v)
{
	if (!json_is_obj(json_get(v, "event"))) {
		host_unparsed(
		    s, "stream_event without an event", claude_where(s));
		return;
	}
	claude_dispatch(s, c, claude_events, nitems(claude_events), "type",
	    json_get(v, "event"), v);
}

/* The message streaming for a subagent (parent NULL: the main loop). */
static const char *
claude_stream_find(struct claude *c, const char *parent)
{
	struct claude_stream *st;

	TAILQ_FOREACH(st, &c->streams, entry) {
		if (strcmp(st->parent, parent != NULL ? parent : "") == 0)
			return (st->msg);
	}
	return (NULL);
}

/* The message streaming for this line's subagent (or the main loop). */
static const char *
claude_stream_msg(struct claude *c, const cJSON *v)
{
	return (claude_stream_find(c, json_get_str(v, "parent_tool_use_id")));
}

static void
claude_stream_set(struct claude *c, const cJSON *v, const char *msg)
{
	const char	     *parent;
	struct claude_stream *st;

	if ((parent = json_get_str(v, "parent_tool_use_id")) == NULL)
		parent = "";
	TAILQ_FOREACH(st, &c->streams, entry) {
		if (strcmp(st->parent, parent) == 0)
			break;
	}
	if (st == NULL) {
		st = xcalloc(1, sizeof *st);
		st->parent = xstrdup(parent);
		TAILQ_INSERT_TAIL(&c->streams, st, entry);
	}
	free(st->msg);
	st->msg = xstrdup(msg);
}

/* message_start: later block events name only an index in this message. */
static void
claude_message_start_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const char *id;
	char	    synth[32];

	id = json_get_str(json_get_obj(json_get(v, "event"), "message"), "id");
	if (id == NULL) {
		snprintf(synth, sizeof synth, "msg-%u", ++c->nsynth);
		id = synth;
	}
	claude_stream_set(c, v, id);
}

/*
 * content_block_start: a new item, with the tool's name if it is one. A
 * block with no message_start before it gets a message id of ours.
 */
static void
claude_block_start_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const cJSON *ev = json_get(v, "event");
	const char  *msg;
	long long    idx;

	if (json_get_int(ev, "index", &idx) != 0 || idx < 0 || idx > 0xffff) {
		host_unparsed(s,
		    "content_block_start without a valid "
		    "index",
		    claude_where(s));
		return;
	}
	if ((msg = claude_stream_msg(c, v)) == NULL) {
		claude_message_start_cb(s, c, v);
		msg = claude_stream_msg(c, v);
	}
	if (msg == NULL || claude_block_find(c, msg, (int)idx) != NULL)
		return;
	(void)claude_block_new(s, c, msg, (int)idx, (int)idx,
	    json_get_obj(ev, "content_block"), v);
}

/* content_block_delta: text and thinking stream, tool input is kept. */
static void
claude_block_delta_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const cJSON *ev = json_get(v, "event");
	const cJSON *delta = json_get_obj(ev, "delta");
	const char  *type = json_get_str(delta, "type"), *key;
	long long    idx;

	if (json_get_int(ev, "index", &idx) != 0 || type == NULL ||
	    (key = claude_delta_key(type)) == NULL)
		return; /* signature_delta, citations_delta */
	claude_delta(s, c, json_get_str(v, "parent_tool_use_id"), idx, type,
	    json_get_str(delta, key));
}

/* The member of a delta of this type that holds its text, or NULL. */
static const char *
claude_delta_key(const char *type)
{
	static const char *const keys[][2] = { { "text_delta", "text" },
		{ "thinking_delta", "thinking" },
		{ "input_json_delta", "partial_json" } };
	size_t			 i;

	for (i = 0; i < nitems(keys); i++) {
		if (strcmp(keys[i][0], type) == 0)
			return (keys[i][1]);
	}
	return (NULL);
}

/*
 * A content_block_delta, read from the tree or by claude_delta_fast:
 * parent its parent_tool_use_id if a string, type the delta's type, one
 * claude_delta_key knows (both callers looked it up already), text its
 * claude_delta_key member if a string.
 */
static void
claude_delta(struct host *s, struct claude *c, const char *parent,
    long long idx, const char *type, const char *text)
{
	const char	    *msg = claude_stream_find(c, parent);
	struct claude_block *b;

	if (msg == NULL || (b = claude_block_find(c, msg, (int)idx)) == NULL ||
	    b->done)
		return; /* the assistant line will carry it */
	if (strcmp(type, "input_json_delta") == 0) {
		if (text != NULL && !b->input.full)
			(void)buf_str(&b->input, text); /* full: input is {} */
		return;
	}
	if (text != NULL && *text != '\0')
		host_item_delta(s, b->item, text);
}

/* The first member named key of the object at node parent, or NULL. */
static const struct json_scan_node *
claude_node(const struct json_scan_node *nodes, size_t n, int parent,
    const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (nodes[i].parent == parent && nodes[i].klen == klen &&
		    memcmp(nodes[i].key, key, klen) == 0)
			return (&nodes[i]);
	}
	return (NULL);
}

/*
 * A member named by a literal ("" makes anything else an error, where
 * sizeof would quietly give a pointer's size).
 */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define CLAUDE_NODE(nodes, n, parent, key) \
	claude_node(nodes, n, parent, key, sizeof("" key) - 1)
/* NOLINTEND(bugprone-macro-parentheses) */

/*
 * Whether "stream_event" is in the first 64 bytes of line: claude prints
 * the type first, and a line without it is not scanned, so that a long
 * tool result is not decoded for nothing. A look at each quote there.
 */
static int
claude_is_stream(const char *line, size_t len)
{
	static const char want[] = "\"stream_event\"";
	const char	 *p = line, *end = line + (len < 64 ? len : 64);

	while ((p = memchr(p, '"', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) < sizeof want - 1)
			return (0);
		if (memcmp(p, want, sizeof want - 1) == 0)
			return (1);
		p++;
	}
	return (0);
}

/* A node's string as json_get_str reads its member: NULL if not one. */
static const char *
claude_node_str(const struct json_scan_node *nd)
{
	return (nd != NULL && nd->kind == JSON_SCAN_STR ? nd->str : NULL);
}

/*
 * Read a content_block_delta line without a tree, most of what claude
 * prints with partial messages: 0 and its members into d, or -1 for the
 * tree. line is valid UTF-8 (session_line_cb makes it so), buf has len
 * bytes for the decoded strings d points into. json_scan_flat takes only
 * what json_parse takes and reads alike, and each member is looked up as
 * cJSON looks it up (the first of its name), so that d holds what
 * claude_block_delta_cb reads from the tree. Anything else is -1: another
 * line type, an index that is not a plain integer, a delta type without
 * text, arrays and deeper objects, and a line claude_is_stream passes by.
 */
int
claude_delta_scan(
    const char *line, size_t len, char *buf, struct claude_delta_line *d)
{
	struct json_scan_node	     nodes[CLAUDE_FAST_NODES];
	const struct json_scan_node *ev, *idx, *delta;
	const char		    *type, *key;
	size_t			     n;
	int			     e, dl; /* the nodes of event and delta */

	if (!claude_is_stream(line, len) ||
	    json_scan_flat(line, len, buf, nodes, nitems(nodes),
		JSON_SCAN_SCALARS, &n) != 0)
		return (-1);
	type = claude_node_str(CLAUDE_NODE(nodes, n, -1, "type"));
	if (type == NULL || strcmp(type, "stream_event") != 0)
		return (-1);
	if ((ev = CLAUDE_NODE(nodes, n, -1, "event")) == NULL ||
	    ev->kind != JSON_SCAN_OBJ)
		return (-1);
	e = (int)(ev - nodes);
	type = claude_node_str(CLAUDE_NODE(nodes, n, e, "type"));
	if (type == NULL || strcmp(type, "content_block_delta") != 0)
		return (-1);
	idx = CLAUDE_NODE(nodes, n, e, "index");
	delta = CLAUDE_NODE(nodes, n, e, "delta");
	if (idx == NULL || idx->kind != JSON_SCAN_INT || delta == NULL ||
	    delta->kind != JSON_SCAN_OBJ)
		return (-1);
	dl = (int)(delta - nodes);
	type = claude_node_str(CLAUDE_NODE(nodes, n, dl, "type"));
	if (type == NULL || (key = claude_delta_key(type)) == NULL)
		return (-1);
	d->parent =
	    claude_node_str(CLAUDE_NODE(nodes, n, -1, "parent_tool_use_id"));
	d->index = idx->num;
	d->type = type;
	d->text = claude_node_str(claude_node(nodes, n, dl, key, strlen(key)));
	return (0);
}

/* A content_block_delta line handled without a tree: 0, or -1 for it. */
static int
claude_delta_fast(
    struct host *s, struct claude *c, const char *line, size_t len)
{
	struct claude_delta_line d;
	char			 small[4096], *buf = small;
	int			 r;

	if (!claude_fast_path)
		return (-1);
	if (len > sizeof small) {
		/* A long tool result: no copy for nothing. */
		if (!claude_is_stream(line, len))
			return (-1);
		buf = xmalloc(len);
	}
	if ((r = claude_delta_scan(line, len, buf, &d)) == 0)
		claude_delta(s, c, d.parent, d.index, d.type, d.text);
	if (buf != small)
		free(buf);
	return (r);
}

/*
 * content_block_stop: normally the assistant line has completed the item
 * already; if not, complete it from what streamed.
 */
static void
claude_block_stop_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const cJSON	    *ev = json_get(v, "event");
	const char	    *msg = claude_stream_msg(c, v);
	struct claude_block *b;
	long long	     idx;

	if (msg == NULL || json_get_int(ev, "index", &idx) != 0 ||
	    (b = claude_block_find(c, msg, (int)idx)) == NULL || b->done)
		return;
	claude_block_done(s, b, 0, claude_block_content(b, NULL));
}

static struct claude_block *
claude_block_find(struct claude *c, const char *msg, int idx)
{
	struct claude_block *b;

	/* Deltas come in runs for one block: try the last one first. */
	b = c->hint;
	if (b != NULL && b->index == idx && strcmp(b->msg, msg) == 0)
		return (b);
	TAILQ_FOREACH(b, &c->blocks, entry) {
		if (b->index == idx && strcmp(b->msg, msg) == 0)
			return (c->hint = b);
	}
	return (NULL);
}

/* The tool_use block of a call id, in this turn. */
static struct claude_block *
claude_block_call(struct claude *c, const char *call_id)
{
	struct claude_block *b;

	TAILQ_FOREACH(b, &c->blocks, entry) {
		if (b->call_id != NULL && strcmp(b->call_id, call_id) == 0)
			return (b);
	}
	return (NULL);
}

/*
 * The block an assistant line's block finishes: the tool_use of that id,
 * else the message's first block of the same type that no assistant line
 * has finished yet (it may have completed at content_block_stop).
 */
static struct claude_block *
claude_block_match(struct claude *c, const char *msg, enum claude_btype type,
    const char *call_id)
{
	struct claude_block *b;

	if (call_id != NULL && (b = claude_block_call(c, call_id)) != NULL)
		return (b);
	TAILQ_FOREACH(b, &c->blocks, entry) {
		if (!b->final && b->type == type && strcmp(b->msg, msg) == 0)
			return (b);
	}
	return (NULL);
}

static enum claude_btype
claude_btype(const char *type)
{
	if (type == NULL)
		return (CLAUDE_OTHER);
	if (strcmp(type, "text") == 0)
		return (CLAUDE_TEXT);
	if (strcmp(type, "thinking") == 0 ||
	    strcmp(type, "redacted_thinking") == 0)
		return (CLAUDE_THINKING);
	if (strcmp(type, "tool_use") == 0 ||
	    strcmp(type, "server_tool_use") == 0 ||
	    strcmp(type, "mcp_tool_use") == 0)
		return (CLAUDE_TOOL);
	return (CLAUDE_OTHER);
}

/*
 * Start the item of a block. A subagent's items name the Task call that
 * runs it as parent (the session links them while that item is open).
 */
static struct claude_block *
claude_block_new(struct host *s, struct claude *c, const char *msg, int idx,
    int pos, const cJSON *block, const cJSON *line)
{
	static const enum item_kind kinds[] = { ITEM_MESSAGE, ITEM_REASONING,
		ITEM_TOOL_CALL, ITEM_MESSAGE };
	struct claude_block	   *b, *parent;
	struct item_spec	    spec;
	const char		   *pid;

	claude_blocks_prune(c);
	b = xcalloc(1, sizeof *b);
	buf_init(&b->input, CLAUDE_INPUT_MAX);
	b->msg = xstrdup(msg);
	b->index = idx;
	b->pos = pos;
	b->type = claude_btype(json_get_str(block, "type"));
	xasprintf(&b->item, "%s:%d", msg, pos);
	if (b->type == CLAUDE_TOOL) {
		b->call_id = xstrdup(json_get_str(block, "id") != NULL
			? json_get_str(block, "id")
			: b->item);
		b->name = xstrdup(json_get_str(block, "name") != NULL
			? json_get_str(block, "name")
			: "tool");
	}
	TAILQ_INSERT_TAIL(&c->blocks, b, entry);
	c->nblocks++;

	memset(&spec, 0, sizeof spec);
	spec.native_id = b->item;
	spec.kind = kinds[b->type];
	spec.role = ROLE_ASSISTANT;
	if (b->type == CLAUDE_TOOL)
		spec.content =
		    claude_tool_content(b->name, NULL, b->call_id, NULL);
	pid = json_get_str(line, "parent_tool_use_id");
	if (pid != NULL && (parent = claude_block_call(c, pid)) != NULL)
		spec.parent_native_id = parent->item;
	host_item_start(s, &spec);
	return (b);
}

/* Complete a block's item (content owned) and drop what it streamed. */
static void
claude_block_done(
    struct host *s, struct claude_block *b, int failed, cJSON *content)
{
	host_item_complete(s, b->item, failed, content);
	b->done = 1;
	buf_free(&b->input);
}

/*
 * A block's final content: from the assistant line's block when there is
 * one, else from what streamed (NULL: the session's streamed text).
 */
static cJSON *
claude_block_content(const struct claude_block *b, const cJSON *block)
{
	const char *type = json_get_str(block, "type");
	cJSON	   *content, *input;

	switch (b->type) {
	case CLAUDE_TEXT:
	case CLAUDE_THINKING:
		if (block == NULL)
			return (NULL);
		content = json_array();
		if (type != NULL && strcmp(type, "redacted_thinking") == 0)
			json_append(
			    content, event_part_reasoning("", "private"));
		else if (b->type == CLAUDE_THINKING)
			json_append(content,
			    event_part_reasoning(
				json_get_str(block, "thinking"), NULL));
		else
			json_append(content,
			    event_part_text(json_get_str(block, "text")));
		return (content);
	case CLAUDE_TOOL:
		if (block != NULL)
			return (claude_tool_content(b->name, NULL, b->call_id,
			    json_get(block, "input")));
		/* Cut short (interrupted, or over the cap): "{}". */
		input = b->input.p != NULL && !b->input.full
		    ? json_parse(b->input.p, b->input.len, NULL)
		    : NULL;
		content = claude_tool_content(b->name,
		    input != NULL ? b->input.p : NULL, b->call_id, input);
		json_free(input);
		return (content);
	case CLAUDE_OTHER:
		break;
	}
	content = json_array();
	json_append(content,
	    event_part_json(block != NULL ? json_dup(block) : json_null()));
	return (content);
}

/*
 * [tool_call{name, arguments, call_id}], plus a file_ref for a tool that
 * writes or edits a file. args is the JSON text if known, else input's.
 */
static cJSON *
claude_tool_content(
    const char *name, const char *args, const char *call_id, const cJSON *input)
{
	const char *path;
	cJSON	   *content;
	char	   *text = NULL;
	size_t	    i;

	if (args == NULL && input != NULL)
		args = text = json_print(input, NULL);
	content = json_array();
	json_append(content, event_part_tool_call(name, args, call_id));
	free(text);
	for (i = 0; i < nitems(claude_file_tools); i++) {
		if (strcmp(claude_file_tools[i].tool, name) != 0)
			continue;
		path = json_get_str(input, claude_file_tools[i].member);
		if (path != NULL)
			json_append(content,
			    event_part_file_ref(
				path, claude_file_tools[i].action, NULL));
	}
	return (content);
}

/* Forget the oldest finished blocks once there are too many. */
static void
claude_blocks_prune(struct claude *c)
{
	struct claude_block *b, *b1;

	TAILQ_FOREACH_SAFE(b, &c->blocks, entry, b1) {
		if (c->nblocks < CLAUDE_BLOCKS_MAX)
			break;
		if (b->done) {
			TAILQ_REMOVE(&c->blocks, b, entry);
			if (c->hint == b)
				c->hint = NULL;
			claude_block_free(b);
			c->nblocks--;
		}
	}
}

static void
claude_block_free(struct claude_block *b)
{
	free(b->msg);
	free(b->item);
	free(b->call_id);
	free(b->name);
	buf_free(&b->input);
	free(b);
}

/* The turn is over: complete what is still open, forget every block. */
static void
claude_blocks_end(struct host *s, struct claude *c)
{
	struct claude_block  *b;
	struct claude_stream *st;

	while ((b = TAILQ_FIRST(&c->blocks)) != NULL) {
		TAILQ_REMOVE(&c->blocks, b, entry);
		if (!b->done && s != NULL) /* a tool cut short failed */
			claude_block_done(s, b, b->type == CLAUDE_TOOL,
			    claude_block_content(b, NULL));
		claude_block_free(b);
	}
	c->nblocks = 0;
	c->hint = NULL;
	while ((st = TAILQ_FIRST(&c->streams)) != NULL) {
		TAILQ_REMOVE(&c->streams, st, entry);
		free(st->parent);
		free(st->msg);
		free(st);
	}
}

/*
 * assistant: one or more finished blocks of message.id. An API error
 * comes as a synthetic assistant message with an "error" member: that is
 * an error event, not something the model said.
 */
static void
claude_assistant_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const cJSON *message = json_get_obj(v, "message"), *content, *el;
	const char  *msg = json_get_str(message, "id");
	const char  *error = json_get_str(v, "error");
	char	    *text, synth[32];

	if (message == NULL) {
		host_unparsed(
		    s, "assistant line without a message", claude_where(s));
		return;
	}
	content = json_get(message, "content");
	if (error != NULL) {
		text = claude_result_text(content, NULL);
		claude_error(s, c, *text != '\0' ? text : error, error, NULL);
		free(text);
		return;
	}
	if (msg == NULL) {
		snprintf(synth, sizeof synth, "msg-%u", ++c->nsynth);
		msg = synth;
	}
	if (json_is_str(content)) {
		if (*json_str(content) != '\0')
			claude_block_final(s, c, msg, NULL, v);
		return;
	}
	JSON_FOREACH(el, content)
		claude_block_final(s, c, msg, el, v);
}

/*
 * One finished block (NULL block: message.content was a string). Start
 * its item if it never streamed, then complete it with the final value.
 */
static void
claude_block_final(struct host *s, struct claude *c, const char *msg,
    const cJSON *block, const cJSON *line)
{
	struct claude_block *b;
	enum claude_btype    type;
	cJSON		    *wrap = NULL;

	if (block == NULL) {
		wrap = json_object();
		json_set_str(wrap, "type", "text");
		json_set_str(wrap, "text",
		    json_str(
			json_get(json_get_obj(line, "message"), "content")));
		block = wrap;
	}
	type = claude_btype(json_get_str(block, "type"));
	b = claude_block_match(c, msg, type,
	    type == CLAUDE_TOOL ? json_get_str(block, "id") : NULL);
	if (b == NULL)
		b = claude_block_late(s, c, msg, block, line);
	if (b != NULL && !b->done) /* else done at content_block_stop */
		claude_block_done(s, b, 0, claude_block_content(b, block));
	if (b != NULL)
		b->final = 1;
	json_free(wrap);
}

/*
 * A block that did not stream: its item, after the message's other
 * blocks, and out of reach of stream events (index -1). An empty text
 * block (the CLI makes some) is not worth one.
 */
static struct claude_block *
claude_block_late(struct host *s, struct claude *c, const char *msg,
    const cJSON *block, const cJSON *line)
{
	struct claude_block *b;
	const char	    *text = json_get_str(block, "text");
	int		     pos = 0;

	if (claude_btype(json_get_str(block, "type")) == CLAUDE_TEXT &&
	    (text == NULL || *text == '\0'))
		return (NULL);
	TAILQ_FOREACH(b, &c->blocks, entry) {
		if (strcmp(b->msg, msg) == 0 && b->pos >= pos)
			pos = b->pos + 1;
	}
	return (claude_block_new(s, c, msg, -1, pos, block, line));
}

/*
 * user: tool results, or the CLI's own text ("[Request interrupted by
 * user]" becomes a status item; other text, such as a replayed prompt, is
 * already in the stream as the session's user item).
 */
static void
claude_user_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const cJSON *message = json_get_obj(v, "message"), *content, *el;
	const cJSON *structured = json_get(v, "tool_use_result");
	const char  *type, *text;
	int	     results = 0;

	content = json_get(message, "content");
	if (json_is_str(content)) {
		if (strncmp(json_str(content), CLAUDE_INTERRUPTED,
			strlen(CLAUDE_INTERRUPTED)) == 0)
			host_status(s, "interrupted", json_str(content));
		return;
	}
	JSON_FOREACH(el, content) {
		if ((type = json_get_str(el, "type")) != NULL &&
		    strcmp(type, "tool_result") == 0)
			results++;
	}
	JSON_FOREACH(el, content) {
		if ((type = json_get_str(el, "type")) == NULL)
			continue;
		text = json_get_str(el, "text");
		if (strcmp(type, "tool_result") == 0)
			claude_tool_result(
			    s, c, el, results == 1 ? structured : NULL);
		else if (strcmp(type, "text") == 0 && text != NULL &&
		    strncmp(text, CLAUDE_INTERRUPTED,
			strlen(CLAUDE_INTERRUPTED)) == 0)
			host_status(s, "interrupted", text);
	}
}

/*
 * A tool_result block as a tool_result item, linked by call_id; the
 * structured result (tool_use_result) of a file tool adds a file_ref with
 * the diff.
 */
static void
claude_tool_result(
    struct host *s, struct claude *c, const cJSON *el, const cJSON *structured)
{
	const char	*call_id = json_get_str(el, "tool_use_id");
	struct item_spec spec;
	const cJSON	*img;
	cJSON		*content, *images;
	char		*output, *id;
	int		 failed = 0;

	if (call_id == NULL) {
		host_unparsed(
		    s, "tool_result without tool_use_id", claude_where(s));
		return;
	}
	(void)json_get_bool(el, "is_error", &failed);
	images = json_array();
	output = claude_result_text(json_get(el, "content"), images);
	content = json_array();
	json_append(content, event_part_tool_result(call_id, output, failed));
	free(output);
	JSON_FOREACH(img, images)
		json_append(content, json_dup(img));
	json_free(images);
	if (!failed && json_is_obj(structured))
		claude_file_result(c, call_id, structured, content);

	xasprintf(&id, "%s:result", call_id);
	memset(&spec, 0, sizeof spec);
	spec.native_id = id;
	spec.kind = ITEM_TOOL_RESULT;
	spec.role = ROLE_TOOL;
	spec.content = json_dup(content);
	host_item_start(s, &spec);
	host_item_complete(s, id, failed, content);
	free(id);
}

/*
 * The text of a content value: a string, or the text blocks of an array
 * joined by newlines. Image blocks become image parts in parts, if given.
 */
static char *
claude_result_text(const cJSON *content, cJSON *parts)
{
	const cJSON *el, *src;
	const char  *text, *type;
	struct buf   out;

	if (json_is_str(content))
		return (xstrdup(json_str(content)));
	buf_init(&out, JSON_JOIN_MAX);
	JSON_FOREACH(el, content) {
		type = json_get_str(el, "type");
		if (type != NULL && strcmp(type, "image") == 0 &&
		    parts != NULL) {
			src = json_get_obj(el, "source");
			json_append(parts,
			    event_part_image(NULL, json_get_str(src, "data"),
				json_get_str(src, "media_type")));
			continue;
		}
		if ((text = json_get_str(el, "text")) == NULL)
			continue;
		if (out.len != 0)
			(void)buf_str(&out, "\n");
		(void)buf_str(&out, text);
	}
	return (buf_take(&out, NULL));
}

/*
 * tool_use_result of Write, Edit, MultiEdit or NotebookEdit: the path,
 * and the diff (structuredPatch, or a new file's content).
 */
static void
claude_file_result(
    struct claude *c, const char *call_id, const cJSON *r, cJSON *content)
{
	const char	    *path, *type, *action = NULL;
	const cJSON	    *patch = json_get_arr(r, "structuredPatch");
	struct claude_block *b;
	char		    *diff = NULL;
	size_t		     i;

	if ((path = json_get_str(r, "filePath")) == NULL &&
	    (path = json_get_str(r, "notebook_path")) == NULL)
		return;
	type = json_get_str(r, "type");
	b = claude_block_call(c, call_id);
	for (i = 0;
	     b != NULL && b->name != NULL && i < nitems(claude_file_tools);
	     i++) {
		if (strcmp(claude_file_tools[i].tool, b->name) == 0)
			action = claude_file_tools[i].action;
	}
	if (action == NULL && type != NULL && strcmp(type, "create") == 0)
		action = "write";
	else if (action == NULL && patch != NULL)
		action = "patch";
	if (action == NULL)
		return;
	if (patch != NULL && json_size(patch) > 0)
		diff = claude_diff_patch(path, patch);
	else if (type != NULL && strcmp(type, "create") == 0)
		diff = json_get_str(r, "content") != NULL
		    ? diff_texts(NULL, NULL, path, json_get_str(r, "content"))
		    : NULL;
	json_append(content, event_part_file_ref(path, action, diff));
	free(diff);
}

/* A unified diff from structuredPatch hunks; NULL if over the cap. */
static char *
claude_diff_patch(const char *path, const cJSON *patch)
{
	const cJSON *h, *l;
	long long    os, ol, ns, nl;
	struct buf   b;

	diff_begin(&b, path, path);
	JSON_FOREACH(h, patch) {
		if (json_get_int(h, "oldStart", &os) != 0 ||
		    json_get_int(h, "oldLines", &ol) != 0 ||
		    json_get_int(h, "newStart", &ns) != 0 ||
		    json_get_int(h, "newLines", &nl) != 0)
			continue;
		diff_hunk(&b, os, ol, ns, nl);
		JSON_FOREACH(l, json_get_arr(h, "lines")) {
			if (json_str(l) != NULL)
				(void)buf_printf(&b, "%s\n", json_str(l));
		}
	}
	return (diff_end(&b));
}

/*
 * result: the end of the turn. Claude reports API errors as subtype
 * "success" with is_error, so is_error or an error_* subtype is an error
 * event first, unless we interrupted the turn: that is "cancelled".
 * total_cost_usd is the process's running total, so the turn's cost is
 * the difference with the last one.
 */
static void
claude_result_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const char *subtype = json_get_str(v, "subtype");
	const char *reason;
	char	   *text;
	char	    num[64], code[64];
	long long   status;
	cJSON	   *details;
	double	    total, cost = -1;
	int	    failed = 0;

	(void)json_get_bool(v, "is_error", &failed);
	if (subtype != NULL && strncmp(subtype, "error", 5) == 0)
		failed = 1;
	reason = claude_stop_reason(c, v, failed);
	if (failed && strcmp(reason, "cancelled") != 0) {
		text = claude_error_text(v);
		details = json_object();
		json_set_str(details, "subtype", subtype);
		json_set(details, "api_error_status",
		    json_dup(json_get(v, "api_error_status")));
		json_set(details, "errors", json_dup(json_get(v, "errors")));
		json_set_str(details, "terminal_reason",
		    json_get_str(v, "terminal_reason"));
		/* The HTTP status says most; the subtype says "success". */
		if (json_get_int(v, "api_error_status", &status) == 0)
			snprintf(code, sizeof code, "%lld", status);
		else
			snprintf(code, sizeof code, "%s",
			    subtype != NULL ? subtype : "error");
		claude_error(s, c, text, code, details);
		free(text);
	}
	if (json_get_num(v, "total_cost_usd", &total) == 0 && total >= 0) {
		cost = total >= c->cost_seen ? total - c->cost_seen : total;
		c->cost_seen = total;
		/* No float noise (0.002700000000000001) in the stream. */
		snprintf(num, sizeof num, "%.10f", cost);
		cost = strtod(num, NULL);
	}
	claude_blocks_end(s, c);
	claude_turn_reset(c);
	/* result.usage: this turn's main loop. */
	host_turn_end(s, reason,
	    event_usage_from(json_get_obj(v, "usage"), claude_usage_names),
	    cost);
}

/* The universal stop reason of a result. */
static const char *
claude_stop_reason(struct claude *c, const cJSON *v, int failed)
{
	const char *subtype = json_get_str(v, "subtype");
	const char *terminal = json_get_str(v, "terminal_reason");
	const char *stop = json_get_str(v, "stop_reason");
	size_t	    i;

	if (c->cancelling ||
	    (terminal != NULL && strncmp(terminal, "aborted", 7) == 0))
		return ("cancelled");
	for (i = 0; subtype != NULL && i < nitems(claude_stops); i++) {
		if (strcmp(claude_stops[i][0], subtype) == 0)
			return (claude_stops[i][1]);
	}
	if (failed)
		return ("error");
	if (stop != NULL &&
	    (strcmp(stop, "max_tokens") == 0 || strcmp(stop, "refusal") == 0))
		return (stop);
	return ("end_turn");
}

/* The error text of a failed result: result, errors, or Amp's error. */
static char *
claude_error_text(const cJSON *v)
{
	const char *text = json_get_str(v, "result");
	const char *subtype = json_get_str(v, "subtype");
	char	   *out;

	if (text != NULL && *text != '\0')
		return (xstrdup(text));
	if ((out = json_join(json_get_arr(v, "errors"), NULL, "; ")) != NULL)
		return (out);
	if ((text = json_get_str(v, "error")) != NULL && *text != '\0')
		return (xstrdup(text));
	xasprintf(&out, "the agent reported an error (%s)",
	    subtype != NULL ? subtype : "no subtype");
	return (out);
}

/*
 * An error event, once: the synthetic assistant message of an API error
 * and the result after it carry the same text.
 */
static void
claude_error(struct host *s, struct claude *c, const char *text,
    const char *code, cJSON *details)
{
	if (c->error != NULL && strcmp(c->error, text) == 0) {
		json_free(details);
		return;
	}
	free(c->error);
	c->error = xstrdup(text);
	host_error(s, text, code, details);
}

static void
claude_turn_reset(struct claude *c)
{
	c->cancelling = 0;
	free(c->error);
	c->error = NULL;
}

/*
 * One user message. An attachment is named as an @path mention, which the
 * CLI reads with its own tools; nothing is inlined.
 */
static int
claude_send_message(struct host *s, const struct user_message *m)
{
	struct claude *c = claude_get(s);
	const cJSON   *att;
	const char    *path, *kind;
	cJSON	      *msg, *message, *content, *b, *src;
	char	      *text;

	if (c == NULL)
		return (-1);
	claude_turn_reset(c);
	content = json_array();
	b = json_object();
	json_set_str(b, "type", "text");
	json_set_str(b, "text", m->text != NULL ? m->text : "");
	json_append(content, b);
	JSON_FOREACH(att, m->attachments) {
		kind = json_get_str(att, "kind");
		if (kind != NULL && strcmp(kind, "image") == 0) {
			src = json_object();
			json_set_str(src, "type", "base64");
			json_set_str(
			    src, "media_type", json_get_str(att, "mime"));
			json_set_str(src, "data", json_get_str(att, "data"));
			b = json_object();
			json_set_str(b, "type", "image");
			json_set(b, "source", src);
			json_append(content, b);
			continue;
		}
		if ((path = json_get_str(att, "path")) == NULL)
			continue;
		xasprintf(&text, "@%s", path);
		b = json_object();
		json_set_str(b, "type", "text");
		json_set_str(b, "text", text);
		json_append(content, b);
		free(text);
	}
	message = json_object();
	json_set_str(message, "role", "user");
	json_set(message, "content", content);
	msg = json_object();
	json_set_str(msg, "type", "user");
	json_set(msg, "message", message);
	host_send_json(s, msg);
	return (0);
}

/*
 * control_response {subtype:"success", request_id, response} or, error
 * not NULL, {subtype:"error", request_id, error}.
 */
static void
claude_control_reply(
    struct host *s, const char *request_id, cJSON *response, const char *error)
{
	cJSON *r, *msg;

	r = json_object();
	json_set_str(r, "subtype", error != NULL ? "error" : "success");
	json_set_str(r, "request_id", request_id);
	json_set(r, "response", response);
	json_set_str(r, "error", error);
	msg = json_object();
	json_set_str(msg, "type", "control_response");
	json_set(msg, "response", r);
	host_send_json(s, msg);
}

/*
 * control_request from the CLI. Only can_use_tool is served; the others
 * (hook_callback, mcp_message, elicitation, request_user_dialog) ask for
 * things we never registered, and get an error so the CLI never waits.
 */
static void
claude_control_request_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const char  *id = json_get_str(v, "request_id");
	const cJSON *req = json_get_obj(v, "request");
	const char  *subtype = json_get_str(req, "subtype");
	char	    *error;

	if (id == NULL || subtype == NULL) {
		host_unparsed(s,
		    "control_request without request_id or "
		    "subtype",
		    claude_where(s));
		return;
	}
	if (strcmp(subtype, "can_use_tool") == 0) {
		claude_can_use_tool_cb(s, c, id, req);
		return;
	}
	xasprintf(&error, "agentd does not serve %s", subtype);
	claude_control_reply(s, id, NULL, error);
	free(error);
}

/*
 * can_use_tool: AskUserQuestion is a question, anything else a
 * permission, both registered under the request_id.
 */
static void
claude_can_use_tool_cb(
    struct host *s, struct claude *c, const char *id, const cJSON *req)
{
	const char  *tool = json_get_str(req, "tool_name");
	const cJSON *input = json_get_obj(req, "input");
	const cJSON *suggestions = json_get_arr(req, "permission_suggestions");
	cJSON	    *questions, *meta;

	if (tool == NULL)
		tool = "tool";
	if (strcmp(tool, "AskUserQuestion") == 0 &&
	    (questions = claude_questions(input)) != NULL) {
		(void)claude_ask_add(c, id, input, NULL);
		host_question_request(s, id, questions);
		return;
	}
	meta = json_object();
	json_set_str(meta, "tool_name", tool);
	json_set(
	    meta, "input", input != NULL ? json_dup(input) : json_object());
	json_set_str(meta, "call_id", json_get_str(req, "tool_use_id"));
	if (json_size(suggestions) > 0)
		json_set(meta, "suggestions", json_dup(suggestions));
	(void)claude_ask_add(c, id, input, suggestions);
	host_permission_request(s, id, tool, meta);
}

/* AskUserQuestion's questions in DESIGN.md's shape; NULL if none. */
static cJSON *
claude_questions(const cJSON *input)
{
	const cJSON *el, *opt;
	cJSON	    *questions, *q, *opts, *o;
	int	     multi;

	if (json_size(json_get_arr(input, "questions")) <= 0)
		return (NULL);
	questions = json_array();
	JSON_FOREACH(el, json_get_arr(input, "questions")) {
		q = json_object();
		json_set_str(q, "question",
		    json_get_str(el, "question") != NULL
			? json_get_str(el, "question")
			: "");
		json_set_str(q, "header", json_get_str(el, "header"));
		if (json_get_bool(el, "multiSelect", &multi) != 0)
			multi = 0;
		json_set_bool(q, "multi_select", multi);
		opts = json_array();
		JSON_FOREACH(opt, json_get_arr(el, "options")) {
			o = json_object();
			json_set_str(o, "label",
			    json_get_str(opt, "label") != NULL
				? json_get_str(opt, "label")
				: "");
			json_set_str(
			    o, "description", json_get_str(opt, "description"));
			json_append(opts, o);
		}
		json_set(q, "options", opts);
		json_append(questions, q);
	}
	return (questions);
}

/*
 * Answer a permission: allow with the input unchanged (and, for always,
 * the CLI's own suggested rules), or deny; a cancelled turn's deny also
 * interrupts. A request the CLI withdrew takes the reply silently.
 */
static int
claude_reply_permission(
    struct host *s, const char *native_id, enum permission_reply reply)
{
	struct claude	  *c = claude_get(s);
	struct claude_ask *k;
	cJSON		  *r;

	if (c == NULL || (k = claude_ask_take(c, native_id)) == NULL)
		return (-1);
	r = json_object();
	switch (reply) {
	case PERMISSION_ONCE:
	case PERMISSION_ALWAYS:
		json_set_str(r, "behavior", "allow");
		json_set(r, "updatedInput",
		    k->input != NULL ? json_dup(k->input) : json_object());
		if (reply == PERMISSION_ALWAYS && k->suggestions != NULL)
			json_set(
			    r, "updatedPermissions", json_dup(k->suggestions));
		break;
	case PERMISSION_REJECT:
		json_set_str(r, "behavior", "deny");
		json_set_str(r, "message", "The user rejected this tool use");
		break;
	case PERMISSION_CANCELLED:
		json_set_str(r, "behavior", "deny");
		json_set_str(r, "message", "The user cancelled the turn");
		json_set_bool(r, "interrupt", 1);
		break;
	}
	claude_ask_answer(s, k, r);
	return (0);
}

/*
 * Answer AskUserQuestion: allow with the input plus answers {question
 * text: label, several labels joined by ", "}; no answers is a deny.
 */
static int
claude_reply_question(
    struct host *s, const char *native_id, const cJSON *answers)
{
	struct claude	  *c = claude_get(s);
	struct claude_ask *k;
	const cJSON	  *q;
	cJSON		  *r, *input, *map;
	char		  *text;
	int		   i = 0;

	if (c == NULL || (k = claude_ask_take(c, native_id)) == NULL)
		return (-1);
	r = json_object();
	if (!json_is_arr(answers)) {
		json_set_str(r, "behavior", "deny");
		json_set_str(r, "message", "The user declined to answer");
		goto out;
	}
	input = k->input != NULL ? json_dup(k->input) : json_object();
	map = json_object();
	JSON_FOREACH(q, json_get_arr(input, "questions")) {
		text = json_join(json_at(answers, i++), NULL, ", ");
		if (text != NULL && json_get_str(q, "question") != NULL)
			json_set_str(map, json_get_str(q, "question"), text);
		free(text);
	}
	json_set(input, "answers", map);
	json_set_str(r, "behavior", "allow");
	json_set(r, "updatedInput", input);
out:
	claude_ask_answer(s, k, r);
	return (0);
}

/*
 * control_response: to our initialize, interrupt, set_model or
 * set_permission_mode. initialize's success tells the models; the others
 * need nothing (the result ends the turn; init and status tell the model
 * and mode); an error is told.
 */
static void
claude_control_response_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const cJSON *r = json_get_obj(v, "response");
	const char  *subtype = json_get_str(r, "subtype");
	const char  *error = json_get_str(r, "error");
	const char  *id = json_get_str(r, "request_id");
	char	     want[32];

	if (c->init != 0 && id != NULL) {
		(void)snprintf(want, sizeof want, "agentd-%u", c->init);
		if (strcmp(id, want) == 0) {
			c->init = 0;
			if (subtype != NULL && strcmp(subtype, "success") == 0)
				claude_models(s, json_get_obj(r, "response"));
			return; /* without models, Claude takes any id */
		}
	}
	if (subtype == NULL || strcmp(subtype, "error") != 0)
		return;
	host_error(s, error != NULL ? error : "control request failed",
	    "control_error", NULL);
}

/*
 * initialize's models, [{value, displayName, description, …}], as the
 * session's model choices. What the CLI tells, not a bound: it takes any
 * full model id too, so a change is not checked against the list.
 */
static void
claude_models(struct host *s, const cJSON *r)
{
	const cJSON *m;
	const char  *id;
	cJSON	    *list;

	if (json_get_arr(r, "models") == NULL)
		return;
	list = json_array();
	JSON_FOREACH(m, json_get_arr(r, "models")) {
		if ((id = json_get_str(m, "value")) == NULL)
			continue;
		host_choice(list, id, json_get_str(m, "displayName"),
		    json_get_str(m, "description"));
	}
	host_set_option(s, "model", NULL, list);
}

/*
 * control_cancel_request: the CLI withdrew a can_use_tool. The host has
 * no way to withdraw the pending request, so it stays until a client or
 * the turn's end answers it, and the answer is dropped.
 */
static void
claude_control_cancel_cb(struct host *s, struct claude *c, const cJSON *v)
{
	const char	  *id = json_get_str(v, "request_id");
	struct claude_ask *k;

	TAILQ_FOREACH(k, &c->asks, entry) {
		if (id != NULL && strcmp(k->request_id, id) == 0) {
			k->withdrawn = 1;
			host_status(s, "withdrawn", id);
		}
	}
}

static struct claude_ask *
claude_ask_add(struct claude *c, const char *id, const cJSON *input,
    const cJSON *suggestions)
{
	struct claude_ask *k;

	k = xcalloc(1, sizeof *k);
	k->request_id = xstrdup(id);
	k->input = input != NULL ? json_dup(input) : NULL;
	if (json_size(suggestions) > 0)
		k->suggestions = json_dup(suggestions);
	TAILQ_INSERT_TAIL(&c->asks, k, entry);
	return (k);
}

static struct claude_ask *
claude_ask_take(struct claude *c, const char *id)
{
	struct claude_ask *k;

	TAILQ_FOREACH(k, &c->asks, entry) {
		if (strcmp(k->request_id, id) == 0) {
			TAILQ_REMOVE(&c->asks, k, entry);
			return (k);
		}
	}
	return (NULL);
}

/* Answer a taken ask with r (owned), unless the CLI withdrew it; free it. */
static void
claude_ask_answer(struct host *s, struct claude_ask *k, cJSON *r)
{
	if (!k->withdrawn)
		claude_control_reply(s, k->request_id, r, NULL);
	else
		json_free(r);
	claude_ask_free(k);
}

static void
claude_ask_free(struct claude_ask *k)
{
	free(k->request_id);
	json_free(k->input);
	json_free(k->suggestions);
	free(k);
}

/* Send a control_request of ours (req moved in); its answer is
 * claude_control_response_cb's. */
static void
claude_control(struct host *s, struct claude *c, cJSON *req)
{
	cJSON *msg;
	char  *id;

	xasprintf(&id, "agentd-%u", ++c->nrequest);
	msg = json_object();
	json_set_str(msg, "type", "control_request");
	json_set_str(msg, "request_id", id);
	json_set(msg, "request", req);
	host_send_json(s, msg);
	free(id);
}

/*
 * Interrupt the turn. The CLI answers with a control_response, then ends
 * the turn with an error result, which becomes "cancelled".
 */
static int
claude_cancel(struct host *s)
{
	struct claude *c = claude_get(s);
	cJSON	      *req;

	if (c == NULL)
		return (-1);
	req = json_object();
	json_set_str(req, "subtype", "interrupt");
	claude_control(s, c, req);
	c->cancelling = 1;
	return (0);
}

/*
 * Model and permission mode, by control requests set_model and
 * set_permission_mode: the CLI takes them at once, during a turn too
 * (from its next API request). With no CLI running, --model and
 * --permission-mode give them at the next start. Claude has no control
 * request for a reasoning effort: 409. Any model name goes (the CLI
 * takes aliases and full ids; a wrong one fails at the API, in an error
 * event); a mode must be one it knows (422).
 */
static int
claude_configure(struct host *s, const struct session_config *cfg, char **cause)
{
	struct claude *c = claude_get(s);
	const char    *mode = NULL;
	cJSON	      *req;

	if (cfg->effort != NULL) {
		*cause = xstrdup("claude has no way to change its reasoning "
				 "effort during a session");
		return (409);
	}
	if (cfg->mode != NULL && (mode = claude_mode(cfg->mode, cause)) == NULL)
		return (422);
	if (c == NULL)
		return (0);
	if (cfg->model != NULL) {
		req = json_object();
		json_set_str(req, "subtype", "set_model");
		json_set_str(req, "model", cfg->model);
		claude_control(s, c, req);
	}
	if (mode != NULL) {
		req = json_object();
		json_set_str(req, "subtype", "set_permission_mode");
		json_set_str(req, "mode", mode);
		claude_control(s, c, req);
	}
	return (0);
}

static void
claude_free(struct host *s)
{
	struct claude	  *c = claude_get(s);
	struct claude_ask *k;

	if (c == NULL)
		return;
	claude_blocks_end(NULL, c);
	while ((k = TAILQ_FIRST(&c->asks)) != NULL) {
		TAILQ_REMOVE(&c->asks, k, entry);
		claude_ask_free(k);
	}
	free(c->version);
	free(c->error);
	free(c);
	host_set_adapter_data(s, NULL);
}
