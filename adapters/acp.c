/*
 * acp.c: the Agent Client Protocol client (JSON-RPC 2.0, one object per
 * line). It serves every ACP agent: opencode, gemini, goose, the built-in
 * mock agent and any command a client names.
 *
 * The handshake is initialize, then session/new (or session/load when the
 * session already has a native id and the agent can load). Messages the
 * session hands over before that are queued here and sent when the ACP
 * session exists; ACP allows one session/prompt at a time and its response
 * is the end of the turn.
 *
 * session/load replays the whole history as session/update notifications
 * before it answers. Our log already holds that history, so updates are
 * dropped until the load response arrives.
 *
 * Streamed chunks become items: a "run" is the open message (or reasoning,
 * or user) item that contiguous chunks of one kind and one messageId feed;
 * any other item ends it. A tool call is one tool_call item and, when its
 * status becomes completed or failed, one tool_result item.
 *
 * ACP asks the client to read and write files (fs/read_text_file and
 * fs/write_text_file). That is the one place an adapter touches the disk,
 * kept below in small bounded functions that refuse anything outside the
 * session's cwd.
 *
 * The messages' shapes are protocol/acpmsg.c's, which the mock agent and
 * the ACP-over-HTTP facade share; the JSON-RPC is the peer's (rpc.c).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters.h"

#ifndef AGENTD_VERSION
#define AGENTD_VERSION "0.0.0"
#endif

#define ACP_FS_MAX (16UL * 1024 * 1024)

enum acp_phase {
	ACP_INIT,    /* initialize sent */
	ACP_OPENING, /* session/new or session/load sent */
	ACP_READY,   /* an ACP session exists */
	ACP_FAILED   /* the agent refused the handshake */
};

/* What a request of ours was, kept in the pending table by its id. */
enum acp_req {
	ACP_REQ_INITIALIZE,
	ACP_REQ_NEW,
	ACP_REQ_LOAD,
	ACP_REQ_SETTING, /* session/set_mode, set_model, set_config_option */
	ACP_REQ_PROMPT,
	ACP_REQ_COUNT
};

enum acp_run {
	ACP_RUN_NONE,
	ACP_RUN_MESSAGE,
	ACP_RUN_THOUGHT,
	ACP_RUN_USER,
	ACP_RUN_COUNT
};

/* A tool call seen in this session, by toolCallId. */
struct acp_call {
	char  *id;
	char  *name;
	cJSON *input; /* last non-empty rawInput */
	cJSON *diffs; /* last diff contents seen */
	int    item;
#define ACP_ITEM_NONE 0
#define ACP_ITEM_OPEN 1
#define ACP_ITEM_DONE 2
	int done; /* tool_result emitted */
	TAILQ_ENTRY(acp_call) entry;
};

/* A setting sent (session/set_*), waiting for its answer. */
struct acp_setting {
	long long id;
	char	 *key; /* "model", "mode", "effort" */
	char	 *value;
	int	  opening; /* sent before the first prompt */
	TAILQ_ENTRY(acp_setting) entry;
};

/* How the agent changes a setting. */
enum acp_route {
	ACP_ROUTE_NONE,
	ACP_ROUTE_MODE,	  /* session/set_mode */
	ACP_ROUTE_MODEL,  /* session/set_model (unstable) */
	ACP_ROUTE_CONFIG, /* session/set_config_option */
};

/* A request from the agent waiting for a client: permission or question. */
struct acp {
	enum acp_phase	     phase;
	struct jsonrpc_peer *peer; /* our requests, the agent's asks */
	int		     can_load;
	int		     images;	/* promptCapabilities.image */
	int		     replaying; /* session/load in flight */
	int		     in_prompt; /* session/prompt in flight */
	unsigned int	     turn;	/* prompts sent */
	unsigned int	     nitem;	/* synthetic ids in this turn */

	enum acp_run run;
	char	    *run_id;	/* native id of the open run */
	char	    *run_base;	/* messageId-derived key, or NULL */
	char	    *last_base; /* run_base of the previous run */

	double cost_seen; /* cumulative cost, -1 unknown */
	double cost_base; /* cumulative cost at turn start */

	struct rpc_queue queue; /* messages waiting for the handshake or turn */
	TAILQ_HEAD(, acp_call) calls;

	int    has_modes;  /* the session answered modes */
	int    has_models; /* … and models */
	cJSON *config;	   /* … and these configOptions, or NULL */
	int    opening;	   /* settings sent before the first prompt */
	TAILQ_HEAD(, acp_setting) settings;

	struct acpmsg_memo *memo; /* the last text chunk's envelope */
};

typedef void acp_update_fn(struct host *, struct acp *, const cJSON *);

static struct acp *acp_get(struct host *);
static int  acp_spawn_argv(struct host *, struct argv_builder *, char **);
static void acp_on_start(struct host *);
static void acp_on_line(struct host *, const char *, size_t);
static int  acp_send_message(struct host *, const struct user_message *);
static int
acp_reply_permission(struct host *, const char *, enum permission_reply);
static int acp_reply_question(struct host *, const char *, const cJSON *);
static int acp_cancel(struct host *);
static int acp_resumable(struct host *);
static int acp_configure(struct host *, const struct session_config *, char **);
static void acp_free(struct host *);

static void acp_reply(struct host *, const cJSON *, cJSON *);
static void acp_reply_error(struct host *, const cJSON *, int, const char *);
static void
acp_fail(struct host *, struct acp *, const char *, const struct jsonrpc_msg *);
static void   acp_open_session(struct host *, struct acp *);
static void   acp_flush(struct host *, struct acp *);
static cJSON *acp_blocks(struct host *, struct acp *, const cJSON *);
static char  *acp_file_uri(struct host *, const char *);
static void   acp_turn_end(struct host *, struct acp *, const char *, cJSON *);

static jsonrpc_msg_fn acp_initialize_cb;
static jsonrpc_msg_fn acp_session_cb;
static void	      acp_learn(struct host *, struct acp *, const cJSON *);
static void acp_learn_config(struct host *, struct acp *, const cJSON *);
static enum acp_route acp_route(struct acp *, const char *, const char **);
static int	      acp_apply_settings(struct host *, struct acp *);
static void
acp_setting_send(struct host *, struct acp *, const char *, const char *, int);
static void	      acp_api_error(struct host *, const char *);
static jsonrpc_msg_fn acp_setting_cb;
static jsonrpc_msg_fn acp_prompt_cb;
static jsonrpc_msg_fn acp_update_cb;
static jsonrpc_msg_fn acp_permission_cb;
static jsonrpc_msg_fn acp_elicitation_cb;
static jsonrpc_msg_fn acp_fs_read_cb;
static jsonrpc_msg_fn acp_fs_write_cb;

static void acp_run_end(struct host *, struct acp *);
static void
acp_run_chunk(struct host *, struct acp *, enum acp_run, const cJSON *);
static void acp_run_text(
    struct host *, struct acp *, enum acp_run, const char *, const char *);
static int   acp_chunk_fast(struct host *, struct acp *, const char *, size_t);
static void  acp_item(struct host *, struct acp *, const char *, enum item_kind,
     enum item_role, int, cJSON *);
static char *acp_synthetic_id(struct acp *, const char *);
static acp_update_fn acp_message_cb;
static acp_update_fn acp_thought_cb;
static acp_update_fn acp_user_cb;
static acp_update_fn acp_tool_call_cb;
static acp_update_fn acp_plan_cb;
static acp_update_fn acp_usage_cb;
static acp_update_fn acp_mode_cb;
static acp_update_fn acp_config_cb;
static acp_update_fn acp_info_cb;
static acp_update_fn acp_notice_cb;

static struct acp_call		   *
acp_call_sync(struct host *, struct acp *, const cJSON *, int);
static void acp_call_result(
    struct host *, struct acp *, struct acp_call *, const cJSON *, int);
static cJSON *acp_call_part(const struct acp_call *);
static void acp_status(struct host *, struct acp *, const char *, const char *);
static struct acp_call *acp_call_find(struct acp *, const char *);
static void		acp_call_free(struct acp_call *);

static cJSON *
acp_question_field(const char *, const cJSON *, const char *, cJSON *);
static void
acp_question_option(cJSON *, cJSON *, const char *, const char *, cJSON *);
static cJSON *acp_answer_one(const cJSON *, const char *);
static cJSON *acp_answer_value(const cJSON *, const cJSON *);

static int acp_fs_allowed(struct host *, const struct jsonrpc_msg *);
static int acp_fs_resolve(struct host *, const char *, char **, int *, char **);
static char *acp_fs_errmsg(int, const char *);
static int   acp_fs_code(int);
static int   acp_fs_inside(const char *, const char *);
static char *acp_fs_load(const char *, size_t *, int *);
static int   acp_fs_store(const char *, const char *, size_t);
static char *acp_fs_slice(char *, size_t, long long, long long);

const struct adapter adapter_acp = { .name = "acp",
	.caps = CAP_PERMISSIONS | CAP_QUESTIONS | CAP_REASONING |
	    CAP_TOOL_CALLS | CAP_FILE_CHANGES | CAP_STREAMING | CAP_RESUME |
	    CAP_CANCEL | CAP_USAGE | CAP_IMAGES,
	.spawn_argv = acp_spawn_argv,
	.on_start = acp_on_start,
	.on_line = acp_on_line,
	.send_message = acp_send_message,
	.reply_permission = acp_reply_permission,
	.reply_question = acp_reply_question,
	.cancel = acp_cancel,
	.configure = acp_configure,
	.resumable = acp_resumable,
	.free = acp_free };

/* Responses to our requests, by enum acp_req. */
static jsonrpc_msg_fn *const acp_responses[ACP_REQ_COUNT] = {
	[ACP_REQ_INITIALIZE] = acp_initialize_cb,
	[ACP_REQ_NEW] = acp_session_cb,
	[ACP_REQ_LOAD] = acp_session_cb,
	[ACP_REQ_SETTING] = acp_setting_cb,
	[ACP_REQ_PROMPT] = acp_prompt_cb
};

/* Requests from the agent; anything else is answered -32601. */
static const struct jsonrpc_method acp_requests[] = {
	{ ACPMSG_REQUEST_PERMISSION, acp_permission_cb },
	{ ACPMSG_ELICITATION, acp_elicitation_cb },
	{ ACPMSG_FS_READ, acp_fs_read_cb }, { ACPMSG_FS_WRITE, acp_fs_write_cb }
};

/* Notifications from the agent; anything else is ignored (valid ACP). */
static const struct jsonrpc_method acp_notifications[] = {
	{ ACPMSG_SESSION_UPDATE, acp_update_cb }
};

/* ACP is JSON-RPC 2.0 with "jsonrpc" on every message. */
static const struct jsonrpc_peer_ops acp_rpc = { "acp", 1, acp_requests,
	nitems(acp_requests), acp_notifications, nitems(acp_notifications),
	acp_responses, ACP_REQ_COUNT, rpc_stray_cb, rpc_send_cb,
	rpc_invalid_cb };

/*
 * session/update kinds, by enum acpmsg_update. available_commands_update
 * and any kind acpmsg.c does not know (say
 * compaction_summary_chunk) are ignored: valid ACP that has no place in
 * the universal stream.
 */
static acp_update_fn *const acp_updates[ACPMSG_UPDATE_COUNT] = {
	[ACPMSG_AGENT_CHUNK] = acp_message_cb,
	[ACPMSG_THOUGHT_CHUNK] = acp_thought_cb,
	[ACPMSG_USER_CHUNK] = acp_user_cb,
	[ACPMSG_TOOL_CALL] = acp_tool_call_cb,
	[ACPMSG_TOOL_CALL_UPDATE] = acp_tool_call_cb,
	[ACPMSG_PLAN] = acp_plan_cb,
	[ACPMSG_USAGE] = acp_usage_cb,
	[ACPMSG_MODE] = acp_mode_cb,
	[ACPMSG_CONFIG] = acp_config_cb,
	[ACPMSG_INFO] = acp_info_cb,
	[ACPMSG_NOTICE] = acp_notice_cb
};

/* A run's synthetic ids, by enum acp_run. */
static const char *const acp_run_prefix[ACP_RUN_COUNT] = { NULL, "msg",
	"thought", "user" };

/*
 * The fast path for text chunks (acp_chunk_fast), on unless a test turns
 * it off to compare it with json_parse and the dispatch.
 */
int acp_fast_path = 1;

/* Node's spelling of errno values: Gemini looks for "ENOENT". */
static const struct {
	int	    error;
	const char *name;
	const char *text;
} acp_errnos[] = { { ENOENT, "ENOENT", "no such file or directory" },
	{ EACCES, "EACCES", "permission denied" },
	{ EPERM, "EPERM", "operation not permitted" },
	{ EISDIR, "EISDIR", "illegal operation on a directory" },
	{ ENOTDIR, "ENOTDIR", "not a directory" },
	{ ELOOP, "ELOOP", "too many symbolic links encountered" },
	{ ENAMETOOLONG, "ENAMETOOLONG", "name too long" },
	{ EROFS, "EROFS", "read-only file system" },
	{ ENOSPC, "ENOSPC", "no space left on device" },
	{ EFBIG, "EFBIG", "file too large" } };

static struct acp *
acp_get(struct host *s)
{
	return (host_adapter_data(s));
}

/*
 * The command: the profile's argv, or the request's agentCommand (a JSON
 * array of strings) for the "acp" agent.
 */
static int
acp_spawn_argv(struct host *s, struct argv_builder *b, char **cause)
{
	return (argv_command(s, b, cause)); /* ACP needs no arguments */
}

/* The child runs: create our state and send initialize. */
static void
acp_on_start(struct host *s)
{
	const struct agent_profile *p = host_profile(s);
	struct acp		   *a;

	a = xcalloc(1, sizeof *a);
	a->peer = jsonrpc_peer_new(&acp_rpc, s);
	a->cost_seen = -1;
	TAILQ_INIT(&a->queue);
	TAILQ_INIT(&a->calls);
	TAILQ_INIT(&a->settings);
	host_set_adapter_data(s, a);

	jsonrpc_peer_request(a->peer, ACP_REQ_INITIALIZE, ACPMSG_INITIALIZE,
	    acpmsg_initialize(p != NULL && (p->flags & AGENT_OFFER_FS),
		"agentd", AGENTD_VERSION));
}

static void
acp_reply(struct host *s, const cJSON *id, cJSON *result)
{
	jsonrpc_peer_reply(acp_get(s)->peer, id, result);
}

static void
acp_reply_error(struct host *s, const cJSON *id, int code, const char *message)
{
	jsonrpc_peer_error(acp_get(s)->peer, id, code, message);
}

/* One line of the agent's stdout: a text chunk, or to the peer. */
static void
acp_on_line(struct host *s, const char *line, size_t len)
{
	struct acp *a = acp_get(s);

	if (a != NULL && acp_chunk_fast(s, a, line, len) != 0)
		jsonrpc_peer_line(a->peer, line, len);
}

/*
 * A text chunk without a tree (acpmsg_chunk_scan): 0 if line was one and
 * is handled as acp_update_cb and acp_run_chunk would have, -1 for the
 * peer to parse. The line is valid UTF-8 (session_line_cb makes it so),
 * which acpmsg_chunk_scan needs and json_parse would check again.
 */
static int
acp_chunk_fast(struct host *s, struct acp *a, const char *line, size_t len)
{
	static const enum acp_run runs[ACPMSG_UPDATE_COUNT] = {
		[ACPMSG_AGENT_CHUNK] = ACP_RUN_MESSAGE,
		[ACPMSG_THOUGHT_CHUNK] = ACP_RUN_THOUGHT,
		[ACPMSG_USER_CHUNK] = ACP_RUN_USER
	};
	struct acpmsg_chunk c;
	char		    small[4096], *buf = small;
	int		    r = -1;

	if (!acp_fast_path)
		return (-1);
	if (len > sizeof small)
		buf = xmalloc(len);
	if (acpmsg_chunk_scan(&a->memo, line, len, buf, &c) == 0) {
		if (!a->replaying)
			acp_run_text(s, a, runs[c.kind], c.message_id, c.text);
		r = 0;
	}
	if (buf != small)
		free(buf);
	return (r);
}

/*
 * The handshake failed: report it and fail the message waiting for it.
 * Later send_message calls return -1.
 */
static void
acp_fail(struct host *s, struct acp *a, const char *what,
    const struct jsonrpc_msg *msg)
{
	a->phase = ACP_FAILED;
	rpc_error(s, msg, what);
	rpc_queue_drop(s, &a->queue, "error");
}

/* initialize answered: remember the agent, then open the ACP session. */
static void
acp_initialize_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	struct acp  *a = acp_get(s);
	const char  *version;
	int	     load = 0;

	if (msg->kind == JSONRPC_ERROR) {
		acp_fail(s, a, "initialize failed", msg);
		return;
	}
	version =
	    json_get_str(json_get_obj(msg->result, "agentInfo"), "version");
	if (version != NULL)
		host_set_agent_version(s, version);
	(void)json_get_bool(json_get_obj(msg->result, "agentCapabilities"),
	    "loadSession", &load);
	a->can_load = load;
	(void)json_get_bool(
	    json_get_obj(json_get_obj(msg->result, "agentCapabilities"),
		"promptCapabilities"),
	    "image", &a->images);
	acp_open_session(s, a);
}

/* session/load when there is something to load and the agent can. */
static void
acp_open_session(struct host *s, struct acp *a)
{
	const char *native = host_native_id(s);

	a->phase = ACP_OPENING;
	if (native != NULL && *native != '\0' && a->can_load) {
		a->replaying = 1;
		jsonrpc_peer_request(a->peer, ACP_REQ_LOAD, ACPMSG_SESSION_LOAD,
		    acpmsg_session(host_cwd(s), host_launch_mcp(s), native));
	} else
		jsonrpc_peer_request(a->peer, ACP_REQ_NEW, ACPMSG_SESSION_NEW,
		    acpmsg_session(host_cwd(s), host_launch_mcp(s), NULL));
}

/*
 * session/new or session/load answered. A failed load falls back to a new
 * session, after an error event: the conversation goes on without the
 * agent's memory of it rather than not at all.
 */
static void
acp_session_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	struct acp  *a = acp_get(s);
	const char  *id;
	int	     loading = a->replaying;

	a->replaying = 0;
	if (msg->kind == JSONRPC_ERROR) {
		if (loading) {
			rpc_error(s, msg,
			    "session/load failed, "
			    "starting a new session");
			a->can_load = 0;
			acp_open_session(s, a);
		} else
			acp_fail(s, a, "session/new failed", msg);
		return;
	}
	if (!loading) {
		if ((id = json_get_str(msg->result, "sessionId")) == NULL) {
			host_error(
			    s, "session/new returned no sessionId", NULL, NULL);
			a->phase = ACP_FAILED;
			return;
		}
		host_set_native_id(s, id);
	}
	acp_learn(s, a, msg->result);
	if (acp_apply_settings(s, a))
		return; /* ready once the agent answered them */
	a->phase = ACP_READY;
	acp_flush(s, a);
}

/*
 * What the session offers: modes, models (unstable) and configOptions,
 * as session/new and session/load answer them. Each becomes the host's
 * option of its key, current value and choices.
 */
static void
acp_learn(struct host *s, struct acp *a, const cJSON *result)
{
	const cJSON *modes = json_get_obj(result, "modes");
	const cJSON *models = json_get_obj(result, "models");

	if (modes != NULL) {
		a->has_modes = 1;
		host_set_option(s, "mode", json_get_str(modes, "currentModeId"),
		    acpmsg_choices(
			json_get_arr(modes, "availableModes"), "id"));
	}
	if (models != NULL) {
		a->has_models = 1;
		host_set_option(s, "model",
		    json_get_str(models, "currentModelId"),
		    acpmsg_choices(
			json_get_arr(models, "availableModels"), "modelId"));
	}
	acp_learn_config(s, a, json_get_arr(result, "configOptions"));
}

/* configOptions (a session's, a set's answer or an update): selects of a
 * category we map become options; the list is kept to route by. */
static void
acp_learn_config(struct host *s, struct acp *a, const cJSON *opts)
{
	const cJSON *o;
	const char  *key, *type;

	if (!json_is_arr(opts))
		return;
	json_free(a->config);
	a->config = json_dup(opts);
	JSON_FOREACH(o, opts) {
		key = acpmsg_config_key(json_get_str(o, "category"));
		type = json_get_str(o, "type");
		if (key == NULL || json_get_str(o, "id") == NULL ||
		    (type != NULL && strcmp(type, "select") != 0))
			continue;
		host_set_option(s, key, json_get_str(o, "currentValue"),
		    acpmsg_choices(json_get_arr(o, "options"), "value"));
	}
}

/*
 * How this agent changes key: a mode by session/set_mode when it has
 * modes, a model by a config option (stable) before session/set_model,
 * anything by the config option of its category. *config_id is that
 * option's id.
 */
static enum acp_route
acp_route(struct acp *a, const char *key, const char **config_id)
{
	const char  *category = acpmsg_config_category(key);
	const cJSON *o;

	if (strcmp(key, "mode") == 0 && a->has_modes)
		return (ACP_ROUTE_MODE);
	JSON_FOREACH(o, a->config) {
		if (json_get_str(o, "id") == NULL ||
		    json_get_str(o, "category") == NULL ||
		    strcmp(json_get_str(o, "category"), category) != 0)
			continue;
		if (config_id != NULL)
			*config_id = json_get_str(o, "id");
		return (ACP_ROUTE_CONFIG);
	}
	if (strcmp(key, "model") == 0 && a->has_models)
		return (ACP_ROUTE_MODEL);
	return (ACP_ROUTE_NONE);
}

/* Send one setting; opening: before the first prompt, which waits. */
static void
acp_setting_send(struct host *s, struct acp *a, const char *key,
    const char *value, int opening)
{
	struct acp_setting *st;
	const char	   *config_id = NULL;
	const char	   *sid = host_native_id(s);

	st = xcalloc(1, sizeof *st);
	st->key = xstrdup(key);
	st->value = xstrdup(value);
	st->opening = opening;
	switch (acp_route(a, key, &config_id)) {
	case ACP_ROUTE_MODE:
		st->id = jsonrpc_peer_request(a->peer, ACP_REQ_SETTING,
		    ACPMSG_SESSION_SET_MODE, acpmsg_set_mode(sid, value));
		break;
	case ACP_ROUTE_MODEL:
		st->id = jsonrpc_peer_request(a->peer, ACP_REQ_SETTING,
		    ACPMSG_SESSION_SET_MODEL, acpmsg_set_model(sid, value));
		break;
	case ACP_ROUTE_CONFIG:
		st->id = jsonrpc_peer_request(a->peer, ACP_REQ_SETTING,
		    ACPMSG_SESSION_SET_CONFIG,
		    acpmsg_set_config(sid, config_id, value));
		break;
	case ACP_ROUTE_NONE:
		free(st->key);
		free(st->value);
		free(st);
		return;
	}
	if (opening)
		a->opening++;
	TAILQ_INSERT_TAIL(&a->settings, st, entry);
}

/*
 * The session's settings (from the create request, or changed while no
 * agent ran) that the ACP session does not have yet are sent before the
 * first prompt: 1 if some went out. What the agent cannot take is said
 * in an error; mode "default" on an agent without modes is no change.
 */
static int
acp_apply_settings(struct host *s, struct acp *a)
{
	const char *keys[3] = { "model", "mode", "effort" };
	const char *want[3];
	const char *cur;
	char	   *cause, *msg;
	size_t	    i;

	want[0] = host_model(s);
	want[1] = host_permission_mode(s);
	want[2] = host_effort(s);
	for (i = 0; i < nitems(keys); i++) {
		if (want[i] == NULL || *want[i] == '\0')
			continue;
		cur = json_get_str(
		    json_get_obj(host_options(s), keys[i]), "current");
		if (cur != NULL && strcmp(cur, want[i]) == 0)
			continue;
		if (acp_route(a, keys[i], NULL) == ACP_ROUTE_NONE) {
			if (i == 1 && strcmp(want[i], "default") == 0)
				continue;
			xasprintf(&msg,
			    "the agent offers no way to set its %s over ACP: "
			    "%s '%s' not applied",
			    keys[i], keys[i], want[i]);
			host_error(s, msg, "config_unsupported", NULL);
			free(msg);
			continue;
		}
		if (host_option_check(s, keys[i], want[i], &cause) != 0) {
			xasprintf(&msg, "%s: not applied", cause);
			host_error(s, msg, "config_unsupported", NULL);
			free(msg);
			free(cause);
			continue;
		}
		acp_setting_send(s, a, keys[i], want[i], 1);
	}
	return (a->opening > 0);
}

/*
 * A setting answered. Taken: it is the current value (and a config
 * option's answer may carry all of them). Refused: said in an error; the
 * agent keeps what it had. The first prompt waits for those sent at open.
 */
static void
acp_setting_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	   *s = arg;
	struct acp	   *a = acp_get(s);
	struct acp_setting *st;
	char		   *what;
	int		    opening;

	TAILQ_FOREACH(st, &a->settings, entry) {
		if (json_is_num(msg->id) &&
		    (long long)json_num(msg->id) == st->id)
			break;
	}
	if (st == NULL)
		return;
	TAILQ_REMOVE(&a->settings, st, entry);
	if (msg->kind == JSONRPC_ERROR) {
		xasprintf(
		    &what, "the agent refused %s '%s'", st->key, st->value);
		rpc_error(s, msg, what);
		free(what);
	} else {
		host_set_option(s, st->key, st->value, NULL);
		acp_learn_config(
		    s, a, json_get_arr(msg->result, "configOptions"));
	}
	opening = st->opening;
	free(st->key);
	free(st->value);
	free(st);
	if (opening && --a->opening == 0 && a->phase == ACP_OPENING) {
		a->phase = ACP_READY;
		acp_flush(s, a);
	}
}

/*
 * POST …/config: each value must be one the agent offers (422) and the
 * agent must have a way to take it (409), all checked before anything is
 * sent. Before the ACP session exists (or with no agent running) the
 * handshake applies the session's settings instead. Once it exists but
 * the settings sent at open are still unanswered, the change joins them:
 * those were read before it, and the first prompt waits for it too.
 */
static int
acp_configure(struct host *s, const struct session_config *cfg, char **cause)
{
	struct acp *a = acp_get(s);
	const char *keys[3] = { "model", "mode", "effort" };
	const char *vals[3];
	size_t	    i;
	int	    status, live, opening;

	opening = a != NULL && a->phase == ACP_OPENING && a->opening > 0;
	live = a != NULL && (a->phase == ACP_READY || opening);
	vals[0] = cfg->model;
	vals[1] = cfg->mode;
	vals[2] = cfg->effort;
	for (i = 0; i < nitems(keys); i++) {
		if (vals[i] == NULL)
			continue;
		if ((status = host_option_check(s, keys[i], vals[i], cause)) !=
		    0)
			return (status);
		if (live && acp_route(a, keys[i], NULL) == ACP_ROUTE_NONE) {
			xasprintf(cause,
			    "this agent offers no way to change its %s over "
			    "ACP (its session answered no %s)",
			    keys[i],
			    i == 1	 ? "modes and no mode config option"
				: i == 0 ? "models and no model config option"
					 : "thought_level config option");
			return (409);
		}
	}
	if (!live)
		return (0);
	for (i = 0; i < nitems(keys); i++) {
		if (vals[i] != NULL)
			acp_setting_send(s, a, keys[i], vals[i], opening);
	}
	return (0);
}

/*
 * Queue one user message; it becomes content blocks when it is sent
 * (acp_flush), once initialize has told what the agent takes.
 */
static int
acp_send_message(struct host *s, const struct user_message *m)
{
	struct acp *a = acp_get(s);
	cJSON	   *msg;

	if (a == NULL || a->phase == ACP_FAILED)
		return (-1);
	msg = json_object();
	json_set_str(msg, "text", m->text);
	if (m->attachments != NULL)
		json_set(msg, "attachments", json_dup(m->attachments));
	rpc_queue_add(&a->queue, msg);
	acp_flush(s, a);
	return (0);
}

/*
 * A queued message as ACP content blocks: its text, then an image block
 * per image attachment where the agent takes images
 * (promptCapabilities.image), else a resource_link to its file; a file is
 * a resource_link. An inline image for an agent that takes none cannot
 * be sent: said in an error event, the text goes without it.
 */
static cJSON *
acp_blocks(struct host *s, struct acp *a, const cJSON *msg)
{
	const cJSON *att;
	cJSON	    *blocks;
	const char  *path, *name, *kind, *mime;
	char	    *uri, *err;

	blocks = json_array();
	json_append(blocks, acpmsg_block_text(json_get_str(msg, "text")));
	JSON_FOREACH(att, json_get_arr(msg, "attachments")) {
		path = json_get_str(att, "path");
		name = json_get_str(att, "name");
		kind = json_get_str(att, "kind");
		mime = json_get_str(att, "mime");
		uri = path != NULL ? acp_file_uri(s, path) : NULL;
		if (kind != NULL && strcmp(kind, "image") == 0 && a->images)
			json_append(blocks,
			    acpmsg_block_image(
				json_get_str(att, "data"), mime, uri));
		else if (uri != NULL)
			json_append(blocks,
			    acpmsg_block_link(
				uri, name != NULL ? name : path, mime));
		else {
			xasprintf(&err,
			    "image '%s' not sent: the agent takes no images "
			    "(promptCapabilities.image)",
			    name != NULL ? name : "");
			host_error(s, err, "attachment_unsupported", NULL);
			free(err);
		}
		free(uri);
	}
	return (blocks);
}

/* "file://" + the absolute path, percent-encoded outside [A-Za-z0-9/._~-]. */
static char *
acp_file_uri(struct host *s, const char *path)
{
	static const char    hex[] = "0123456789ABCDEF";
	char		    *full, *uri, *o;
	const unsigned char *c;

	if (*path == '/')
		full = xstrdup(path);
	else
		xasprintf(&full, "%s/%s", host_cwd(s), path);
	uri = xmalloc(7 + 3 * strlen(full) + 1);
	o = uri + 7;
	memcpy(uri, "file://", 7);
	for (c = (const unsigned char *)full; *c != '\0'; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("/._~-", *c) != NULL)
			*o++ = (char)*c;
		else {
			*o++ = '%';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 0xf];
		}
	}
	*o = '\0';
	free(full);
	return (uri);
}

/* Send the next queued prompt if the ACP session is ready and idle. */
static void
acp_flush(struct host *s, struct acp *a)
{
	cJSON *msg, *blocks;

	if (a->phase != ACP_READY || a->in_prompt ||
	    (msg = rpc_queue_take(&a->queue)) == NULL)
		return;
	blocks = acp_blocks(s, a, msg);
	json_free(msg);

	a->in_prompt = 1;
	a->turn++;
	a->nitem = 0;
	a->cost_base = a->cost_seen;
	jsonrpc_peer_request(a->peer, ACP_REQ_PROMPT, ACPMSG_SESSION_PROMPT,
	    acpmsg_prompt(host_native_id(s), blocks));
}

/* The prompt answered: the turn is over. */
static void
acp_prompt_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	struct acp  *a = acp_get(s);
	const char  *reason;

	a->in_prompt = 0;
	if (msg->kind == JSONRPC_ERROR) {
		/* The request was cancelled, which is no error. */
		if (msg->error_code == ACPMSG_CANCELLED) {
			acp_turn_end(s, a, "cancelled", NULL);
			return;
		}
		rpc_error(s, msg, NULL);
		acp_turn_end(s, a, "error", NULL);
		return;
	}
	if ((reason = json_get_str(msg->result, "stopReason")) == NULL)
		reason = "end_turn";
	acp_turn_end(s, a, acpmsg_stop_from(reason),
	    event_usage_from(
		json_get_obj(msg->result, "usage"), acpmsg_usage_names));
}

/*
 * End the turn: close our run and the tool calls' open items (the session
 * completes them), then send the next queued prompt. usage_update.cost is
 * the session's cumulative cost, so the turn's cost is the difference.
 */
static void
acp_turn_end(struct host *s, struct acp *a, const char *reason, cJSON *usage)
{
	struct acp_call *c, *c1;
	double		 cost = -1;

	acp_run_end(s, a);
	TAILQ_FOREACH_SAFE(c, &a->calls, entry, c1) {
		if (c->item == ACP_ITEM_OPEN)
			c->item = ACP_ITEM_DONE;
		if (c->done) {
			TAILQ_REMOVE(&a->calls, c, entry);
			acp_call_free(c);
		}
	}
	if (a->cost_seen >= 0 && a->cost_seen != a->cost_base)
		cost = a->cost_seen - (a->cost_base > 0 ? a->cost_base : 0);
	a->cost_base = a->cost_seen;
	host_turn_end(s, reason, usage, cost);
	acp_flush(s, a);
}

/*
 * session/update: dispatch by kind. Nothing is emitted while session/load
 * replays history the log already has.
 */
static void
acp_update_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	struct acp  *a = acp_get(s);
	const cJSON *update;
	const char  *name;
	int	     kind;

	if (a->replaying)
		return;
	update = json_get_obj(msg->params, "update");
	if ((name = json_get_str(update, "sessionUpdate")) == NULL) {
		host_unparsed(s, "session/update without sessionUpdate", "acp");
		return;
	}
	if ((kind = acpmsg_update_parse(name)) >= 0 &&
	    acp_updates[kind] != NULL)
		acp_updates[kind](s, a, update);
}

static void
acp_message_cb(struct host *s, struct acp *a, const cJSON *u)
{
	acp_run_chunk(s, a, ACP_RUN_MESSAGE, u);
}

static void
acp_thought_cb(struct host *s, struct acp *a, const cJSON *u)
{
	acp_run_chunk(s, a, ACP_RUN_THOUGHT, u);
}

static void
acp_user_cb(struct host *s, struct acp *a, const cJSON *u)
{
	acp_run_chunk(s, a, ACP_RUN_USER, u);
}

/* Complete the open run, if any. */
static void
acp_run_end(struct host *s, struct acp *a)
{
	if (a->run == ACP_RUN_NONE)
		return;
	host_item_complete(s, a->run_id, 0, NULL);
	free(a->run_id);
	free(a->last_base);
	a->last_base = a->run_base;
	a->run_id = a->run_base = NULL;
	a->run = ACP_RUN_NONE;
}

/* A new item (not a run): the open run ends first. */
static void
acp_item(struct host *s, struct acp *a, const char *native_id,
    enum item_kind kind, enum item_role role, int failed, cJSON *content)
{
	struct item_spec spec;

	acp_run_end(s, a);
	memset(&spec, 0, sizeof spec);
	spec.native_id = native_id;
	spec.kind = kind;
	spec.role = role;
	spec.content = json_dup(content);
	host_item_start(s, &spec);
	host_item_complete(s, native_id, failed, content);
}

static char *
acp_synthetic_id(struct acp *a, const char *prefix)
{
	char *id;

	xasprintf(&id, "%s-%u-%u", prefix, a->turn, ++a->nitem);
	return (id);
}

/*
 * One message, thought or user chunk. Text goes to acp_run_text; other
 * blocks become a completed item of their own (an image part for images,
 * a json part with the block for resources and audio).
 */
static void
acp_run_chunk(struct host *s, struct acp *a, enum acp_run kind, const cJSON *u)
{
	const cJSON *block = json_get_obj(u, "content");
	const char  *type = json_get_str(block, "type");
	char	    *id;
	cJSON	    *content;

	if (type != NULL && strcmp(type, "text") != 0) {
		id = acp_synthetic_id(a, acp_run_prefix[kind]);
		content = json_array();
		if (strcmp(type, "image") == 0) {
			json_append(content,
			    event_part_image(NULL, json_get_str(block, "data"),
				json_get_str(block, "mimeType")));
		} else
			json_append(content, event_part_json(json_dup(block)));
		acp_item(s, a, id,
		    kind == ACP_RUN_THOUGHT ? ITEM_REASONING : ITEM_MESSAGE,
		    kind == ACP_RUN_USER ? ROLE_USER : ROLE_ASSISTANT, 0,
		    content);
		free(id);
		return;
	}
	acp_run_text(s, a, kind, json_get_str(u, "messageId"),
	    json_get_str(block, "text"));
}

/*
 * A text chunk (mid, the messageId, may be NULL), from acp_run_chunk or
 * the fast path. Its item is keyed by messageId (a thought's by messageId
 * + ":thought", because claude-agent-acp gives a thought and the text
 * after it the same messageId), else by a synthetic id for the whole
 * contiguous run. Text streams as deltas.
 */
static void
acp_run_text(struct host *s, struct acp *a, enum acp_run kind, const char *mid,
    const char *text)
{
	struct item_spec spec;
	char		*base = NULL, *id;

	if (text == NULL || *text == '\0')
		return; /* claude-agent-acp opens with "" */
	if (kind == ACP_RUN_MESSAGE)
		acp_api_error(s, text);

	if (mid != NULL) {
		if (kind == ACP_RUN_THOUGHT)
			xasprintf(&base, "%s:thought", mid);
		else
			base = xstrdup(mid);
	}
	if (a->run == kind &&
	    (base == NULL ||
		(a->run_base != NULL && strcmp(a->run_base, base) == 0))) {
		free(base);
		host_item_delta(s, a->run_id, text);
		return;
	}
	acp_run_end(s, a);
	if (base == NULL)
		id = acp_synthetic_id(a, acp_run_prefix[kind]);
	else if (a->last_base != NULL && strcmp(a->last_base, base) == 0)
		xasprintf(&id, "%s#%u", base, ++a->nitem); /* resumed */
	else
		id = xstrdup(base);

	memset(&spec, 0, sizeof spec);
	spec.native_id = id;
	spec.kind = kind == ACP_RUN_THOUGHT ? ITEM_REASONING : ITEM_MESSAGE;
	spec.role = kind == ACP_RUN_USER ? ROLE_USER : ROLE_ASSISTANT;
	host_item_start(s, &spec);
	a->run = kind;
	a->run_id = id;
	a->run_base = base;
	host_item_delta(s, id, text);
}

/*
 * Some adapters pass a model API's error through as the reply text and
 * end the turn as a success (codex-acp prints the provider's body, e.g.
 * {"error":{"message":"…","type":"invalid_request_error"}}). A chunk that
 * is exactly such a body is surfaced as an error event too; the text
 * stays in the message.
 */
static void
acp_api_error(struct host *s, const char *text)
{
	const char  *err, *msg;
	const cJSON *e;
	cJSON	    *o;
	size_t	     len = strlen(text);

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	if (len < 2 || text[0] != '{' || text[len - 1] != '}')
		return;
	if ((o = json_parse(text, len, &err)) == NULL)
		return;
	if ((e = json_get_obj(o, "error")) != NULL &&
	    (msg = json_get_str(e, "message")) != NULL && json_size(o) == 1)
		host_error(s, msg,
		    json_get_str(e, "type") != NULL ? json_get_str(e, "type")
						    : json_get_str(e, "code"),
		    json_dup(o));
	json_free(o);
}

/* tool_call and tool_call_update share one path. */
static void
acp_tool_call_cb(struct host *s, struct acp *a, const cJSON *u)
{
	if (json_get_str(u, "toolCallId") == NULL) {
		host_unparsed(s, "tool call without toolCallId", "acp");
		return;
	}
	(void)acp_call_sync(s, a, u, 0);
}

static struct acp_call *
acp_call_find(struct acp *a, const char *id)
{
	struct acp_call *c;

	TAILQ_FOREACH(c, &a->calls, entry) {
		if (strcmp(c->id, id) == 0)
			return (c);
	}
	return (NULL);
}

static void
acp_call_free(struct acp_call *c)
{
	free(c->id);
	free(c->name);
	json_free(c->input);
	json_free(c->diffs);
	free(c);
}

/*
 * Merge a ToolCall or ToolCallUpdate into what we know of the call, and
 * emit what became visible. The tool_call item starts at once but is
 * completed only when its input is known (claude-agent-acp first sends
 * rawInput {} and the real input in an update), when a permission is
 * asked for it (force), or when the call finishes; a final status adds
 * the tool_result item.
 */
static struct acp_call *
acp_call_sync(struct host *s, struct acp *a, const cJSON *tc, int force)
{
	struct acp_call *c;
	struct item_spec spec;
	const cJSON	*input, *content, *el;
	const char	*id, *status, *name;
	int		 st, final, failed, has_diff = 0;

	id = json_get_str(tc, "toolCallId");
	if ((c = acp_call_find(a, id)) == NULL) {
		c = xcalloc(1, sizeof *c);
		c->id = xstrdup(id);
		TAILQ_INSERT_TAIL(&a->calls, c, entry);
	}
	if (c->name == NULL) {
		if ((name = json_get_str(tc, "name")) == NULL &&
		    (name = json_get_str(tc, "title")) == NULL &&
		    (name = json_get_str(tc, "kind")) == NULL)
			name = "tool";
		c->name = xstrdup(name);
	}
	input = json_get(tc, "rawInput");
	if (input != NULL && !json_is_null(input) &&
	    !(json_is_obj(input) && json_size(input) == 0)) {
		json_free(c->input);
		c->input = json_dup(input);
	}
	content = json_get_arr(tc, "content");
	JSON_FOREACH(el, content) {
		if ((status = json_get_str(el, "type")) != NULL &&
		    strcmp(status, "diff") == 0)
			has_diff = 1;
	}
	if (has_diff) {
		json_free(c->diffs);
		c->diffs = json_dup(content);
	}
	st = acpmsg_status_parse(json_get_str(tc, "status"));
	final = st == ACPMSG_COMPLETED || st == ACPMSG_FAILED;
	failed = st == ACPMSG_FAILED;

	if (c->item == ACP_ITEM_NONE) {
		memset(&spec, 0, sizeof spec);
		spec.native_id = c->id;
		spec.kind = ITEM_TOOL_CALL;
		spec.role = ROLE_ASSISTANT;
		spec.content = acp_call_part(c);
		acp_run_end(s, a);
		host_item_start(s, &spec);
		c->item = ACP_ITEM_OPEN;
	}
	if (c->item == ACP_ITEM_OPEN && (c->input != NULL || force || final)) {
		host_item_complete(s, c->id, 0, acp_call_part(c));
		c->item = ACP_ITEM_DONE;
	}
	if (final && !c->done)
		acp_call_result(s, a, c, tc, failed);
	return (c);
}

/* [tool_call{name, arguments, call_id}] from what we know. */
static cJSON *
acp_call_part(const struct acp_call *c)
{
	cJSON *content;
	char  *args;

	args = c->input != NULL ? json_print(c->input, NULL) : xstrdup("{}");
	content = json_array();
	json_append(content, event_part_tool_call(c->name, args, c->id));
	free(args);
	return (content);
}

/*
 * The tool_result item: the text of the final update's content blocks,
 * else rawOutput (text as is, JSON as JSON text); plus, if the call did
 * not fail, one file_ref per diff it showed at any point (claude-agent-acp
 * shows the diff in an update before the final one, opencode only in the
 * permission request). A failed call's item is failed, with is_error.
 */
static void
acp_call_result(struct host *s, struct acp *a, struct acp_call *c,
    const cJSON *tc, int failed)
{
	const cJSON *raw, *el;
	cJSON	    *content;
	char	    *output, *id, *diff;
	const char  *path, *old, *new;

	output = acpmsg_tool_text(json_get_arr(tc, "content"));
	raw = json_get(tc, "rawOutput");
	if (*output == '\0' && raw != NULL && !json_is_null(raw)) {
		free(output);
		output = json_str(raw) != NULL ? xstrdup(json_str(raw))
					       : json_print(raw, NULL);
	}
	content = json_array();
	json_append(content, event_part_tool_result(c->id, output, failed));
	free(output);
	JSON_FOREACH(el, failed ? NULL : c->diffs) {
		if ((path = json_get_str(el, "path")) == NULL ||
		    (new = json_get_str(el, "newText")) == NULL)
			continue;
		if ((old = json_get_str(el, "oldText")) != NULL && *old == '\0')
			old = NULL; /* "" is a new file too */
		diff = diff_texts(path, old, path, new);
		json_append(content,
		    event_part_file_ref(
			path, old == NULL ? "write" : "patch", diff));
		free(diff);
	}
	xasprintf(&id, "%s:result", c->id);
	acp_item(s, a, id, ITEM_TOOL_RESULT, ROLE_TOOL, failed, content);
	free(id);
	c->done = 1;
}

/* A status item; like any other item it ends the open run. */
static void
acp_status(struct host *s, struct acp *a, const char *label, const char *detail)
{
	acp_run_end(s, a);
	host_status(s, label, detail);
}

/* plan: a status item with the entries as a json part. */
static void
acp_plan_cb(struct host *s, struct acp *a, const cJSON *u)
{
	const cJSON *entries = json_get_arr(u, "entries"), *el;
	cJSON	    *content;
	char	    *id, detail[64];
	int	     done = 0;

	JSON_FOREACH(el, entries) {
		if (acpmsg_status_parse(json_get_str(el, "status")) ==
		    ACPMSG_COMPLETED)
			done++;
	}
	snprintf(detail, sizeof detail, "%d of %d done", done,
	    entries != NULL ? json_size(entries) : 0);
	content = json_array();
	json_append(content, event_part_status("plan", detail));
	json_append(content,
	    event_part_json(
		entries != NULL ? json_dup(entries) : json_array()));
	id = acp_synthetic_id(a, "plan");
	acp_item(s, a, id, ITEM_STATUS, ROLE_SYSTEM, 0, content);
	free(id);
}

/* usage_update: only the cost matters (used/size is the context window). */
static void
acp_usage_cb(struct host *s, struct acp *a, const cJSON *u)
{
	const cJSON *cost = json_get_obj(u, "cost");
	const char  *currency = json_get_str(cost, "currency");
	double	     amount;

	if (json_get_num(cost, "amount", &amount) != 0 || amount < 0)
		return;
	if (currency == NULL || strcmp(currency, "USD") == 0)
		a->cost_seen = amount;
}

static void
acp_mode_cb(struct host *s, struct acp *a, const cJSON *u)
{
	const char *mode = json_get_str(u, "currentModeId");

	if (mode != NULL) {
		host_set_option(s, "mode", mode, NULL);
		acp_status(s, a, "mode", mode);
	}
}

/* config_option_update: the agent's settings changed (or their choices). */
static void
acp_config_cb(struct host *s, struct acp *a, const cJSON *u)
{
	acp_learn_config(s, a, json_get_arr(u, "configOptions"));
}

static void
acp_info_cb(struct host *s, struct acp *a, const cJSON *u)
{
	const char *title = json_get_str(u, "title");

	if (title != NULL)
		acp_status(s, a, "title", title);
}

/* notice: an error event for severity "error", else a status item. */
static void
acp_notice_cb(struct host *s, struct acp *a, const cJSON *u)
{
	const char *severity = json_get_str(u, "severity");
	const char *title = json_get_str(u, "title");
	const char *desc = json_get_str(u, "description");
	char	   *text;

	if (title == NULL)
		return;
	if (desc != NULL)
		xasprintf(&text, "%s: %s", title, desc);
	else
		text = xstrdup(title);
	if (severity != NULL && strcmp(severity, "error") == 0)
		host_error(s, text, NULL, NULL);
	else
		acp_status(s, a, "notice", text);
	free(text);
}

/*
 * session/request_permission: make sure the tool call is visible (Gemini
 * asks before any tool_call notification), then register the request
 * under its JSON-RPC id.
 */
static void
acp_permission_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	   *s = arg;
	struct acp	   *a = acp_get(s);
	const cJSON	   *tc = json_get_obj(msg->params, "toolCall"), *el;
	const cJSON	   *options = json_get_arr(msg->params, "options");
	struct acp_call	   *c = NULL;
	struct jsonrpc_ask *k;
	const char	   *action;
	cJSON		   *meta, *opts, *o;

	if (json_get_str(tc, "toolCallId") != NULL)
		c = acp_call_sync(s, a, tc, 1);
	if ((action = json_get_str(tc, "title")) == NULL &&
	    (action = json_get_str(tc, "kind")) == NULL)
		action = c != NULL ? c->name : "tool";

	meta = json_object();
	json_set_str(meta, "tool_name", c != NULL ? c->name : action);
	json_set(meta, "input",
	    c != NULL && c->input != NULL ? json_dup(c->input) : json_object());
	json_set_str(meta, "call_id", json_get_str(tc, "toolCallId"));
	opts = json_array();
	JSON_FOREACH(el, options) {
		o = json_object();
		json_set_str(o, "optionId", json_get_str(el, "optionId"));
		json_set_str(o, "name", json_get_str(el, "name"));
		json_set_str(o, "kind", json_get_str(el, "kind"));
		json_append(opts, o);
	}
	json_set(meta, "options", opts);

	k = jsonrpc_peer_ask(a->peer, msg->id,
	    options != NULL ? json_dup(options) : json_array());
	host_permission_request(s, k->native_id, action, meta);
}

/*
 * Answer a permission. A reply the agent offers no option for (say, ALWAYS
 * with neither allow_always nor allow_once) goes back as "cancelled".
 */
static int
acp_reply_permission(
    struct host *s, const char *native_id, enum permission_reply reply)
{
	struct acp	   *a = acp_get(s);
	struct jsonrpc_ask *k;
	const char	   *option = NULL;

	if (a == NULL || (k = jsonrpc_peer_take(a->peer, native_id)) == NULL)
		return (-1);
	option = acpmsg_option_for(k->data, reply);
	jsonrpc_peer_answer(a->peer, k, acpmsg_outcome(option));
	return (0);
}

/*
 * elicitation/create (form mode): one question per schema property. The
 * fields we keep (key, type, options with their values) turn the answers
 * back into the content the schema asked for.
 */
static void
acp_elicitation_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host	   *s = arg;
	struct acp	   *a = acp_get(s);
	const cJSON	   *schema, *prop;
	const char	   *mode, *message;
	struct jsonrpc_ask *k;
	cJSON		   *questions, *fields, *q;

	mode = json_get_str(msg->params, "mode");
	if (mode != NULL && strcmp(mode, "form") != 0) {
		/* url mode: nothing to show it in */
		acp_reply(s, msg->id, acpmsg_elicited(NULL));
		return;
	}
	message = json_get_str(msg->params, "message");
	schema = json_get_obj(msg->params, "requestedSchema");
	questions = json_array();
	fields = json_array();
	JSON_FOREACH(prop, json_get_obj(schema, "properties")) {
		json_append(questions,
		    acp_question_field(json_key(prop), prop, message, fields));
	}
	if (json_size(questions) == 0) {
		q = json_object();
		json_set_str(q, "question", message != NULL ? message : "");
		json_set_bool(q, "multi_select", 0);
		json_set(q, "options", json_array());
		json_append(questions, q);
	}
	k = jsonrpc_peer_ask(a->peer, msg->id, fields);
	host_question_request(s, k->native_id, questions);
}

/* Add one option to a question and its value to the field. */
static void
acp_question_option(
    cJSON *q, cJSON *f, const char *label, const char *desc, cJSON *value)
{
	cJSON *o;

	o = json_object();
	json_set_str(o, "label", label);
	json_set_str(o, "description", desc);
	json_append(json_get_arr(q, "options"), o);
	o = json_object();
	json_set_str(o, "label", label);
	json_set(o, "value", value);
	json_append(json_get_arr(f, "options"), o);
}

/*
 * One property as a question: enum values, or oneOf/anyOf {const, title},
 * are its options; a boolean gets Yes and No; an array of those is a
 * multi-select.
 */
static cJSON *
acp_question_field(
    const char *key, const cJSON *prop, const char *message, cJSON *fields)
{
	const cJSON *src = prop, *el, *list;
	const char  *type = json_get_str(prop, "type"), *text;
	cJSON	    *q, *f;
	char	    *label;
	int	     multi = type != NULL && strcmp(type, "array") == 0;

	if (multi)
		src = json_get_obj(prop, "items");
	if ((text = json_get_str(prop, "title")) == NULL &&
	    (text = json_get_str(prop, "description")) == NULL &&
	    (text = message) == NULL)
		text = key;
	q = json_object();
	json_set_str(q, "question", text);
	json_set_str(q, "header", key);
	json_set_bool(q, "multi_select", multi);
	json_set(q, "options", json_array());
	f = json_object();
	json_set_str(f, "key", key);
	json_set_str(f, "type", json_get_str(src, "type"));
	json_set_bool(f, "multi", multi);
	json_set(f, "options", json_array());

	JSON_FOREACH(el, json_get_arr(src, "enum")) {
		label = json_str(el) != NULL ? xstrdup(json_str(el))
					     : json_print(el, NULL);
		acp_question_option(q, f, label, NULL, json_dup(el));
		free(label);
	}
	if ((list = json_get_arr(src, "oneOf")) == NULL)
		list = json_get_arr(src, "anyOf");
	JSON_FOREACH(el, list) {
		if (json_get(el, "const") == NULL)
			continue;
		if ((text = json_get_str(el, "title")) != NULL)
			label = xstrdup(text);
		else if (json_get_str(el, "const") != NULL)
			label = xstrdup(json_get_str(el, "const"));
		else
			label = json_print(json_get(el, "const"), NULL);
		acp_question_option(q, f, label,
		    json_get_str(el, "description"),
		    json_dup(json_get(el, "const")));
		free(label);
	}
	if (json_size(json_get_arr(f, "options")) == 0 &&
	    (text = json_get_str(src, "type")) != NULL &&
	    strcmp(text, "boolean") == 0) {
		acp_question_option(q, f, "Yes", NULL, json_bool(1));
		acp_question_option(q, f, "No", NULL, json_bool(0));
	}
	json_append(fields, f);
	return (q);
}

/* One answer label as the value its field's schema wants. */
static cJSON *
acp_answer_one(const cJSON *field, const char *label)
{
	const cJSON *el;
	const char  *type = json_get_str(field, "type");
	const char  *l;

	JSON_FOREACH(el, json_get_arr(field, "options")) {
		if ((l = json_get_str(el, "label")) != NULL &&
		    strcmp(l, label) == 0)
			return (json_dup(json_get(el, "value")));
	}
	if (type != NULL &&
	    (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0))
		return (json_number(strtod(label, NULL)));
	if (type != NULL && strcmp(type, "boolean") == 0)
		return (json_bool(strcasecmp(label, "true") == 0 ||
		    strcasecmp(label, "yes") == 0));
	return (json_string(label));
}

/* A question's answers (an array of labels) as the field's value. */
static cJSON *
acp_answer_value(const cJSON *field, const cJSON *labels)
{
	const cJSON *el;
	cJSON	    *v;
	int	     multi = 0;

	(void)json_get_bool(field, "multi", &multi);
	if (!multi)
		return (acp_answer_one(field, json_str(json_at(labels, 0))));
	v = json_array();
	JSON_FOREACH(el, labels) {
		if (json_str(el) != NULL)
			json_append(v, acp_answer_one(field, json_str(el)));
	}
	return (v);
}

/* Answer an elicitation: accept with content, or decline. */
static int
acp_reply_question(struct host *s, const char *native_id, const cJSON *answers)
{
	struct acp	   *a = acp_get(s);
	struct jsonrpc_ask *k;
	const cJSON	   *field, *labels;
	cJSON		   *content = NULL;
	int		    i = 0;

	if (a == NULL || (k = jsonrpc_peer_take(a->peer, native_id)) == NULL)
		return (-1);
	if (json_is_arr(answers)) {
		content = json_object();
		JSON_FOREACH(field, k->data) {
			labels = json_at(answers, i++);
			if (!json_is_arr(labels) ||
			    json_str(json_at(labels, 0)) == NULL)
				continue;
			json_set(content, json_get_str(field, "key"),
			    acp_answer_value(field, labels));
		}
	}
	jsonrpc_peer_answer(a->peer, k, acpmsg_elicited(content));
	return (0);
}

/* The fs methods are served only to profiles that were offered it. */
static int
acp_fs_allowed(struct host *s, const struct jsonrpc_msg *msg)
{
	const struct agent_profile *p = host_profile(s);

	if (p != NULL && (p->flags & AGENT_OFFER_FS))
		return (1);
	acp_reply_error(
	    s, msg->id, JSONRPC_METHOD_NOT_FOUND, "method not found");
	return (0);
}

/* Node's form of an error, which is what ACP agents expect to parse. */
static char *
acp_fs_errmsg(int error, const char *path)
{
	char  *msg;
	size_t i;

	for (i = 0; i < nitems(acp_errnos); i++) {
		if (acp_errnos[i].error == error) {
			xasprintf(&msg, "%s: %s, open '%s'", acp_errnos[i].name,
			    acp_errnos[i].text, path);
			return (msg);
		}
	}
	xasprintf(&msg, "E%d: %s, open '%s'", error, strerror(error), path);
	return (msg);
}

/* The JSON-RPC error code for an errno: -32002 (not found) or -32603. */
static int
acp_fs_code(int error)
{
	return (error == ENOENT ? -32002 : JSONRPC_INTERNAL_ERROR);
}

/* Whether real is root or below it. */
static int
acp_fs_inside(const char *root, const char *real)
{
	size_t len = strlen(root);

	if (strcmp(root, "/") == 0)
		return (1);
	return (strncmp(real, root, len) == 0 &&
	    (real[len] == '/' || real[len] == '\0'));
}

/*
 * Resolve an agent's path: absolute, or relative to the cwd. The file's
 * real path (or, for a file not there yet, its parent's real path and its
 * name) must be inside the cwd's real path, so neither ".." nor a symlink
 * leads out. On error, *code and *msg are the JSON-RPC error.
 */
static int
acp_fs_resolve(
    struct host *s, const char *path, char **out, int *code, char **msg)
{
	char *root, *full, *real, *slash, *dir;
	int   error;

	*out = NULL;
	if ((root = realpath(host_cwd(s), NULL)) == NULL) {
		*code = JSONRPC_INTERNAL_ERROR;
		xasprintf(msg, "session cwd: %s", strerror(errno));
		return (-1);
	}
	if (*path == '/')
		full = xstrdup(path);
	else
		xasprintf(&full, "%s/%s", root, path);
	if ((real = realpath(full, NULL)) == NULL && errno == ENOENT) {
		slash = strrchr(full, '/');
		*slash = '\0';
		dir = realpath(*full == '\0' ? "/" : full, NULL);
		error = errno;
		if (dir != NULL && slash[1] != '\0' &&
		    strcmp(slash + 1, ".") != 0 && strcmp(slash + 1, "..") != 0)
			xasprintf(&real, "%s/%s",
			    strcmp(dir, "/") == 0 ? "" : dir, slash + 1);
		else if (dir != NULL)
			error = EISDIR;
		free(dir);
		errno = error;
	}
	error = errno;
	free(full);
	if (real == NULL) {
		*code = acp_fs_code(error);
		*msg = acp_fs_errmsg(error, path);
	} else if (!acp_fs_inside(root, real)) {
		*code = JSONRPC_INVALID_PARAMS;
		xasprintf(msg,
		    "path outside the session's working "
		    "directory: %s",
		    path);
		free(real);
		real = NULL;
	}
	free(root);
	*out = real;
	return (real != NULL ? 0 : -1);
}

/* Read a regular file of at most ACP_FS_MAX bytes; NUL-terminated. */
static char *
acp_fs_load(const char *real, size_t *len, int *error)
{
	struct stat st;
	char	   *buf;
	size_t	    cap;
	ssize_t	    n = 0;
	int	    fd;

	if ((fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		*error = errno;
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > ACP_FS_MAX) {
		*error = S_ISDIR(st.st_mode)
		    ? EISDIR
		    : (S_ISREG(st.st_mode) ? EFBIG : EINVAL);
		close(fd);
		return (NULL);
	}
	/* The file may grow while we read: one byte over the cap is enough. */
	cap = (size_t)st.st_size + 4096;
	if (cap > ACP_FS_MAX + 1)
		cap = ACP_FS_MAX + 1;
	buf = xmalloc(cap + 1);
	*len = 0;
	while (*len < cap && (n = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	if (n == -1 || *len > ACP_FS_MAX) {
		*error = n == -1 ? errno : EFBIG;
		free(buf);
		return (NULL);
	}
	buf[*len] = '\0';
	return (buf);
}

/* Lines [line, line + limit) of text (1-based; <= 0 means all). */
static char *
acp_fs_slice(char *text, size_t len, long long line, long long limit)
{
	char	 *p = text, *end = text + len, *nl, *out;
	long long i;

	for (i = 1; i < line && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl != NULL ? nl + 1 : end;
	}
	if (limit > 0) {
		for (nl = p, i = 0; i < limit && nl < end; i++) {
			nl = memchr(nl, '\n', (size_t)(end - nl));
			nl = nl != NULL ? nl + 1 : end;
		}
		end = nl;
	}
	out = xstrndup(p, (size_t)(end - p));
	free(text);
	return (out);
}

/* fs/read_text_file {path, line?, limit?} -> {content}. */
static void
acp_fs_read_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	const char  *path = json_get_str(msg->params, "path");
	char	    *real, *text, *fixed, *emsg;
	long long    line = 0, limit = 0;
	size_t	     len, flen;
	int	     code, error = 0;
	cJSON	    *result;

	if (!acp_fs_allowed(s, msg))
		return;
	if (path == NULL) {
		acp_reply_error(
		    s, msg->id, JSONRPC_INVALID_PARAMS, "path is required");
		return;
	}
	if (acp_fs_resolve(s, path, &real, &code, &emsg) != 0) {
		acp_reply_error(s, msg->id, code, emsg);
		free(emsg);
		return;
	}
	text = acp_fs_load(real, &len, &error);
	free(real);
	if (text == NULL) {
		emsg = acp_fs_errmsg(error, path);
		acp_reply_error(s, msg->id, acp_fs_code(error), emsg);
		free(emsg);
		return;
	}
	if (!utf8_valid(text, len)) {
		fixed = utf8_repair(text, len, &flen);
		free(text);
		text = fixed;
		len = flen;
	}
	(void)json_get_int(msg->params, "line", &line);
	(void)json_get_int(msg->params, "limit", &limit);
	text = acp_fs_slice(text, len, line, limit);
	result = json_object();
	json_set_str(result, "content", text);
	free(text);
	acp_reply(s, msg->id, result);
}

/* Write all of buf to a new or truncated file; 0, or -1 with errno. */
static int
acp_fs_store(const char *real, const char *buf, size_t len)
{
	ssize_t n;
	int	fd, error;

	fd = open(
	    real, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0666);
	if (fd == -1)
		return (-1);
	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			error = errno;
			close(fd);
			errno = error;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (close(fd));
}

/* fs/write_text_file {path, content} -> {}. */
static void
acp_fs_write_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct host *s = arg;
	const char  *path = json_get_str(msg->params, "path");
	const char  *content = json_get_str(msg->params, "content");
	char	    *real, *emsg;
	int	     code;

	if (!acp_fs_allowed(s, msg))
		return;
	if (path == NULL || content == NULL) {
		acp_reply_error(s, msg->id, JSONRPC_INVALID_PARAMS,
		    "path and content are required");
		return;
	}
	if (strlen(content) > ACP_FS_MAX) {
		emsg = acp_fs_errmsg(EFBIG, path);
		acp_reply_error(s, msg->id, JSONRPC_INTERNAL_ERROR, emsg);
		free(emsg);
		return;
	}
	if (acp_fs_resolve(s, path, &real, &code, &emsg) != 0) {
		acp_reply_error(s, msg->id, code, emsg);
		free(emsg);
		return;
	}
	if (acp_fs_store(real, content, strlen(content)) != 0) {
		code = errno;
		emsg = acp_fs_errmsg(code, path);
		acp_reply_error(s, msg->id, acp_fs_code(code), emsg);
		free(emsg);
	} else
		acp_reply(s, msg->id, json_object());
	free(real);
}

/*
 * A restart resumes only an agent that said it loads sessions
 * (loadSession) and whose session has an id; any other would start over
 * without the conversation.
 */
static int
acp_resumable(struct host *s)
{
	struct acp *a = acp_get(s);

	return (a != NULL && a->can_load && host_native_id(s) != NULL &&
	    *host_native_id(s) != '\0');
}

/*
 * Interrupt the turn: session/cancel if the prompt went out; a prompt
 * still waiting for the handshake is dropped and its turn ends here.
 */
static int
acp_cancel(struct host *s)
{
	struct acp *a = acp_get(s);

	if (a == NULL)
		return (-1);
	if (a->in_prompt) {
		jsonrpc_peer_notify(a->peer, ACPMSG_SESSION_CANCEL,
		    acpmsg_session_id(host_native_id(s)));
		return (0);
	}
	rpc_queue_drop(s, &a->queue, "cancelled");
	return (0);
}

static void
acp_free(struct host *s)
{
	struct acp	   *a = acp_get(s);
	struct acp_call	   *c;
	struct acp_setting *st;

	if (a == NULL)
		return;
	rpc_queue_drop(NULL, &a->queue, NULL);
	while ((c = TAILQ_FIRST(&a->calls)) != NULL) {
		TAILQ_REMOVE(&a->calls, c, entry);
		acp_call_free(c);
	}
	while ((st = TAILQ_FIRST(&a->settings)) != NULL) {
		TAILQ_REMOVE(&a->settings, st, entry);
		free(st->key);
		free(st->value);
		free(st);
	}
	json_free(a->config);
	jsonrpc_peer_free(a->peer);
	free(a->run_id);
	free(a->run_base);
	free(a->last_base);
	acpmsg_memo_free(a->memo);
	free(a);
	host_set_adapter_data(s, NULL);
}
