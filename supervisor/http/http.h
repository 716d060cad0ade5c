/*
 * http.h: the HTTP, SSE and WebSocket front. One section per file.
 * server.c alone includes libwebsockets' server side; api.c holds the
 * routes and the session commands they share with WebSocket frames;
 * reply.c the pieces of an answer; acpserver.c is the ACP-over-HTTP
 * facade. server.c calls api.c and reply.c; api.c calls acpserver.c;
 * acpserver.c calls reply.c, never api.c.
 */
#ifndef HTTP_H
#define HTTP_H

#include "../session/session.h"

struct stream_ops;
struct api_response;
enum api_body;

/* auth.c */
int auth_check_bearer(const char *);
int auth_check_token(const char *);

/* guard.c */
const char *guard_host(const char *);
const char *guard_origin(const char *, const char *);
const char *guard_fetch(const char *, const char *, const char *);
int	    guard_cors_listed(const char *);
const char *guard_body_type(const char *, enum api_body);

/* server.c */
int  server_start(char **);
void server_stop(void);
void server_log_lws(enum log_level, const char *);

/*
 * reply.c: what a request is and how it is answered, for every route
 * (api.c's and the ACP facade's) and the server that carries them.
 */
enum http_method {
	HTTP_GET,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_OTHER
};
struct api_request {
	enum http_method   method;
	const char	  *path; /* decoded, without the query */
	const char *const *args; /* decoded "name=value" pairs */
	int		   nargs;
	const char	  *body;
	size_t		   body_len;
	const char	  *last_event_id;   /* header, or NULL */
	int		   websocket;	    /* an upgrade request */
	const char	  *content_type;    /* header, or NULL */
	const char	  *accept;	    /* header, or NULL */
	const char	  *accept_encoding; /* header, or NULL */
	const char	  *range;	    /* header, or NULL */
};
enum api_kind {
	API_REPLY,  /* status, content_type, body */
	API_STREAM, /* subscribe: SSE or WebSocket */
	API_WAIT,   /* the reply comes later, through wait */
	API_FILE,   /* status, bytes of file_fd (closed by the server) */
	API_SINK    /* the body goes to sink as it arrives, then the reply */
};
/*
 * What a route's request body is. JSON bodies are read whole (capped by
 * --max-body) before the route runs; a raw body is handed to the sink the
 * route returns, chunk by chunk, so its size is bounded by the disk only.
 * guard.c accepts each kind's media types and never the three a
 * cross-site form may send.
 */
enum api_body {
	API_BODY_JSON, /* application/json */
	API_BODY_RAW,  /* application/octet-stream */
	API_BODY_TAR   /* application/x-tar (or octet-stream) */
};
/* Where an API_SINK's body goes. */
struct api_sink_ops {
	/* The next chunk: 0, or -1 with the problem in the response. */
	int (*write)(void *, const char *, size_t, struct api_response *);
	/* The body is complete: the reply. Frees the sink. */
	void (*finish)(void *, struct api_response *);
	/* The client went away or the body was refused. Frees the sink. */
	void (*abort)(void *);
};
struct reply_wait;
struct api_response;
/*
 * What an SSE or WebSocket stream follows, when not a session's log: a
 * source with a journal, which the server reads from each connection's
 * cursor and subscribes to (core.h), so it is woken once per loop pass.
 */
struct stream_ops {
	void (*ref)(void *);
	void (*unref)(void *);
	int (*dead)(void *); /* nothing more will come */
	const char *event;   /* SSE "event:" name, or NULL */
	struct journal *(*journal)(void *);
	/*
	 * Optional, for a source whose lines are not sent as they are (a
	 * process's log, a terminal): NULL keeps the default.
	 */
	int (*keep)(void *, const char *, size_t); /* 0: skip the line */
	/* A line's bytes for a binary WebSocket frame (at most its length). */
	int (*frame)(void *, const char *, size_t, char *, size_t *);
	char *(*hello)(void *); /* a WebSocket's first text frame */
	char *(*bye)(void *);	/* its last, once dead and all sent */
	/* A client's text frame (NULL: a binary one): a frame to answer or
	 * NULL; sets *close to end the connection. */
	char *(*command)(void *, const char *, size_t, int *);
};
typedef void (*reply_wait_cb)(void *, struct api_response *);
struct api_response {
	enum api_kind		 kind;
	int			 status;
	const char		*content_type;
	const char		*content_encoding; /* "gzip" or NULL */
	const char		*cache_control;	   /* or NULL */
	const char		*vary;		   /* or NULL */
	const void		*static_body; /* instead of body: not freed */
	char			*body;	      /* malloc'd */
	size_t			 len;
	char			 allow[64]; /* for 405: "GET, POST" */
	struct session		*session;   /* API_STREAM: referenced */
	uint64_t		 offset;    /* last sequence seen */
	int			 include_raw;
	int			 until_turn_end;
	struct reply_wait	*wait;	     /* API_WAIT */
	const struct stream_ops *stream_ops; /* API_STREAM of another */
	void			*stream;     /* source: referenced */
	/* API_FILE: bytes [file_off, file_off + file_len) of file_fd. */
	int			   file_fd;
	uint64_t		   file_off;
	uint64_t		   file_len;
	char			   content_range[64]; /* header, or "" */
	const struct api_sink_ops *sink_ops;	      /* API_SINK */
	void			  *sink;
};
void reply_problem(struct api_response *, int, const char *, const char *, ...)
    __printflike(4, 5);
void	    reply_fail(struct api_response *, int, char *);
void	    reply_json(struct api_response *, int, cJSON *);
void	    reply_no_content(struct api_response *);
const char *reply_arg(const struct api_request *, const char *);
int
reply_arg_u64(const struct api_request *, const char *, uint64_t, uint64_t *);
int    reply_arg_bool(const struct api_request *, const char *);
int    reply_accepts_gzip(const struct api_request *);
cJSON *reply_body(const struct api_request *, struct api_response *, int);
char  *reply_frame(const char *, const struct api_response *);
struct reply_wait *reply_wait_new(struct api_response *);
void reply_wait_attach(struct reply_wait *, reply_wait_cb, void *);
void reply_wait_detach(struct reply_wait *);
void reply_wait_finish(struct reply_wait *, struct api_response *);

/* api.c */
#define API_MAX_PARTS 6
/* The "*" segments of the route a path matched. */
struct api_match {
	const char *part[API_MAX_PARTS];
	char	    buf[1024];
	int	    n;
	const char *command; /* the route's session command, or NULL */
};
void	      api_handle(const struct api_request *, struct api_response *);
enum api_body api_body_kind(const struct api_request *);
char	     *api_ws_command(struct session *, const char *, size_t);
int	      api_stream_stops(enum event_type);

/* sandbox.c */
void sandbox_fs_entries(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_fs_stat(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_fs_read(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_fs_write(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_fs_mkdir(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_fs_move(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_fs_delete(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_fs_upload(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_procs_config_get(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_procs_config_set(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_procs_list(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_procs_create(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_procs_run(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_proc_get(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_proc_delete(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_proc_input(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_proc_stop(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_proc_kill(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_proc_resize(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_proc_logs(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_proc_terminal(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_config_get(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_config_set(
    const struct api_request *, struct api_match *, struct api_response *);
void sandbox_config_delete(
    const struct api_request *, struct api_match *, struct api_response *);

/* acpserver.c */
int  acpserver_load_all(char **);
void acpserver_shutdown(void);
void acpserver_list(const struct api_request *, struct api_response *);
void
acpserver_post(const struct api_request *, const char *, struct api_response *);
void
acpserver_get(const struct api_request *, const char *, struct api_response *);
void acpserver_delete(
    const struct api_request *, const char *, struct api_response *);

/* ui.c */
struct ui_asset {
	const char	    *name;
	const char	    *content_type;
	const unsigned char *data; /* gzip */
	const unsigned char *end;
};
const struct ui_asset *ui_lookup(const char *);

/* metrics.c */
void metrics_clients(int);
void metrics_streams(int);
void metrics_request(void);
void metrics_sent(size_t);
void metrics_reply(struct api_response *);

/* webhook.c */
void webhook_start(void);
void webhook_stop(void);

/* openapi.c */
const char *openapi_document(size_t *);

#endif /* HTTP_H */
