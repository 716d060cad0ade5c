/*
 * loadgen.c: the benchmark's load generator and client.
 *
 *   loadgen ws|sse --port P --path PATH [--host H] [--clients N]
 *       [--until STR] [--expect N --match STR] [--sample STR]
 *       [--post PATH --body JSON] [--header "Name: value"]... [--timeout S]
 *   loadgen ws|sse --targets FILE [--until ...] [--body JSON] ...
 *
 * Opens N WebSocket or SSE clients to one URL, or one client per line of
 * FILE ({"port":P,"path":S,"post":S?,"body":S?}, JSON, one a line). Both
 * are plain non-blocking sockets on one epoll: the WebSocket client does
 * the upgrade and reads frames itself (a server's frames are not masked:
 * a header, then the payload in place), so the client costs a few
 * instructions per frame and the figures are the server's. Once every
 * client is connected it sends the POST (or each target's, on its own
 * socket; the answer is not waited for: sandbox-agent answers a
 * session/prompt only at the end of the turn) and starts the clock. A
 * client is done at the first frame containing --until, or when it has
 * seen --expect frames containing --match.
 *
 * Every client checks the sequences it gets ("sequence":N in a WebSocket
 * frame, the "id:" line of an SSE event): a step forward by more than one
 * counts the events lost, a step back or a repeat counts duplicates, and
 * so does a first event other than offset+1 when the path has "offset=".
 * A frame carrying "@ts:<ns>" (tests/bench/tsagent.c, floor.c), and
 * --sample STR if given (agentd's item.completed repeats every stamp of
 * the message), gives one latency sample: CLOCK_MONOTONIC now minus the
 * first stamp.
 *
 * Prints one JSON line: frames (all clients), elapsed_s (POST to the last
 * client done), rate (frames/s), gaps (non-contiguous steps), lost, dups,
 * failed clients, latency percentiles in microseconds.
 *
 *   loadgen start --port P --log FILE -- ARGV...
 *   loadgen fleet --instances FILE [--home] [--timeout S] -- ARGV...
 *
 * start: see run_start. fleet: one server per line "PORT DIR" of FILE,
 * ARGV with "{port}" and "{dir}" replaced (--home: HOME=DIR too); the
 * time until every one answers /v1/health; see run_fleet.
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

#include <cjson/cJSON.h>

#define MAX_HEADERS 8
#define MAX_SAMPLES (4 * 1024 * 1024)
#define READ_CHUNK  (256 * 1024)

struct client {
	int	  port;
	char	 *path;
	char	 *post; /* NULL: the global --post */
	char	 *body;
	int	  fd;
	int	  connected; /* response headers in */
	int	  done;
	int	  failed;
	long long first_expect; /* -1: any */
	long long last_seq;	/* -1: none yet */
	long long frames;
	long long matched;
	long long gaps, lost, dups;
	double	  t_done;
	char	 *buf; /* unread bytes */
	size_t	  len, cap;
	char	 *msg; /* WebSocket: a fragmented message so far */
	size_t	  msg_len, msg_cap;
	long long cur_id;      /* SSE: id of the event being read */
	int	  chunked;     /* SSE: Transfer-Encoding: chunked */
	long	  chunk_left;  /* bytes of chunk data still due */
	int	  chunk_state; /* 0 size line, 1 data, 2 CRLF after */
	char	  sizeline[32];
	size_t	  sizelen;
	char	 *sse; /* SSE: body bytes, chunking undone */
	size_t	  sse_len, sse_cap;
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
static int	   sse_mode;

static struct client *clients;
static int	      nconnected, ndone, nfailed;
static double	      t_start;
static int	     *post_fds;
static int	      npost_fds;
static double	     *samples;
static size_t	      nsamples;
static char	      raw[READ_CHUNK];

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

/* Make room for need more bytes (and a NUL) in *buf. */
static void
grow(char **buf, size_t *cap, size_t len, size_t need)
{
	if (len + need + 1 <= *cap)
		return;
	*cap = (len + need + 1) * 2;
	if ((*buf = realloc(*buf, *cap)) == NULL)
		abort();
}

static int
tcp_connect(int p)
{
	struct sockaddr_in sa;
	int		   fd, one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)p);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
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

/* One request; extra: more header lines, each ending in CRLF. */
static void
send_request(int fd, int p, const char *method, const char *uri,
    const char *body, const char *extra)
{
	char req[8192];
	int  n, i;

	n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n%s",
	    method, uri, host, p, extra);
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

/* Send one POST to port p; the socket stays open, its answer unread. */
static void
post_to(int p, const char *uri, const char *body)
{
	int fd;

	if ((fd = tcp_connect(p)) == -1) {
		fprintf(
		    stderr, "loadgen: connect for POST: %s\n", strerror(errno));
		exit(1);
	}
	send_request(fd, p, "POST", uri, body, "Accept: application/json\r\n");
	post_fds[npost_fds++] = fd;
}

/* Every client is connected: send the POSTs, start the clock. */
static void
all_connected(void)
{
	int i;

	for (i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		if (c->post != NULL)
			post_to(c->port, c->post,
			    c->body != NULL ? c->body : post_body);
	}
	if (post_path != NULL)
		post_to(port, post_path, post_body);
	t_start = now_s();
}

static void
client_failed(struct client *c)
{
	if (c->failed || c->done)
		return;
	c->failed = 1;
	nfailed++;
	if (!c->connected && ++nconnected == nclients)
		all_connected();
}

/* The sequence check of one event. */
static void
check_seq(struct client *c, long long seq)
{
	long long want;

	if (seq < 0)
		return;
	want = c->last_seq >= 0 ? c->last_seq + 1 : c->first_expect;
	if (want >= 0 && seq != want) {
		c->gaps++;
		if (seq > want)
			c->lost += seq - want;
		else
			c->dups++;
	}
	if (seq > c->last_seq)
		c->last_seq = seq;
}

/* One whole frame (WebSocket message or SSE data) for client c. */
static void
frame(struct client *c, const char *p, size_t len, long long seq)
{
	const char *ts;

	if (c->done)
		return;
	c->frames++;
	check_seq(c, seq);
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

/* A WebSocket message: its "sequence" is near the start of the event. */
static void
ws_message(struct client *c, const char *p, size_t len)
{
	const char *s;
	long long   seq = -1;

	if ((s = memmem(p, len < 256 ? len : 256, "\"sequence\":", 11)) != NULL)
		seq = strtoll(s + 11, NULL, 10);
	frame(c, p, len, seq);
}

/* Answer a ping: a client's frames are masked (RFC 6455 5.3). */
static void
ws_pong(struct client *c, const unsigned char *p, size_t len)
{
	unsigned char		   f[6 + 125];
	static const unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	size_t			   i;

	if (len > 125)
		return;
	f[0] = 0x8a;
	f[1] = 0x80 | (unsigned char)len;
	memcpy(f + 2, mask, 4);
	for (i = 0; i < len; i++)
		f[6 + i] = p[i] ^ mask[i & 3];
	(void)write_all(c->fd, (const char *)f, 6 + len);
}

/* Parse the whole frames in c->buf; keep a partial one. */
static void
ws_parse(struct client *c)
{
	unsigned char *p = (unsigned char *)c->buf, *end = p + c->len;

	while (!c->done && !c->failed && end - p >= 2) {
		unsigned int op = p[0] & 0x0f, fin = p[0] & 0x80;
		size_t	     hl = 2, plen = p[1] & 0x7f;
		int	     i;

		if (p[1] & 0x80) { /* a server must not mask */
			client_failed(c);
			return;
		}
		if (plen == 126) {
			if (end - p < 4)
				break;
			plen = ((size_t)p[2] << 8) | p[3];
			hl = 4;
		} else if (plen == 127) {
			if (end - p < 10)
				break;
			for (plen = 0, i = 0; i < 8; i++)
				plen = (plen << 8) | p[2 + i];
			hl = 10;
		}
		if ((size_t)(end - p) < hl + plen)
			break; /* client_read grows c->buf as bytes come */
		switch (op) {
		case 0: /* continuation */
		case 1: /* text */
		case 2: /* binary */
			if (fin && c->msg_len == 0) {
				ws_message(c, (char *)p + hl, plen);
				break;
			}
			grow(&c->msg, &c->msg_cap, c->msg_len, plen);
			memcpy(c->msg + c->msg_len, p + hl, plen);
			c->msg_len += plen;
			if (fin) {
				ws_message(c, c->msg, c->msg_len);
				c->msg_len = 0;
			}
			break;
		case 8: /* close */
			client_failed(c);
			return;
		case 9:
			ws_pong(c, p + hl, plen);
			break;
		default:
			break;
		}
		p += hl + plen;
	}
	c->len = (size_t)(end - p);
	memmove(c->buf, p, c->len);
}

/* SSE: parse what arrived for client c, event by event. */
static void
sse_parse(struct client *c)
{
	char  *p = c->sse, *end = c->sse + c->sse_len, *nl, *data = NULL;
	size_t dlen = 0;

	for (;;) {
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
		if (c->done)
			break;
	}
	c->sse_len = (size_t)(end - p);
	memmove(c->sse, p, c->sse_len);
}

/* Append n raw body bytes to c->sse, undoing chunked encoding. */
static void
sse_body(struct client *c, const char *p, size_t n)
{
	grow(&c->sse, &c->sse_cap, c->sse_len, n);
	if (!c->chunked) {
		memcpy(c->sse + c->sse_len, p, n);
		c->sse_len += n;
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

			memcpy(c->sse + c->sse_len, p, k);
			c->sse_len += k;
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
}

/* The response headers are in c->buf: check them, go on with the body. */
static void
headers_in(struct client *c, char *eoh)
{
	const char *want = sse_mode ? "HTTP/1.1 200" : "HTTP/1.1 101";
	size_t	    hl = (size_t)(eoh + 4 - c->buf);

	*eoh = '\0';
	if (strncmp(c->buf, want, 12) != 0) {
		fprintf(stderr, "loadgen: %s: %.*s\n", c->path,
		    (int)strcspn(c->buf, "\r\n"), c->buf);
		client_failed(c);
		return;
	}
	c->chunked = strcasestr(c->buf, "transfer-encoding: chunked") != NULL;
	c->connected = 1;
	c->len -= hl;
	memmove(c->buf, eoh + 4, c->len);
	if (++nconnected == nclients)
		all_connected();
	if (sse_mode) {
		sse_body(c, c->buf, c->len);
		c->len = 0;
		sse_parse(c);
	} else
		ws_parse(c);
}

/* Bytes arrived for c. */
static void
client_read(struct client *c, const char *p, size_t n)
{
	char *eoh;

	if (c->connected && sse_mode) {
		sse_body(c, p, n);
		sse_parse(c);
		return;
	}
	grow(&c->buf, &c->cap, c->len, n);
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	if (c->connected) {
		ws_parse(c);
		return;
	}
	c->buf[c->len] = '\0';
	if ((eoh = strstr(c->buf, "\r\n\r\n")) != NULL)
		headers_in(c, eoh);
}

static void
client_open(struct client *c, int ep)
{
	struct epoll_event ev;
	char		   extra[512];

	if ((c->fd = tcp_connect(c->port)) == -1) {
		fprintf(stderr, "loadgen: connect to %d: %s\n", c->port,
		    strerror(errno));
		client_failed(c);
		return;
	}
	if (sse_mode)
		snprintf(extra, sizeof extra, "Accept: text/event-stream\r\n");
	else
		snprintf(extra, sizeof extra,
		    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Key: bG9hZGdlbiBiZW5jaCBrZXk=\r\n"
		    "Sec-WebSocket-Version: 13\r\n");
	send_request(c->fd, c->port, "GET", c->path, NULL, extra);
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
run_clients(void)
{
	struct epoll_event evs[256];
	int		   ep, i, n;
	double		   deadline;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		abort();
	for (i = 0; i < nclients; i++)
		client_open(&clients[i], ep);
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
			if (r <= 0)
				client_failed(c);
			else
				client_read(c, raw, (size_t)r);
			if (c->done || c->failed)
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		}
	}
	for (i = 0; i < nclients; i++)
		if (clients[i].fd != -1)
			close(clients[i].fd);
	close(ep);
}

/* "offset=N" in a path: the first event due is N + 1. */
static long long
path_first(const char *p)
{
	const char *o = strstr(p, "offset=");

	return (o != NULL ? atoll(o + 7) + 1 : -1);
}

/* --targets FILE: one client per JSON line. */
static int
load_targets(const char *file)
{
	FILE  *f;
	char  *line = NULL;
	size_t cap = 0;
	int    n = 0;

	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		exit(2);
	}
	while (getline(&line, &cap, f) > 0) {
		cJSON	      *o = cJSON_Parse(line);
		struct client *c, *grown;
		const char    *s;

		if (o == NULL)
			continue;
		grown = realloc(clients, (size_t)(n + 1) * sizeof *clients);
		if (grown == NULL)
			abort();
		clients = grown;
		c = &clients[n++];
		memset(c, 0, sizeof *c);
		c->port =
		    (int)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "port"));
		s = cJSON_GetStringValue(cJSON_GetObjectItem(o, "path"));
		c->path = strdup(s != NULL ? s : "/");
		if ((s = cJSON_GetStringValue(cJSON_GetObjectItem(o, "post"))))
			c->post = strdup(s);
		if ((s = cJSON_GetStringValue(cJSON_GetObjectItem(o, "body"))))
			c->body = strdup(s);
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	return (n);
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

		if ((fd = tcp_connect(port)) == -1) {
			nanosleep(&pause, NULL);
			continue;
		}
		send_request(
		    fd, port, "GET", "/v1/health", NULL, "Accept: */*\r\n");
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

/* One server of a fleet and its health probe. */
struct member {
	int    port;
	char  *dir;
	pid_t  pid;
	int    fd; /* probe in flight, or -1 */
	int    sent;
	double ms; /* first 200, from the fleet's start; -1 not yet */
	char   resp[64];
	size_t got;
};

/* Replace "{port}" and "{dir}" in one argument. */
static char *
fleet_arg(const char *a, const struct member *m)
{
	char   out[4096], num[16];
	size_t o = 0;

	snprintf(num, sizeof num, "%d", m->port);
	while (*a != '\0' && o < sizeof out - 1) {
		const char *sub = NULL;

		if (strncmp(a, "{port}", 6) == 0)
			sub = num, a += 6;
		else if (strncmp(a, "{dir}", 5) == 0)
			sub = m->dir, a += 5;
		if (sub != NULL) {
			o += (size_t)snprintf(
			    out + o, sizeof out - o, "%s", sub);
			if (o > sizeof out - 1)
				o = sizeof out - 1;
		} else
			out[o++] = *a++;
	}
	out[o] = '\0';
	return (strdup(out));
}

static void
fleet_exec(struct member *m, char **argv, int home)
{
	char *av[64], logf[4096];
	int   i, lfd;
	pid_t pid;

	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid > 0) {
		m->pid = pid;
		return;
	}
	for (i = 0; i < 63 && argv[i] != NULL; i++)
		av[i] = fleet_arg(argv[i], m);
	av[i] = NULL;
	snprintf(logf, sizeof logf, "%s/server.log", m->dir);
	if ((lfd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1) {
		dup2(lfd, 1);
		dup2(lfd, 2);
		close(lfd);
	}
	if (home)
		setenv("HOME", m->dir, 1);
	execv(av[0], av);
	_exit(127);
}

/*
 * loadgen fleet: start every server at once, then probe each with GET
 * /v1/health (non-blocking connect, a refused one retried every 200 us)
 * until all answer 200. Prints {"n":N,"healthy":K,"ms_all":T,
 * "ms_median":M,"pids":[...]}; times run from just before the first fork.
 * The servers are left running.
 */
static int
run_fleet(const char *file, int home, char **argv)
{
	struct member	  *ms = NULL;
	struct epoll_event ev, evs[256];
	FILE		  *f;
	char		   line[4096];
	int		   n = 0, healthy = 0, ep, i, k;
	double		   t0, deadline, last = 0;
	double		  *sorted;

	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		return (2);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		struct member *grown;
		char	       d[4000];
		int	       p;

		if (sscanf(line, "%d %3999s", &p, d) != 2)
			continue;
		if ((grown = realloc(ms, (size_t)(n + 1) * sizeof *ms)) == NULL)
			abort();
		ms = grown;
		memset(&ms[n], 0, sizeof ms[n]);
		ms[n].port = p;
		ms[n].dir = strdup(d);
		ms[n].fd = -1;
		ms[n].ms = -1;
		n++;
	}
	fclose(f);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		abort();
	t0 = now_s();
	for (i = 0; i < n; i++)
		fleet_exec(&ms[i], argv, home);
	deadline = t0 + timeout_s;
	while (healthy < n && now_s() < deadline) {
		struct timespec pause = { 0, 200000 };

		for (i = 0; i < n; i++) {
			struct member	  *m = &ms[i];
			struct sockaddr_in sa;
			int		   one = 1;

			if (m->ms >= 0 || m->fd != -1)
				continue;
			memset(&sa, 0, sizeof sa);
			sa.sin_family = AF_INET;
			sa.sin_port = htons((unsigned short)m->port);
			inet_pton(AF_INET, host, &sa.sin_addr);
			m->fd = socket(AF_INET,
			    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			setsockopt(
			    m->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			if (connect(m->fd, (struct sockaddr *)&sa, sizeof sa) ==
				-1 &&
			    errno != EINPROGRESS) {
				close(m->fd);
				m->fd = -1;
				continue;
			}
			m->sent = 0;
			m->got = 0;
			ev.events = EPOLLOUT | EPOLLIN;
			ev.data.ptr = m;
			epoll_ctl(ep, EPOLL_CTL_ADD, m->fd, &ev);
		}
		k = epoll_wait(ep, evs, 256, 0);
		if (k == 0)
			nanosleep(&pause, NULL);
		for (i = 0; i < k; i++) {
			struct member *m = evs[i].data.ptr;
			char	       req[256];
			ssize_t	       r;
			int	       err = 0;
			socklen_t      el = sizeof err;

			if (!m->sent) {
				getsockopt(
				    m->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err == 0) {
					r = snprintf(req, sizeof req,
					    "GET /v1/health HTTP/1.1\r\n"
					    "Host: %s:%d\r\n\r\n",
					    host, m->port);
					err = write(m->fd, req, (size_t)r) != r;
				}
				if (err != 0) {
					epoll_ctl(
					    ep, EPOLL_CTL_DEL, m->fd, NULL);
					close(m->fd);
					m->fd = -1;
					continue;
				}
				m->sent = 1;
				ev.events = EPOLLIN;
				ev.data.ptr = m;
				epoll_ctl(ep, EPOLL_CTL_MOD, m->fd, &ev);
				continue;
			}
			r = read(m->fd, m->resp + m->got,
			    sizeof m->resp - 1 - m->got);
			if (r == -1 && errno == EAGAIN)
				continue;
			if (r > 0)
				m->got += (size_t)r;
			if (m->got < 12 && r > 0)
				continue;
			if (m->got >= 12 &&
			    strncmp(m->resp, "HTTP/1.1 200", 12) == 0) {
				m->ms = (now_s() - t0) * 1e3;
				last = m->ms;
				healthy++;
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, m->fd, NULL);
			close(m->fd);
			m->fd = -1;
		}
	}
	if ((sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted)) == NULL)
		abort();
	for (i = k = 0; i < n; i++)
		if (ms[i].ms >= 0)
			sorted[k++] = ms[i].ms;
	printf("{\"n\":%d,\"healthy\":%d,\"ms_all\":%.3f,\"ms_median\":%.3f,"
	       "\"pids\":[",
	    n, healthy, healthy == n ? last : -1.0,
	    k > 0 ? sorted[k / 2] : -1.0);
	for (i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", (int)ms[i].pid);
	printf("]}\n");
	return (healthy == n ? 0 : 1);
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
	    "usage: loadgen ws|sse (--port P --path PATH | --targets FILE) "
	    "[--host H] [--clients N] [--until STR] [--expect N --match STR] "
	    "[--sample STR] [--post PATH] [--body JSON] [--header H]... "
	    "[--timeout S]\n"
	    "       loadgen start --port P --log FILE -- ARGV...\n"
	    "       loadgen fleet --instances FILE [--home] -- ARGV...\n");
	exit(2);
}

/* start and fleet: options up to "--", then the server's argv. */
static int
main_spawn(int argc, char **argv)
{
	const char *log = "/dev/null", *inst = NULL;
	int	    i, home = 0;

	for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--home") == 0) {
			home = 1;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--log") == 0)
			log = argv[++i];
		else if (strcmp(argv[i], "--instances") == 0)
			inst = argv[++i];
		else if (strcmp(argv[i], "--header") == 0 &&
		    nheaders < MAX_HEADERS)
			headers[nheaders++] = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout_s = atof(argv[++i]);
		else
			usage();
	}
	if (i >= argc || i + 1 >= argc)
		usage();
	if (strcmp(argv[1], "fleet") == 0) {
		if (inst == NULL)
			usage();
		return (run_fleet(inst, home, argv + i + 1));
	}
	if (port <= 0)
		usage();
	return (run_start(log, argv + i + 1));
}

int
main(int argc, char **argv)
{
	const char *mode, *targets = NULL;
	long long   frames = 0, gaps = 0, lost = 0, dups = 0, minframes = -1;
	double	    t_end = 0, elapsed;
	int	    i;

	if (argc < 2)
		usage();
	mode = argv[1];
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "start") == 0 || strcmp(mode, "fleet") == 0)
		return (main_spawn(argc, argv));
	if (strcmp(mode, "ws") != 0 && strcmp(mode, "sse") != 0)
		usage();
	sse_mode = strcmp(mode, "sse") == 0;
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
		else if (strcmp(a, "--targets") == 0)
			targets = v;
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
	if (until == NULL && match == NULL)
		usage();
	if (targets != NULL) {
		nclients = load_targets(targets);
		if (nclients == 0)
			usage();
	} else {
		if (port <= 0 || nclients <= 0)
			usage();
		if ((clients = calloc((size_t)nclients, sizeof *clients)) ==
		    NULL)
			abort();
		for (i = 0; i < nclients; i++) {
			clients[i].port = port;
			clients[i].path = (char *)path;
		}
	}
	samples = malloc(MAX_SAMPLES * sizeof *samples);
	post_fds = calloc((size_t)nclients + 1, sizeof *post_fds);
	if (samples == NULL || post_fds == NULL)
		abort();
	for (i = 0; i < nclients; i++) {
		clients[i].last_seq = -1;
		clients[i].cur_id = -1;
		clients[i].fd = -1;
		clients[i].first_expect = path_first(clients[i].path);
	}
	run_clients();
	for (i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		frames += c->frames;
		gaps += c->gaps;
		lost += c->lost;
		dups += c->dups;
		if (minframes < 0 || c->frames < minframes)
			minframes = c->frames;
		if (c->done && c->t_done > t_end)
			t_end = c->t_done;
	}
	elapsed = t_end > t_start ? t_end - t_start : 0;
	qsort(samples, nsamples, sizeof *samples, cmp_double);
	printf("{\"mode\":\"%s\",\"clients\":%d,\"done\":%d,\"failed\":%d,"
	       "\"frames\":%lld,\"min_frames\":%lld,\"gaps\":%lld,"
	       "\"lost\":%lld,\"dups\":%lld,"
	       "\"elapsed_s\":%.6f,\"rate\":%.1f,\"samples\":%zu,"
	       "\"lat_p50_us\":%.1f,\"lat_p90_us\":%.1f,\"lat_p99_us\":%.1f,"
	       "\"lat_max_us\":%.1f}\n",
	    mode, nclients, ndone, nfailed, frames, minframes, gaps, lost, dups,
	    elapsed, elapsed > 0 ? (double)frames / elapsed : 0, nsamples,
	    pct(50), pct(90), pct(99), nsamples ? samples[nsamples - 1] : -1.0);
	for (i = 0; i < npost_fds; i++)
		close(post_fds[i]);
	return (ndone == nclients && gaps == 0 ? 0 : 1);
}
