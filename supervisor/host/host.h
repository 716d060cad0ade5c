/*
 * host.h: the normaliser behind adapters/adapters.h. One section per file.
 *
 * A host is one agent conversation as the universal schema of DESIGN.md
 * section 3 sees it: sequences, items, turns, pending permissions and
 * questions. Adapters call the functions below as the agent speaks; the
 * host numbers and serialises events and appends them to a journal. It
 * knows no process, socket or HTTP: what it must tell the session (a line
 * for the agent's stdin, a turn that started or ended, metadata to save)
 * goes through the callbacks the session registered.
 */
#ifndef HOST_H
#define HOST_H

#include "../../protocol/protocol.h"

struct host;
struct journal;
struct agent_profile;

enum host_turn {
	HOST_TURN_STARTED,
	HOST_TURN_CLOSED, /* closed by the daemon (exit, restart, stop) */
	HOST_TURN_ENDED	  /* ended by the agent: the next message may go */
};

struct host_cbs {
	/* One line for the agent's stdin, newline included. */
	void (*send)(void *, const char *, size_t);
	/* A turn started or ended (turn.* is already in the journal). */
	void (*turn)(void *, enum host_turn);
	/* The native session id or agent version changed: save them. */
	void (*changed)(void *);
};

/*
 * A change of a session's settings (POST /v1/sessions/{id}/config); NULL
 * members stay as they are. The mode is the agent's own (ACP modes,
 * Claude's permission modes, Codex's approval presets): agentd's
 * permissionMode is that mode.
 */
struct session_config {
	const char *model;
	const char *mode;
	const char *effort; /* reasoning effort, thought or thinking level */
	/* The session's own MCP servers and skills ({name: entry}), set
	 * whole; only their names reach the log (env may hold secrets). */
	const cJSON *mcp;
	const cJSON *skills;
};

/* What the adapter may read of its session; strings are copied. */
struct host_settings {
	const char		   *id;
	const struct agent_profile *profile;
	const char		   *cwd;
	const char		   *model;
	const char		   *permission_mode;
	const char		   *effort; /* or NULL */
	const cJSON *options;	    /* what the agent offered, or NULL */
	const cJSON *agent_command; /* or NULL */
	const cJSON *mcp;	    /* or NULL */
	const char  *native_id;	    /* or NULL */
	const char  *agent_version; /* or NULL */
};

/*
 * What the session prepared for this start of the agent: the MCP servers
 * (the create request's and its directory's, as ACP McpServer[]) and the
 * files agentd wrote for agents that read them from disk.
 */
struct host_launch {
	const cJSON *mcp;	 /* or NULL */
	const char  *mcp_file;	 /* Claude Code's --mcp-config, or NULL */
	const char  *skills_dir; /* for --add-dir: .claude/skills, or NULL */
};

/* What an adapter starts an item with. */
struct item_spec {
	const char    *native_id; /* adapter's key for the item; required */
	const char    *parent_native_id; /* or NULL */
	enum item_kind kind;
	enum item_role role;
	cJSON	      *content; /* array of parts, owned; or NULL */
};

/* What the turns a host ended reported (turn.ended's usage, cost_usd). */
struct host_usage {
	uint64_t turns;
	uint64_t input_tokens;
	uint64_t output_tokens;
	uint64_t cache_read_tokens;
	uint64_t cache_write_tokens;
	double	 cost_usd;
};

/* host.c: for the session */
struct host *host_new(const struct host_settings *, struct journal *,
    const struct host_cbs *, void *);
void	     host_free(struct host *);
uint64_t     host_seq(struct host *);
int64_t	     host_updated_ms(struct host *);
int	     host_in_turn(struct host *);
void	     host_emit(struct host *, enum event_type, cJSON *, int);
void	     host_line_begin(struct host *, const char *, size_t);
void	     host_line_end(struct host *);
int	     host_garbage(struct host *, const char *, size_t);
void	     host_unparsed_flush(struct host *);
void	     host_unparsed_drop(struct host *);
void	     host_turn_close(struct host *, const char *, cJSON *, double);
void	     host_interrupted(struct host *);
const char  *host_pending_native(struct host *, const char *, int);
void	     host_pending_resolve(
	    struct host *, const char *, int, const char *, const cJSON *);
typedef void (*host_tell_cb)(void *, const char *, int);
void	     host_pending_cancel(struct host *, host_tell_cb, void *);
void	     host_pending_ids(struct host *, cJSON *, cJSON *);
void	     host_user_message(struct host *, cJSON *);
void	     host_configure(struct host *, const struct session_config *);
const cJSON *host_options(struct host *);
void	     host_set_launch(struct host *, const struct host_launch *);
const struct host_usage *host_usage(struct host *);
void host_set_usage(struct host *, const struct host_usage *);

/* host.c: for adapters (adapters.h) */
const char *host_id(struct host *);
const char *host_cwd(struct host *);
const char *host_model(struct host *);
const char *host_permission_mode(struct host *);
const char *host_effort(struct host *);
int    host_option_check(struct host *, const char *, const char *, char **);
void   host_set_option(struct host *, const char *, const char *, cJSON *);
cJSON *host_choices(const char *const *);
void   host_choice(cJSON *, const char *, const char *, const char *);
const char		   *host_native_id(struct host *);
const char		   *host_agent_version(struct host *);
const struct agent_profile *host_profile(struct host *);
const cJSON		   *host_agent_command(struct host *);
const cJSON		   *host_mcp(struct host *);
const cJSON		   *host_launch_mcp(struct host *);
const char		   *host_mcp_file(struct host *);
const char		   *host_skills_dir(struct host *);
void			   *host_adapter_data(struct host *);
void			    host_set_adapter_data(struct host *, void *);
void			    host_set_native_id(struct host *, const char *);
void			    host_set_agent_version(struct host *, const char *);

void	    host_send_json(struct host *, cJSON *);
void	    host_turn_start(struct host *);
void	    host_turn_end(struct host *, const char *, cJSON *, double);
const char *host_item_start(struct host *, const struct item_spec *);
int	    host_item_open(struct host *, const char *);
void	    host_item_delta(struct host *, const char *, const char *);
void	    host_item_complete(struct host *, const char *, int, cJSON *);
void
host_permission_request(struct host *, const char *, const char *, cJSON *);
void host_question_request(struct host *, const char *, cJSON *);
void host_error(struct host *, const char *, const char *, cJSON *);
void host_unparsed(struct host *, const char *, const char *);
void host_status(struct host *, const char *, const char *);
void host_set_raw(struct host *, const char *, size_t);

#endif /* HOST_H */
