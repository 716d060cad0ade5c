/*
 * supervisor.h: the daemon. One section per file.
 *
 * Ownership of third-party libraries: loop.c alone includes libev,
 * server.c alone includes libwebsockets; everything else goes through the
 * functions declared here.
 */
#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include <sys/types.h>

#include <stdint.h>

#include "../adapters/adapters.h"

typedef int (*session_read_cb)(
    void *, uint64_t, enum event_type, const char *, size_t, size_t);
struct stream_ops;

/* options.c */
struct options {
	const char *host;
	int	    port;
	char	   *token; /* NULL: no token (loopback only) */
	int	    no_token;
	const char *data_dir;
	const char *cors_origins[16];
	int	    ncors;
	size_t	    max_line; /* agent stdout line cap */
	size_t	    max_body; /* HTTP request body cap */
	double
	    idle_timeout; /* seconds an agent may be silent in a turn; 0: none */
	double	    kill_grace; /* seconds between SIGTERM and SIGKILL */
	const char *record_dir; /* --record: fixture transcripts */
};
extern struct options options;
char		     *options_default_data_dir(void);
extern int64_t	      agentd_start_ms;

/* log.c */
enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
};
int log_set_level(const char *);
void
log_msg(enum log_level, const char *, const char *, ...) __printflike(3, 4);
#define log_debug(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __func__, __VA_ARGS__)
__dead void fatalx(const char *, ...) __printflike(1, 2);

/* loop.c */
struct loop_io;
struct loop_timer;
typedef void (*loop_io_cb)(int, void *);
typedef void (*loop_timer_cb)(void *);
typedef void (*loop_child_cb)(pid_t, int, void *);
void		  *loop_init(void);
void		  *loop_get(void);
void		   loop_run(void);
void		   loop_break(void);
int64_t		   loop_now_ms(void);
int64_t		   loop_wall_ms(void);
struct loop_io	  *loop_io_new(int, int, loop_io_cb, void *);
void		   loop_io_start(struct loop_io *);
void		   loop_io_stop(struct loop_io *);
void		   loop_io_free(struct loop_io *);
struct loop_timer *loop_timer_new(loop_timer_cb, void *);
void		   loop_timer_set(struct loop_timer *, double);
void		   loop_timer_stop(struct loop_timer *);
void		   loop_timer_free(struct loop_timer *);
void		   loop_child_watch(pid_t, loop_child_cb, void *);
void		   loop_on_signal(int, void (*)(int));
void		   loop_defer(void (*)(void *), void *);

/* auth.c */
int auth_check_bearer(const char *);
int auth_check_token(const char *);

/* server.c */
int  server_start(char **);
void server_stop(void);
void server_session_wake(struct session *);
void server_log_lws(enum log_level, const char *);
void server_stream_wake(const struct stream_ops *, void *);

/* journal.c */
struct journal;
struct store;
struct journal *journal_new(struct store *);
void		journal_free(struct journal *);
struct store   *journal_store(struct journal *);
uint64_t	journal_last(struct journal *);
int  journal_append(struct journal *, uint64_t, enum event_type, const char *,
     size_t, size_t, char **);
void journal_sync(struct journal *);
void journal_trim(struct journal *);
int  journal_read(struct journal *, uint64_t, size_t, session_read_cb, void *);

/* proc.c */
struct proc;
struct proc_cbs {
	void (*line)(void *, const char *, size_t);
	void (*toolong)(void *, size_t);
	void (*exit)(void *, int);
};
struct proc *proc_spawn(char **, char **, const char *, size_t,
    const struct proc_cbs *, void *, char **);
pid_t	     proc_pid(struct proc *);
int	     proc_write(struct proc *, const char *, size_t);
void	     proc_stderr(struct proc *, char **, char **, int *);
void	     proc_stop(struct proc *, double);
void	     proc_pause(struct proc *, int);
void	     proc_free(struct proc *);

/* store.c */
struct store;
int	      store_init(const char *, char **);
int	      store_list(const char *, char ***, size_t *);
struct store *store_create(const char *, const char *, char **);
struct store *store_open(const char *, const char *, uint64_t *, char **);
int   store_append(struct store *, uint64_t, const char *, size_t, char **);
int   store_sync(struct store *);
int   store_dirty(const struct store *);
int   store_write_meta(struct store *, const char *, size_t, char **);
char *store_read_meta(struct store *, size_t *);
typedef int (*store_read_cb)(void *, uint64_t, const char *, size_t);
int	 store_read(struct store *, uint64_t, size_t, store_read_cb, void *);
uint64_t store_last_seq(const struct store *);
int	 store_remove(struct store *);
void	 store_close(struct store *);

/* api.c */
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
	const char	  *last_event_id; /* header, or NULL */
	int		   websocket;	  /* an upgrade request */
	const char	  *content_type;  /* header, or NULL */
	const char	  *accept;	  /* header, or NULL */
};
enum api_kind {
	API_REPLY,  /* status, content_type, body */
	API_STREAM, /* subscribe: SSE or WebSocket */
	API_WAIT    /* the reply comes later, through wait */
};
struct api_wait;
struct api_response;
/* What an SSE or WebSocket stream follows, when not a session's log. */
struct stream_ops {
	int (*read)(void *, uint64_t, size_t, session_read_cb, void *);
	void (*ref)(void *);
	void (*unref)(void *);
	void **(*slot)(void *); /* the server's subscriber list */
	int (*dead)(void *);
	const char *event; /* SSE "event:" name, or NULL */
};
typedef void (*api_wait_cb)(void *, struct api_response *);
struct api_response {
	enum api_kind		 kind;
	int			 status;
	const char		*content_type;
	const char		*content_encoding; /* "gzip" or NULL */
	const char		*cache_control;	   /* or NULL */
	const void		*static_body; /* instead of body: not freed */
	char			*body;	      /* malloc'd */
	size_t			 len;
	char			 allow[64]; /* for 405: "GET, POST" */
	struct session		*session;   /* API_STREAM: referenced */
	uint64_t		 offset;    /* last sequence seen */
	int			 include_raw;
	int			 until_turn_end;
	struct api_wait		*wait;	     /* API_WAIT */
	const struct stream_ops *stream_ops; /* API_STREAM of another */
	void			*stream;     /* source: referenced */
};
void api_handle(const struct api_request *, struct api_response *);
void api_problem(struct api_response *, int, const char *, const char *, ...)
    __printflike(4, 5);
const char	*api_arg(const struct api_request *, const char *);
int		 api_stream_stops(enum event_type);
struct api_wait *api_wait_new(struct api_response *);
void		 api_wait_attach(struct api_wait *, api_wait_cb, void *);
void		 api_wait_detach(struct api_wait *);
void		 api_wait_finish(struct api_wait *, struct api_response *);

/* agents.c */
cJSON *agents_info(const struct agent_profile *);
cJSON *agents_list(void);
typedef void (*agents_then_cb)(void *, int, struct api_response *);
int   agents_installed(const struct agent_profile *);
char *agents_find(const char *);
void  agents_install(const struct agent_profile *, struct api_response *,
     agents_then_cb, void *);
int   agents_main(int, char **);
int   agents_install_main(int, char **);

/* session.c */
int		session_load_all(char **);
void		session_shutdown(void);
int		session_valid_id(const char *);
struct session *session_find(const char *);
int    session_create(const char *, const cJSON *, struct session **, char **);
cJSON *session_info(struct session *);
cJSON *session_list(void);
int    session_post_message(struct session *, const cJSON *, char **);
int    session_reply_permission(
       struct session *, const char *, enum permission_reply, char **);
int
session_reply_question(struct session *, const char *, const cJSON *, char **);
int	 session_cancel(struct session *, char **);
int	 session_terminate(struct session *);
void	 session_delete(struct session *);
uint64_t session_last_seq(struct session *);
int	 session_is_dead(struct session *);
int  session_read(struct session *, uint64_t, size_t, session_read_cb, void *);
void session_ref(struct session *);
void session_unref(struct session *);
void **session_server_slot(struct session *);
void   session_watch(struct session *, void (*)(void *), void *);
void
session_set_driver(struct session *, const char *, void (*)(void *), void *);
const char *session_driver(struct session *);

/* acplog.c */
struct acplog;
struct acplog *acplog_open(const char *, char **);
uint64_t       acplog_last(struct acplog *);
int	       acplog_append(struct acplog *, const char *, size_t);
int  acplog_read(struct acplog *, uint64_t, size_t, session_read_cb, void *);
void acplog_sync(struct acplog *);
void acplog_close(struct acplog *);

/* acpmap.c */
struct acpmap;
struct acpmap *acpmap_new(const char *);
void	       acpmap_free(struct acpmap *);
cJSON	      *acpmap_event(struct acpmap *, const cJSON *, int);
const char    *acpmap_stop_reason(const char *);
cJSON	      *acpmap_usage(const cJSON *);
const char    *acpmap_tool_kind(const char *);

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

/* server-client.c */
struct server_client;
struct server_client_cbs {
	void (*connected)(void *);
	void (*message)(void *, const char *, size_t);
	void (*closed)(void *, const char *); /* reason, or NULL */
};
struct server_client	  *
server_client_new(const struct server_client_cbs *, void *, char **);
int  server_client_connect(struct server_client *, const char *, int, int,
     const char *, const char *, char **);
int  server_client_send(struct server_client *, const char *, size_t);
void server_client_close(struct server_client *);
void server_client_free(struct server_client *);

/* render.c */
#define RENDER_COLOR 0x1 /* ANSI colours and dim */
#define RENDER_TTY   0x2 /* spinner redrawn in place with \r */
#define RENDER_USER  0x4 /* show the user's messages too */
#define RENDER_ASK   0x8 /* keep permissions and questions to ask */
struct render;
typedef void (*render_write_cb)(void *, int, const char *, size_t);
struct render *render_new(int, int, render_write_cb, void *);
void	       render_free(struct render *);
void	       render_event(struct render *, const cJSON *);
void	       render_tick(struct render *);
int	       render_spinning(struct render *);
void	render_note(struct render *, int, const char *, ...) __printflike(3, 4);
void	render_error(struct render *, const char *, ...) __printflike(2, 3);
void	render_prompt(struct render *);
int	render_asking(struct render *);
cJSON  *render_answer(struct render *, const char *);
void	render_input_line(struct render *);
int64_t render_time_ms(const char *);
int	render_width(int);
struct render_input;
typedef void (*render_line_cb)(void *, const char *);
struct render_input	 *
render_input_new(int, render_line_cb, void (*)(void *), void *);
void render_input_free(struct render_input *);
void render_write_fd(void *, int, const char *, size_t);
int  render_color_wanted(int);

/* run.c */
int run_main(int, char **);

/* attach.c */
int attach_main(int, char **);

/* record.c */
struct record;
struct record *record_open(const char *, const char *, char **);
void	       record_line(struct record *, char, const char *, size_t);
void	       record_exit(struct record *, int);
void	       record_close(struct record *);

/* replay.c */
int replay_main(int, char **);

/* mockagent.c */
int mockagent_main(int, char **);

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

#endif /* SUPERVISOR_H */
