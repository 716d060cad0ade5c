/*
 * server.c: HTTP, SSE and WebSocket on one port. The only file that
 * includes libwebsockets.
 *
 * lws runs on the libev loop as a foreign loop. A request is read here
 * (headers, capped body), handed to api.c as a struct api_request, and the
 * struct api_response is written back from the WRITEABLE callback, never
 * from anywhere else. A WebSocket client's command frame goes to api.c
 * too (api_ws_command), which runs it as the matching route would.
 *
 * Streams (SSE, WebSocket) are cursors, not queues: a subscriber holds the
 * last sequence it sent; when its socket is writable it reads the next
 * events from the session (memory, then disk) into one shared scratch
 * buffer and writes them. A slow client therefore costs one cursor and at
 * most one frame that lws keeps until the socket drains; it can never make
 * agentd buffer the session for it, and the agent is never slowed.
 *
 * lws owns the per-connection struct conn (its "per session data") and
 * frees it after the CLOSED callback; we only unlink and release what the
 * conn points to there.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "http.h"

#define SERVER_MAX_ARGS	   16
#define SERVER_BATCH_BYTES (64 * 1024) /* bytes per HTTP body write */
/* A stream's batch: at most this many events, and about as many bytes,
 * per write to a client; the ring of a journal fits in one. */
#define SERVER_STREAM_EVENTS  1024
#define SERVER_STREAM_BYTES   (256 * 1024)
#define SERVER_HEARTBEAT_US   (15 * LWS_US_PER_SEC)
#define SERVER_WS_MAX_MESSAGE (1024 * 1024)
#define SERVER_MAX_REPLIES    32
#define SERVER_SSE_INPUT_MAX  (64 * 1024) /* dropped before a close */

enum conn_kind {
	CONN_HTTP,
	CONN_SSE,
	CONN_WS
};

struct conn {
	struct lws	  *wsi;
	enum conn_kind	   kind;
	struct api_request req;
	char		   path[512];
	char		  *args[SERVER_MAX_ARGS];
	char		   last_event_id[32];
	char		   origin[256];
	char		   host[256];
	char		   content_type[128];
	char		   accept[256];
	char		   accept_encoding[128];
	char		   range[64];
	char		  *body;
	size_t		   body_len;
	size_t		   body_cap;
	int		   body_refused;
	int		   body_announced; /* Content-Length or chunked */
	int		   dispatched;	   /* api_handle ran */
	int		   body_done;	   /* lws reported BODY_COMPLETION */

	/* What the browser says of the request's origin (guard.c). */
	int  origin_long;    /* an Origin that did not fit: foreign */
	char fetch_site[16]; /* Sec-Fetch-*, "" when absent */
	char fetch_mode[16];
	char fetch_dest[16];

	/* A raw body streamed to the route's sink (API_SINK). */
	const struct api_sink_ops *sink_ops;
	void			  *sink; /* NULL once finished or aborted */

	struct api_response resp;
	size_t		    resp_off;
	uint64_t	    file_sent; /* API_FILE: bytes written */
	int		    headers_sent;

	struct reply_wait *wait; /* a reply still to come */

	/* Streams: a journal, a session's or another source's (ACP). */
	struct session		*session; /* when the source is one */
	const struct stream_ops *ops;
	void			*src;
	struct journal		*journal; /* the source's, read and followed */
	struct journal_sub	*sub;	  /* woken when it grows */
	uint64_t		 cursor;  /* last sequence sent */
	int			 include_raw;
	int			 until_turn_end;
	int			 heartbeat;
	int			 closing; /* close once lws has flushed */
	struct loop_io		*hangup;  /* server_watch: watches the client */
	struct loop_io		*drain;	  /* server_more: a full socket */
	size_t			 input;	  /* bytes a stream's client sent */
	int			 muted;	  /* lws does not read it */
	int			 counted; /* a stream in the metrics */
	int			 bye_sent; /* ops->bye is queued */
	int			 live;	   /* written to from the wake too */

	/* WebSocket: message being received, replies waiting. */
	char  *msg;
	size_t msg_len;
	char  *replies[SERVER_MAX_REPLIES];
	int    nreplies;
};

/*
 * Every client connection from accept to close, for the descriptor
 * budget. agentd accepts connections itself (server_accept_cb) and hands
 * each to lws, so it decides when not to accept:
 * - clients may hold at most three quarters of the process's descriptors
 *   (the rest stays for agents' pipes, logs and files); at that budget
 *   the listener is paused until a client leaves;
 * - a peer is "waiting" while it has no request being served: from accept
 *   until its headers and body are in, and again between requests on a
 *   kept-alive connection. When half the budget waits, the peer that has
 *   waited longest is closed, so clients that dribble headers or a body,
 *   or hold idle connections, cannot crowd out the others (health stays
 *   reachable);
 * - accept() failing for want of descriptors pauses the listener for a
 *   moment instead of spinning on a socket that stays readable.
 */
struct server_peer {
	struct lws *wsi;
	int	    waiting;
	TAILQ_ENTRY(server_peer) entry;
};
static TAILQ_HEAD(, server_peer) server_waiting = TAILQ_HEAD_INITIALIZER(
    server_waiting);
static unsigned int server_nwaiting;
static unsigned int server_waiting_max = 64;
static unsigned int server_npeers;
static unsigned int server_peers_max = 128;

static int		  server_listen_fd = -1;
static struct loop_io	 *server_listener;
static struct loop_timer *server_resume_timer;
static int		  server_accepting;

/*
 * Delivery. The events after a cursor are framed once into one buffer,
 * the batch, and written to every client at that cursor with one
 * lws_write each: the clients of a fan-out are mostly at the same cursor,
 * so an event is copied and framed once a pass however many clients take
 * it, and a client costs one system call per batch, not one per event.
 * The frames are complete (a WebSocket header and the event, or SSE's id
 * and data lines), so they go out raw; what the socket does not take lws
 * keeps and writes before anything else, and the client gets no more
 * until it has, so a slow client holds its cursor and at most one batch.
 *
 * A batch is keyed by its journal, its source and the source's ops (which
 * may skip lines or frame them as binary), its cursor and the options
 * that change its bytes. The events after a sequence never change, so a batch
 * is right for as long as its journal lives, and is rebuilt only if events came
 * after it was built while it was not cut short. It is dropped whenever a
 * client comes or goes: a journal is freed only after its last client went, so
 * a new journal at a freed one's address is never served an old batch.
 */
struct server_batch {
	const struct journal	*src;
	void			*obj; /* the stream's source */
	const struct stream_ops *ops;
	uint64_t		 after; /* the cursor it follows */
	enum conn_kind		 kind;
	int			 raw;
	int			 until; /* until_turn_end */
	const char		*event; /* SSE "event:" name */
	int			 valid;
	uint64_t upto; /* the source's last sequence when built */
	uint64_t last; /* sequence of its last frame */
	int	 n;
	int	 stop; /* ends a stream that stops at the turn's end */
	size_t	 len;  /* frame bytes after LWS_PRE */
};
static struct server_batch server_batch;
static unsigned char	  *server_batch_buf;
static size_t		   server_batch_cap;
static int		   server_batch_trimming;

static struct lws_context *server_context;
static unsigned char	  *server_scratch;
static size_t		   server_scratch_cap;
#ifdef AGENTD_DEV_LWS
static struct loop_timer *server_kick;
#endif

static int
server_cb(struct lws *, enum lws_callback_reasons, void *, void *, size_t);
static void server_sink_finish(struct conn *);
static void server_continue(struct lws *);
static int  server_ws_queue(struct conn *, char *);
static void server_batch_drop(void);
static int  server_stream_write(struct conn *);
static int  server_stream_more(const struct conn *);

/*
 * lws sends at most tx_packet_size bytes a syscall: 4 KiB by default,
 * which made a file download crawl at one poll per 4 KiB. A file goes in
 * chunks of 64 KiB, a stream's batch (up to SERVER_STREAM_BYTES and one
 * event) with one syscall. (Reads stay at lws's 4 KiB pt_serv_buf: a
 * bigger one would cost its size in idle RSS for a faster upload.)
 */
#define SERVER_IO_CHUNK (64 * 1024)
#define SERVER_STALL_S	20 /* a file reader that takes nothing */

static const struct lws_protocols server_protocols[] = {
	{ "agentd", server_cb, sizeof(struct conn), 4096, 0, NULL,
	    2 * SERVER_STREAM_BYTES },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* WebSocket clients get a ping after 20 s of silence, hang up after 60. */
static const lws_retry_bo_t server_retry = {
	.secs_since_valid_ping = 20,
	.secs_since_valid_hangup = 60,
};

/* Log one line of lws's (server and client side), without its newline. */
void
server_log_lws(enum log_level level, const char *line)
{
	char   buf[256];
	size_t len;

	(void)snprintf(buf, sizeof buf, "%s", line);
	len = strlen(buf);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	log_msg(level, "lws", "%s", buf);
}

static void
server_log_cb(int level, const char *line)
{
	server_log_lws(level == LLL_ERR ? LOG_ERROR : LOG_WARN, line);
}

static void
server_peer_serve(struct lws *wsi)
{
	struct server_peer *peer = lws_get_opaque_user_data(wsi);

	if (peer == NULL || !peer->waiting)
		return;
	TAILQ_REMOVE(&server_waiting, peer, entry);
	peer->waiting = 0;
	server_nwaiting--;
}

/*
 * Close the peer that has waited longest. The kill goes through lws's
 * timer list, and a timeout set outside lws's own callbacks (here, mostly
 * from server_accept_cb) does not re-arm lws's timer: evicted peers kept
 * their descriptors for seconds, the listener stayed paused at the budget
 * and health waited in the backlog (2 runs in 12 of the descriptor attack
 * test). Shutting down both sides makes the socket readable at its end:
 * lws reads the end as soon as it polls and frees the descriptor,
 * whatever its timer does.
 */
static void
server_peer_evict(void)
{
	struct server_peer *peer;

	if ((peer = TAILQ_FIRST(&server_waiting)) == NULL)
		return;
	server_peer_serve(peer->wsi);
	(void)shutdown(lws_get_socket_fd(peer->wsi), SHUT_RDWR);
	lws_set_timeout(peer->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	log_warn("too many clients wait for a request: closed the oldest");
}

/* The peer has no request being served: it may be evicted. */
static void
server_peer_wait(struct lws *wsi)
{
	struct server_peer *peer = lws_get_opaque_user_data(wsi);

	if (peer == NULL || peer->waiting)
		return;
	if (server_nwaiting >= server_waiting_max)
		server_peer_evict();
	peer->waiting = 1;
	TAILQ_INSERT_TAIL(&server_waiting, peer, entry);
	server_nwaiting++;
}

static void
server_accepting_set(int on)
{
	if (server_listener == NULL || server_accepting == on)
		return;
	server_accepting = on;
	if (on)
		loop_io_start(server_listener);
	else
		loop_io_stop(server_listener);
}

static void
server_peer_new(struct lws *wsi)
{
	struct server_peer *peer;

	peer = xcalloc(1, sizeof *peer);
	peer->wsi = wsi;
	lws_set_opaque_user_data(wsi, peer);
	server_npeers++;
	metrics_clients(1);
	server_peer_wait(wsi);
	if (server_npeers >= server_peers_max)
		server_accepting_set(0);
}

static void
server_peer_free(struct lws *wsi)
{
	struct server_peer *peer = lws_get_opaque_user_data(wsi);

	if (peer == NULL)
		return;
	server_peer_serve(wsi);
	lws_set_opaque_user_data(wsi, NULL);
	free(peer);
	metrics_clients(-1);
	if (--server_npeers < server_peers_max &&
	    (server_resume_timer == NULL ||
		!loop_timer_pending(server_resume_timer)))
		server_accepting_set(1);
}

static void
server_resume_cb(void *arg)
{
	if (server_npeers < server_peers_max)
		server_accepting_set(1);
}

/* New connections: accept each and hand it to lws. */
static void
server_accept_cb(int fd, void *arg)
{
	struct lws_vhost *vh;
	int		  c, n, one = 1;

	vh = lws_get_vhost_by_name(server_context, "default");
	for (n = 0; n < 64 && server_accepting; n++) {
		c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("cannot accept: %s: pausing for "
					 "100 ms",
				    strerror(errno));
				server_peer_evict();
				server_accepting_set(0);
				loop_timer_set(server_resume_timer, 0.1);
			}
			return; /* EAGAIN, or a connection that went away */
		}
		(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (vh == NULL || lws_adopt_socket_vhost(vh, c) == NULL)
			log_warn("cannot serve a new connection");
	}
}

/*
 * Listen on --host:--port ourselves (the fd budget above needs accept()
 * in our hands). An IPv6 address takes IPv4 too unless it is "::1".
 */
static int
server_listen(char **cause)
{
	struct sockaddr_storage ss;
	struct sockaddr_in     *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6    *sin6 = (struct sockaddr_in6 *)&ss;
	const char	       *host = options.host;
	socklen_t		len;
	int			fd, one = 1, zero = 0;

	memset(&ss, 0, sizeof ss);
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)options.port);
		len = sizeof *sin;
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)options.port);
		len = sizeof *sin6;
	} else {
		xasprintf(cause, "--host %s: not an IP address or localhost",
		    options.host);
		return (-1);
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, 511) != 0) {
		close(fd);
		goto fail;
	}
	server_listen_fd = fd;
	server_listener = loop_io_new(fd, 0, server_accept_cb, NULL);
	server_resume_timer = loop_timer_new(server_resume_cb, NULL);
	server_accepting_set(1);
	return (0);
fail:
	xasprintf(cause, "cannot listen on %s:%d: %s", options.host,
	    options.port, strerror(errno));
	return (-1);
}

/*
 * How many descriptors clients may hold: the process's limit less a
 * reserve for agents' pipes, logs and files (a quarter, at least 32).
 * Half of that may wait for a request at once.
 */
static void
server_fd_budget(void)
{
	struct rlimit rl;
	rlim_t	      n, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		n = 1024;
	else
		n = rl.rlim_cur;
	if (n > 1048576)
		n = 1048576;
	reserve = n / 4 > 32 ? n / 4 : 32;
	n = n > reserve + 16 ? n - reserve : 16;
	server_peers_max = (unsigned int)n;
	server_waiting_max = (unsigned int)n / 2;
}

#ifdef AGENTD_DEV_LWS
/*
 * Debian's dynamic lws has the libev timer re-arm bug our static build
 * patches (toolchain/patches); a 1 Hz wakeup makes it service its timers.
 */
static void
server_kick_cb(void *arg)
{
	if (server_context != NULL)
		lws_cancel_service(server_context);
	loop_timer_set(server_kick, 1.0);
}
#endif

int
server_start(char **cause)
{
	struct lws_context_creation_info info;
	void				*loops[1];
	unsigned long long		 opts;

	lws_set_log_level(LLL_ERR | LLL_WARN, server_log_cb);
	memset(&info, 0, sizeof info);
	loops[0] = loop_get();
	/* Text frames must be UTF-8 (RFC 6455 8.1): lws closes with 1007. */
	opts = LWS_SERVER_OPTION_LIBEV |
	    LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
	    LWS_SERVER_OPTION_VALIDATE_UTF8;
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = server_protocols;
	info.options = opts;
	info.foreign_loops = loops;
	info.pcontext = &server_context;
	info.timeout_secs = 20;
	info.timeout_secs_ah_idle = 10;
	info.keepalive_timeout = 30;
	info.max_http_header_data = 8192;
	info.retry_and_idle_policy = &server_retry;
	info.server_string = "agentd";
	server_fd_budget();
	if ((server_context = lws_create_context(&info)) == NULL) {
		*cause = xstrdup("cannot create the lws context");
		return (-1);
	}
	if (server_listen(cause) != 0) {
		lws_context_destroy(server_context);
		server_context = NULL;
		return (-1);
	}
#ifdef AGENTD_DEV_LWS
	server_kick = loop_timer_new(server_kick_cb, NULL);
	loop_timer_set(server_kick, 1.0);
#endif
	log_info("listening on http://%s:%d (auth %s)", options.host,
	    options.port, options.token != NULL ? "token" : "none");
	return (0);
}

void
server_stop(void)
{
#ifdef AGENTD_DEV_LWS
	loop_timer_free(server_kick);
	server_kick = NULL;
#endif
	if (server_listener != NULL) {
		loop_io_free(server_listener);
		server_listener = NULL;
		close(server_listen_fd);
		server_listen_fd = -1;
		loop_timer_free(server_resume_timer);
		server_resume_timer = NULL;
	}
	if (server_context != NULL)
		lws_context_destroy(server_context);
	server_context = NULL;
	free(server_scratch);
	server_scratch = NULL;
	server_scratch_cap = 0;
	free(server_batch_buf);
	server_batch_buf = NULL;
	server_batch_cap = 0;
	server_batch_drop();
}

/* The shared write buffer, LWS_PRE bytes of headroom included. */
static unsigned char *
server_buffer(size_t len)
{
	size_t need = LWS_PRE + len;

	if (need > server_scratch_cap) {
		free(server_scratch);
		server_scratch = xmalloc(need);
		server_scratch_cap = need;
	}
	return (server_scratch + LWS_PRE);
}

/* Give back a scratch buffer that grew for one huge event. */
static void
server_buffer_trim(void)
{
	if (server_scratch_cap > LWS_PRE + 4 * SERVER_BATCH_BYTES) {
		free(server_scratch);
		server_scratch = NULL;
		server_scratch_cap = 0;
	}
}

/* A session's log as a stream source. */
static void
server_session_ref(void *s)
{
	session_ref(s);
}

static void
server_session_unref(void *s)
{
	session_unref(s);
}

static struct journal *
server_session_journal(void *s)
{
	return (session_journal(s));
}

static int
server_session_dead(void *s)
{
	return (session_is_dead(s));
}

static const struct stream_ops server_session_ops = {
	.ref = server_session_ref,
	.unref = server_session_unref,
	.dead = server_session_dead,
	.journal = server_session_journal,
};

/* The source's journal grew (or its source died): write when we can. */
static void
server_wake_cb(void *arg)
{
	struct conn *c = arg;
	int	     r;

	/*
   * Write at once, in this pass, when the client streams already and
   * lws holds nothing for it: no trip through the loop for POLLOUT.
   * Anything else goes through the WRITEABLE callback.
   */
	if (!c->live || c->closing || c->nreplies > 0 ||
	    lws_partial_buffered(c->wsi)) {
		lws_callback_on_writable(c->wsi);
		return;
	}
	if ((r = server_stream_write(c)) < 0) {
		lws_set_timeout(
		    c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	if (r == 0 ? c->ops->dead(c->src) : c->closing || server_stream_more(c))
		lws_callback_on_writable(c->wsi);
}

/* Follow the source's journal: woken once per loop pass it grew in. */
static void
server_subscribe(struct conn *c)
{
	metrics_streams(1);
	c->counted = 1;
	server_batch_drop(); /* see struct server_batch */
	c->journal = c->ops->journal(c->src);
	c->sub = journal_subscribe(c->journal, server_wake_cb, c);
}

/* Move the stream source of c->resp (a session or other) into c. */
static void
server_take_source(struct conn *c)
{
	if (c->resp.stream != NULL) {
		c->ops = c->resp.stream_ops;
		c->src = c->resp.stream;
		c->resp.stream = NULL;
	} else {
		c->ops = &server_session_ops;
		c->src = c->session = c->resp.session;
		c->resp.session = NULL;
	}
}

/*
 * Stop lws reading c: it waits for its reply, or for its socket to drain,
 * or (a WebSocket) for its command replies to go out. lws writes nothing
 * to an HTTP/1 connection it does not read, so such a c is unmuted before
 * each write; a WebSocket's writes go on.
 */
static void
server_mute(struct conn *c)
{
	lws_rx_flow_control(c->wsi, 0);
	c->muted = 1;
}

/* Let lws read c again: its reply is in, it hung up, or it can write. */
static void
server_unmute(struct conn *c)
{
	if (!c->muted)
		return;
	lws_rx_flow_control(c->wsi, 1);
	c->muted = 0;
}

/*
 * The socket of a connection that streams, or waits for its reply, is
 * readable, and lws would not sleep for it again:
 * - a stream: lws reads nothing from it, so whatever is there stayed
 *   unread and the loop woke for it at once, at 100% CPU, until a
 *   heartbeat's write failed up to 15 s later for a client that hung up,
 *   for as long as it liked for one that sent bytes;
 * - a wait: lws reads the bytes as the next request and, while that
 *   sits unparsed, polls without sleeping. Its reading is paused for the
 *   wait (server_watch), which lws allows as it needs no write then.
 * This watcher reads instead. A client that hung up is closed from its
 * WRITEABLE callback (a wait is detached; the work goes on). A waiting
 * client's bytes are a request pipelined behind this one, left for lws
 * once the reply is out. A stream takes no input and ends its connection,
 * so its client's bytes can never be a request that gets an answer: they
 * are dropped, up to SERVER_SSE_INPUT_MAX, past which it is closed.
 */
static void
server_hangup_cb(int fd, void *arg)
{
	struct conn *c = arg;
	char	     b[4096];
	ssize_t	     n;

	if (c->kind == CONN_SSE)
		n = recv(fd, b, sizeof b, MSG_DONTWAIT);
	else
		n = recv(fd, b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && c->kind == CONN_SSE) {
		c->input += (size_t)n;
		if (c->input <= SERVER_SSE_INPUT_MAX)
			return;
	}
	loop_io_stop(c->hangup);
	if (n > 0 && c->kind != CONN_SSE)
		return;
	server_unmute(c);
	c->closing = 1;
	lws_callback_on_writable(c->wsi);
}

/*
 * Watch c's socket while it streams or waits; pause lws's reading of a
 * waiting one (lws writes nothing to an HTTP/1 connection whose reading
 * is paused, so streams keep theirs).
 */
static void
server_watch(struct conn *c)
{
	if (c->kind != CONN_SSE)
		server_mute(c);
	c->hangup =
	    loop_io_new(lws_get_socket_fd(c->wsi), 0, server_hangup_cb, c);
	/*
	 * lws still reads a stream answering a POST (it stays in the body
	 * state): bytes it took would sit in its buffer, unparsed, and it
	 * would poll without sleeping. This watcher reads them first.
	 */
	loop_io_first(c->hangup);
	loop_io_start(c->hangup);
}

/* Release what a closing connection holds. Safe to call twice. */
static void
server_conn_release(struct conn *c)
{
	int i;

	if (c->hangup != NULL) {
		loop_io_free(c->hangup);
		c->hangup = NULL;
	}
	if (c->drain != NULL) {
		loop_io_free(c->drain);
		c->drain = NULL;
	}
	if (c->counted) {
		metrics_streams(-1);
		c->counted = 0;
	}
	if (c->sub != NULL) {
		journal_unsubscribe(c->sub);
		c->sub = NULL;
		c->journal = NULL;
	}
	c->live = 0;
	if (c->src != NULL) {
		server_batch_drop(); /* see struct server_batch */
		c->ops->unref(c->src);
		c->src = NULL;
		c->session = NULL;
	}
	if (c->resp.session != NULL) {
		session_unref(c->resp.session);
		c->resp.session = NULL;
	}
	if (c->resp.stream != NULL) {
		c->resp.stream_ops->unref(c->resp.stream);
		c->resp.stream = NULL;
	}
	if (c->wait != NULL) {
		reply_wait_detach(c->wait);
		c->wait = NULL;
	}
	if (c->sink != NULL) {
		c->sink_ops->abort(c->sink);
		c->sink = NULL;
	}
	if (c->resp.kind == API_FILE && c->resp.file_fd != -1) {
		close(c->resp.file_fd);
		c->resp.file_fd = -1;
	}
	free(c->resp.body);
	c->resp.body = NULL;
	free(c->body);
	c->body = NULL;
	free(c->msg);
	c->msg = NULL;
	for (i = 0; i < SERVER_MAX_ARGS; i++) {
		free(c->args[i]);
		c->args[i] = NULL;
	}
	for (i = 0; i < c->nreplies; i++)
		free(c->replies[i]);
	c->nreplies = 0;
}

static enum http_method
server_method(struct lws *wsi)
{
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
		return (HTTP_GET);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
		return (HTTP_POST);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0)
		return (HTTP_PUT);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI) > 0)
		return (HTTP_DELETE);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0)
		return (HTTP_OPTIONS);
	return (HTTP_OTHER);
}

/* The header token that holds the URI of a request of this method. */
static enum lws_token_indexes
server_method_token(enum http_method m)
{
	switch (m) {
	case HTTP_POST:
		return (WSI_TOKEN_POST_URI);
	case HTTP_PUT:
		return (WSI_TOKEN_PUT_URI);
	case HTTP_DELETE:
		return (WSI_TOKEN_DELETE_URI);
	case HTTP_OPTIONS:
		return (WSI_TOKEN_OPTIONS_URI);
	default:
		return (WSI_TOKEN_GET_URI);
	}
}

/* A header lws has no token for, into out; "" if absent or too long. */
static void
server_custom_header(struct lws *wsi, const char *name, char *out, size_t len)
{
	if (lws_hdr_custom_copy(wsi, out, (int)len, name, (int)strlen(name)) <=
	    0)
		out[0] = '\0';
}

static const char *
server_or_null(const char *s)
{
	return (*s != '\0' ? s : NULL);
}

/* Copy the request line, arguments and the headers we use into c. */
static int
server_read_request(struct lws *wsi, struct conn *c, const char *uri)
{
	char buf[1024];
	int  i, n;

	c->wsi = wsi;
	if (strlen(uri) >= sizeof c->path)
		return (-1);
	memcpy(c->path, uri, strlen(uri) + 1);
	c->req.method = server_method(wsi);
	c->req.path = c->path;
	for (i = 0; i < SERVER_MAX_ARGS; i++) {
		n = lws_hdr_copy_fragment(
		    wsi, buf, sizeof buf, WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n < 0)
			break;
		c->args[i] = xstrdup(buf);
	}
	c->req.args = (const char *const *)c->args;
	c->req.nargs = i;
	if (lws_hdr_custom_copy(wsi, c->last_event_id, sizeof c->last_event_id,
		"last-event-id:", 14) > 0)
		c->req.last_event_id = c->last_event_id;
	/* ACP over HTTP answers 415 and 406 by these (acpserver.c). */
	if (lws_hdr_copy(wsi, c->content_type, sizeof c->content_type,
		WSI_TOKEN_HTTP_CONTENT_TYPE) > 0)
		c->req.content_type = c->content_type;
	if (lws_hdr_copy(
		wsi, c->accept, sizeof c->accept, WSI_TOKEN_HTTP_ACCEPT) > 0)
		c->req.accept = c->accept;
	if (lws_hdr_copy(wsi, c->accept_encoding, sizeof c->accept_encoding,
		WSI_TOKEN_HTTP_ACCEPT_ENCODING) > 0)
		c->req.accept_encoding = c->accept_encoding;
	if (lws_hdr_copy(wsi, c->range, sizeof c->range, WSI_TOKEN_HTTP_RANGE) >
	    0)
		c->req.range = c->range;
	/*
	 * An Origin too long for the buffer is no origin agentd allows (none
	 * it could compare is that long), but it is a browser's: dropping it
	 * would let a page with a long name pass as a request without one.
	 */
	if (lws_hdr_copy(wsi, c->origin, sizeof c->origin, WSI_TOKEN_ORIGIN) <=
	    0) {
		c->origin[0] = '\0';
		c->origin_long =
		    lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
	}
	if (lws_hdr_copy(wsi, c->host, sizeof c->host, WSI_TOKEN_HOST) <= 0)
		c->host[0] = '\0';
	server_custom_header(
	    wsi, "sec-fetch-site:", c->fetch_site, sizeof c->fetch_site);
	server_custom_header(
	    wsi, "sec-fetch-mode:", c->fetch_mode, sizeof c->fetch_mode);
	server_custom_header(
	    wsi, "sec-fetch-dest:", c->fetch_dest, sizeof c->fetch_dest);
	return (0);
}

/*
 * What a browser on another origin may not do (guard.c): a foreign Host
 * (DNS rebinding) or Origin. Returns 0, or an HTTP status with *why.
 */
static int
server_guard(const struct conn *c, const char **why)
{
	if ((*why = guard_host(c->host)) != NULL)
		return (421);
	if (c->origin_long) {
		*why = "the Origin header is too long to be one allowed";
		return (403);
	}
	if ((*why = guard_origin(c->origin, c->host)) != NULL)
		return (403);
	if (c->origin[0] == '\0' &&
	    (*why = guard_fetch(server_or_null(c->fetch_site),
		 server_or_null(c->fetch_mode),
		 server_or_null(c->fetch_dest))) != NULL)
		return (403);
	return (0);
}

/*
 * The body's framing, as RFC 9112 section 6.3 asks: a Transfer-Encoding
 * with a Content-Length, or two Content-Lengths, is an attempt to smuggle
 * a second request past a proxy (400, and the connection is closed). A
 * chunked body is not taken (411). Returns 0 with *len, or a status.
 */
static int
server_framing(struct lws *wsi, long *len, const char **why)
{
	char	    cl[32];
	const char *v;
	size_t	    digits;
	int	    n;

	*len = 0;
	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		if (n > 0) {
			*why = "both Transfer-Encoding and Content-Length";
			return (400);
		}
		*why = "a chunked body is not taken: send Content-Length";
		return (411);
	}
	if (lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, 1) >
	    0) {
		*why = "more than one Content-Length";
		return (400);
	}
	if (n <= 0)
		return (0);
	if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <=
	    0) {
		*why = "Content-Length is too long to be a length";
		return (400);
	}
	/* A field's value may have spaces or tabs around it (RFC 9110 5.5). */
	v = cl + strspn(cl, " \t");
	digits = strspn(v, "0123456789");
	if (digits == 0 || v[digits + strspn(v + digits, " \t")] != '\0') {
		*why = "Content-Length is not a number";
		return (400);
	}
	if (digits > 15) {
		*why = "Content-Length is over any body agentd takes";
		return (413);
	}
	*len = strtol(v, NULL, 10);
	return (0);
}

/* Check the token: the Authorization header, or ?access_token=. */
static int
server_authorized(struct lws *wsi, struct conn *c)
{
	char	    hdr[512];
	const char *tok;

	if (options.token == NULL)
		return (1);
	if (lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION) >
		0 &&
	    auth_check_bearer(hdr))
		return (1);
	if ((tok = reply_arg(&c->req, "access_token")) != NULL &&
	    auth_check_token(tok))
		return (1);
	return (0);
}

/* Add the CORS headers to a response being built. */
static int
server_add_cors(
    struct lws *wsi, struct conn *c, unsigned char **p, unsigned char *end)
{
	static const char methods[] = "GET, POST, DELETE, OPTIONS";
	static const char headers[] =
	    "authorization, content-type, last-event-id";

	if (!guard_cors_listed(c->origin))
		return (0);
	if (lws_add_http_header_by_name(wsi,
		(const unsigned char *)"access-control-allow-origin:",
		(const unsigned char *)c->origin, (int)strlen(c->origin), p,
		end) ||
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"access-control-allow-methods:",
		(const unsigned char *)methods, (int)strlen(methods), p, end) ||
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"access-control-allow-headers:",
		(const unsigned char *)headers, (int)strlen(headers), p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"vary:",
		(const unsigned char *)"Origin", 6, p, end))
		return (-1);
	return (0);
}

/* Write the status line and headers of c->resp. */
static int
server_write_headers(struct lws *wsi, struct conn *c)
{
	unsigned char *start, *p, *end;
	lws_filepos_t  len;
	const char    *type;

	start = p = server_buffer(2048);
	end = start + 2048;
	type = c->resp.content_type;
	len = c->resp.kind == API_FILE ? c->resp.file_len : c->resp.len;
	if (c->kind == CONN_SSE) {
		type = "text/event-stream";
		len = LWS_ILLEGAL_HTTP_CONTENT_LEN;
	}
	if (lws_add_http_common_headers(
		wsi, (unsigned int)c->resp.status, type, len, &p, end))
		return (-1);
	/* Proxies (nginx's default) must pass events on at once. */
	if (c->kind == CONN_SSE &&
	    (lws_add_http_header_by_name(wsi,
		 (const unsigned char *)"cache-control:",
		 (const unsigned char *)"no-cache, no-transform", 22, &p,
		 end) ||
		lws_add_http_header_by_name(wsi,
		    (const unsigned char *)"x-accel-buffering:",
		    (const unsigned char *)"no", 2, &p, end)))
		return (-1);
	if (c->resp.vary != NULL &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"vary:",
		(const unsigned char *)c->resp.vary, (int)strlen(c->resp.vary),
		&p, end))
		return (-1);
	if (c->resp.content_range[0] != '\0' &&
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"content-range:",
		(const unsigned char *)c->resp.content_range,
		(int)strlen(c->resp.content_range), &p, end))
		return (-1);
	if (c->resp.kind == API_FILE &&
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"accept-ranges:",
		(const unsigned char *)"bytes", 5, &p, end))
		return (-1);
	if (c->resp.allow[0] != '\0' &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
		(const unsigned char *)c->resp.allow,
		(int)strlen(c->resp.allow), &p, end))
		return (-1);
	if (c->resp.content_encoding != NULL &&
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"content-encoding:",
		(const unsigned char *)c->resp.content_encoding,
		(int)strlen(c->resp.content_encoding), &p, end))
		return (-1);
	if (c->resp.cache_control != NULL &&
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"cache-control:",
		(const unsigned char *)c->resp.cache_control,
		(int)strlen(c->resp.cache_control), &p, end))
		return (-1);
	if (c->resp.status == 401 &&
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"www-authenticate:",
		(const unsigned char *)"Bearer", 6, &p, end))
		return (-1);
	/* 503 is passing (out of descriptors or processes): say when to
   * try again. */
	if (c->resp.status == 503 &&
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"retry-after:",
		(const unsigned char *)"5", 1, &p, end))
		return (-1);
	if (server_add_cors(wsi, c, &p, end) != 0)
		return (-1);
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return (-1);
	c->headers_sent = 1;
	return (0);
}

/*
 * Answer a request from its headers alone, with a problem built by
 * reply_problem. If a body was announced, the connection is closed after
 * the answer: the body is neither read nor run, so a refused client
 * cannot hold the connection open by sending it slowly.
 */
static void
server_reply_problem(
    struct conn *c, int status, const char *type, const char *detail)
{
	reply_problem(&c->resp, status, type, "%s", detail);
	c->dispatched = 1;
	c->body_refused = c->body_announced;
	lws_callback_on_writable(c->wsi);
}

/* A deferred reply is ready: write it when the socket can take it. */
static void
server_wait_cb(void *arg, struct api_response *resp)
{
	struct conn *c = arg;

	c->wait = NULL;
	server_unmute(c);
	if (c->hangup != NULL) {
		loop_io_free(c->hangup);
		c->hangup = NULL;
	}
	c->resp = *resp;
	if (c->resp.kind != API_FILE) /* an export waits, then sends a file */
		c->resp.kind = API_REPLY;
	lws_callback_on_writable(c->wsi);
}

/* Run the request through api.c and start answering it. */
static int
server_dispatch(struct lws *wsi, struct conn *c)
{
	/*
   * lws reports BODY_COMPLETION even for "Content-Length: 0", after
   * the request was dispatched at HTTP: handle a request once.
   */
	if (c->dispatched)
		return (0);
	c->dispatched = 1;
	server_peer_serve(wsi);
	c->req.body = c->body;
	c->req.body_len = c->body_len;
	metrics_request();
	api_handle(&c->req, &c->resp);
	if (c->resp.kind == API_WAIT) {
		/* No flat timeout: the work (an install, a turn) takes as
     * long as it takes; the client may hang up at any time. */
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		c->wait = c->resp.wait;
		c->resp.wait = NULL;
		c->resp.kind = API_REPLY;
		c->resp.status = 0;
		server_watch(c);
		reply_wait_attach(c->wait, server_wait_cb, c);
		return (0);
	}
	if (c->resp.kind == API_STREAM) {
		c->kind = CONN_SSE;
		server_take_source(c);
		c->cursor = c->resp.offset;
		c->include_raw = c->resp.include_raw;
		c->until_turn_end = c->resp.until_turn_end;
		server_subscribe(c);
		/* A stream lives as long as the client; heartbeats keep the
     * proxies in between from timing it out. */
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		lws_set_timer_usecs(wsi, SERVER_HEARTBEAT_US);
		server_watch(c);
	}
	lws_callback_on_writable(wsi);
	return (0);
}

/*
 * A route that takes a raw body (api_body_kind): run it now, before the
 * body, so it can refuse at once (a bad path: the body is then neither
 * read nor kept) or return the sink the body's chunks go to as they
 * arrive. The whole body is bounded in time like a JSON one, not in size:
 * it goes to disk, never to memory.
 */
static int
server_sink_open(struct lws *wsi, struct conn *c, long len)
{
	c->dispatched = 1;
	server_peer_serve(wsi);
	api_handle(&c->req, &c->resp);
	if (c->resp.kind != API_SINK) {
		c->body_refused = c->body_announced;
		lws_callback_on_writable(wsi);
		return (0);
	}
	c->sink_ops = c->resp.sink_ops;
	c->sink = c->resp.sink;
	c->resp.sink = NULL;
	c->resp.kind = API_REPLY;
	c->resp.status = 0;
	if (len == 0) {
		server_sink_finish(c);
		return (0);
	}
	lws_set_timer_usecs(wsi,
	    (lws_usec_t)((options.body_grace + len / 65536.0) *
		LWS_US_PER_SEC));
	server_continue(wsi);
	return (0);
}

/* The raw body is complete: the sink gives the reply. */
static void
server_sink_finish(struct conn *c)
{
	void *sink = c->sink;

	c->sink = NULL;
	c->sink_ops->finish(sink, &c->resp);
	lws_set_timer_usecs(c->wsi, LWS_SET_TIMER_USEC_CANCEL);
	lws_callback_on_writable(c->wsi);
}

/*
 * The body of c is wanted: a client that asked with "Expect: 100-continue"
 * waits for a 100 before sending it (curl does for bodies over 1 MiB,
 * else it sends after a second anyway). lws has no part for it; nothing
 * of the reply has been written yet, so the line goes out on its own.
 */
static void
server_continue(struct lws *wsi)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	char		  expect[32];

	if (lws_hdr_copy(wsi, expect, sizeof expect, WSI_TOKEN_HTTP_EXPECT) <=
		0 ||
	    strcasecmp(expect, "100-continue") != 0)
		return;
	(void)send(lws_get_socket_fd(wsi), line, sizeof line - 1,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* LWS_CALLBACK_HTTP: a request's headers are in. */
static int
server_http(struct lws *wsi, struct conn *c, const char *uri, size_t urilen)
{
	const char   *why;
	enum api_body kind;
	long	      len = 0;
	int	      status;

	/* A keep-alive connection may reuse c: start from a clean slate. */
	server_conn_release(c);
	memset(c, 0, sizeof *c);
	if (server_read_request(wsi, c, uri) != 0) {
		server_reply_problem(c, 414, "uri_too_long", "URI too long");
		return (0);
	}
	/* lws decodes %00 into the path: never route a cut-short one. */
	if (strlen(uri) != urilen ||
	    (int)strlen(uri) !=
		lws_hdr_total_length(wsi, server_method_token(c->req.method))) {
		server_reply_problem(
		    c, 400, "invalid_request", "NUL byte in the request path");
		return (0);
	}
	c->body_announced =
	    lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 ||
	    lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
	if ((status = server_framing(wsi, &len, &why)) != 0) {
		if (status == 411)
			server_reply_problem(c, status, "length_required", why);
		else if (status == 413)
			server_reply_problem(
			    c, status, "payload_too_large", why);
		else
			server_reply_problem(c, status, "invalid_request", why);
		return (0);
	}
	if (len == 0 &&
	    !lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING))
		c->body_announced = 0; /* "Content-Length: 0" */
	if ((status = server_guard(c, &why)) != 0) {
		log_info("%s %s refused: %s", c->host, c->path, why);
		server_reply_problem(c, status,
		    status == 421 ? "host_refused" : "origin_refused", why);
		return (0);
	}
	if (c->req.method == HTTP_OPTIONS) {
		c->resp.status = 204;
		lws_callback_on_writable(wsi);
		return (0);
	}
	/* Health and the page of /ui/ need no token (the page asks). */
	if (strcmp(c->path, "/v1/health") != 0 &&
	    !(c->req.method == HTTP_GET && strncmp(c->path, "/ui", 3) == 0 &&
		(c->path[3] == '\0' || c->path[3] == '/')) &&
	    !server_authorized(wsi, c)) {
		server_reply_problem(
		    c, 401, "unauthorized", "missing or wrong bearer token");
		return (0);
	}
	kind = api_body_kind(&c->req);
	if (kind == API_BODY_JSON && (size_t)len > options.max_body) {
		server_reply_problem(c, 413, "payload_too_large",
		    "request body over the limit (--max-body)");
		return (0);
	}
	/* A raw route's type is checked even without a body: it writes. */
	if ((len > 0 || kind != API_BODY_JSON) &&
	    (why = guard_body_type(
		 c->content_type[0] != '\0' ? c->content_type : NULL, kind)) !=
		NULL) {
		server_reply_problem(c, 415, "unsupported_media_type", why);
		return (0);
	}
	if (kind != API_BODY_JSON)
		return (server_sink_open(wsi, c, len));
	if (len > 0) {
		c->body_cap = (size_t)len;
		c->body = xmalloc(c->body_cap + 1);
		/* lws re-arms its timeout at every chunk; this bounds the
     * whole body: the grace, then 64 KiB a second. */
		lws_set_timer_usecs(wsi,
		    (lws_usec_t)((options.body_grace + len / 65536.0) *
			LWS_US_PER_SEC));
		server_continue(wsi);
		return (0); /* wait for LWS_CALLBACK_HTTP_BODY */
	}
	return (server_dispatch(wsi, c));
}

/* A chunk of request body; bounded by Content-Length and --max-body. */
static int
server_http_body(struct lws *wsi, struct conn *c, const void *in, size_t len)
{
	if (c->sink != NULL) {
		if (c->sink_ops->write(c->sink, in, len, &c->resp) != 0) {
			/* The route refused (a full disk, a bad archive): answer
       * now and close, without reading the rest. */
			c->sink_ops->abort(c->sink);
			c->sink = NULL;
			c->body_refused = 1;
			lws_callback_on_writable(wsi);
		}
		return (0);
	}
	if (c->body_refused || c->body == NULL)
		return (0);
	if (len > c->body_cap - c->body_len) {
		c->body_refused = 1;
		server_reply_problem(c, 413, "payload_too_large",
		    "request body longer than its Content-Length");
		return (0);
	}
	memcpy(c->body + c->body_len, in, len);
	c->body_len += len;
	return (0);
}

/* c's socket takes bytes again: let lws read and write it. */
static void
server_drain_cb(int fd, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	loop_io_stop(c->drain);
	server_unmute(c);
	lws_callback_on_writable(c->wsi);
}

/*
 * More of c's reply body is to go. While its socket is full lws waits for
 * it to drain, but if it has read a request the client pipelined behind
 * this one, that request sits unparsed in its buffer and lws polls
 * without sleeping: 100% CPU for as long as a slow reader takes. So for
 * a full socket lws's reading is paused (as for a wait, server_watch),
 * and this connection waits for the socket itself; a client that hangs
 * up wakes it too, and lws's next write finds out.
 */
static void
server_more(struct lws *wsi, struct conn *c)
{
	if (!lws_send_pipe_choked(wsi)) {
		lws_callback_on_writable(wsi);
		return;
	}
	server_mute(c);
	if (c->drain == NULL)
		c->drain =
		    loop_io_new(lws_get_socket_fd(wsi), 1, server_drain_cb, c);
	loop_io_start(c->drain);
}

/*
 * The next chunk of an API_FILE reply, read from its descriptor into the
 * scratch buffer: 1 once the last is written, 0 to wait for the socket,
 * -1 to close. A file that shrinks while it is sent cannot keep the
 * Content-Length promised: the connection is closed, so the client sees
 * a short body rather than a wrong one.
 */
static int
server_file_writeable(struct lws *wsi, struct conn *c)
{
	unsigned char *buf;
	uint64_t       left = c->resp.file_len - c->file_sent;
	size_t	       chunk;
	ssize_t	       n;
	int	       final;

	chunk = left > SERVER_IO_CHUNK ? SERVER_IO_CHUNK : (size_t)left;
	buf = server_buffer(chunk);
	n = pread(c->resp.file_fd, buf, chunk,
	    (off_t)(c->resp.file_off + c->file_sent));
	if (n <= 0) {
		log_warn("%s: the file ended %llu bytes early: closed", c->path,
		    (unsigned long long)left);
		return (-1);
	}
	final = (uint64_t)n == left;
	if (lws_write(wsi, buf, (size_t)n,
		final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return (-1);
	c->file_sent += (uint64_t)n;
	/* A reader that takes nothing for the timeout is dropped; one that
   * reads slowly keeps its download, however long it takes. */
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, SERVER_STALL_S);
	if (!final) {
		server_more(wsi, c);
		return (0);
	}
	close(c->resp.file_fd);
	c->resp.file_fd = -1;
	return (1);
}

/* Write (more of) a plain reply. Returns -1 to close. */
static int
server_http_writeable(struct lws *wsi, struct conn *c)
{
	unsigned char *buf;
	size_t	       chunk;
	int	       final, r;

	if (c->closing)
		return (-1); /* a waiting client hung up */
	if (c->resp.status == 0)
		return (0); /* nothing to say yet */
	if (!c->headers_sent) {
		if (server_write_headers(wsi, c) != 0)
			return (-1);
		if (c->resp.len != 0 ||
		    (c->resp.kind == API_FILE && c->resp.file_len != 0)) {
			server_more(wsi, c);
			return (0);
		}
	}
	if (c->resp.kind == API_FILE && c->file_sent < c->resp.file_len &&
	    (r = server_file_writeable(wsi, c)) != 1)
		return (r);
	if (c->resp_off < c->resp.len) {
		chunk = c->resp.len - c->resp_off;
		if (chunk > SERVER_BATCH_BYTES)
			chunk = SERVER_BATCH_BYTES;
		final = c->resp_off + chunk == c->resp.len;
		buf = server_buffer(chunk);
		memcpy(buf,
		    (c->resp.static_body != NULL
			    ? (const char *)c->resp.static_body
			    : c->resp.body) +
			c->resp_off,
		    chunk);
		if (lws_write(wsi, buf, chunk,
			final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
		    (int)chunk)
			return (-1);
		metrics_sent(chunk);
		c->resp_off += chunk;
		if (!final) {
			server_more(wsi, c);
			return (0);
		}
	}
	if (c->body_refused)
		return (-1); /* do not read the rest of a refused body */
	if (lws_http_transaction_completed(wsi))
		return (-1);
	server_peer_wait(wsi); /* kept alive: waiting for the next request */
	return (0);
}

/* The last sequence of the journal c follows. */
static uint64_t
server_source_last(const struct conn *c)
{
	return (journal_last(c->journal));
}

static void
server_batch_drop(void)
{
	server_batch.valid = 0;
}

/* After a pass that built a batch around one huge event: give it back. */
static void
server_batch_trim_cb(void *arg)
{
	server_batch_trimming = 0;
	if (server_batch_cap <= 4 * SERVER_STREAM_BYTES)
		return;
	free(server_batch_buf);
	server_batch_buf = NULL;
	server_batch_cap = 0;
	server_batch_drop();
}

/* Room for need more bytes of frames, keeping those batched so far. */
static unsigned char *
server_batch_room(struct server_batch *b, size_t need)
{
	size_t cap;

	if (LWS_PRE + b->len + need > server_batch_cap) {
		cap = 2 * (LWS_PRE + b->len + need);
		server_batch_buf = xrealloc(server_batch_buf, cap);
		server_batch_cap = cap;
		if (cap > 4 * SERVER_STREAM_BYTES && !server_batch_trimming) {
			server_batch_trimming = 1;
			loop_defer(server_batch_trim_cb, NULL);
		}
	}
	return (server_batch_buf + LWS_PRE + b->len);
}

/* A WebSocket frame header (server frames are not masked); its length. */
static size_t
server_ws_header(unsigned char *p, unsigned char op, size_t body)
{
	size_t hl = body < 126 ? 2 : body < 65536 ? 4 : 10;
	int    i;

	p[0] = 0x80 | op; /* FIN */
	if (hl == 2)
		p[1] = (unsigned char)body;
	else if (hl == 4) {
		p[1] = 126;
		p[2] = (unsigned char)(body >> 8);
		p[3] = (unsigned char)body;
	} else {
		p[1] = 127;
		for (i = 0; i < 8; i++)
			p[2 + i] =
			    (unsigned char)((uint64_t)body >> (56 - 8 * i));
	}
	return (hl);
}

/*
 * One line into the batch: a WebSocket text frame of the event, or SSE's
 * lines (the event without "raw" is its line cut before it, closed with a
 * brace); a binary frame of what ops->frame makes of the line; nothing
 * for a line ops->keep skips, which the cursor passes all the same.
 */
static int
server_batch_cb(void *arg, uint64_t seq, enum event_type type, const char *line,
    size_t len, size_t noraw_len)
{
	struct server_batch *b = arg;
	unsigned char	    *p;
	size_t		     body, hl;
	char		     id[128];
	int		     idlen;

	if ((b->len >= SERVER_STREAM_BYTES && b->n > 0) ||
	    b->n == SERVER_STREAM_EVENTS)
		return (1);
	if (b->ops->keep != NULL && !b->ops->keep(b->obj, line, len)) {
		b->last = seq;
		return (0);
	}
	if (b->kind == CONN_WS && b->ops->frame != NULL) {
		/* At most the line's bytes, made after a 10-byte header's room. */
		p = server_batch_room(b, 10 + len);
		if (b->ops->frame(b->obj, line, len, (char *)p + 10, &body) !=
		    0)
			body = 0;
		hl = body < 126 ? 2 : body < 65536 ? 4 : 10;
		memmove(p + hl, p + 10, body);
		(void)server_ws_header(p, 0x2, body);
		b->len += hl + body;
		b->last = seq;
		b->n++;
		return (0);
	}
	body = b->raw ? len : noraw_len + 1;
	if (b->kind == CONN_WS) {
		p = server_batch_room(b, 10 + body);
		p += server_ws_header(p, 0x1, body);
	} else {
		idlen = snprintf(id, sizeof id,
		    "%s%s%sid: %llu\ndata: ", b->event != NULL ? "event: " : "",
		    b->event != NULL ? b->event : "",
		    b->event != NULL ? "\n" : "", (unsigned long long)seq);
		if (idlen < 0 || (size_t)idlen >= sizeof id)
			return (-1);
		p = server_batch_room(b, (size_t)idlen + body + 2);
		memcpy(p, id, (size_t)idlen);
		p += idlen;
	}
	memcpy(p, line, b->raw ? len : noraw_len);
	p += b->raw ? len : noraw_len;
	if (!b->raw)
		*p++ = '}'; /* close the object cut before "raw" */
	if (b->kind == CONN_SSE) {
		*p++ = '\n';
		*p++ = '\n';
	}
	b->len = (size_t)(p - (server_batch_buf + LWS_PRE));
	b->last = seq;
	b->n++;
	if (b->until && api_stream_stops(type)) {
		b->stop = 1;
		return (1);
	}
	return (0);
}

/*
 * The batch for c: the one built last if it is c's and still whole, else
 * a new one. -1 if the source could not be read.
 */
static struct server_batch *
server_batch_get(struct conn *c)
{
	struct server_batch *b = &server_batch;

	if (b->valid && b->src == c->journal && b->obj == c->src &&
	    b->ops == c->ops && b->after == c->cursor && b->kind == c->kind &&
	    b->raw == c->include_raw && b->until == c->until_turn_end &&
	    (b->last < b->upto || b->upto == server_source_last(c)))
		return (b);
	memset(b, 0, sizeof *b);
	b->src = c->journal;
	b->obj = c->src;
	b->ops = c->ops;
	b->after = b->last = c->cursor;
	b->kind = c->kind;
	b->raw = c->include_raw;
	b->until = c->until_turn_end;
	b->event = c->ops->event;
	b->upto = server_source_last(c);
	if (journal_read(c->journal, c->cursor, SERVER_STREAM_BYTES,
		server_batch_cb, b) < 0)
		return (NULL);
	b->valid = 1;
	return (b);
}

/*
 * Write c's next batch with one lws_write. Returns 1 if the cursor moved
 * (frames went, or lines the stream skips; more may follow), 0 if there
 * was nothing after it, -1 to close.
 */
static int
server_stream_write(struct conn *c)
{
	struct server_batch *b;

	if ((b = server_batch_get(c)) == NULL)
		return (-1);
	if (b->last == c->cursor)
		return (0);
	if (b->len > 0) {
		/* SSE and raw streams alike: lws defines LWS_WRITE_RAW as
		 * LWS_WRITE_HTTP. */
		if (lws_write(c->wsi, server_batch_buf + LWS_PRE, b->len,
			LWS_WRITE_HTTP) != (int)b->len)
			return (-1);
		metrics_sent(b->len);
	}
	c->cursor = b->last;
	if (b->stop)
		c->closing = 1;
	return (1);
}

/*
 * 1 if c must be written again: the source has lines after c's cursor,
 * or it is dead (its end, or its last word, is still to go out; the wake
 * that told of its death may have come with the lines just written).
 */
static int
server_stream_more(const struct conn *c)
{
	return (c->cursor < server_source_last(c) || c->ops->dead(c->src));
}

/* Write the next events to an SSE client. Returns -1 to close. */
static int
server_sse_writeable(struct lws *wsi, struct conn *c)
{
	unsigned char *buf;
	int	       r;

	if (c->closing)
		return (lws_partial_buffered(wsi) ? 0 : -1);
	if (!c->headers_sent) {
		if (server_write_headers(wsi, c) != 0)
			return (-1);
		c->live = 1;
		lws_callback_on_writable(wsi);
		return (0);
	}
	if (lws_partial_buffered(wsi))
		return (0); /* lws calls again once it has written it */
	if ((r = server_stream_write(c)) < 0)
		return (-1);
	if (r == 0 && c->heartbeat) {
		buf = server_buffer(16);
		memcpy(buf, ":\n\n", 3);
		if (lws_write(wsi, buf, 3, LWS_WRITE_HTTP) != 3)
			return (-1);
		metrics_sent(3);
	}
	c->heartbeat = 0;
	if (r == 0 && c->ops->dead(c->src))
		return (-1);
	if (c->closing || (r > 0 && server_stream_more(c)))
		lws_callback_on_writable(wsi);
	return (0);
}

/*
 * One complete client command on a WebSocket: api.c runs it as its route
 * would and gives the reply frame, queued to go out before any further
 * event.
 */
static int
server_ws_queue(struct conn *c, char *frame)
{
	if (frame == NULL)
		return (0);
	if (c->nreplies == SERVER_MAX_REPLIES) {
		/* Not reached: reading stops while the queue is full. */
		free(frame);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
		    (unsigned char *)"too many commands unanswered", 28);
		return (-1);
	}
	c->replies[c->nreplies++] = frame;
	/*
	 * Every command is answered: with the queue full, lws is told to
	 * read no more commands (it keeps the rest of what it read) until
	 * the replies have gone out (server_ws_replies). A client that
	 * sends without reading is held by TCP, not answered less.
	 */
	if (c->nreplies == SERVER_MAX_REPLIES)
		server_mute(c);
	lws_callback_on_writable(c->wsi);
	return (0);
}

/*
 * One complete client message on a WebSocket (text NULL: a binary one).
 * A source with its own commands (a terminal) runs them itself; else
 * api.c runs the session command as its route would. The reply frame is
 * queued to go out before any further event. Returns -1 when the source
 * asks to close, -2 when the reply cannot be queued.
 */
static int
server_ws_command(struct conn *c, const char *text, size_t len)
{
	int close = 0;

	if (c->ops != NULL && c->ops->command != NULL) {
		if (server_ws_queue(
			c, c->ops->command(c->src, text, len, &close)) != 0)
			return (-2);
		return (close ? -1 : 0);
	}
	return (server_ws_queue(c, api_ws_command(c->session, text, len)) != 0
		? -2
		: 0);
}

/* A WebSocket fragment arrived; commands are capped at 1 MiB. */
static int
server_ws_receive(struct lws *wsi, struct conn *c, const void *in, size_t len)
{
	int r, binary;

	if (c->msg_len + len > SERVER_WS_MAX_MESSAGE) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    (unsigned char *)"command too large", 17);
		return (-1);
	}
	c->msg = xrealloc(c->msg, c->msg_len + len + 1);
	memcpy(c->msg + c->msg_len, in, len);
	c->msg_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return (0);
	/* A terminal refuses binary input; a session reads it as text. */
	binary = lws_frame_is_binary(wsi) && c->ops != NULL &&
	    c->ops->command != NULL;
	r = server_ws_command(c, binary ? NULL : c->msg, c->msg_len);
	free(c->msg);
	c->msg = NULL;
	c->msg_len = 0;
	if (r == -1)
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
	return (r != 0 ? -1 : 0);
}

/* Write the queued command replies, one frame each. */
static int
server_ws_replies(struct lws *wsi, struct conn *c)
{
	unsigned char *buf;
	size_t	       len;
	int	       i;

	while (c->nreplies > 0 && !lws_partial_buffered(wsi)) {
		len = strlen(c->replies[0]);
		buf = server_buffer(len);
		memcpy(buf, c->replies[0], len);
		free(c->replies[0]);
		for (i = 1; i < c->nreplies; i++)
			c->replies[i - 1] = c->replies[i];
		c->nreplies--;
		if (lws_write(wsi, buf, len, LWS_WRITE_TEXT) != (int)len)
			return (-1);
		metrics_sent(len);
		server_buffer_trim();
	}
	if (c->nreplies == 0)
		server_unmute(c); /* read commands again */
	return (0);
}

/*
 * Replies first, then the next batch of events in one write, unless lws
 * still holds bytes of the last one (it calls again once they are out).
 * The cursor moves past every frame handed to lws. A source that is dead
 * and has nothing more says its last word (ops->bye), then a normal close.
 */
static int
server_ws_writeable(struct lws *wsi, struct conn *c)
{
	int r;

	if (server_ws_replies(wsi, c) != 0)
		return (-1);
	if (lws_partial_buffered(wsi))
		return (0);
	if (c->closing) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return (-1);
	}
	if ((r = server_stream_write(c)) < 0)
		return (-1);
	if (r == 0) {
		if (!c->ops->dead(c->src))
			return (0);
		if (c->ops->bye == NULL)
			return (-1);
		if (server_ws_queue(c, c->ops->bye(c->src)) != 0)
			return (-1);
		c->closing = 1;
		return (0);
	}
	if (server_stream_more(c))
		lws_callback_on_writable(wsi);
	return (0);
}

/*
 * The route refused an authorised upgrade (no such process, not a
 * terminal): tell the client why, as the HTTP route would, before lws
 * closes the connection (it has no way to answer a refused upgrade). The
 * answer is small and goes straight to a fresh socket; if it does not
 * fit, the client sees the close alone.
 */
static void
server_ws_refuse(struct lws *wsi, struct conn *c)
{
	char   head[256];
	int    n;
	size_t len = c->resp.body != NULL ? c->resp.len : 0;

	if (c->resp.kind != API_REPLY || c->resp.status < 400)
		return;
	n = snprintf(head, sizeof head,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n",
	    c->resp.status, c->resp.status == 404 ? "Not Found" : "Refused",
	    c->resp.content_type != NULL ? c->resp.content_type
					 : "application/problem+json",
	    len);
	if (n <= 0 || (size_t)n >= sizeof head)
		return;
	if (send(lws_get_socket_fd(wsi), head, (size_t)n,
		MSG_NOSIGNAL | MSG_DONTWAIT) == n &&
	    len > 0)
		(void)send(lws_get_socket_fd(wsi), c->resp.body, len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A WebSocket upgrade: route and authorise it like an HTTP request. */
static int
server_ws_filter(struct lws *wsi, struct conn *c)
{
	const char *why;
	char	    uri[512];

	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0)
		return (-1);
	if (server_read_request(wsi, c, uri) != 0)
		return (-1);
	c->req.websocket = 1;
	if (server_guard(c, &why) != 0) {
		log_info("websocket %s refused: %s", c->path, why);
		return (-1);
	}
	if (!server_authorized(wsi, c)) {
		log_info("websocket %s refused: bad token", c->path);
		return (-1);
	}
	metrics_request();
	api_handle(&c->req, &c->resp);
	if (c->resp.kind != API_STREAM) {
		log_info("websocket %s refused: %d", c->path, c->resp.status);
		server_ws_refuse(wsi, c);
		return (-1);
	}
	c->kind = CONN_WS;
	server_take_source(c);
	c->cursor = c->resp.offset;
	c->include_raw = c->resp.include_raw;
	server_subscribe(c);
	if (c->ops->hello != NULL) /* the first reply: it fits */
		(void)server_ws_queue(c, c->ops->hello(c->src));
	return (0);
}

static int
server_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return (server_http(wsi, c, in, len));
	case LWS_CALLBACK_HTTP_BODY:
		return (server_http_body(wsi, c, in, len));
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (c->sink != NULL) {
			server_sink_finish(c);
			return (0);
		}
		if (c->kind == CONN_SSE && c->body_done) {
			/*
			 * Again: lws read bytes the client sent behind the
			 * body of a request answered with a stream (pipelined
			 * with it), and will poll without sleeping while they
			 * sit in its buffer. A stream takes no input: close.
			 */
			log_info("%s: bytes after the body of a stream: closed",
			    c->path);
			return (-1);
		}
		c->body_done = 1;
		if (c->body_refused || c->dispatched)
			return (0);
		if (c->body != NULL)
			c->body[c->body_len] = '\0';
		return (server_dispatch(wsi, c));
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c->kind == CONN_SSE)
			return (server_sse_writeable(wsi, c));
		return (server_http_writeable(wsi, c));
	case LWS_CALLBACK_TIMER:
		if (c->kind == CONN_HTTP &&
		    ((c->body != NULL && !c->dispatched) || c->sink != NULL)) {
			log_info("%s: request body too slow: closed", c->path);
			return (-1);
		}
		if (c->kind == CONN_SSE) {
			c->heartbeat = 1;
			lws_callback_on_writable(wsi);
			lws_set_timer_usecs(wsi, SERVER_HEARTBEAT_US);
		}
		return (0);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return (server_ws_filter(wsi, c));
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
		server_peer_new(wsi);
		return (0);
	case LWS_CALLBACK_WSI_DESTROY:
		server_peer_free(wsi);
		return (0);
	case LWS_CALLBACK_ESTABLISHED:
		server_peer_serve(wsi);
		c->wsi = wsi;
		c->live = 1;
		lws_callback_on_writable(wsi);
		return (0);
	case LWS_CALLBACK_RECEIVE:
		return (server_ws_receive(wsi, c, in, len));
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		c->live = 0; /* nothing may follow lws's close frame */
		return (0);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return (server_ws_writeable(wsi, c));
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_CLOSED:
		if (c != NULL)
			server_conn_release(c);
		return (0);
	default:
		break;
	}
	return (lws_callback_http_dummy(wsi, reason, user, in, len));
}
