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

/* auth.c */
int auth_check_bearer(const char *);
int auth_check_token(const char *);

/* guard.c */
const char *guard_host(const char *);
const char *guard_origin(const char *, const char *);
int	    guard_cors_listed(const char *);
const char *guard_body_type(const char *);

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
};
enum api_kind {
	API_REPLY,  /* status, content_type, body */
	API_STREAM, /* subscribe: SSE or WebSocket */
	API_WAIT    /* the reply comes later, through wait */
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
void  api_handle(const struct api_request *, struct api_response *);
char *api_ws_command(struct session *, const char *, size_t);
int   api_stream_stops(enum event_type);

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

/* openapi.c */
const char *openapi_document(size_t *);

#endif /* HTTP_H */
