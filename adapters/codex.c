/*
 * codex.c: Codex over "codex app-server", one process per session.
 *
 * The wire is JSON-RPC in shape but without the "jsonrpc" member, and both
 * sides send requests: ours get ids from the pending table, the server's
 * (approvals, questions) count from 0 on their own, so theirs are kept as
 * JSON and echoed back verbatim.
 *
 * The handshake is initialize, the initialized notification, then
 * thread/start, or thread/resume when the session already has a thread id;
 * model/list goes along (its answer is the session's model choices, and
 * nothing waits for it).
 * A message handed over before the thread exists waits here. Each message
 * is one turn/start; the turn ends at turn/completed, whose status is the
 * stop reason, and cancel is turn/interrupt on the turn id that turn/start
 * (or turn/started, whichever comes first) gave.
 *
 * Codex sends whole items (item/started, item/completed) keyed by id, with
 * deltas in between, so they map one to one onto ours: an agent message or
 * reasoning item streams; a command, file change, MCP or dynamic tool call
 * is a tool_call item when it starts and a tool_result item ("<id>:result")
 * when it completes. A command's output deltas (and a patch's, from
 * servers that still send them) stream into that tool_result item, which
 * then starts early.
 *
 * Usage: thread/tokenUsage/updated carries the thread's running total; a
 * turn's usage is the total at its end less the total when it was sent.
 *
 * Notifications with no place in the universal stream are ignored on
 * purpose (anything not in codex_notifications): thread/started,
 * thread/status/changed, thread/name/updated, the thread/goal and
 * account families, thread/compacted, turn/diff/updated (the fileChange
 * items carry their own diffs), item/fileChange/patchUpdated,
 * item/mcpToolCall/progress, item/plan/delta (the plan item's final text
 * is kept), mcpServer and remoteControl status, configWarning (bubblewrap
 * and the like, before any turn), sessionConfigured and the legacy
 * "codex/event/" mirrors.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters.h"

#ifndef AGENTD_VERSION
#define AGENTD_VERSION "0.0.0"
#endif

#define CODEX_OUTPUT_MAX (1UL * 1024 * 1024) /* kept per tool call */
#define CODEX_ACTION_MAX 512

enum codex_phase {
	CODEX_INIT,    /* initialize sent */
	CODEX_OPENING, /* thread/start or thread/resume sent */
	CODEX_READY,   /* a thread exists */
	CODEX_FAILED   /* the handshake failed */
};

/* What a request of ours was, kept in the pending table by its id. */
enum codex_req {
	CODEX_REQ_INITIALIZE,
	CODEX_REQ_START,
	CODEX_REQ_RESUME,
	CODEX_REQ_TURN,
	CODEX_REQ_INTERRUPT,
	CODEX_REQ_MODELS,
	CODEX_REQ_COUNT
};

/* Token counts, as thread/tokenUsage/updated gives them. */
struct codex_usage {
	long long input;
	long long cached;
	long long cache_write;
	long long output;
};

struct codex_tool;

/* A tool item (command, file change, MCP call) started in this turn. */
struct codex_call {
	char			*id;
	const struct codex_tool *tool;
	cJSON			*input;	    /* the tool_call arguments */
	struct buf		 out;	    /* output deltas, capped */
	int			 streaming; /* tool_result item started */
	TAILQ_ENTRY(codex_call) entry;
};

/* A server request waiting for a client: an approval or a question. */
struct codex {
	enum codex_phase     phase;
	struct jsonrpc_peer *peer;	/* our requests, the server's asks */
	int		     resuming;	/* thread/resume in flight */
	int		     fresh;	/* resume failed: start anew */
	int		     in_turn;	/* turn/start sent, not completed */
	int		     interrupt; /* cancel before the turn id */
	char		    *turn_id;
	char		    *last_error; /* this turn's last error event */
	unsigned int	     nsynth;	 /* synthetic item ids */

	struct codex_usage seen;       /* last thread total */
	struct codex_usage base;       /* thread total at turn/start */
	int		   usage_seen; /* an update in this turn */

	struct rpc_queue queue; /* messages' UserInput, for the thread */
	TAILQ_HEAD(, codex_call) calls;
};

typedef void codex_item_fn(struct host *, struct codex *, const cJSON *);

/* What to do with a ThreadItem type when it starts and completes. */
struct codex_item_type {
	const char    *type;
	codex_item_fn *start;
	codex_item_fn *complete;
};

/*
 * A tool item type: its tool_call part's name and arguments, its result
 * text (and whether it failed), and the file_ref parts it leaves.
 */
struct codex_tool {
	const char *type;
	char *(*input)(const cJSON *, cJSON **);
	char *(*result)(const cJSON *, const struct codex_call *, int *);
	void (*refs)(const cJSON *, cJSON *);
};

static int  codex_spawn_argv(struct host *, struct argv_builder *, char **);
static void codex_on_start(struct host *);
static void codex_on_line(struct host *, const char *, size_t);
static int  codex_send_message(struct host *, const struct user_message *);
static int
codex_reply_permission(struct host *, const char *, enum permission_reply);
static int codex_reply_question(struct host *, const char *, const cJSON *);
static int codex_cancel(struct host *);
static int
codex_configure(struct host *, const struct session_config *, char **);
static size_t codex_mode(const char *);
static void   codex_learn(struct host *, const cJSON *);
static void   codex_free(struct host *);

static struct codex *codex_get(struct host *);
static void	     codex_fail(
	     struct host *, struct codex *, const char *, const struct jsonrpc_msg *);
static void   codex_open_thread(struct host *, struct codex *);
static void   codex_thread_policy(struct host *, cJSON *);
static void   codex_turn_overrides(struct host *, cJSON *);
static void   codex_flush(struct host *, struct codex *);
static void   codex_interrupt(struct host *, struct codex *);
static void   codex_turn_end(struct host *, struct codex *, const char *);
static cJSON *codex_turn_usage(struct codex *);
static void   codex_error_event(struct host *, struct codex *, const cJSON *);
static void   codex_set_turn(struct codex *, const char *);
static void   codex_item_dispatch(
      struct host *, struct codex *, const struct jsonrpc_msg *, int);

static jsonrpc_msg_fn codex_initialize_cb;
static jsonrpc_msg_fn codex_thread_cb;
static jsonrpc_msg_fn codex_turn_cb;
static jsonrpc_msg_fn codex_interrupt_cb;
static jsonrpc_msg_fn codex_models_cb;
static jsonrpc_msg_fn codex_command_approval_cb;
static jsonrpc_msg_fn codex_file_approval_cb;
static jsonrpc_msg_fn codex_user_input_cb;
static jsonrpc_msg_fn codex_mcp_approval_cb;
static jsonrpc_msg_fn codex_item_started_cb;
static jsonrpc_msg_fn codex_item_completed_cb;
static jsonrpc_msg_fn codex_message_delta_cb;
static jsonrpc_msg_fn codex_reasoning_delta_cb;
static jsonrpc_msg_fn codex_reasoning_part_cb;
static jsonrpc_msg_fn codex_output_delta_cb;
static jsonrpc_msg_fn codex_turn_started_cb;
static jsonrpc_msg_fn codex_turn_completed_cb;
static jsonrpc_msg_fn codex_plan_cb;
static jsonrpc_msg_fn codex_usage_cb;
static jsonrpc_msg_fn codex_error_cb;
static jsonrpc_msg_fn codex_warning_cb;
static jsonrpc_msg_fn codex_resolved_cb;

static codex_item_fn codex_message_start;
static codex_item_fn codex_message_complete;
static codex_item_fn codex_reasoning_start;
static codex_item_fn codex_reasoning_complete;
static codex_item_fn codex_tool_start;
static codex_item_fn codex_tool_complete;
static codex_item_fn codex_status_complete;

static char *codex_command_input(const cJSON *, cJSON **);
static char *
codex_command_result(const cJSON *, const struct codex_call *, int *);
static char *codex_file_input(const cJSON *, cJSON **);
static char *codex_file_result(const cJSON *, const struct codex_call *, int *);
static void  codex_file_refs(const cJSON *, cJSON *);
static char *
codex_file_diff(const char *, const char *, const char *, const char *);
static char *codex_mcp_input(const cJSON *, cJSON **);
static char *codex_mcp_result(const cJSON *, const struct codex_call *, int *);
static char *codex_dynamic_input(const cJSON *, cJSON **);
static char *
codex_dynamic_result(const cJSON *, const struct codex_call *, int *);

static void codex_result_start(
    struct host *, struct codex_call *, const char *, const cJSON *);
static const struct codex_tool *codex_tool_find(const char *);
static struct codex_call       *codex_call_find(struct codex *, const char *);
static void			codex_call_free(struct codex_call *);
static void			codex_calls_clear(struct codex *);
static cJSON		       *codex_call_part(const struct codex_call *);
static char *codex_texts(const cJSON *, const char *, const char *);
static char *codex_status_output(const cJSON *, char *);
static void  codex_ensure(struct host *, const char *, enum item_kind);
static void
codex_delta(struct host *, const struct jsonrpc_msg *, enum item_kind);
static char *codex_synthetic_id(struct codex *, const char *);

static int codex_offered(const cJSON *, const char *);

const struct adapter adapter_codex = { .name = "codex",
	.caps = CAP_PERMISSIONS | CAP_QUESTIONS | CAP_REASONING |
	    CAP_TOOL_CALLS | CAP_FILE_CHANGES | CAP_STREAMING | CAP_RESUME |
	    CAP_CANCEL | CAP_USAGE | CAP_IMAGES,
	.spawn_argv = codex_spawn_argv,
	.on_start = codex_on_start,
	.on_line = codex_on_line,
	.send_message = codex_send_message,
	.reply_permission = codex_reply_permission,
	.reply_question = codex_reply_question,
	.cancel = codex_cancel,
	.configure = codex_configure,
	.free = codex_free };

/* Responses to our requests, by enum codex_req. */
static jsonrpc_msg_fn *const codex_responses[CODEX_REQ_COUNT] = {
	[CODEX_REQ_INITIALIZE] = codex_initialize_cb,
	[CODEX_REQ_START] = codex_thread_cb,
	[CODEX_REQ_RESUME] = codex_thread_cb,
	[CODEX_REQ_TURN] = codex_turn_cb,
	[CODEX_REQ_INTERRUPT] = codex_interrupt_cb,
	[CODEX_REQ_MODELS] = codex_models_cb
};

/*
 * Requests from the server; anything else (item/permissions/requestApproval,
 * an elicitation that is not an MCP tool call's approval, item/tool/call,
 * the v1 approvals, ...) is answered -32601 so that codex fails the call
 * instead of waiting.
 */
static const struct jsonrpc_method codex_requests[] = {
	{ "item/commandExecution/requestApproval", codex_command_approval_cb },
	{ "item/fileChange/requestApproval", codex_file_approval_cb },
	{ "item/tool/requestUserInput", codex_user_input_cb },
	{ "mcpServer/elicitation/request", codex_mcp_approval_cb }
};

/* Notifications we translate; see the list of ignored ones on top. */
static const struct jsonrpc_method codex_notifications[] = {
	{ "item/started", codex_item_started_cb },
	{ "item/completed", codex_item_completed_cb },
	{ "item/agentMessage/delta", codex_message_delta_cb },
	{ "item/reasoning/summaryTextDelta", codex_reasoning_delta_cb },
	{ "item/reasoning/textDelta", codex_reasoning_delta_cb },
	{ "item/reasoning/summaryPartAdded", codex_reasoning_part_cb },
	{ "item/commandExecution/outputDelta", codex_output_delta_cb },
	{ "item/fileChange/outputDelta", codex_output_delta_cb },
	{ "turn/started", codex_turn_started_cb },
	{ "turn/completed", codex_turn_completed_cb },
	{ "turn/plan/updated", codex_plan_cb },
	{ "thread/tokenUsage/updated", codex_usage_cb },
	{ "error", codex_error_cb }, { "warning", codex_warning_cb },
	{ "serverRequest/resolved", codex_resolved_cb }
};

/* JSON-RPC without the "jsonrpc" member, both ways. */
static const struct jsonrpc_peer_ops codex_rpc = { "codex", 0, codex_requests,
	nitems(codex_requests), codex_notifications,
	nitems(codex_notifications), codex_responses, CODEX_REQ_COUNT,
	rpc_stray_cb, rpc_send_cb, rpc_invalid_cb };

/*
 * ThreadItem types. userMessage is left out (the session emitted the user
 * item when it sent the message), and so are collabAgentToolCall and any
 * type this version does not know. The status-like ones become a status
 * item when they complete.
 */
static const struct codex_item_type codex_items[] = {
	{ "agentMessage", codex_message_start, codex_message_complete },
	{ "reasoning", codex_reasoning_start, codex_reasoning_complete },
	{ "commandExecution", codex_tool_start, codex_tool_complete },
	{ "fileChange", codex_tool_start, codex_tool_complete },
	{ "mcpToolCall", codex_tool_start, codex_tool_complete },
	{ "dynamicToolCall", codex_tool_start, codex_tool_complete },
	{ "webSearch", NULL, codex_status_complete },
	{ "imageView", NULL, codex_status_complete },
	{ "plan", NULL, codex_status_complete },
	{ "contextCompaction", NULL, codex_status_complete },
	{ "enteredReviewMode", NULL, codex_status_complete },
	{ "exitedReviewMode", NULL, codex_status_complete }
};

static const struct codex_tool codex_tools[] = {
	{ "commandExecution", codex_command_input, codex_command_result, NULL },
	{ "fileChange", codex_file_input, codex_file_result, codex_file_refs },
	{ "mcpToolCall", codex_mcp_input, codex_mcp_result, NULL },
	{ "dynamicToolCall", codex_dynamic_input, codex_dynamic_result, NULL }
};

/*
 * Permission modes as approval policy and sandbox. "default" asks before
 * anything that is not known to be read-only, so that file changes and
 * commands reach the client; unknown modes get the default.
 */
static const struct {
	const char *mode;
	const char *approval;
	const char *sandbox;
	const char *policy; /* turn/start's sandboxPolicy type */
} codex_modes[] = { { "default", "untrusted", "workspace-write",
			"workspaceWrite" },
	{ "acceptEdits", "on-request", "workspace-write", "workspaceWrite" },
	{ "bypass", "never", "danger-full-access", "dangerFullAccess" },
	{ "bypassPermissions", "never", "danger-full-access",
	    "dangerFullAccess" },
	{ "plan", "untrusted", "read-only", "readOnly" },
	{ "readOnly", "untrusted", "read-only", "readOnly" },
	{ "read-only", "untrusted", "read-only", "readOnly" } };

/* Reasoning efforts codex takes (turn/start's effort). */
static const char *const codex_efforts[] = { "none", "minimal", "low", "medium",
	"high", "xhigh" };

static struct codex *
codex_get(struct host *s)
{
	return (host_adapter_data(s));
}

/* The command (agentCommand or the profile's), then "app-server". */
static int
codex_spawn_argv(struct host *s, struct argv_builder *b, char **cause)
{
	if (argv_command(s, b, cause) != 0)
		return (-1);
	argv_add(b, "app-server");
	return (0);
}

/* The child runs: create our state and send initialize. */
static void
codex_on_start(struct host *s)
{
	struct codex *a;
	cJSON	     *params, *info;

	a = xcalloc(1, sizeof *a);
	a->peer = jsonrpc_peer_new(&codex_rpc, s);
	TAILQ_INIT(&a->queue);
	TAILQ_INIT(&a->calls);
	host_set_adapter_data(s, a);

	info = json_object();
	json_set_str(info, "name", "agentd");
	json_set_str(info, "title", "agentd");
	json_set_str(info, "version", AGENTD_VERSION);
	params = json_object();
	json_set(params, "clientInfo", info);
	json_set(params, "capabilities", json_null());
	jsonrpc_peer_request(
	    a->peer, CODEX_REQ_INITIALIZE, "initialize", params);
}

/* One line of the server's stdout, to the peer. */
static void
codex_on_line(struct host *s, const char *line, size_t len)
{
	struct codex *a = codex_get(s);

	if (a != NULL)
		jsonrpc_peer_line(a->peer, line, len);
}

/*
 * The handshake failed: report it and fail the message waiting for it.
 * Later send_message calls return -1.
 */
static void
codex_fail(struct host *s, struct codex *a, const char *what,
    const struct jsonrpc_msg *msg)
{
	a->phase = CODEX_FAILED;
	if (msg != NULL)
		rpc_error(s, msg, what);
	else
		host_error(s, what, NULL, NULL);
	rpc_queue_drop(s, &a->queue, "error");
}

/*
 * initialize answered. The version is in userAgent, "<our name>/<codex
 * version> (<os>) ..."; thread/start's cliVersion, when there, wins.
 */
static void
codex_initialize_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host  *s = arg;
	struct codex *a = codex_get(s);
	const char   *ua, *slash;
	char	     *version;

	if (msg->kind == JSONRPC_ERROR) {
		codex_fail(s, a, "initialize failed", msg);
		return;
	}
	ua = json_get_str(msg->result, "userAgent");
	if (ua != NULL && (slash = strchr(ua, '/')) != NULL &&
	    slash[1] != '\0' && slash[1] != ' ') {
		version = xstrndup(slash + 1, strcspn(slash + 1, " "));
		host_set_agent_version(s, version);
		free(version);
	}
	jsonrpc_peer_notify(a->peer, "initialized", NULL);
	jsonrpc_peer_request(
	    a->peer, CODEX_REQ_MODELS, "model/list", json_object());
	codex_open_thread(s, a);
}

/*
 * model/list answered: codex's models (its built-in list, or its
 * provider's), the session's model choices. The list is what codex tells,
 * not a bound: a provider of its own takes any model name, so a change
 * is not checked against it. A codex without the method only tells
 * nothing, so an error is no failure.
 */
static void
codex_models_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	const cJSON *m;
	const char  *id;
	cJSON	    *list;

	if (msg->kind == JSONRPC_ERROR)
		return;
	list = json_array();
	JSON_FOREACH(m, json_get_arr(msg->result, "data")) {
		if ((id = json_get_str(m, "id")) == NULL ||
		    json_is_true(json_get(m, "hidden")))
			continue;
		host_choice(list, id, json_get_str(m, "displayName"),
		    json_get_str(m, "description"));
	}
	host_set_option(s, "model", NULL, list);
}

/* The codex_modes entry of a mode, nitems(codex_modes) if none. */
static size_t
codex_mode(const char *mode)
{
	size_t i;

	for (i = 0; mode != NULL && i < nitems(codex_modes); i++) {
		if (strcmp(codex_modes[i].mode, mode) == 0)
			return (i);
	}
	return (nitems(codex_modes));
}

/* approvalPolicy and sandbox for the session's permission mode. */
static void
codex_thread_policy(struct host *s, cJSON *params)
{
	size_t pick = codex_mode(host_permission_mode(s));

	if (pick == nitems(codex_modes))
		pick = 0;
	json_set_str(params, "approvalPolicy", codex_modes[pick].approval);
	json_set_str(params, "sandbox", codex_modes[pick].sandbox);
}

/*
 * What the thread runs with (thread/start's and thread/resume's answer):
 * its model and reasoning effort, and the mode agentd gave it.
 */
static void
codex_learn(struct host *s, const cJSON *result)
{
	const struct agent_profile *p = host_profile(s);
	const struct agent_options *o = p != NULL ? p->options : NULL;
	const char		   *mode = host_permission_mode(s);

	if (json_get_str(result, "model") != NULL)
		host_set_option(
		    s, "model", json_get_str(result, "model"), NULL);
	host_set_option(s, "effort", json_get_str(result, "reasoningEffort"),
	    o != NULL ? host_choices(o->efforts) : NULL);
	host_set_option(s, "mode", mode != NULL ? mode : "default",
	    o != NULL ? host_choices(o->modes) : NULL);
}

/*
 * Model, effort and mode are turn/start's overrides, which codex keeps
 * for the turns after: nothing is sent now, the next turn/start says
 * them (codex_flush), and a new thread/start or resume says the mode
 * and model too. A mode or effort codex does not take is refused (422).
 */
static int
codex_configure(struct host *s, const struct session_config *cfg, char **cause)
{
	size_t i;

	if (cfg->mode != NULL && codex_mode(cfg->mode) == nitems(codex_modes)) {
		xasprintf(cause,
		    "codex takes no mode '%s' (default, acceptEdits, plan, "
		    "read-only, bypassPermissions)",
		    cfg->mode);
		return (422);
	}
	for (i = 0; cfg->effort != NULL && i < nitems(codex_efforts); i++) {
		if (strcmp(codex_efforts[i], cfg->effort) == 0)
			break;
	}
	if (cfg->effort != NULL && i == nitems(codex_efforts)) {
		xasprintf(cause,
		    "codex takes no reasoning effort '%s' (none, minimal, "
		    "low, medium, high, xhigh)",
		    cfg->effort);
		return (422);
	}
	if (cfg->mode != NULL)
		host_set_option(s, "mode", cfg->mode, NULL);
	return (0);
}

/*
 * The session's MCP servers (ACP's McpServer[]) as config overrides of
 * thread/start and thread/resume, one "mcp_servers.<name>" table each:
 * on the JSON-RPC channel, so the servers' env is never on a command
 * line, and beside the servers of the user's config.toml, not instead.
 * A name that is not a bare TOML key cannot be a dotted override: left
 * out.
 */
static void
codex_mcp_config(struct host *s, cJSON *params)
{
	const cJSON *e, *kv;
	cJSON	    *config = NULL, *srv, *map;
	const char  *name, *p;
	char	    *key;

	JSON_FOREACH(e, host_launch_mcp(s)) {
		if ((name = json_get_str(e, "name")) == NULL || *name == '\0')
			continue;
		for (p = name; *p != '\0'; p++) {
			if (!isalnum((unsigned char)*p) && *p != '_' &&
			    *p != '-')
				break;
		}
		if (*p != '\0')
			continue;
		srv = json_object();
		map = json_object();
		if (json_get_str(e, "url") != NULL) {
			json_set_str(srv, "url", json_get_str(e, "url"));
			JSON_FOREACH(kv, json_get_arr(e, "headers"))
				json_set_str(map, json_get_str(kv, "name"),
				    json_get_str(kv, "value"));
			json_set(srv, "http_headers", map);
		} else if (json_get_str(e, "command") != NULL) {
			json_set_str(
			    srv, "command", json_get_str(e, "command"));
			json_set(srv, "args",
			    json_get_arr(e, "args") != NULL
				? json_dup(json_get_arr(e, "args"))
				: json_array());
			JSON_FOREACH(kv, json_get_arr(e, "env"))
				json_set_str(map, json_get_str(kv, "name"),
				    json_get_str(kv, "value"));
			json_set(srv, "env", map);
		} else {
			json_free(srv);
			json_free(map);
			continue;
		}
		if (config == NULL)
			config = json_object();
		xasprintf(&key, "mcp_servers.%s", name);
		json_set(config, key, srv);
		free(key);
	}
	if (config != NULL)
		json_set(params, "config", config);
}

/*
 * thread/resume when the session has a thread id, else thread/start. A
 * resumed thread keeps its old policy unless told, so both say it.
 */
static void
codex_open_thread(struct host *s, struct codex *a)
{
	const char *native = host_native_id(s);
	cJSON	   *params;

	params = json_object();
	json_set_str(params, "cwd", host_cwd(s));
	json_set_str(params, "model", host_model(s));
	codex_thread_policy(s, params);
	codex_mcp_config(s, params);
	a->phase = CODEX_OPENING;
	if (native != NULL && *native != '\0' && !a->fresh) {
		json_set_str(params, "threadId", native);
		json_set_bool(params, "excludeTurns", 1);
		a->resuming = 1;
		jsonrpc_peer_request(
		    a->peer, CODEX_REQ_RESUME, "thread/resume", params);
	} else
		jsonrpc_peer_request(
		    a->peer, CODEX_REQ_START, "thread/start", params);
}

/*
 * thread/start or thread/resume answered. A failed resume falls back to a
 * new thread, after an error event: the conversation goes on without
 * codex's memory of it rather than not at all.
 */
static void
codex_thread_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host  *s = arg;
	struct codex *a = codex_get(s);
	const cJSON  *thread = json_get_obj(msg->result, "thread");
	const char   *id, *version;
	int	      resuming = a->resuming;

	a->resuming = 0;
	if (msg->kind == JSONRPC_ERROR) {
		if (resuming) {
			rpc_error(s, msg,
			    "thread/resume failed, "
			    "starting a new thread");
			a->fresh = 1;
			codex_open_thread(s, a);
		} else
			codex_fail(s, a, "thread/start failed", msg);
		return;
	}
	if ((id = json_get_str(thread, "id")) == NULL) {
		codex_fail(s, a, "thread/start returned no thread id", NULL);
		return;
	}
	host_set_native_id(s, id);
	if ((version = json_get_str(thread, "cliVersion")) != NULL)
		host_set_agent_version(s, version);
	codex_learn(s, msg->result);
	a->phase = CODEX_READY;
	codex_flush(s, a);
}

/*
 * One user message as UserInput: the text, then each attachment, an image
 * as localImage and any other file named in the text (codex reads files
 * itself, with its own tools).
 */
static int
codex_send_message(struct host *s, const struct user_message *m)
{
	struct codex *a = codex_get(s);
	const cJSON  *att;
	const char   *path, *mime;
	char	     *text, *next, *url;
	cJSON	     *input, *part, *el;

	if (a == NULL || a->phase == CODEX_FAILED)
		return (-1);
	input = json_array();
	part = json_object();
	json_set_str(part, "type", "text");
	json_set(part, "text_elements", json_array());
	json_append(input, part);
	text = xstrdup(m->text != NULL ? m->text : "");
	JSON_FOREACH(att, m->attachments) {
		path = json_get_str(att, "path");
		mime = json_get_str(att, "mime");
		if (mime != NULL && strncmp(mime, "image/", 6) == 0) {
			el = json_object();
			if (path != NULL) {
				json_set_str(el, "type", "localImage");
				json_set_str(el, "path", path);
			} else {
				xasprintf(&url, "data:%s;base64,%s", mime,
				    json_get_str(att, "data"));
				json_set_str(el, "type", "image");
				json_set_str(el, "url", url);
				free(url);
			}
			json_append(input, el);
			continue;
		}
		if (path == NULL)
			continue;
		xasprintf(&next, "%s\n\nAttached file: %s", text, path);
		free(text);
		text = next;
	}
	json_set_str(part, "text", text);
	free(text);
	rpc_queue_add(&a->queue, input);
	codex_flush(s, a);
	return (0);
}

/*
 * The session's settings as turn/start's overrides (codex keeps them for
 * the turns after): what was set at create or changed since, so a
 * change made during a turn takes effect at the next.
 */
static void
codex_turn_overrides(struct host *s, cJSON *params)
{
	size_t pick = codex_mode(host_permission_mode(s));
	cJSON *policy;

	if (host_model(s) != NULL)
		json_set_str(params, "model", host_model(s));
	if (host_effort(s) != NULL)
		json_set_str(params, "effort", host_effort(s));
	if (pick == nitems(codex_modes))
		return;
	json_set_str(params, "approvalPolicy", codex_modes[pick].approval);
	policy = json_object();
	json_set_str(policy, "type", codex_modes[pick].policy);
	json_set(params, "sandboxPolicy", policy);
}

/* Send the next queued message if the thread is ready and idle. */
static void
codex_flush(struct host *s, struct codex *a)
{
	cJSON *input, *params;

	if (a->phase != CODEX_READY || a->in_turn ||
	    (input = rpc_queue_take(&a->queue)) == NULL)
		return;
	params = json_object();
	json_set_str(params, "threadId", host_native_id(s));
	json_set(params, "input", input);
	codex_turn_overrides(s, params);

	a->in_turn = 1;
	a->interrupt = 0;
	a->usage_seen = 0;
	a->base = a->seen;
	codex_set_turn(a, NULL);
	free(a->last_error);
	a->last_error = NULL;
	jsonrpc_peer_request(a->peer, CODEX_REQ_TURN, "turn/start", params);
}

static void
codex_set_turn(struct codex *a, const char *id)
{
	free(a->turn_id);
	a->turn_id = id != NULL ? xstrdup(id) : NULL;
}

/* turn/start answered: keep the turn id, or fail the turn. */
static void
codex_turn_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host  *s = arg;
	struct codex *a = codex_get(s);
	const char   *id;

	if (msg->kind == JSONRPC_ERROR) {
		rpc_error(s, msg, NULL);
		if (a->in_turn)
			codex_turn_end(s, a, "error");
		return;
	}
	id = json_get_str(json_get_obj(msg->result, "turn"), "id");
	if (a->in_turn && a->turn_id == NULL && id != NULL) {
		codex_set_turn(a, id);
		if (a->interrupt)
			codex_interrupt(s, a);
	}
}

/*
 * turn/interrupt answered. An error means the turn was already over; its
 * turn/completed says how, so there is nothing to report.
 */
static void
codex_interrupt_cb(void *arg, const struct jsonrpc_msg *msg)
{
}

static void
codex_interrupt(struct host *s, struct codex *a)
{
	cJSON *params;

	a->interrupt = 0;
	params = json_object();
	json_set_str(params, "threadId", host_native_id(s));
	json_set_str(params, "turnId", a->turn_id);
	jsonrpc_peer_request(
	    a->peer, CODEX_REQ_INTERRUPT, "turn/interrupt", params);
}

/*
 * Interrupt the turn: turn/interrupt once the turn id is known (until then
 * the wish is kept); a message still waiting for the thread is dropped and
 * its turn ends here.
 */
static int
codex_cancel(struct host *s)
{
	struct codex *a = codex_get(s);

	if (a == NULL)
		return (-1);
	if (a->in_turn) {
		if (a->turn_id != NULL)
			codex_interrupt(s, a);
		else
			a->interrupt = 1;
		return (0);
	}
	rpc_queue_drop(s, &a->queue, "cancelled");
	return (0);
}

/* An agent-started turn opens one of ours; ours just learns its id. */
static void
codex_turn_started_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host  *s = arg;
	struct codex *a = codex_get(s);
	const char   *id;

	id = json_get_str(json_get_obj(msg->params, "turn"), "id");
	if (!a->in_turn) {
		a->in_turn = 1;
		a->usage_seen = 0;
		a->base = a->seen;
		codex_set_turn(a, NULL);
		host_turn_start(s);
	}
	if (a->turn_id == NULL && id != NULL) {
		codex_set_turn(a, id);
		if (a->interrupt)
			codex_interrupt(s, a);
	}
}

/*
 * turn/completed: the status is the stop reason. A failed turn's error is
 * reported unless the error notification before it said the same.
 */
static void
codex_turn_completed_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host  *s = arg;
	struct codex *a = codex_get(s);
	const cJSON  *turn = json_get_obj(msg->params, "turn");
	const cJSON  *error = json_get_obj(turn, "error");
	const char   *status = json_get_str(turn, "status");
	const char   *id = json_get_str(turn, "id");
	const char   *text = json_get_str(error, "message");

	if (!a->in_turn)
		return;
	if (id != NULL && a->turn_id != NULL && strcmp(id, a->turn_id) != 0)
		return; /* not the turn we are in */
	if (status != NULL && strcmp(status, "interrupted") == 0)
		codex_turn_end(s, a, "cancelled");
	else if (status != NULL && strcmp(status, "failed") == 0) {
		if (text == NULL || a->last_error == NULL ||
		    strcmp(text, a->last_error) != 0)
			codex_error_event(s, a, error);
		codex_turn_end(s, a, "error");
	} else
		codex_turn_end(s, a, "end_turn");
}

/* End our turn: tool calls still open are forgotten, usage is summed. */
static void
codex_turn_end(struct host *s, struct codex *a, const char *reason)
{
	cJSON *usage;

	usage = codex_turn_usage(a);
	codex_calls_clear(a);
	a->in_turn = 0;
	a->interrupt = 0;
	codex_set_turn(a, NULL);
	free(a->last_error);
	a->last_error = NULL;
	host_turn_end(s, reason, usage, -1);
}

/* The turn's usage: the thread total now less the total at turn/start. */
static cJSON *
codex_turn_usage(struct codex *a)
{
	if (!a->usage_seen)
		return (NULL);
	return (event_usage(a->seen.input - a->base.input,
	    a->seen.output - a->base.output, a->seen.cached - a->base.cached,
	    a->seen.cache_write - a->base.cache_write));
}

/*
 * thread/tokenUsage/updated: remember the thread total. An update about
 * another turn (thread/resume reports the last one, possibly after our
 * turn/start went out) only moves the base; so does a total that went
 * down (a thread compacted or replaced).
 */
static void
codex_usage_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	  *s = arg;
	struct codex	  *a = codex_get(s);
	const cJSON	  *total;
	const char	  *turn = json_get_str(msg->params, "turnId");
	struct codex_usage u;

	total = json_get_obj(json_get_obj(msg->params, "tokenUsage"), "total");
	if (total == NULL)
		return;
	memset(&u, 0, sizeof u);
	(void)json_get_int(total, "inputTokens", &u.input);
	(void)json_get_int(total, "cachedInputTokens", &u.cached);
	(void)json_get_int(total, "cacheWriteInputTokens", &u.cache_write);
	(void)json_get_int(total, "outputTokens", &u.output);
	a->seen = u;
	if (!a->in_turn || a->turn_id == NULL ||
	    (turn != NULL && strcmp(turn, a->turn_id) != 0)) {
		a->base = u;
		return;
	}
	if (u.input < a->base.input || u.output < a->base.output ||
	    u.cached < a->base.cached || u.cache_write < a->base.cache_write)
		memset(&a->base, 0, sizeof a->base);
	a->usage_seen = 1;
}

/*
 * A TurnError {message, codexErrorInfo, additionalDetails} as an error
 * event: codexErrorInfo is a string ("badRequest") or an object with one
 * key ({"httpConnectionFailed": {...}}); either way its name is the code.
 */
static void
codex_error_event(struct host *s, struct codex *a, const cJSON *error)
{
	const cJSON *info = json_get(error, "codexErrorInfo");
	const char  *text = json_get_str(error, "message");
	const char  *code = NULL, *inner;
	cJSON	    *body = NULL;

	if (json_str(info) != NULL)
		code = json_str(info);
	else if (json_is_obj(info) && json_first(info) != NULL)
		code = json_key(json_first(info));
	if (text == NULL)
		text = "codex reported an error";
	free(a->last_error);
	a->last_error = xstrdup(text);

	/* A provider's error body, {"error": {"message": ...}}, as text. */
	if (*text == '{' &&
	    (body = json_parse(text, strlen(text), NULL)) != NULL &&
	    (inner = json_get_str(json_get_obj(body, "error"), "message")) !=
		NULL)
		text = inner;
	host_error(s, text, code, error != NULL ? json_dup(error) : NULL);
	json_free(body);
}

/*
 * error {error, willRetry}: an error event, unless codex retries (a
 * dropped stream, a 5xx), which is only news: a status item.
 */
static void
codex_error_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host  *s = arg;
	struct codex *a = codex_get(s);
	const cJSON  *error = json_get_obj(msg->params, "error");
	int	      retry = 0;

	(void)json_get_bool(msg->params, "willRetry", &retry);
	if (retry) {
		host_status(s, "retrying", json_get_str(error, "message"));
		return;
	}
	codex_error_event(s, a, error);
}

/* warning {message}: a status item. */
static void
codex_warning_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	const char  *text = json_get_str(msg->params, "message");

	if (text != NULL)
		host_status(s, "warning", text);
}

/* item/started and item/completed: dispatch by the item's type. */
static void
codex_item_dispatch(struct host *s, struct codex *a,
    const struct jsonrpc_msg *msg, int complete)
{
	const cJSON *item = json_get_obj(msg->params, "item");
	const char  *type = json_get_str(item, "type");
	size_t	     i;

	if (type == NULL || json_get_str(item, "id") == NULL) {
		host_unparsed(s, "item without type or id", "codex");
		return;
	}
	for (i = 0; i < nitems(codex_items); i++) {
		if (strcmp(codex_items[i].type, type) != 0)
			continue;
		if (complete && codex_items[i].complete != NULL)
			codex_items[i].complete(s, a, item);
		else if (!complete && codex_items[i].start != NULL)
			codex_items[i].start(s, a, item);
		return;
	}
}

static void
codex_item_started_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host  *s = arg;
	struct codex *a = codex_get(s);

	codex_item_dispatch(s, a, msg, 0);
}

static void
codex_item_completed_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host  *s = arg;
	struct codex *a = codex_get(s);

	codex_item_dispatch(s, a, msg, 1);
}

/* Start an assistant item of kind unless it is open already. */
static void
codex_ensure(struct host *s, const char *id, enum item_kind kind)
{
	struct item_spec spec;

	if (host_item_open(s, id))
		return;
	memset(&spec, 0, sizeof spec);
	spec.native_id = id;
	spec.kind = kind;
	spec.role = ROLE_ASSISTANT;
	host_item_start(s, &spec);
}

static void
codex_message_start(struct host *s, struct codex *a, const cJSON *item)
{
	codex_ensure(s, json_get_str(item, "id"), ITEM_MESSAGE);
}

/* The final text is codex's, whatever streamed before it. */
static void
codex_message_complete(struct host *s, struct codex *a, const cJSON *item)
{
	const char *id = json_get_str(item, "id");
	const char *text = json_get_str(item, "text");
	cJSON	   *content = NULL;

	codex_ensure(s, id, ITEM_MESSAGE);
	if (text != NULL) {
		content = json_array();
		json_append(content, event_part_text(text));
	}
	host_item_complete(s, id, 0, content);
}

static void
codex_reasoning_start(struct host *s, struct codex *a, const cJSON *item)
{
	codex_ensure(s, json_get_str(item, "id"), ITEM_REASONING);
}

/*
 * The summary parts joined by a blank line (as their deltas streamed), or
 * the raw reasoning text when there is no summary.
 */
static void
codex_reasoning_complete(struct host *s, struct codex *a, const cJSON *item)
{
	const char *id = json_get_str(item, "id");
	char	   *text;
	cJSON	   *content = NULL;

	codex_ensure(s, id, ITEM_REASONING);
	text = codex_texts(json_get_arr(item, "summary"), NULL, "\n\n");
	if (*text == '\0') {
		free(text);
		text = codex_texts(json_get_arr(item, "content"), NULL, "\n\n");
	}
	if (*text != '\0') {
		content = json_array();
		json_append(content, event_part_reasoning(text, NULL));
	}
	free(text);
	host_item_complete(s, id, 0, content);
}

/* A delta of an item of that kind (started here if codex has not). */
static void
codex_delta(struct host *s, const struct jsonrpc_msg *msg, enum item_kind kind)
{
	const char *id = json_get_str(msg->params, "itemId");
	const char *delta = json_get_str(msg->params, "delta");

	if (id == NULL || delta == NULL)
		return;
	codex_ensure(s, id, kind);
	host_item_delta(s, id, delta);
}

static void
codex_message_delta_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;

	codex_delta(s, msg, ITEM_MESSAGE);
}

/* Summary and raw reasoning deltas both stream into the reasoning item. */
static void
codex_reasoning_delta_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;

	codex_delta(s, msg, ITEM_REASONING);
}

/* A second summary part: the blank line the final text will have. */
static void
codex_reasoning_part_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	const char  *id = json_get_str(msg->params, "itemId");
	long long    index = 0;

	if (id == NULL ||
	    json_get_int(msg->params, "summaryIndex", &index) != 0 ||
	    index <= 0 || !host_item_open(s, id))
		return;
	host_item_delta(s, id, "\n\n");
}

/*
 * Output of a running command or patch: it streams into the call's
 * tool_result item, started here, and is kept (capped) for the result.
 */
static void
codex_output_delta_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	  *s = arg;
	struct codex	  *a = codex_get(s);
	const char	  *id = json_get_str(msg->params, "itemId");
	const char	  *delta = json_get_str(msg->params, "delta");
	struct codex_call *c;
	char		  *rid;

	if (id == NULL || delta == NULL || *delta == '\0' ||
	    (c = codex_call_find(a, id)) == NULL)
		return;
	(void)buf_str(&c->out, delta); /* a delta past the cap is dropped */
	xasprintf(&rid, "%s:result", id);
	codex_result_start(s, c, rid, NULL);
	host_item_delta(s, rid, delta);
	free(rid);
}

/*
 * Start a call's tool_result item rid, with a copy of content (or none),
 * unless its output already started it.
 */
static void
codex_result_start(
    struct host *s, struct codex_call *c, const char *rid, const cJSON *content)
{
	struct item_spec spec;

	if (c->streaming)
		return;
	memset(&spec, 0, sizeof spec);
	spec.native_id = rid;
	spec.kind = ITEM_TOOL_RESULT;
	spec.role = ROLE_TOOL;
	spec.content = content != NULL ? json_dup(content) : NULL;
	host_item_start(s, &spec);
	c->streaming = 1;
}

static const struct codex_tool *
codex_tool_find(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < nitems(codex_tools); i++) {
		if (strcmp(codex_tools[i].type, type) == 0)
			return (&codex_tools[i]);
	}
	return (NULL);
}

static struct codex_call *
codex_call_find(struct codex *a, const char *id)
{
	struct codex_call *c;

	TAILQ_FOREACH(c, &a->calls, entry) {
		if (strcmp(c->id, id) == 0)
			return (c);
	}
	return (NULL);
}

static void
codex_call_free(struct codex_call *c)
{
	free(c->id);
	json_free(c->input);
	buf_free(&c->out);
	free(c);
}

static void
codex_calls_clear(struct codex *a)
{
	struct codex_call *c;

	while ((c = TAILQ_FIRST(&a->calls)) != NULL) {
		TAILQ_REMOVE(&a->calls, c, entry);
		codex_call_free(c);
	}
}

/* [tool_call{name, arguments, call_id}] for a call. */
static cJSON *
codex_call_part(const struct codex_call *c)
{
	cJSON *content;
	char  *args;

	args = json_print(json_get(c->input, "args"), NULL);
	content = json_array();
	json_append(content,
	    event_part_tool_call(json_get_str(c->input, "name"), args, c->id));
	free(args);
	return (content);
}

/*
 * A tool item started: one tool_call item, complete at once, since codex
 * gives the whole input up front. Its name and arguments are kept for an
 * approval that may follow and for a tool_result without a start.
 */
static void
codex_tool_start(struct host *s, struct codex *a, const cJSON *item)
{
	const struct codex_tool *t =
	    codex_tool_find(json_get_str(item, "type"));
	const char	  *id = json_get_str(item, "id");
	struct codex_call *c;
	struct item_spec   spec;
	cJSON		  *content, *args = NULL;
	char		  *name;

	if (t == NULL || codex_call_find(a, id) != NULL)
		return;
	name = t->input(item, &args);
	c = xcalloc(1, sizeof *c);
	c->id = xstrdup(id);
	c->tool = t;
	buf_init(&c->out, CODEX_OUTPUT_MAX);
	c->input = json_object();
	json_set_str(c->input, "name", name);
	json_set(c->input, "args", args);
	free(name);
	TAILQ_INSERT_TAIL(&a->calls, c, entry);

	content = codex_call_part(c);
	memset(&spec, 0, sizeof spec);
	spec.native_id = id;
	spec.kind = ITEM_TOOL_CALL;
	spec.role = ROLE_ASSISTANT;
	spec.content = json_dup(content);
	host_item_start(s, &spec);
	host_item_complete(s, id, 0, content);
}

/*
 * A tool item completed: its tool_result item, failed when the call failed
 * or was declined; a patch that went through adds its file_ref parts.
 */
static void
codex_tool_complete(struct host *s, struct codex *a, const cJSON *item)
{
	const char	  *id = json_get_str(item, "id");
	struct codex_call *c;
	cJSON		  *content;
	char		  *rid, *output;
	int		   failed = 0;

	if ((c = codex_call_find(a, id)) == NULL) {
		codex_tool_start(s, a, item);
		if ((c = codex_call_find(a, id)) == NULL)
			return;
	}
	output = c->tool->result(item, c, &failed);
	output = codex_status_output(item, output);
	content = json_array();
	json_append(content, event_part_tool_result(id, output, failed));
	free(output);
	if (!failed && c->tool->refs != NULL)
		c->tool->refs(item, content);

	xasprintf(&rid, "%s:result", id);
	codex_result_start(s, c, rid, content);
	host_item_complete(s, rid, failed, content);
	free(rid);
	TAILQ_REMOVE(&a->calls, c, entry);
	codex_call_free(c);
}

/* An empty output of a call that did not complete says why: "declined". */
static char *
codex_status_output(const cJSON *item, char *output)
{
	const char *status = json_get_str(item, "status");

	if (*output != '\0' || status == NULL ||
	    strcmp(status, "completed") == 0)
		return (output);
	free(output);
	return (xstrdup(status));
}

/* commandExecution: "shell" {command, cwd}. */
static char *
codex_command_input(const cJSON *item, cJSON **args)
{
	*args = json_object();
	json_set_str(*args, "command", json_get_str(item, "command"));
	json_set_str(*args, "cwd", json_get_str(item, "cwd"));
	return (xstrdup("shell"));
}

/* aggregatedOutput, else what streamed; a non-zero exit is an error. */
static char *
codex_command_result(const cJSON *item, const struct codex_call *c, int *failed)
{
	const char *status = json_get_str(item, "status");
	const char *out = json_get_str(item, "aggregatedOutput");
	long long   code = 0;

	(void)json_get_int(item, "exitCode", &code);
	*failed =
	    code != 0 || (status != NULL && strcmp(status, "completed") != 0);
	if (out == NULL)
		out = c->out.p != NULL ? c->out.p : "";
	return (xstrdup(out));
}

/* fileChange: "apply_patch" {changes: [{path, kind, diff}]}. */
static char *
codex_file_input(const cJSON *item, cJSON **args)
{
	const cJSON *changes = json_get_arr(item, "changes");

	*args = json_object();
	json_set(*args, "changes",
	    changes != NULL ? json_dup(changes) : json_array());
	return (xstrdup("apply_patch"));
}

/* What streamed, else one "<kind> <path>" line per change. */
static char *
codex_file_result(const cJSON *item, const struct codex_call *c, int *failed)
{
	const char  *status = json_get_str(item, "status");
	const cJSON *el;
	const char  *kind;
	char	    *out, *next;

	*failed = status != NULL && strcmp(status, "completed") != 0;
	if (c->out.p != NULL || *failed)
		return (xstrdup(c->out.p != NULL ? c->out.p : ""));
	out = xstrdup("");
	JSON_FOREACH(el, json_get_arr(item, "changes")) {
		if ((kind = json_get_str(json_get_obj(el, "kind"), "type")) ==
			NULL &&
		    (kind = json_get_str(el, "kind")) == NULL)
			kind = "update";
		xasprintf(&next, "%s%s %s\n", out, kind,
		    json_get_str(el, "path") != NULL ? json_get_str(el, "path")
						     : "?");
		free(out);
		out = next;
	}
	return (out);
}

/*
 * One file_ref per change: an added file is a write, anything else a
 * patch. Codex gives an added or deleted file's text and an update's hunks;
 * all become a unified diff with headers, as ACP's diffs are.
 */
static void
codex_file_refs(const cJSON *item, cJSON *content)
{
	const cJSON *el, *kind;
	const char  *type, *path, *to;
	char	    *diff;

	JSON_FOREACH(el, json_get_arr(item, "changes")) {
		if ((path = json_get_str(el, "path")) == NULL)
			continue;
		kind = json_get_obj(el, "kind");
		if ((type = json_get_str(kind, "type")) == NULL &&
		    (type = json_get_str(el, "kind")) == NULL)
			type = "update";
		if ((to = json_get_str(kind, "move_path")) == NULL)
			to = path;
		diff =
		    codex_file_diff(path, type, to, json_get_str(el, "diff"));
		json_append(content,
		    event_part_file_ref(path,
			strcmp(type, "add") == 0 ? "write" : "patch", diff));
		free(diff);
	}
}

/*
 * An added or deleted file's text as a whole-file diff; an update's hunks
 * as they are, under headers unless codex gave them.
 */
static char *
codex_file_diff(
    const char *path, const char *type, const char *to, const char *text)
{
	struct buf b;

	if (text == NULL)
		return (NULL);
	if (strcmp(type, "add") == 0)
		return (diff_texts(NULL, NULL, to, text));
	if (strcmp(type, "delete") == 0)
		return (diff_texts(path, text, NULL, NULL));
	if (strncmp(text, "--- ", 4) == 0)
		return (xstrdup(text));
	diff_begin(&b, path, to);
	(void)buf_str(&b, text);
	return (diff_end(&b));
}

/* mcpToolCall: "mcp__<server>__<tool>" with the call's arguments. */
static char *
codex_mcp_input(const cJSON *item, cJSON **args)
{
	const cJSON *v = json_get(item, "arguments");
	const char  *server = json_get_str(item, "server");
	const char  *tool = json_get_str(item, "tool");
	char	    *name;

	*args = v != NULL && !json_is_null(v) ? json_dup(v) : json_object();
	xasprintf(&name, "mcp__%s__%s", server != NULL ? server : "mcp",
	    tool != NULL ? tool : "tool");
	return (name);
}

/* The text blocks of result.content, else the result as JSON; or error. */
static char *
codex_mcp_result(const cJSON *item, const struct codex_call *c, int *failed)
{
	const cJSON *result = json_get_obj(item, "result");
	const cJSON *error = json_get_obj(item, "error");
	const char  *status = json_get_str(item, "status");
	char	    *out;

	*failed = error != NULL ||
	    (status != NULL && strcmp(status, "completed") != 0);
	if (error != NULL)
		return (xstrdup(json_get_str(error, "message") != NULL
			? json_get_str(error, "message")
			: "error"));
	out = codex_texts(json_get_arr(result, "content"), "text", "\n");
	if (*out == '\0' && result != NULL) {
		free(out);
		out = json_print(result, NULL);
	}
	return (out);
}

/* dynamicToolCall: the client-defined tool by its name. */
static char *
codex_dynamic_input(const cJSON *item, cJSON **args)
{
	const cJSON *v = json_get(item, "arguments");
	const char  *tool = json_get_str(item, "tool");

	*args = v != NULL && !json_is_null(v) ? json_dup(v) : json_object();
	return (xstrdup(tool != NULL ? tool : "tool"));
}

static char *
codex_dynamic_result(const cJSON *item, const struct codex_call *c, int *failed)
{
	const char *status = json_get_str(item, "status");
	int	    ok = 1;

	(void)json_get_bool(item, "success", &ok);
	*failed = !ok || (status != NULL && strcmp(status, "completed") != 0);
	return (codex_texts(json_get_arr(item, "contentItems"), "text", "\n"));
}

/*
 * Status-like items, when they complete: a web search, an image viewed, a
 * plan's text, a compaction, review mode entered or left.
 */
static void
codex_status_complete(struct host *s, struct codex *a, const cJSON *item)
{
	const char *type = json_get_str(item, "type");

	if (strcmp(type, "webSearch") == 0)
		host_status(s, "web_search", json_get_str(item, "query"));
	else if (strcmp(type, "imageView") == 0)
		host_status(s, "image_view", json_get_str(item, "path"));
	else if (strcmp(type, "plan") == 0)
		host_status(s, "plan", json_get_str(item, "text"));
	else if (strcmp(type, "contextCompaction") == 0)
		host_status(s, "compaction", NULL);
	else if (strcmp(type, "enteredReviewMode") == 0)
		host_status(s, "review", json_get_str(item, "review"));
	else if (strcmp(type, "exitedReviewMode") == 0)
		host_status(s, "review_done", json_get_str(item, "review"));
}

/* turn/plan/updated: a status item with the steps as a json part. */
static void
codex_plan_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	*s = arg;
	struct codex	*a = codex_get(s);
	const cJSON	*plan = json_get_arr(msg->params, "plan"), *el;
	const char	*st;
	struct item_spec spec;
	cJSON		*content;
	char		*id, detail[64];
	int		 done = 0;

	if (plan == NULL)
		return;
	JSON_FOREACH(el, plan) {
		if ((st = json_get_str(el, "status")) != NULL &&
		    strcmp(st, "completed") == 0)
			done++;
	}
	snprintf(detail, sizeof detail, "%d of %d done", done, json_size(plan));
	content = json_array();
	json_append(content, event_part_status("plan", detail));
	json_append(content, event_part_json(json_dup(plan)));
	id = codex_synthetic_id(a, "plan");
	memset(&spec, 0, sizeof spec);
	spec.native_id = id;
	spec.kind = ITEM_STATUS;
	spec.role = ROLE_SYSTEM;
	spec.content = json_dup(content);
	host_item_start(s, &spec);
	host_item_complete(s, id, 0, content);
	free(id);
}

static char *
codex_synthetic_id(struct codex *a, const char *prefix)
{
	char *id;

	xasprintf(&id, "%s-%u", prefix, ++a->nsynth);
	return (id);
}

/* json_join, with "" for none. */
static char *
codex_texts(const cJSON *array, const char *key, const char *sep)
{
	char *out = json_join(array, key, sep);

	return (out != NULL ? out : xstrdup(""));
}

/*
 * serverRequest/resolved: codex settled a request itself (the turn ended,
 * a timeout). Forget it, so a late client answer is refused, not sent.
 */
static void
codex_resolved_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	   *s = arg;
	struct codex	   *a = codex_get(s);
	const cJSON	   *id = json_get(msg->params, "requestId");
	struct jsonrpc_ask *k;
	char		   *text;

	if (id == NULL || (!json_is_str(id) && !json_is_num(id)))
		return;
	text = jsonrpc_id_text(id);
	if ((k = jsonrpc_peer_take(a->peer, text)) != NULL)
		jsonrpc_ask_free(k);
	free(text);
}

/*
 * item/commandExecution/requestApproval: the command (or the network host
 * it wants) is the action; the decisions codex offers are kept for the
 * reply.
 */
static void
codex_command_approval_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	   *s = arg;
	struct codex	   *a = codex_get(s);
	const cJSON	   *p = msg->params, *decisions;
	const char	   *command = json_get_str(p, "command");
	const char	   *host;
	struct jsonrpc_ask *k;
	cJSON		   *meta, *input;
	char		    action[CODEX_ACTION_MAX];

	host = json_get_str(json_get_obj(p, "networkApprovalContext"), "host");
	if (command != NULL)
		snprintf(action, sizeof action, "%s", command);
	else if (host != NULL)
		snprintf(action, sizeof action, "network access to %s", host);
	else
		snprintf(action, sizeof action, "command");
	input = json_object();
	json_set_str(input, "command", command);
	json_set_str(input, "cwd", json_get_str(p, "cwd"));
	json_set_str(input, "reason", json_get_str(p, "reason"));
	json_set_str(input, "host", host);
	meta = json_object();
	json_set_str(meta, "tool_name", "shell");
	json_set(meta, "input", input);
	json_set_str(meta, "call_id", json_get_str(p, "itemId"));

	decisions = json_get_arr(p, "availableDecisions");
	k = jsonrpc_peer_ask(
	    a->peer, msg->id, decisions != NULL ? json_dup(decisions) : NULL);
	host_permission_request(s, k->native_id, action, meta);
}

/*
 * item/fileChange/requestApproval names only the item: the changes come
 * from the fileChange item that started before it.
 */
static void
codex_file_approval_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	   *s = arg;
	struct codex	   *a = codex_get(s);
	const cJSON	   *p = msg->params, *el, *changes = NULL;
	const char	   *item = json_get_str(p, "itemId"), *path;
	struct codex_call  *c = NULL;
	struct jsonrpc_ask *k;
	cJSON		   *meta, *input;
	char		    action[CODEX_ACTION_MAX];
	size_t		    off;

	if (item != NULL && (c = codex_call_find(a, item)) != NULL)
		changes = json_get_arr(json_get(c->input, "args"), "changes");
	off = (size_t)snprintf(action, sizeof action, "file change");
	JSON_FOREACH(el, changes) {
		if ((path = json_get_str(el, "path")) == NULL ||
		    off >= sizeof action)
			continue;
		off += (size_t)snprintf(action + off, sizeof action - off,
		    "%s %s", el == json_first(changes) ? ":" : ",", path);
	}
	input = json_object();
	json_set(input, "changes",
	    changes != NULL ? json_dup(changes) : json_array());
	json_set_str(input, "reason", json_get_str(p, "reason"));
	json_set_str(input, "grantRoot", json_get_str(p, "grantRoot"));
	meta = json_object();
	json_set_str(meta, "tool_name", "apply_patch");
	json_set(meta, "input", input);
	json_set_str(meta, "call_id", item);

	k = jsonrpc_peer_ask(a->peer, msg->id, NULL);
	host_permission_request(s, k->native_id, action, meta);
}

/* Whether codex offers decision; no list means all of them. */
static int
codex_offered(const cJSON *decisions, const char *decision)
{
	const cJSON *el;

	if (decisions == NULL)
		return (1);
	JSON_FOREACH(el, decisions) {
		if (json_str(el) != NULL && strcmp(json_str(el), decision) == 0)
			return (1);
	}
	return (0);
}

/*
 * mcpServer/elicitation/request with _meta.codex_approval_kind
 * "mcp_tool_call": Codex asks before it runs an MCP server's tool, as an
 * MCP elicitation with an empty form. A permission like the others; the
 * ask's data "mcp" makes the answer an elicitation result. Any other
 * elicitation (a server's own form) has no place here: -32601.
 */
static void
codex_mcp_approval_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	   *s = arg;
	struct codex	   *a = codex_get(s);
	const cJSON	   *p = msg->params, *m = json_get_obj(p, "_meta");
	const char	   *kind = json_get_str(m, "codex_approval_kind");
	const char	   *server = json_get_str(p, "serverName");
	const char	   *tool = json_get_str(m, "tool_name");
	struct jsonrpc_ask *k;
	cJSON		   *meta;
	char		   *name;

	if (kind == NULL || strcmp(kind, "mcp_tool_call") != 0) {
		jsonrpc_peer_error(a->peer, msg->id, JSONRPC_METHOD_NOT_FOUND,
		    "agentd answers no MCP elicitation form");
		return;
	}
	xasprintf(&name, "mcp__%s__%s", server != NULL ? server : "mcp",
	    tool != NULL ? tool : "tool");
	meta = json_object();
	json_set_str(meta, "tool_name", name);
	json_set(meta, "input",
	    json_get_obj(m, "tool_params") != NULL
		? json_dup(json_get_obj(m, "tool_params"))
		: json_object());
	k = jsonrpc_peer_ask(a->peer, msg->id, json_string("mcp"));
	host_permission_request(s, k->native_id, name, meta);
	free(name);
}

/*
 * Answer an approval with {decision}. ALWAYS is acceptForSession, or plain
 * accept where codex does not offer it for this request (it never does for
 * commands it would rather amend its exec policy for).
 */
static int
codex_reply_permission(
    struct host *s, const char *native_id, enum permission_reply reply)
{
	struct codex	   *a = codex_get(s);
	struct jsonrpc_ask *k;
	const char	   *decision = "cancel";
	cJSON		   *result;

	if (a == NULL || (k = jsonrpc_peer_take(a->peer, native_id)) == NULL)
		return (-1);
	if (json_is_str(k->data) && strcmp(json_str(k->data), "mcp") == 0) {
		/* An elicitation's result: accept (once or always) or not. */
		result = json_object();
		json_set_str(result, "action",
		    reply == PERMISSION_ONCE || reply == PERMISSION_ALWAYS
			? "accept"
			: reply == PERMISSION_REJECT ? "decline"
						     : "cancel");
		if (reply == PERMISSION_ONCE || reply == PERMISSION_ALWAYS)
			json_set(result, "content", json_object());
		jsonrpc_peer_answer(a->peer, k, result);
		return (0);
	}
	switch (reply) {
	case PERMISSION_ONCE:
		decision = "accept";
		break;
	case PERMISSION_ALWAYS:
		decision = codex_offered(k->data, "acceptForSession")
		    ? "acceptForSession"
		    : "accept";
		break;
	case PERMISSION_REJECT:
		decision = "decline";
		break;
	case PERMISSION_CANCELLED:
		decision = "cancel";
		break;
	}
	result = json_object();
	json_set_str(result, "decision", decision);
	jsonrpc_peer_answer(a->peer, k, result);
	return (0);
}

/*
 * item/tool/requestUserInput: the questions as ours (single choice each;
 * isOther and isSecret have no place in the schema), their ids kept for
 * the answer.
 */
static void
codex_user_input_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	   *s = arg;
	struct codex	   *a = codex_get(s);
	const cJSON	   *q, *opt;
	struct jsonrpc_ask *k;
	cJSON		   *questions, *ids, *o, *opts, *el;

	questions = json_array();
	ids = json_array();
	JSON_FOREACH(q, json_get_arr(msg->params, "questions")) {
		o = json_object();
		json_set_str(o, "question",
		    json_get_str(q, "question") != NULL
			? json_get_str(q, "question")
			: "");
		json_set_str(o, "header", json_get_str(q, "header"));
		json_set_bool(o, "multi_select", 0);
		opts = json_array();
		JSON_FOREACH(opt, json_get_arr(q, "options")) {
			if (json_get_str(opt, "label") == NULL)
				continue;
			el = json_object();
			json_set_str(el, "label", json_get_str(opt, "label"));
			json_set_str(el, "description",
			    json_get_str(opt, "description"));
			json_append(opts, el);
		}
		json_set(o, "options", opts);
		json_append(questions, o);
		json_append(ids,
		    json_string(json_get_str(q, "id") != NULL
			    ? json_get_str(q, "id")
			    : ""));
	}
	k = jsonrpc_peer_ask(a->peer, msg->id, ids);
	host_question_request(s, k->native_id, questions);
}

/*
 * Answer questions: {answers: {<id>: {answers: [labels]}}}, the client's
 * answers taken in question order. Rejected or cancelled is no answers.
 */
static int
codex_reply_question(
    struct host *s, const char *native_id, const cJSON *answers)
{
	struct codex	   *a = codex_get(s);
	struct jsonrpc_ask *k;
	const cJSON	   *id, *labels, *l;
	cJSON		   *map, *one, *list, *result;
	int		    i = 0;

	if (a == NULL || (k = jsonrpc_peer_take(a->peer, native_id)) == NULL)
		return (-1);
	map = json_object();
	JSON_FOREACH(id, json_is_arr(answers) ? k->data : NULL) {
		labels = json_at(answers, i++);
		if (!json_is_arr(labels) || json_str(id) == NULL)
			continue;
		list = json_array();
		JSON_FOREACH(l, labels) {
			if (json_str(l) != NULL)
				json_append(list, json_string(json_str(l)));
		}
		one = json_object();
		json_set(one, "answers", list);
		json_set(map, json_str(id), one);
	}
	result = json_object();
	json_set(result, "answers", map);
	jsonrpc_peer_answer(a->peer, k, result);
	return (0);
}

static void
codex_free(struct host *s)
{
	struct codex *a = codex_get(s);

	if (a == NULL)
		return;
	rpc_queue_drop(NULL, &a->queue, NULL);
	codex_calls_clear(a);
	jsonrpc_peer_free(a->peer);
	free(a->turn_id);
	free(a->last_error);
	free(a);
	host_set_adapter_data(s, NULL);
}
