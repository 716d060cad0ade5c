/*
 * loadgen.c: the benchmark's load generator.
 *
 *   loadgen ws|sse --port P --path PATH [--host H] [--clients N]
 *       [--until STR] [--expect N --match STR] [--post PATH --body JSON]
 *       [--header "Name: value"]... [--timeout S]
 *
 * Opens N WebSocket (lws client, lws's own poll loop) or SSE (plain
 * non-blocking sockets on epoll) clients to one URL. Once every client is
 * connected it sends the optional POST (on its own socket, the answer is
 * not waited for: sandbox-agent answers a session/prompt only at the end
 * of the turn) and starts the clock. A client is done at the first frame
 * containing --until, or when it has seen --expect frames containing
 * --match. Every client checks that the sequences it gets are contiguous
 * ("sequence":N in a WebSocket frame, the "id:" line of an SSE event).
 * A frame carrying "@ts:<ns>" (tests/bench/tsagent.c), and --sample STR
 * if given (agentd's item.completed repeats every stamp of the message),
 * gives one latency sample: CLOCK_MONOTONIC now minus the first stamp.
 *
 * Prints one JSON line: frames (all clients), elapsed_s (POST to the last
 * client done), rate (frames/s), gaps (non-contiguous steps), failed
 * clients, latency percentiles in microseconds.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#define MAX_HEADERS 8
#define MAX_SAMPLES (4 * 1024 * 1024)

struct client {
	struct lws *wsi;
	int	    fd; /* SSE */
	int	    connected;
	int	    done;
	int	    failed;
	long long   last_seq; /* -1: none yet */
	long long   frames;
	long long   matched;
	long long   gaps;
	double	    t_done;
	char	   *buf; /* frame or SSE read buffer */
	size_t	    len, cap;
	long long   cur_id;	 /* SSE: id of the event being read */
	int	    chunked;	 /* SSE: Transfer-Encoding: chunked */
	long	    chunk_left;	 /* bytes of chunk data still due */
	int	    chunk_state; /* 0 size line, 1 data, 2 CRLF after */
	char	    sizeline[32];
	size_t	    sizelen;
};

static const char *host = "127.0.0.1";
static int	   port;
static const char *path = "/";
static int	   nclients = 1;
static const char *until;
static const char *sample_match;
static const char *match;
static long long   expect;
static const char *post_path;
static const char *post_body = "{}";
static const char *headers[MAX_HEADERS];
static int	   nheaders;
static double	   timeout_s = 60;

static struct client *clients;
static int	      nconnected, ndone, nfailed;
static double	      t_start;
static int	      post_fd = -1;
static double	     *samples;
static size_t	      nsamples;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static unsigned long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((unsigned long long)ts.tv_sec * 1000000000ULL +
	    (unsigned long long)ts.tv_nsec);
}

static void
grow(struct client *c, size_t need)
{
	if (c->len + need + 1 <= c->cap)
		return;
	c->cap = (c->len + need + 1) * 2;
	if ((c->buf = realloc(c->buf, c->cap)) == NULL)
		abort();
}

static int
tcp_connect(void)
{
	struct sockaddr_in sa;
	int		   fd, one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

static void
send_request(int fd, const char *method, const char *p, const char *body,
    const char *accept)
{
	char req[8192];
	int  n, i;

	n = snprintf(req, sizeof req,
	    "%s %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Accept: %s\r\n",
	    method, p, host, port, accept);
	for (i = 0; i < nheaders; i++)
		n += snprintf(
		    req + n, sizeof req - (size_t)n, "%s\r\n", headers[i]);
	if (body != NULL)
		n += snprintf(req + n, sizeof req - (size_t)n,
		    "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n",
		    strlen(body));
	n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
	if (write_all(fd, req, (size_t)n) == -1 ||
	    (body != NULL && write_all(fd, body, strlen(body)) == -1)) {
		fprintf(
		    stderr, "loadgen: write request: %s\n", strerror(errno));
		exit(1);
	}
}

/* Every client is connected: send the POST, start the clock. */
static void
all_connected(void)
{
	t_start = now_s();
	if (post_path == NULL)
		return;
	if ((post_fd = tcp_connect()) == -1) {
		fprintf(
		    stderr, "loadgen: connect for POST: %s\n", strerror(errno));
		exit(1);
	}
	send_request(post_fd, "POST", post_path, post_body, "application/json");
	t_start = now_s();
}

/* One whole frame (WebSocket message or SSE data) for client c. */
static void
frame(struct client *c, const char *p, size_t len, long long seq)
{
	const char *ts;

	if (c->done)
		return;
	c->frames++;
	if (seq >= 0) {
		if (c->last_seq >= 0 && seq != c->last_seq + 1)
			c->gaps++;
		c->last_seq = seq;
	}
	if ((ts = memmem(p, len, "@ts:", 4)) != NULL &&
	    nsamples < MAX_SAMPLES &&
	    (sample_match == NULL ||
		memmem(p, len, sample_match, strlen(sample_match)) != NULL)) {
		unsigned long long stamp = strtoull(ts + 4, NULL, 10);

		samples[nsamples++] = (double)(now_ns() - stamp) / 1e3;
	}
	if ((until != NULL && memmem(p, len, until, strlen(until)) != NULL) ||
	    (match != NULL && memmem(p, len, match, strlen(match)) != NULL &&
		++c->matched >= expect)) {
		c->done = 1;
		c->t_done = now_s();
		ndone++;
	}
}

/* WebSocket: lws client callback. */
static int
ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	struct client *c = lws_get_opaque_user_data(wsi);
	const char    *s;
	long long      seq = -1;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;
		int		i;

		for (i = 0; i < nheaders; i++) {
			const char *colon = strchr(headers[i], ':');
			char	    name[128];
			size_t	    nl;

			if (colon == NULL ||
			    (nl = (size_t)(colon - headers[i]) + 1) >=
				sizeof name)
				continue;
			memcpy(name, headers[i], nl);
			name[nl] = '\0';
			colon++;
			while (*colon == ' ')
				colon++;
			if (lws_add_http_header_by_name(wsi,
				(unsigned char *)name, (unsigned char *)colon,
				(int)strlen(colon), p, end))
				return (-1);
		}
		break;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->connected = 1;
		if (++nconnected == nclients)
			all_connected();
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c == NULL)
			break;
		if (lws_is_first_fragment(wsi))
			c->len = 0;
		grow(c, len);
		memcpy(c->buf + c->len, in, len);
		c->len += len;
		if (!lws_is_final_fragment(wsi) ||
		    lws_remaining_packet_payload(wsi) != 0)
			break;
		c->buf[c->len] = '\0';
		if ((s = memmem(c->buf, c->len, "\"sequence\":", 11)) != NULL)
			seq = strtoll(s + 11, NULL, 10);
		frame(c, c->buf, c->len, seq);
		if (c->done)
			return (-1);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		fprintf(stderr, "loadgen: ws connect: %s\n",
		    in != NULL ? (const char *)in : "?");
		/* FALLTHROUGH */
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c != NULL && !c->done && !c->failed) {
			c->failed = 1;
			nfailed++;
			if (!c->connected && ++nconnected == nclients)
				all_connected();
		}
		if (c != NULL)
			c->wsi = NULL;
		break;
	default:
		break;
	}
	return (0);
}

static const struct lws_protocols ws_protocols[] = { { "loadgen", ws_cb, 0,
							 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 } };

static void
run_ws(void)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info	 ci;
	struct lws_context		*ctx;
	int				 i;
	double				 deadline;

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = ws_protocols;
	info.fd_limit_per_thread = (unsigned int)nclients + 64;
	if ((ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "loadgen: lws_create_context failed\n");
		exit(1);
	}
	for (i = 0; i < nclients; i++) {
		memset(&ci, 0, sizeof ci);
		ci.context = ctx;
		ci.address = host;
		ci.port = port;
		ci.path = path;
		ci.host = host;
		ci.origin = host;
		ci.protocol = NULL;
		ci.local_protocol_name = "loadgen";
		ci.opaque_user_data = &clients[i];
		ci.pwsi = &clients[i].wsi;
		if (lws_client_connect_via_info(&ci) == NULL) {
			clients[i].failed = 1;
			nfailed++;
			if (++nconnected == nclients)
				all_connected();
		}
	}
	deadline = now_s() + timeout_s;
	while (ndone + nfailed < nclients && now_s() < deadline)
		if (lws_service(ctx, 0) < 0)
			break;
	lws_context_destroy(ctx);
}

/* SSE: parse what arrived for client c, event by event. */
static void
sse_parse(struct client *c)
{
	char  *p = c->buf, *end = c->buf + c->len, *nl, *data = NULL;
	size_t dlen = 0;

	for (;;) {
		char *ev = p;

		/* One event ends at a blank line. */
		if ((nl = memmem(p, (size_t)(end - p), "\n\n", 2)) == NULL)
			break;
		c->cur_id = -1;
		data = NULL;
		while (p < nl + 1) {
			char *eol = memchr(p, '\n', (size_t)(nl + 1 - p));

			if (strncmp(p, "id:", 3) == 0)
				c->cur_id = strtoll(p + 3, NULL, 10);
			else if (strncmp(p, "data:", 5) == 0 && data == NULL) {
				data = p + 5;
				dlen = (size_t)(eol - data);
			}
			p = eol + 1;
		}
		p = nl + 2;
		if (data != NULL)
			frame(c, data, dlen, c->cur_id);
		(void)ev;
		if (c->done)
			break;
	}
	c->len = (size_t)(end - p);
	memmove(c->buf, p, c->len);
}

/* Append n raw body bytes to c->buf, undoing chunked encoding. */
static void
sse_body(struct client *c, const char *p, size_t n)
{
	grow(c, n);
	if (!c->chunked) {
		memcpy(c->buf + c->len, p, n);
		c->len += n;
		return;
	}
	while (n > 0) {
		switch (c->chunk_state) {
		case 0:
			if (*p == '\n') {
				c->sizeline[c->sizelen] = '\0';
				c->chunk_left = strtol(c->sizeline, NULL, 16);
				c->sizelen = 0;
				c->chunk_state = c->chunk_left > 0 ? 1 : 2;
			} else if (c->sizelen < sizeof c->sizeline - 1)
				c->sizeline[c->sizelen++] = *p;
			p++;
			n--;
			break;
		case 1: {
			size_t k = n < (size_t)c->chunk_left
			    ? n
			    : (size_t)c->chunk_left;

			memcpy(c->buf + c->len, p, k);
			c->len += k;
			p += k;
			n -= k;
			if ((c->chunk_left -= (long)k) == 0)
				c->chunk_state = 2;
			break;
		}
		case 2: /* the CRLF after a chunk's data */
			if (*p == '\n')
				c->chunk_state = 0;
			p++;
			n--;
			break;
		}
	}
	c->buf[c->len] = '\0';
}

static void
run_sse(void)
{
	static char	   raw[65536];
	struct epoll_event ev, evs[256];
	int		   ep, i, n;
	double		   deadline;

	if ((ep = epoll_create1(0)) == -1)
		abort();
	for (i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		if ((c->fd = tcp_connect()) == -1) {
			fprintf(
			    stderr, "loadgen: connect: %s\n", strerror(errno));
			exit(1);
		}
		send_request(c->fd, "GET", path, NULL, "text/event-stream");
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	deadline = now_s() + timeout_s;
	while (ndone + nfailed < nclients && now_s() < deadline) {
		n = epoll_wait(ep, evs, 256, 100);
		for (i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;
			ssize_t	       r;

			if (c->done || c->failed)
				continue;
			r = read(c->fd, raw, sizeof raw);
			if (r == -1 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				c->failed = 1;
				nfailed++;
				if (!c->connected && ++nconnected == nclients)
					all_connected();
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				continue;
			}
			if (c->connected)
				sse_body(c, raw, (size_t)r);
			else {
				char  *eoh;
				size_t hl;

				grow(c, (size_t)r);
				memcpy(c->buf + c->len, raw, (size_t)r);
				c->len += (size_t)r;
				c->buf[c->len] = '\0';
				if ((eoh = strstr(c->buf, "\r\n\r\n")) == NULL)
					continue;
				if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0) {
					fprintf(stderr, "loadgen: sse: %.*s\n",
					    (int)(eoh - c->buf), c->buf);
					exit(1);
				}
				*eoh = '\0';
				c->chunked =
				    strcasestr(c->buf,
					"transfer-encoding: chunked") != NULL;
				c->connected = 1;
				hl = (size_t)(eoh + 4 - c->buf);
				r = (ssize_t)(c->len - hl);
				memmove(raw, c->buf + hl, (size_t)r);
				c->len = 0;
				sse_body(c, raw, (size_t)r);
				if (++nconnected == nclients)
					all_connected();
			}
			sse_parse(c);
			if (c->done)
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		}
	}
	for (i = 0; i < nclients; i++)
		close(clients[i].fd);
	close(ep);
}

/*
 * loadgen start --port P --log FILE [--header H] -- ARGV...: fork and exec
 * ARGV (stdout and stderr to FILE), poll 127.0.0.1:P every 100 us until
 * GET /v1/health answers 200, print {"pid":N,"ms":T} where T runs from
 * just before fork. The server is left running.
 */
static int
run_start(const char *log, char **argv)
{
	char	buf[4096];
	double	t0, deadline;
	pid_t	pid;
	int	fd, lfd;
	ssize_t n;
	size_t	got;

	t0 = now_s();
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		if ((lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) !=
		    -1) {
			dup2(lfd, 1);
			dup2(lfd, 2);
			close(lfd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	deadline = t0 + timeout_s;
	while (now_s() < deadline) {
		struct timespec pause = { 0, 100000 };

		if ((fd = tcp_connect()) == -1) {
			nanosleep(&pause, NULL);
			continue;
		}
		send_request(fd, "GET", "/v1/health", NULL, "*/*");
		got = 0;
		while (got < sizeof buf - 1 &&
		    (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
			got += (size_t)n;
			buf[got] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL)
				break;
		}
		close(fd);
		buf[got] = '\0';
		if (strncmp(buf, "HTTP/1.1 200", 12) == 0) {
			printf("{\"pid\":%d,\"ms\":%.3f}\n", (int)pid,
			    (now_s() - t0) * 1e3);
			return (0);
		}
		nanosleep(&pause, NULL);
	}
	printf("{\"pid\":%d,\"ms\":-1}\n", (int)pid);
	return (1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

static double
pct(double p)
{
	size_t i;

	if (nsamples == 0)
		return (-1);
	i = (size_t)(p / 100.0 * (double)(nsamples - 1) + 0.5);
	return (samples[i]);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen ws|sse --port P --path PATH "
	    "[--host H] [--clients N] [--until STR] [--expect N --match STR] "
	    "[--sample STR] "
	    "[--post PATH --body JSON] [--header H]... [--timeout S]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode;
	long long   frames = 0, gaps = 0, minframes = -1;
	double	    t_end = 0, elapsed;
	int	    i, sse;

	if (argc < 2)
		usage();
	mode = argv[1];
	if (strcmp(mode, "start") == 0) {
		const char *log = "/dev/null";

		for (i = 2; i + 1 < argc && strcmp(argv[i], "--") != 0;
		     i += 2) {
			if (strcmp(argv[i], "--port") == 0)
				port = atoi(argv[i + 1]);
			else if (strcmp(argv[i], "--log") == 0)
				log = argv[i + 1];
			else if (strcmp(argv[i], "--header") == 0 &&
			    nheaders < MAX_HEADERS)
				headers[nheaders++] = argv[i + 1];
			else if (strcmp(argv[i], "--timeout") == 0)
				timeout_s = atof(argv[i + 1]);
			else
				usage();
		}
		if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc ||
		    port <= 0)
			usage();
		return (run_start(log, argv + i + 1));
	}
	if (strcmp(mode, "ws") != 0 && strcmp(mode, "sse") != 0)
		usage();
	sse = strcmp(mode, "sse") == 0;
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--host") == 0)
			host = v;
		else if (strcmp(a, "--port") == 0)
			port = atoi(v);
		else if (strcmp(a, "--path") == 0)
			path = v;
		else if (strcmp(a, "--clients") == 0)
			nclients = atoi(v);
		else if (strcmp(a, "--until") == 0)
			until = v;
		else if (strcmp(a, "--sample") == 0)
			sample_match = v;
		else if (strcmp(a, "--match") == 0)
			match = v;
		else if (strcmp(a, "--expect") == 0)
			expect = atoll(v);
		else if (strcmp(a, "--post") == 0)
			post_path = v;
		else if (strcmp(a, "--body") == 0)
			post_body = v;
		else if (strcmp(a, "--header") == 0 && nheaders < MAX_HEADERS)
			headers[nheaders++] = v;
		else if (strcmp(a, "--timeout") == 0)
			timeout_s = atof(v);
		else
			usage();
	}
	if (port <= 0 || nclients <= 0 || (until == NULL && match == NULL))
		usage();
	signal(SIGPIPE, SIG_IGN);
	clients = calloc((size_t)nclients, sizeof *clients);
	samples = malloc(MAX_SAMPLES * sizeof *samples);
	if (clients == NULL || samples == NULL)
		abort();
	for (i = 0; i < nclients; i++) {
		clients[i].last_seq = -1;
		clients[i].fd = -1;
	}
	if (sse)
		run_sse();
	else
		run_ws();
	for (i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		frames += c->frames;
		gaps += c->gaps;
		if (minframes < 0 || c->frames < minframes)
			minframes = c->frames;
		if (c->done && c->t_done > t_end)
			t_end = c->t_done;
	}
	elapsed = t_end > t_start ? t_end - t_start : 0;
	qsort(samples, nsamples, sizeof *samples, cmp_double);
	printf("{\"mode\":\"%s\",\"clients\":%d,\"done\":%d,\"failed\":%d,"
	       "\"frames\":%lld,\"min_frames\":%lld,\"gaps\":%lld,"
	       "\"elapsed_s\":%.6f,\"rate\":%.1f,\"samples\":%zu,"
	       "\"lat_p50_us\":%.1f,\"lat_p90_us\":%.1f,\"lat_p99_us\":%.1f,"
	       "\"lat_max_us\":%.1f}\n",
	    mode, nclients, ndone, nfailed, frames, minframes, gaps, elapsed,
	    elapsed > 0 ? (double)frames / elapsed : 0, nsamples, pct(50),
	    pct(90), pct(99), nsamples ? samples[nsamples - 1] : -1.0);
	if (post_fd != -1)
		close(post_fd);
	return (ndone == nclients && gaps == 0 ? 0 : 1);
}
