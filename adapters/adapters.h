/*
 * adapters.h: one file per agent protocol, each exporting one const ops
 * table, gathered in adapter.c's registry. One section per file.
 *
 * An adapter knows one protocol and nothing else: no sockets, no HTTP, no
 * disk, no event loop. It is handed a session and talks back through the
 * "host" functions below, which supervisor/session.c implements: they
 * allocate ids and sequences, enforce the invariants of DESIGN.md section
 * 3, store and fan out. Everything an adapter emits while it handles one
 * native line gets that line as its "raw" field, so adapters never copy
 * native messages.
 */
#ifndef ADAPTERS_H
#define ADAPTERS_H

#include "../protocol/protocol.h"

struct session;

enum permission_reply {
	PERMISSION_ONCE,     /* accept */
	PERMISSION_ALWAYS,   /* accept_for_session */
	PERMISSION_REJECT,   /* reject */
	PERMISSION_CANCELLED /* the turn was cancelled while it waited */
};

struct user_message {
	const char  *text;
	const cJSON *attachments; /* array of {path, mime, filename} or NULL */
};

/* A growing NULL-terminated argv and environment for the agent's exec. */
struct argv_builder {
	char **argv;
	size_t argc;
	char **env; /* extra NAME=value entries, merged by proc.c */
	size_t envc;
};
void argv_add(struct argv_builder *, const char *);
void argv_env(struct argv_builder *, const char *, const char *);
void argv_free(struct argv_builder *);

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
	int (*spawn_argv)(struct session *, struct argv_builder *, char **);
	/* The child is running: send the handshake. */
	void (*on_start)(struct session *);
	/* One line of the agent's stdout (no newline, valid UTF-8). */
	void (*on_line)(struct session *, const char *, size_t);
	/* Send one user message; a turn has already been started. */
	int (*send_message)(struct session *, const struct user_message *);
	/* Answer a permission by the native id the adapter registered. */
	int (*reply_permission)(
	    struct session *, const char *, enum permission_reply);
	/* Answer a question; answers NULL means rejected or cancelled. */
	int (*reply_question)(struct session *, const char *, const cJSON *);
	/* Interrupt the running turn; the session stays. */
	int (*cancel)(struct session *);
	/* Free the adapter's per-session state. */
	void (*free)(struct session *);
};

/*
 * An agent is a profile over an adapter: the same ACP adapter serves
 * opencode, gemini, goose and any command given at create time.
 */
#define AGENT_OFFER_FS 0x1 /* serve fs/read_text_file, fs/write_text_file */
#define AGENT_CUSTOM_COMMAND \
	0x2		  /* argv comes from the request's agentCommand */
#define AGENT_BUILTIN 0x4 /* agentd itself (mock-agent) */
struct agent_profile {
	const char	     *id; /* "claude", "opencode", "mock", … */
	const struct adapter *adapter;
	const char *const    *argv; /* default command, NULL-terminated */
	const char	     *npm_package; /* pinned "name@version" or NULL */
	const char *const *credential_env; /* env names that hold credentials */
	int		   flags;
};

/* adapter.c */
extern const struct agent_profile agent_profiles[];
const struct agent_profile	 *adapter_find_agent(const char *);
int adapter_command(struct session *, struct argv_builder *, char **);

/* acp.c */
extern const struct adapter adapter_acp;

/* pi.c */
extern const struct adapter adapter_pi;

/* amp.c */
extern const struct adapter adapter_amp;

/* claude.c */
extern const struct adapter adapter_claude;

/* codex.c */
extern const struct adapter adapter_codex;

/*
 * The host: implemented by supervisor/session.c, called by adapters.
 */
struct item_spec {
	const char    *native_id; /* adapter's key for the item; required */
	const char    *parent_native_id; /* or NULL */
	enum item_kind kind;
	enum item_role role;
	cJSON	      *content; /* array of parts, owned; or NULL */
};

const char *session_id(struct session *);
const char *session_cwd(struct session *);
const char *session_model(struct session *);
const char *session_permission_mode(struct session *);
const char *session_native_id(struct session *);
void	    session_set_native_id(struct session *, const char *);
void	    session_set_agent_version(struct session *, const char *);
const struct agent_profile *session_profile(struct session *);
const cJSON		   *session_agent_command(struct session *);
const cJSON		   *session_mcp(struct session *);
void			   *session_adapter_data(struct session *);
void			    session_set_adapter_data(struct session *, void *);

void	    session_send_json(struct session *, cJSON *);
void	    session_turn_start(struct session *);
void	    session_turn_end(struct session *, const char *, cJSON *, double);
const char *session_item_start(struct session *, const struct item_spec *);
int	    session_item_open(struct session *, const char *);
void	    session_item_delta(struct session *, const char *, const char *);
void	    session_item_complete(struct session *, const char *, int, cJSON *);
void	    session_permission_request(
	   struct session *, const char *, const char *, cJSON *);
void session_question_request(struct session *, const char *, cJSON *);
void session_error(struct session *, const char *, const char *, cJSON *);
void session_unparsed(struct session *, const char *, const char *);
void session_status(struct session *, const char *, const char *);
void session_set_raw(struct session *, const char *, size_t);

#endif /* ADAPTERS_H */
