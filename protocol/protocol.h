/*
 * protocol.h: wire formats, no I/O. One section per file.
 *
 * Nothing in protocol/ touches a descriptor, the clock's side effects or
 * the event loop; every function here is a pure transformation of bytes or
 * JSON values, so each one can be unit-tested and fuzzed on its own.
 * cJSON is used only inside json.c; every other file goes through the
 * small typed helpers below and sees cJSON as an opaque type.
 */
#ifndef PROTOCOL_H
#define PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "../compat/compat.h"

typedef struct cJSON cJSON;

/* json.c */
cJSON	   *json_parse(const char *, size_t, const char **);
char	   *json_print(const cJSON *, size_t *);
char	   *json_print_line(cJSON *, size_t *);
void	    json_free(cJSON *);
cJSON	   *json_dup(const cJSON *);
cJSON	   *json_object(void);
cJSON	   *json_array(void);
cJSON	   *json_string(const char *);
cJSON	   *json_stringn(const char *, size_t);
cJSON	   *json_number(double);
cJSON	   *json_bool(int);
cJSON	   *json_null(void);
void	    json_set(cJSON *, const char *, cJSON *);
void	    json_set_str(cJSON *, const char *, const char *);
void	    json_set_int(cJSON *, const char *, long long);
void	    json_set_num(cJSON *, const char *, double);
void	    json_set_bool(cJSON *, const char *, int);
void	    json_append(cJSON *, cJSON *);
cJSON	   *json_detach(cJSON *, const char *);
cJSON	   *json_get(const cJSON *, const char *);
const char *json_get_str(const cJSON *, const char *);
cJSON	   *json_get_obj(const cJSON *, const char *);
cJSON	   *json_get_arr(const cJSON *, const char *);
int	    json_get_int(const cJSON *, const char *, long long *);
int	    json_get_num(const cJSON *, const char *, double *);
int	    json_get_bool(const cJSON *, const char *, int *);
int	    json_is_str(const cJSON *);
int	    json_is_num(const cJSON *);
int	    json_is_bool(const cJSON *);
int	    json_is_true(const cJSON *);
int	    json_is_null(const cJSON *);
int	    json_is_obj(const cJSON *);
int	    json_is_arr(const cJSON *);
const char *json_str(const cJSON *);
double	    json_num(const cJSON *);
const char *json_key(const cJSON *);
int	    json_size(const cJSON *);
cJSON	   *json_at(const cJSON *, int);
cJSON	   *json_first(const cJSON *);
cJSON	   *json_next(const cJSON *);
int	    json_equal(const cJSON *, const cJSON *);
char	   *json_join(const cJSON *, const char *, const char *);
#define JSON_FOREACH(el, parent) \
	for ((el) = json_first(parent); (el) != NULL; (el) = json_next(el))
#define JSON_JOIN_MAX (64UL * 1024 * 1024)

/* tarwrite.c */
#define TARW_BLOCK	512
#define TARW_NAME_MAX	4095
#define TARW_HEADER_MAX (3 * TARW_BLOCK + TARW_NAME_MAX + 64)
#define TARW_FILE	'0'
#define TARW_DIR	'5'
size_t tarw_header(
    char *, size_t, const char *, char, uint64_t, unsigned int, int64_t);
size_t tarw_pad(uint64_t);
size_t tarw_end(char *);

/* pathmap.c */
struct pathmap;
typedef int (*pathmap_out_cb)(void *, const char *, size_t);
struct pathmap *pathmap_new(void);
void		pathmap_free(struct pathmap *);
void		pathmap_add(struct pathmap *, const char *, const char *);
int		pathmap_empty(const struct pathmap *);
char	       *pathmap_apply(const struct pathmap *, const char *);
struct pathmap_stream;
struct pathmap_stream	   *
pathmap_stream_new(const struct pathmap *, pathmap_out_cb, void *);
int  pathmap_stream_feed(struct pathmap_stream *, const char *, size_t);
int  pathmap_stream_finish(struct pathmap_stream *);
void pathmap_stream_free(struct pathmap_stream *);

/* memfind.c */
#define MEMFIND_HIGH  0x1 /* may hold a byte >= 0x80 */
#define MEMFIND_ESC_U 0x2 /* may hold a backslash and a 'u' */
const char *memfind(const char *, int, size_t);
const char *memfind_line(const char *, int, size_t, int *);
const char *memfind2(const char *, int, int, size_t);

/* utf8.c */
int   utf8_valid(const char *, size_t);
char *utf8_repair(const char *, size_t, size_t *);

/* jsonl.c */
#define JSONL_MAX_LINE_DEFAULT (64UL * 1024 * 1024)
/*
 * Lines split on \n, one trailing \r stripped, empty lines skipped; a line
 * is NUL-terminated in place and valid until the next jsonl_* call
 * (*line is NULL with JSONL_TOOLONG). jsonl_new(0) means the default cap.
 */
enum jsonl_result {
	JSONL_AGAIN,  /* no complete line buffered */
	JSONL_LINE,   /* *line, *len: one line without its newline */
	JSONL_TOOLONG /* a line over the cap was dropped; *len is its size */
};
struct jsonl;
struct jsonl	 *jsonl_new(size_t);
void		  jsonl_free(struct jsonl *);
void		  jsonl_feed(struct jsonl *, const char *, size_t);
char		 *jsonl_space(struct jsonl *, size_t, size_t *);
void		  jsonl_commit(struct jsonl *, size_t);
enum jsonl_result jsonl_next(struct jsonl *, const char **, size_t *);
enum jsonl_result jsonl_finish(struct jsonl *, const char **, size_t *);
size_t		  jsonl_buffered(const struct jsonl *);
int		  jsonl_may(const struct jsonl *);

/* jsonrpc.c */
enum jsonrpc_kind {
	JSONRPC_INVALID,
	JSONRPC_REQUEST,
	JSONRPC_NOTIFICATION,
	JSONRPC_RESPONSE, /* result */
	JSONRPC_ERROR	  /* error response */
};
struct jsonrpc_msg {
	enum jsonrpc_kind kind;
	int		  has_version; /* "jsonrpc":"2.0" present */
	const char	 *method;
	const cJSON	 *id;
	const cJSON	 *params;
	const cJSON	 *result;
	const cJSON	 *error;
	long long	  error_code;
	const char	 *error_message;
};
#define JSONRPC_PARSE_ERROR	 -32700
#define JSONRPC_INVALID_REQUEST	 -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS	 -32602
#define JSONRPC_INTERNAL_ERROR	 -32603
int    jsonrpc_parse(const cJSON *, struct jsonrpc_msg *, const char **);
cJSON *jsonrpc_request(int, long long, const char *, cJSON *);
cJSON *jsonrpc_notification(int, const char *, cJSON *);
cJSON *jsonrpc_result(int, const cJSON *, cJSON *);
cJSON *jsonrpc_error(int, const cJSON *, int, const char *, cJSON *);
struct jsonrpc_pending;
struct jsonrpc_pending *jsonrpc_pending_new(void);
void			jsonrpc_pending_free(struct jsonrpc_pending *);
long long jsonrpc_pending_add(struct jsonrpc_pending *, int, void *);
int
jsonrpc_pending_take(struct jsonrpc_pending *, const cJSON *, int *, void **);
size_t	     jsonrpc_pending_count(const struct jsonrpc_pending *);
char	    *jsonrpc_id_text(const cJSON *);
typedef void jsonrpc_msg_fn(void *, const struct jsonrpc_msg *);
struct jsonrpc_method {
	const char     *method;
	jsonrpc_msg_fn *fn;
};
/*
 * What a peer speaks (one const table per protocol) and where it sends.
 * Every callback gets the arg given to jsonrpc_peer_new.
 */
struct jsonrpc_peer_ops {
	const char		    *name; /* "acp", "codex": for reports */
	int			     with_version; /* send "jsonrpc":"2.0" */
	const struct jsonrpc_method *requests;	   /* else -32601 */
	size_t			     nrequests;
	const struct jsonrpc_method *notifications; /* else ignored */
	size_t			     nnotifications;
	jsonrpc_msg_fn *const	    *responses; /* by our request's tag */
	size_t			     nresponses;
	jsonrpc_msg_fn		    *stray; /* error for no request of ours */
	/* A message to write (owned). */
	void (*send)(void *, cJSON *);
	/* Not a message: name, the value (NULL: not JSON), why. */
	void (*invalid)(void *, const char *, const cJSON *, const char *);
};
/* A request of the other side's that waits for our answer. */
struct jsonrpc_ask {
	char  *native_id; /* the request id as text */
	cJSON *rpc_id;	  /* the id itself, for the reply */
	cJSON *data;	  /* what the answer needs */
	TAILQ_ENTRY(jsonrpc_ask) entry;
};
struct jsonrpc_peer;
struct jsonrpc_peer *jsonrpc_peer_new(const struct jsonrpc_peer_ops *, void *);
void		     jsonrpc_peer_free(struct jsonrpc_peer *);
void jsonrpc_peer_line(struct jsonrpc_peer *, const char *, size_t);
void jsonrpc_peer_dispatch(struct jsonrpc_peer *, const cJSON *);
long long
     jsonrpc_peer_request(struct jsonrpc_peer *, int, const char *, cJSON *);
void jsonrpc_peer_notify(struct jsonrpc_peer *, const char *, cJSON *);
void jsonrpc_peer_reply(struct jsonrpc_peer *, const cJSON *, cJSON *);
void
jsonrpc_peer_error(struct jsonrpc_peer *, const cJSON *, int, const char *);
struct jsonrpc_ask *
jsonrpc_peer_ask(struct jsonrpc_peer *, const cJSON *, cJSON *);
struct jsonrpc_ask *jsonrpc_peer_take(struct jsonrpc_peer *, const char *);
void jsonrpc_peer_answer(struct jsonrpc_peer *, struct jsonrpc_ask *, cJSON *);
void jsonrpc_ask_free(struct jsonrpc_ask *);

/* event.c */
enum event_type {
	EVENT_SESSION_STARTED,
	EVENT_SESSION_ENDED,
	EVENT_TURN_STARTED,
	EVENT_TURN_ENDED,
	EVENT_ITEM_STARTED,
	EVENT_ITEM_COMPLETED,
	EVENT_ITEM_DELTA,
	EVENT_PERMISSION_REQUESTED,
	EVENT_PERMISSION_RESOLVED,
	EVENT_QUESTION_REQUESTED,
	EVENT_QUESTION_RESOLVED,
	EVENT_ERROR,
	EVENT_AGENT_UNPARSED,
	EVENT_TYPE_COUNT
};
enum item_kind {
	ITEM_MESSAGE,
	ITEM_TOOL_CALL,
	ITEM_TOOL_RESULT,
	ITEM_REASONING,
	ITEM_SYSTEM,
	ITEM_STATUS,
	ITEM_KIND_COUNT
};
enum item_role {
	ROLE_USER,
	ROLE_ASSISTANT,
	ROLE_SYSTEM,
	ROLE_TOOL,
	ROLE_COUNT
};
enum item_status {
	ITEM_IN_PROGRESS,
	ITEM_COMPLETED,
	ITEM_FAILED,
	ITEM_STATUS_COUNT
};
/*
 * A client's answer to permission.requested. The word it sends (DESIGN.md
 * section 5) and the status permission.resolved records (section 3) are
 * one table in event.c; cancelled has no word: no client sends it.
 */
enum permission_reply {
	PERMISSION_ONCE,     /* "once": accept */
	PERMISSION_ALWAYS,   /* "always": accept_for_session */
	PERMISSION_REJECT,   /* "reject": reject */
	PERMISSION_CANCELLED /* the turn was cancelled while it waited */
};
/* An item.delta's data, which event_serialize prints without a tree. */
struct event_delta {
	const char *item_id;
	const char *native_id; /* or NULL */
	const char *text;
	size_t	    textlen; /* strlen(text), which the host has already */
};
/*
 * One event as the session builds it. data is owned by the caller; raw is
 * the native message's JSON text (already valid JSON), or NULL.
 */
struct event {
	uint64_t		  sequence;
	int64_t			  time_ms; /* Unix time in milliseconds */
	const char		 *session_id;
	const char		 *native_session_id; /* or NULL */
	int			  daemon; /* source: 1 "daemon", 0 "agent" */
	int			  synthetic;
	enum event_type		  type;
	const cJSON		 *data;
	const struct event_delta *delta; /* printed as data, if data is NULL */
	const char		 *raw;
	size_t			  rawlen;
};
const char *event_type_name(enum event_type);
int	    event_type_from_name(const char *);
const char *event_item_kind_name(enum item_kind);
const char *event_item_role_name(enum item_role);
const char *event_item_status_name(enum item_status);
int	    event_permission_reply(const char *, enum permission_reply *);
const char *event_permission_word(enum permission_reply);
const char *event_permission_status(enum permission_reply);
char	   *event_serialize(const struct event *, size_t *, size_t *);
void	    event_format_time(int64_t, char *, size_t);
int	    event_validate(const cJSON *, char **);
int	    event_scan(const char *, size_t, enum event_type *, size_t *);
cJSON	   *event_usage(long long, long long, long long, long long);
cJSON	   *event_usage_from(const cJSON *, const char *const[4]);
cJSON	   *event_item(const char *, const char *, const char *, enum item_kind,
	 enum item_role, enum item_status, cJSON *);
cJSON	   *event_part_text(const char *);
cJSON	   *event_part_reasoning(const char *, const char *);
cJSON	   *event_part_tool_call(const char *, const char *, const char *);
cJSON	   *event_part_tool_result(const char *, const char *, int);
cJSON	   *event_part_file_ref(const char *, const char *, const char *);
cJSON	   *event_part_image(const char *, const char *, const char *);
cJSON	   *event_part_json(cJSON *);
cJSON	   *event_part_status(const char *, const char *);

/* acpmsg.c */
#define ACPMSG_PROTOCOL_VERSION	  1
#define ACPMSG_INITIALIZE	  "initialize"
#define ACPMSG_AUTHENTICATE	  "authenticate"
#define ACPMSG_SESSION_NEW	  "session/new"
#define ACPMSG_SESSION_LOAD	  "session/load"
#define ACPMSG_SESSION_LIST	  "session/list"
#define ACPMSG_SESSION_PROMPT	  "session/prompt"
#define ACPMSG_SESSION_CANCEL	  "session/cancel"
#define ACPMSG_SESSION_SET_MODE	  "session/set_mode"
#define ACPMSG_SESSION_SET_MODEL  "session/set_model"
#define ACPMSG_SESSION_SET_CONFIG "session/set_config_option"
#define ACPMSG_SESSION_UPDATE	  "session/update"
#define ACPMSG_REQUEST_PERMISSION "session/request_permission"
#define ACPMSG_ELICITATION	  "elicitation/create"
#define ACPMSG_FS_READ		  "fs/read_text_file"
#define ACPMSG_FS_WRITE		  "fs/write_text_file"
#define ACPMSG_NOT_FOUND	  -32002 /* error code: no such resource */
#define ACPMSG_CANCELLED	  -32800 /* error code: request cancelled */
enum acpmsg_update {
	ACPMSG_USER_CHUNK,
	ACPMSG_AGENT_CHUNK,
	ACPMSG_THOUGHT_CHUNK,
	ACPMSG_TOOL_CALL,
	ACPMSG_TOOL_CALL_UPDATE,
	ACPMSG_PLAN,
	ACPMSG_COMMANDS, /* available_commands_update */
	ACPMSG_MODE,	 /* current_mode_update */
	ACPMSG_CONFIG,	 /* config_option_update */
	ACPMSG_INFO,	 /* session_info_update */
	ACPMSG_USAGE,	 /* usage_update */
	ACPMSG_NOTICE,
	ACPMSG_UPDATE_COUNT
};
enum acpmsg_status {
	ACPMSG_PENDING,
	ACPMSG_IN_PROGRESS,
	ACPMSG_COMPLETED,
	ACPMSG_FAILED,
	ACPMSG_STATUS_COUNT
};
enum acpmsg_option {
	ACPMSG_ALLOW_ONCE,
	ACPMSG_ALLOW_ALWAYS,
	ACPMSG_REJECT_ONCE,
	ACPMSG_REJECT_ALWAYS,
	ACPMSG_OPTION_COUNT
};
/* A permission option an agent offers. */
struct acpmsg_choice {
	const char	  *id;
	const char	  *name;
	enum acpmsg_option kind;
};
/* Who an agent is, for initialize's result. */
struct acpmsg_agent {
	const char *name;
	const char *title; /* or NULL */
	const char *version;
	int	    load_session;
	int	    embedded_context;
	int	    list_sessions;
	int	    image; /* takes image content blocks */
};
extern const char *const acpmsg_usage_names[4];
const char		*acpmsg_update_name(enum acpmsg_update);
int			 acpmsg_update_parse(const char *);
const char		*acpmsg_status_name(enum acpmsg_status);
int			 acpmsg_status_parse(const char *);
const char		*acpmsg_option_name(enum acpmsg_option);
cJSON			*acpmsg_update(const char *, cJSON *);
cJSON			*acpmsg_block_text(const char *);
cJSON *acpmsg_block_link(const char *, const char *, const char *);
cJSON *acpmsg_block_image(const char *, const char *, const char *);
char  *acpmsg_prompt_text(const cJSON *);
cJSON *acpmsg_prompt_split(const cJSON *, char **);
cJSON *acpmsg_chunk(enum acpmsg_update, const char *, const char *);
/* A text chunk as acpmsg_chunk_scan reads it; strings in its buffer. */
struct acpmsg_chunk {
	enum acpmsg_update kind;       /* user, agent or thought chunk */
	const char	  *message_id; /* or NULL */
	const char	  *text;
};
struct acpmsg_memo;
void acpmsg_memo_free(struct acpmsg_memo *);
int  acpmsg_chunk_scan(
     struct acpmsg_memo **, const char *, size_t, char *, struct acpmsg_chunk *);
cJSON *acpmsg_tool_call(
    int, const char *, const char *, const char *, enum acpmsg_status);
const char *acpmsg_tool_kind(const char *);
cJSON	   *acpmsg_content_text(const char *);
cJSON	   *acpmsg_content_diff(const char *, const char *, const char *);
char	   *acpmsg_tool_text(const cJSON *);
cJSON	   *acpmsg_initialize(int, const char *, const char *);
cJSON	   *acpmsg_initialized(const struct acpmsg_agent *);
cJSON	   *acpmsg_session(const char *, const cJSON *, const char *);
cJSON	   *acpmsg_session_id(const char *);
cJSON	   *acpmsg_set_mode(const char *, const char *);
const char *acpmsg_config_key(const char *);
const char *acpmsg_config_category(const char *);
cJSON	   *acpmsg_set_model(const char *, const char *);
cJSON	   *acpmsg_set_config(const char *, const char *, const char *);
cJSON	   *acpmsg_choices(const cJSON *, const char *);
cJSON	   *acpmsg_config_option(
	 const char *, const char *, const char *, const char *, const cJSON *);
cJSON	   *acpmsg_prompt(const char *, cJSON *);
cJSON	   *acpmsg_prompt_result(const char *, cJSON *);
cJSON	   *acpmsg_usage(long long, long long, long long, long long);
cJSON	   *acpmsg_usage_update(long long, long long, double);
const char *acpmsg_stop_to(const char *);
const char *acpmsg_stop_from(const char *);
cJSON *
acpmsg_permission(const char *, cJSON *, const struct acpmsg_choice *, size_t);
int acpmsg_choice_reply(const struct acpmsg_choice *, size_t, const cJSON *,
    enum permission_reply *);
const char *acpmsg_option_for(const cJSON *, enum permission_reply);
cJSON	   *acpmsg_outcome(const char *);
const char *acpmsg_selected(const cJSON *);
cJSON	   *acpmsg_field(const char *, cJSON *, int);
cJSON	   *acpmsg_elicitation(const char *, const char *, cJSON *);
cJSON	   *acpmsg_elicited(cJSON *);
int	    acpmsg_accepted(const cJSON *, const cJSON **);

/* acpmap.c */
struct acpmap;
struct acpmap *acpmap_new(const char *);
void	       acpmap_free(struct acpmap *);
cJSON	      *acpmap_event(struct acpmap *, const cJSON *, int);
cJSON	      *acpmap_usage(const cJSON *);

/* diff.c */
#define DIFF_MAX (16UL * 1024 * 1024) /* a longer diff is not given */
void  diff_begin(struct buf *, const char *, const char *);
void  diff_hunk(struct buf *, long long, long long, long long, long long);
char *diff_end(struct buf *);
char *diff_texts(const char *, const char *, const char *, const char *);

/* inflate.c */
unsigned char *inflate_gzip(const unsigned char *, size_t, size_t, size_t *);

/* json-scan.c */
typedef int (*json_scan_cb)(
    void *, const char *, size_t, size_t, size_t, size_t);
int json_scan_members(const char *, size_t, json_scan_cb, void *);
int json_scan_member(const char *, size_t, const char *, size_t *, size_t *);
int json_scan_key(const char *, size_t, const char *, size_t *);
int json_scan_nul(const char *, size_t);
#define JSON_SCAN_ESC_NUL	1 /* \u0000 */
#define JSON_SCAN_ESC_SURROGATE 2 /* half of a UTF-16 pair, alone */
int   json_scan_bad_escape(const char *, size_t, size_t *);
char *json_scan_repair(const char *, size_t);
/*
 * A member json_scan_flat read: a string (str decoded), an object (str
 * NULL), or with JSON_SCAN_SCALARS an integer (num) or null, true or false;
 * for those two str is the value as written, not NUL-terminated.
 */
enum json_scan_kind {
	JSON_SCAN_STR,
	JSON_SCAN_OBJ,
	JSON_SCAN_INT,
	JSON_SCAN_LITERAL
};
struct json_scan_node {
	int		    parent; /* the node holding it, -1 the top */
	enum json_scan_kind kind;
	const char	   *key;
	size_t		    klen;
	const char	   *str;
	size_t		    len; /* of str */
	long long	    num; /* JSON_SCAN_INT */
	size_t		    at;	 /* the value in the text: its first byte */
	size_t		    end; /* … and the byte after it */
};
#define JSON_SCAN_SCALARS 0x1 /* json_scan_flat: integers and literals too */
int    json_scan_decode(const char *, size_t, size_t *, char *, size_t *);
size_t json_scan_plain(const char *, size_t);
int    json_scan_flat(const char *, size_t, char *, struct json_scan_node *,
       size_t, int, size_t *);

/* sha256.c */
#define SHA256_LEN   32
#define SHA256_BLOCK 64
struct sha256 { /* a plain record: callers keep it on the stack */
	uint32_t      h[8];
	uint64_t      len; /* bytes fed */
	unsigned char buf[SHA256_BLOCK];
	size_t	      nbuf;
};
void sha256_init(struct sha256 *);
void sha256_update(struct sha256 *, const void *, size_t);
void sha256_final(struct sha256 *, unsigned char[SHA256_LEN]);
void sha256(const void *, size_t, unsigned char[SHA256_LEN]);
void sha256_hmac(
    const void *, size_t, const void *, size_t, unsigned char[SHA256_LEN]);
void sha256_hex(const unsigned char *, size_t, char *);

/* tar.c */
enum tar_type {
	TAR_FILE,
	TAR_DIR,
	TAR_SYMLINK,
	TAR_HARDLINK,
	TAR_OTHER /* devices, fifos, sparse files: not written */
};
/* One member as its header (and extended headers) describe it. */
struct tar_entry {
	enum tar_type type;
	const char   *name; /* as archived: may be "../x" or "/x" */
	const char   *link; /* a link's target, else "" */
	uint64_t      size; /* data bytes that follow */
	unsigned int  mode; /* permission bits */
	int64_t	      mtime;
};
/* Each returns 0 to go on; anything else stops tar_feed (it returns 1). */
struct tar_cbs {
	int (*entry)(void *, const struct tar_entry *);
	int (*data)(void *, const char *, size_t);
	int (*end)(void *); /* the entry's data is complete */
};
struct tar;
struct tar *tar_new(const struct tar_cbs *, void *);
void	    tar_free(struct tar *);
int	    tar_feed(struct tar *, const char *, size_t);
int	    tar_finish(struct tar *);
const char *tar_error(const struct tar *);

/* base64.c */
char  *base64_encode(const void *, size_t, size_t *);
size_t base64_encode_to(const void *, size_t, char *);
size_t base64_encoded_len(size_t);
int    base64_decode(const char *, size_t, unsigned char *, size_t *);

#endif /* PROTOCOL_H */
