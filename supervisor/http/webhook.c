/*
 * webhook.c: push delivery. Each session that names a webhook (its own
 * "webhook" at create, or the daemon's --webhook) has its events POSTed
 * to that URL, in order, in batches:
 *
 *   POST /path HTTP/1.1
 *   Content-Type: application/json
 *   X-Agentd-Session: <id>
 *   X-Agentd-Sequence: <first>-<last>
 *   X-Agentd-Signature: sha256=<hex HMAC-SHA256 of the body>  (with a secret)
 *
 *   {"session_id":"<id>","first_sequence":F,"last_sequence":L,
 *    "events":[<event>,…]}
 *
 * Invariants: one request at a time per session, each batch starting right
 * after the last sequence the receiver acknowledged (a 2xx answer), so
 * events arrive in order and none is skipped; a failure (connect error,
 * timeout, any other status) sends the same batch again after an
 * exponential backoff (WEBHOOK_BACKOFF_MIN doubling to WEBHOOK_BACKOFF_MAX)
 * for as long as it takes. The acknowledged sequence is saved in
 * session.json (session.c, at most a second late), so a restarted agentd
 * resumes from it: at-least-once, never out of order, never lost; the
 * receiver deduplicates by sequence.
 *
 * A delivery is a journal subscriber, like an SSE client: it reads from
 * its cursor when woken, so a slow or dead receiver never slows the agent
 * and costs a cursor, not a copy of the log.
 *
 * The HTTP client is libwebsockets' (one client context of its own on the
 * libev loop; server.c has the server's, client.c attach's). The build has
 * no TLS: URLs are http:// only (docs/deploy.md: a local relay for
 * https). A host name is resolved by lws with getaddrinfo, which blocks
 * the loop: name the receiver by IP address or in /etc/hosts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "http.h"

#define WEBHOOK_BODY_MAX    (1024 * 1024) /* a batch, unless one event is more */
#define WEBHOOK_BACKOFF_MIN 0.5
#define WEBHOOK_BACKOFF_MAX 30.0
#define WEBHOOK_TIMEOUT_S   10.0 /* connect, send and answer */
#define WEBHOOK_WRITE_MAX   (16 * 1024)

struct webhook {
	struct session	   *s; /* referenced */
	struct journal_sub *sub;
	struct lws	   *wsi;   /* the request in flight, or NULL */
	uint64_t	    first; /* its sequences */
	uint64_t	    last;
	char		   *body;
	size_t		    len;
	size_t		    off;
	char		    sig[8 + SHA256_LEN * 2 + 1];
	char		    host[300]; /* for Host: */
	char		    seqs[48];
	int		    status; /* the answer's, 0 until it came */
	unsigned int	    failures;
	struct loop_timer  *retry;
	struct loop_timer  *timeout;
	int		    gone;
	LIST_ENTRY(webhook) entry;
};

static LIST_HEAD(, webhook) webhooks = LIST_HEAD_INITIALIZER(webhooks);
static struct lws_context *webhook_context;
#ifdef AGENTD_DEV_LWS
static struct loop_timer *webhook_kick_timer;
#endif

static int
webhook_cb(struct lws *, enum lws_callback_reasons, void *, void *, size_t);
static void webhook_send(struct webhook *);

static const struct lws_protocols webhook_protocols[] = {
	{ "agentd-webhook", webhook_cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
webhook_log_cb(int level, const char *line)
{
	server_log_lws(level == LLL_ERR ? LOG_WARN : LOG_DEBUG, line);
}

#ifdef AGENTD_DEV_LWS
/* Debian's lws misses libev timer re-arms (see server.c): wake it. */
static void
webhook_kick_cb(void *arg)
{
	if (webhook_context != NULL)
		lws_cancel_service(webhook_context);
	loop_timer_set(webhook_kick_timer, 1.0);
}
#endif

/* The client context, made at the first delivery. */
static struct lws_context *
webhook_lws(void)
{
	struct lws_context_creation_info info;
	void				*loops[1];

	if (webhook_context != NULL)
		return (webhook_context);
	memset(&info, 0, sizeof info);
	loops[0] = loop_get();
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = webhook_protocols;
	info.options = LWS_SERVER_OPTION_LIBEV;
	info.foreign_loops = loops;
	info.timeout_secs = (unsigned int)WEBHOOK_TIMEOUT_S;
	info.connect_timeout_secs = (unsigned int)WEBHOOK_TIMEOUT_S;
	lws_set_log_level(LLL_ERR | LLL_WARN, webhook_log_cb);
	if ((webhook_context = lws_create_context(&info)) == NULL)
		log_error("cannot create the webhook client");
#ifdef AGENTD_DEV_LWS
	webhook_kick_timer = loop_timer_new(webhook_kick_cb, NULL);
	loop_timer_set(webhook_kick_timer, 1.0);
#endif
	return (webhook_context);
}

/* Split http://host[:port][/path] (host may be [v6]); -1 if malformed. */
static int
webhook_url(
    const char *url, char *host, size_t hlen, int *port, const char **path)
{
	const char *h, *end, *colon;
	size_t	    n;
	char	   *e;
	long	    p = 80;

	if (strncmp(url, "http://", 7) != 0)
		return (-1);
	h = url + 7;
	end = h + strcspn(h, "/?#");
	*path = *end == '/' ? end : "/";
	if (*h == '[') {
		if ((colon = memchr(h, ']', (size_t)(end - h))) == NULL)
			return (-1);
		n = (size_t)(colon - h - 1);
		h++;
		colon++;
		if (colon < end && *colon != ':')
			return (-1);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon != NULL ? colon : end) - h);
	}
	if (n == 0 || n >= hlen)
		return (-1);
	memcpy(host, h, n);
	host[n] = '\0';
	if (colon != NULL && colon < end && *colon == ':') {
		p = strtol(colon + 1, &e, 10);
		if (e != end || p < 1 || p > 65535)
			return (-1);
	}
	*port = (int)p;
	return (0);
}

/* Collect a batch: events after the acknowledged one, without raw. */
struct webhook_batch {
	struct buf   b;
	unsigned int n;
	unsigned int max;
	uint64_t     last;
};

static int
webhook_batch_cb(void *arg, uint64_t seq, enum event_type type,
    const char *line, size_t len, size_t noraw_len)
{
	struct webhook_batch *w = arg;

	if (w->n == w->max ||
	    (w->n > 0 && w->b.len + noraw_len > WEBHOOK_BODY_MAX))
		return (1);
	if (w->n > 0)
		buf_add(&w->b, ",", 1);
	/* line[0..noraw_len) + "}" is the event without raw (event.c). */
	buf_add(&w->b, line, noraw_len);
	buf_add(&w->b, "}", 1);
	w->n++;
	w->last = seq;
	return (0);
}

/* The wall-clock time seconds from now, in ms. */
static int64_t
webhook_at(double seconds)
{
	return (loop_wall_ms() + (int64_t)(seconds * 1000));
}

static void
webhook_retry_cb(void *arg)
{
	webhook_send(arg);
}

/*
 * The batch in flight is over: acknowledged (err NULL), or failed and
 * sent again after the backoff.
 */
static void
webhook_done(struct webhook *d, const char *err)
{
	double	     delay;
	char	     why[160];
	unsigned int k;

	if (d->wsi != NULL)
		lws_set_opaque_user_data(d->wsi, NULL);
	d->wsi = NULL;
	loop_timer_stop(d->timeout);
	free(d->body);
	d->body = NULL;
	if (d->gone)
		return;
	if (err == NULL) {
		if (d->failures > 0)
			log_info("session %s: webhook delivers again after %u "
				 "failure%s",
			    session_name(d->s), d->failures,
			    d->failures == 1 ? "" : "s");
		d->failures = 0;
		session_webhook_acked(d->s, d->last);
		session_webhook_report(d->s, "idle", NULL, 0, 0);
		webhook_send(d); /* the next batch, if any */
		return;
	}
	d->failures++;
	delay = WEBHOOK_BACKOFF_MIN;
	for (k = 1; k < d->failures && delay < WEBHOOK_BACKOFF_MAX; k++)
		delay *= 2;
	if (delay > WEBHOOK_BACKOFF_MAX)
		delay = WEBHOOK_BACKOFF_MAX;
	snprintf(why, sizeof why, "%s (events %s)", err, d->seqs);
	if (d->failures == 1)
		log_warn("session %s: webhook: %s; retrying with backoff",
		    session_name(d->s), why);
	session_webhook_report(
	    d->s, "retrying", why, d->failures, webhook_at(delay));
	loop_timer_set(d->retry, delay);
}

static void
webhook_timeout_cb(void *arg)
{
	struct webhook *d = arg;

	if (d->wsi != NULL) /* lws closes it; its callbacks find no d */
		lws_set_timeout(
		    d->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	webhook_done(d, "no answer in time");
}

/* POST the next batch, unless one is in flight or waits for its retry. */
static void
webhook_send(struct webhook *d)
{
	struct lws_client_connect_info i;
	struct session_webhook	       w;
	struct webhook_batch	       b;
	struct lws_context	      *ctx;
	unsigned char		       mac[SHA256_LEN];
	char			       host[256], *head;
	const char		      *path;
	int			       port;
	size_t			       hlen;

	if (d->gone || d->wsi != NULL || loop_timer_pending(d->retry) ||
	    session_webhook(d->s, &w) != 0)
		return;
	if (w.acked >= session_last_seq(d->s))
		return;
	if (webhook_url(w.url, host, sizeof host, &port, &path) != 0) {
		session_webhook_report(
		    d->s, "failing", "the webhook URL is malformed", 0, 0);
		return;
	}
	memset(&b, 0, sizeof b);
	buf_init(&b.b, 256UL * 1024 * 1024);
	b.max = w.batch;
	if (session_read(
		d->s, w.acked, WEBHOOK_BODY_MAX, webhook_batch_cb, &b) < 0 ||
	    b.n == 0) {
		buf_free(&b.b);
		webhook_done(d, "cannot read the session's log");
		return;
	}
	d->first = w.acked + 1;
	d->last = b.last;
	xasprintf(&head,
	    "{\"session_id\":\"%s\",\"first_sequence\":%llu,"
	    "\"last_sequence\":%llu,\"events\":[",
	    session_name(d->s), (unsigned long long)d->first,
	    (unsigned long long)d->last);
	hlen = strlen(head);
	d->len = hlen + b.b.len + 2;
	d->body = xmalloc(d->len + 1);
	memcpy(d->body, head, hlen);
	memcpy(d->body + hlen, b.b.p, b.b.len);
	memcpy(d->body + hlen + b.b.len, "]}", 3);
	free(head);
	buf_free(&b.b);
	d->off = 0;
	d->status = 0;
	d->sig[0] = '\0';
	if (w.secret != NULL) {
		sha256_hmac(w.secret, strlen(w.secret), d->body, d->len, mac);
		memcpy(d->sig, "sha256=", 7);
		sha256_hex(mac, sizeof mac, d->sig + 7);
	}
	snprintf(d->seqs, sizeof d->seqs, "%llu-%llu",
	    (unsigned long long)d->first, (unsigned long long)d->last);
	if (strchr(host, ':') != NULL)
		snprintf(d->host, sizeof d->host, "[%s]:%d", host, port);
	else
		snprintf(d->host, sizeof d->host, "%s:%d", host, port);

	if ((ctx = webhook_lws()) == NULL) {
		webhook_done(d, "no HTTP client");
		return;
	}
	memset(&i, 0, sizeof i);
	i.context = ctx;
	i.address = host;
	i.port = port;
	i.path = path;
	i.host = d->host;
	i.method = "POST";
	i.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	i.local_protocol_name = webhook_protocols[0].name;
	i.opaque_user_data = d;
	i.pwsi = &d->wsi;
	session_webhook_report(d->s, "sending", NULL, d->failures, 0);
	loop_timer_set(d->timeout, WEBHOOK_TIMEOUT_S);
	/* A connect that fails at once may have told the callback already
	 * (then the batch is gone from d). */
	if (lws_client_connect_via_info(&i) == NULL && d->body != NULL) {
		d->wsi = NULL;
		webhook_done(d, "cannot connect");
	}
}

/* The headers of a POST: type, length, session, sequences, signature. */
static int
webhook_headers(
    struct lws *wsi, struct webhook *d, unsigned char **p, unsigned char *end)
{
	char len[24];

	snprintf(len, sizeof len, "%zu", d->len);
	if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
		(const unsigned char *)"application/json", 16, p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
		(const unsigned char *)len, (int)strlen(len), p, end) ||
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"x-agentd-session:",
		(const unsigned char *)session_name(d->s),
		(int)strlen(session_name(d->s)), p, end) ||
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"x-agentd-sequence:",
		(const unsigned char *)d->seqs, (int)strlen(d->seqs), p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_USER_AGENT,
		(const unsigned char *)"agentd/" AGENTD_VERSION,
		(int)strlen("agentd/" AGENTD_VERSION), p, end))
		return (-1);
	if (d->sig[0] != '\0' &&
	    lws_add_http_header_by_name(wsi,
		(const unsigned char *)"x-agentd-signature:",
		(const unsigned char *)d->sig, (int)strlen(d->sig), p, end))
		return (-1);
	lws_client_http_body_pending(wsi, 1);
	lws_callback_on_writable(wsi);
	return (0);
}

/* Write (more of) the body; the last piece is FINAL. */
static int
webhook_write(struct lws *wsi, struct webhook *d)
{
	unsigned char buf[LWS_PRE + WEBHOOK_WRITE_MAX];
	size_t	      n = d->len - d->off;
	int	      final;

	if (d->body == NULL || d->off == d->len)
		return (0);
	if (n > WEBHOOK_WRITE_MAX)
		n = WEBHOOK_WRITE_MAX;
	final = d->off + n == d->len;
	memcpy(buf + LWS_PRE, d->body + d->off, n);
	if (lws_write(wsi, buf + LWS_PRE, n,
		final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return (-1);
	d->off += n;
	if (final)
		lws_client_http_body_pending(wsi, 0);
	else
		lws_callback_on_writable(wsi);
	return (0);
}

static int
webhook_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct webhook *d = lws_get_opaque_user_data(wsi);
	char		buf[LWS_PRE + 1024], *p = buf + LWS_PRE, why[64];
	int		n = (int)sizeof buf - LWS_PRE;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (d == NULL)
			return (-1);
		return (webhook_headers(wsi, d, (unsigned char **)in,
		    (unsigned char *)*(unsigned char **)in + len));
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		return (d == NULL ? -1 : webhook_write(wsi, d));
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		if (d != NULL)
			d->status = (int)lws_http_client_http_response(wsi);
		return (0);
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
		/* The answer's body is read and dropped. */
		if (lws_http_client_read(wsi, &p, &n) < 0)
			return (-1);
		return (0);
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		return (0);
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (d == NULL)
			return (-1);
		if (d->status >= 200 && d->status < 300)
			webhook_done(d, NULL);
		else {
			snprintf(why, sizeof why, "HTTP status %d", d->status);
			webhook_done(d, why);
		}
		return (-1); /* one request a connection */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (d != NULL)
			webhook_done(d,
			    in != NULL ? (const char *)in
				       : "connection failed");
		return (0);
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (d != NULL)
			webhook_done(d,
			    "the connection closed before an "
			    "answer");
		return (0);
	default:
		break;
	}
	return (lws_callback_http_dummy(wsi, reason, user, in, len));
}

static void
webhook_free_cb(void *arg)
{
	struct webhook *d = arg;

	session_unref(d->s);
	free(d);
}

/* The session grew, or died. */
static void
webhook_wake_cb(void *arg)
{
	struct webhook *d = arg;

	if (d->gone)
		return;
	if (!session_is_dead(d->s)) {
		webhook_send(d);
		return;
	}
	/* Deleted: nothing is left to deliver. */
	d->gone = 1;
	journal_unsubscribe(d->sub);
	d->sub = NULL;
	if (d->wsi != NULL) {
		lws_set_opaque_user_data(d->wsi, NULL);
		lws_set_timeout(
		    d->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		d->wsi = NULL;
	}
	free(d->body);
	loop_timer_free(d->retry);
	loop_timer_free(d->timeout);
	LIST_REMOVE(d, entry);
	loop_defer(webhook_free_cb, d);
}

/* A session was created or loaded: follow it if it has a webhook. */
static void
webhook_added_cb(void *arg, struct session *s)
{
	struct session_webhook w;
	struct webhook	      *d;

	if (session_webhook(s, &w) != 0)
		return;
	d = xcalloc(1, sizeof *d);
	d->s = s;
	session_ref(s);
	d->retry = loop_timer_new(webhook_retry_cb, d);
	d->timeout = loop_timer_new(webhook_timeout_cb, d);
	LIST_INSERT_HEAD(&webhooks, d, entry);
	d->sub = journal_subscribe(session_journal(s), webhook_wake_cb, d);
}

/* Follow every session from now on (main.c, after loading them). */
void
webhook_start(void)
{
	session_on_added(webhook_added_cb, NULL);
}

/* agentd stops: requests in flight are dropped (sent again next time). */
void
webhook_stop(void)
{
	struct webhook *d;

	LIST_FOREACH(d, &webhooks, entry) {
		if (d->wsi != NULL)
			lws_set_opaque_user_data(d->wsi, NULL);
		d->wsi = NULL;
		d->gone = 1;
	}
#ifdef AGENTD_DEV_LWS
	loop_timer_free(webhook_kick_timer);
	webhook_kick_timer = NULL;
#endif
	if (webhook_context != NULL)
		lws_context_destroy(webhook_context);
	webhook_context = NULL;
}
