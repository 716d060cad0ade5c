/*
 * client.c: the WebSocket client side of libwebsockets, for agentd
 * attach. With server.c, the only files that include libwebsockets.
 *
 * One lws context per client, on the libev loop as a foreign loop, no
 * listening port, one connection at a time. Frames are reassembled and
 * handed up whole; messages to send wait in a queue and go out one per
 * WRITEABLE callback, as lws wants. What happens when the connection
 * drops (reconnect, give up) is the caller's business: closed says so,
 * and client_connect may be called again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "cli.h"

#define SERVER_CLIENT_MAX_MESSAGE (64 * 1024 * 1024)

struct client_msg {
	char  *text;
	size_t len;
	TAILQ_ENTRY(client_msg) entry;
};

struct client {
	struct lws_context	*context;
	struct lws		*wsi;
	const struct client_cbs *cbs;
	void			*arg;
	char			*auth; /* "Bearer T", or NULL */
	int			 connected;
	int			 closing;
	char			*msg; /* frame being received */
	size_t			 msg_len;
	TAILQ_HEAD(, client_msg) out;
#ifdef AGENTD_DEV_LWS
	struct loop_timer *kick;
#endif
};

static int
client_cb(struct lws *, enum lws_callback_reasons, void *, void *, size_t);

static const struct lws_protocols client_protocols[] = {
	{ "agentd-client", client_cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* A server that answers no ping for 60 s is gone. */
static const lws_retry_bo_t client_retry = {
	.secs_since_valid_ping = 20,
	.secs_since_valid_hangup = 60,
};

static void
client_log_cb(int level, const char *line)
{
	server_log_lws(LOG_DEBUG, line);
}

#ifdef AGENTD_DEV_LWS
/* Debian's lws misses libev timer re-arms (see server.c): wake it. */
static void
client_kick_cb(void *arg)
{
	struct client *c = arg;

	lws_cancel_service(c->context);
	loop_timer_set(c->kick, 1.0);
}
#endif

struct client *
client_new(const struct client_cbs *cbs, void *arg, char **cause)
{
	struct lws_context_creation_info info;
	struct client			*c;
	void				*loops[1];

	c = xcalloc(1, sizeof *c);
	c->cbs = cbs;
	c->arg = arg;
	TAILQ_INIT(&c->out);
	lws_set_log_level(LLL_ERR | LLL_WARN, client_log_cb);
	memset(&info, 0, sizeof info);
	loops[0] = loop_get();
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = client_protocols;
	info.options = LWS_SERVER_OPTION_LIBEV;
#if defined(LWS_WITH_TLS)
	info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
#endif
	info.foreign_loops = loops;
	info.user = c;
	info.retry_and_idle_policy = &client_retry;
	if ((c->context = lws_create_context(&info)) == NULL) {
		*cause = xstrdup("cannot create the WebSocket client");
		free(c);
		return (NULL);
	}
#ifdef AGENTD_DEV_LWS
	c->kick = loop_timer_new(client_kick_cb, c);
	loop_timer_set(c->kick, 1.0);
#endif
	return (c);
}

/* Open ws://host:port/path (wss with tls); token may be NULL. */
int
client_connect(struct client *c, const char *host, int port, int tls,
    const char *path, const char *token, char **cause)
{
	struct lws_client_connect_info i;
	char			       hostport[300];

	if (c->wsi != NULL) {
		*cause = xstrdup("already connected");
		return (-1);
	}
#if !defined(LWS_WITH_TLS)
	if (tls) {
		*cause = xstrdup("this agentd is built without TLS: use "
				 "http:// (or a local tunnel)");
		return (-1);
	}
#endif
	free(c->auth);
	c->auth = NULL;
	if (token != NULL)
		xasprintf(&c->auth, "Bearer %s", token);
	if ((!tls && port == 80) || (tls && port == 443))
		snprintf(hostport, sizeof hostport, "%s", host);
	else if (strchr(host, ':') != NULL)
		snprintf(hostport, sizeof hostport, "[%s]:%d", host, port);
	else
		snprintf(hostport, sizeof hostport, "%s:%d", host, port);
	memset(&i, 0, sizeof i);
	i.context = c->context;
	i.address = host;
	i.port = port;
	i.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
	i.path = path;
	i.host = hostport;
	i.origin = hostport;
	i.protocol = NULL; /* no Sec-WebSocket-Protocol: the default */
	i.local_protocol_name = client_protocols[0].name;
	i.pwsi = &c->wsi;
	c->closing = 0;
	c->connected = 0;
	if (lws_client_connect_via_info(&i) == NULL) {
		c->wsi = NULL;
		xasprintf(cause, "cannot connect to %s", hostport);
		return (-1);
	}
	return (0);
}

/* Queue one text frame; it goes out when the socket can take it. */
int
client_send(struct client *c, const char *text, size_t len)
{
	struct client_msg *m;

	if (c->wsi == NULL || !c->connected)
		return (-1);
	m = xcalloc(1, sizeof *m);
	m->text = xmalloc(LWS_PRE + len);
	memcpy(m->text + LWS_PRE, text, len);
	m->len = len;
	TAILQ_INSERT_TAIL(&c->out, m, entry);
	lws_callback_on_writable(c->wsi);
	return (0);
}

static void
client_flush(struct client *c)
{
	struct client_msg *m;

	while ((m = TAILQ_FIRST(&c->out)) != NULL) {
		TAILQ_REMOVE(&c->out, m, entry);
		free(m->text);
		free(m);
	}
	free(c->msg);
	c->msg = NULL;
	c->msg_len = 0;
}

/* Close the connection (closed is called when it is gone). */
void
client_close(struct client *c)
{
	if (c->wsi == NULL)
		return;
	c->closing = 1;
	lws_callback_on_writable(c->wsi);
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
#ifdef AGENTD_DEV_LWS
	loop_timer_free(c->kick);
#endif
	c->cbs = NULL;
	lws_context_destroy(c->context);
	client_flush(c);
	free(c->auth);
	free(c);
}

/* The connection is gone (or never was): tell the caller once. */
static void
client_lost(struct client *c, const char *why)
{
	c->wsi = NULL;
	c->connected = 0;
	client_flush(c);
	if (c->cbs != NULL)
		c->cbs->closed(c->arg, why);
}

static int
client_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct client	  *c;
	struct client_msg *m;
	unsigned char	 **p, *end;

	c = lws_context_user(lws_get_context(wsi));
	if (c == NULL)
		return (0);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (c->auth == NULL)
			break;
		p = (unsigned char **)in;
		end = *p + len;
		if (lws_add_http_header_by_token(wsi,
			WSI_TOKEN_HTTP_AUTHORIZATION, (unsigned char *)c->auth,
			(int)strlen(c->auth), p, end))
			return (-1);
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->connected = 1;
		if (c->cbs != NULL)
			c->cbs->connected(c->arg);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c->msg_len + len > SERVER_CLIENT_MAX_MESSAGE)
			return (-1);
		c->msg = xrealloc(c->msg, c->msg_len + len + 1);
		memcpy(c->msg + c->msg_len, in, len);
		c->msg_len += len;
		c->msg[c->msg_len] = '\0';
		if (!lws_is_final_fragment(wsi) ||
		    lws_remaining_packet_payload(wsi))
			break;
		if (c->cbs != NULL)
			c->cbs->message(c->arg, c->msg, c->msg_len);
		free(c->msg);
		c->msg = NULL;
		c->msg_len = 0;
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->closing) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
			return (-1);
		}
		if ((m = TAILQ_FIRST(&c->out)) == NULL)
			break;
		TAILQ_REMOVE(&c->out, m, entry);
		if (lws_write(wsi, (unsigned char *)m->text + LWS_PRE, m->len,
			LWS_WRITE_TEXT) != (int)m->len) {
			free(m->text);
			free(m);
			return (-1);
		}
		free(m->text);
		free(m);
		if (!TAILQ_EMPTY(&c->out))
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		client_lost(
		    c, in != NULL ? (const char *)in : "connection failed");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		client_lost(c, NULL);
		break;
	default:
		break;
	}
	return (0);
}
