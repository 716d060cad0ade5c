/*
 * adapters.h: one file per agent protocol, each exporting one const ops
 * table, gathered in adapter.c's registry. One section per file.
 *
 * An adapter knows one protocol and nothing else: no sockets, no HTTP, no
 * disk, no event loop. It is handed a host (supervisor/host/host.h, the
 * normaliser) and talks back through its functions, which allocate ids
 * and sequences, enforce the invariants of DESIGN.md section 3 and append
 * to the session's journal. Everything an adapter emits while it handles one
 * native line gets that line as its "raw" field, so adapters never copy
 * native messages.
 */
#ifndef ADAPTERS_H
#define ADAPTERS_H

#include "../supervisor/host/host.h"

struct user_message {
	const char *text;
	/* NULL, or made whole by supervisor/session/attach.c: an array of
	 * {kind:"image"|"file", path?, data? (base64, every image has it),
	 * mime, name} */
	const cJSON *attachments;
};

/* A growing NULL-terminated argv and environment for the agent's exec. */
struct argv_builder {
	char **argv;
	size_t argc;
	char **env; /* extra NAME=value entries, merged by proc.c */
	size_t envc;
};

/* What a protocol can carry, for GET /v1/agents. */
#define CAP_PERMISSIONS	 0x001
#define CAP_QUESTIONS	 0x002
#define CAP_REASONING	 0x004
#define CAP_TOOL_CALLS	 0x008
#define CAP_FILE_CHANGES 0x010
#define CAP_STREAMING	 0x020
#define CAP_RESUME	 0x040
#define CAP_CANCEL	 0x080
#define CAP_USAGE	 0x100
#define CAP_IMAGES	 0x200

struct adapter {
	const char *name; /* protocol name: "acp", "claude", … */
	int	    caps; /* CAP_* */

	/* Build the command line; return -1 with *cause set on error. */
	int (*spawn_argv)(struct host *, struct argv_builder *, char **);
	/* The child is running: send the handshake. */
	void (*on_start)(struct host *);
	/* One line of the agent's stdout (no newline, valid UTF-8). */
	void (*on_line)(struct host *, const char *, size_t);
	/* Send one user message; a turn has already been started. */
	int (*send_message)(struct host *, const struct user_message *);
	/* Answer a permission by the native id the adapter registered. */
	int (*reply_permission)(
	    struct host *, const char *, enum permission_reply);
	/* Answer a question; answers NULL means rejected or cancelled. */
	int (*reply_question)(struct host *, const char *, const cJSON *);
	/* Interrupt the running turn; the session stays. */
	int (*cancel)(struct host *);
	/*
	 * Change model, mode or effort (POST /v1/sessions/{id}/config), at
	 * once or from the next turn as the agent allows; with no agent
	 * running (adapter data NULL) or its handshake under way, it only
	 * checks: the handshake applies the host's settings. 0 if taken,
	 * else 409 (the agent cannot change that) or 422 (a value it does
	 * not offer) with *cause; nothing is sent then. NULL: the agent
	 * changes nothing live (409).
	 */
	int (*configure)(struct host *, const struct session_config *, char **);
	/*
	 * 1 if the running agent, stopped and started again now, would
	 * resume its session natively (new MCP servers reach it so). NULL:
	 * whenever CAP_RESUME and the session has a native id.
	 */
	int (*resumable)(struct host *);
	/* Free the adapter's per-session state. */
	void (*free)(struct host *);
};

/*
 * An agent is a profile over an adapter: the same ACP adapter serves
 * opencode, gemini, goose and any command given at create time.
 */
#define AGENT_OFFER_FS 0x1 /* serve fs/read_text_file, fs/write_text_file */
#define AGENT_CUSTOM_COMMAND \
	0x2		  /* argv comes from the request's agentCommand */
#define AGENT_BUILTIN 0x4 /* agentd itself (mock-agent) */
struct agent_options;
struct agent_profile {
	const char	     *id; /* "claude", "opencode", "mock", … */
	const struct adapter *adapter;
	const char *const    *argv; /* default command, NULL-terminated */
	const char	     *npm_package; /* pinned "name@version" or NULL */
	const char *const *credential_env; /* env names that hold credentials */
	int		   flags;
	const struct agent_options *options; /* known without running it */
};

/*
 * What an agent offers and what it can change live, as far as it is
 * known without running it (GET /v1/agents/{agent}); a running session
 * learns the rest from the agent (SessionInfo's options). Lists are
 * NULL-terminated ids, or NULL when unknown here.
 */
#define AGENT_SET_MODEL	 0x1
#define AGENT_SET_MODE	 0x2
#define AGENT_SET_EFFORT 0x4
#define AGENT_SET_ASK	 0x8 /* ACP: whatever the agent's session offers */
struct agent_options {
	const char *const *models;
	const char *const *modes;
	const char *const *efforts;
	int		   settable; /* AGENT_SET_* */
};

/* adapter.c */
extern const struct agent_profile agent_profiles[];
const struct agent_profile	 *adapter_find_agent(const char *);
cJSON				 *adapter_options(const struct agent_profile *);

/* argv.c */
void argv_add(struct argv_builder *, const char *);
void argv_env(struct argv_builder *, const char *, const char *);
void argv_free(struct argv_builder *);
int  argv_command(struct host *, struct argv_builder *, char **);

/* rpc.c */
void rpc_send_cb(void *, cJSON *);
void rpc_invalid_cb(void *, const char *, const cJSON *, const char *);
void rpc_stray_cb(void *, const struct jsonrpc_msg *);
void rpc_error(struct host *, const struct jsonrpc_msg *, const char *);
struct rpc_waiting;
TAILQ_HEAD(rpc_queue, rpc_waiting);
void   rpc_queue_add(struct rpc_queue *, cJSON *);
cJSON *rpc_queue_take(struct rpc_queue *);
void   rpc_queue_drop(struct host *, struct rpc_queue *, const char *);

/* acp.c */
extern const struct adapter adapter_acp;
extern int		    acp_fast_path; /* tests: 0 compares the slow path */

/* pi.c */
extern const struct adapter adapter_pi;

/* amp.c */
extern const struct adapter adapter_amp;

/* claude.c */
struct claude;
extern const struct adapter adapter_claude;
extern int     claude_fast_path; /* tests: 0 compares the slow path */
struct claude *claude_begin(struct host *);
/* A content_block_delta line's members, as claude_delta_scan reads them. */
struct claude_delta_line {
	const char *parent; /* parent_tool_use_id if a string */
	long long   index;
	const char *type; /* of the delta */
	const char *text; /* its text, thinking or partial_json, if a string */
};
int claude_delta_scan(const char *, size_t, char *, struct claude_delta_line *);

/* codex.c */
extern const struct adapter adapter_codex;

#endif /* ADAPTERS_H */
