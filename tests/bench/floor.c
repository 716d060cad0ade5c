/*
 * floor.c: the measured floor of make bench. It does only the part of a
 * figure that agentd cannot avoid: the kernel's (exec, accept, pipe and
 * socket I/O) and the libraries' (lws on a libev loop, static musl, as
 * agentd is built). bench.py measures it side by side with agentd, with
 * the same client (loadgen), and prints agentd's figures as ratios to it.
 *
 *   floor health --port P
 *	Serve GET /v1/health (200, a small JSON body) and nothing else:
 *	`loadgen start` times exec to its first answer.
 *
 *   floor relay --port P --lines N [--rate R]
 *	WebSocket clients connect on any path, SSE clients (a GET other
 *	than /v1/health) too. The first POST (loadgen's
 *	--post) starts the producer, a child process forked at start-up that
 *	writes N lines to a pipe, one write(2) each as an agent does, as fast
 *	as the pipe takes them, or R per second on absolute deadlines with
 *	"@ts:<CLOCK_MONOTONIC ns>" taken just before each write (as tsagent
 *	does); then one line whose type is turn.ended. Each line is shaped
 *	like agentd's item.delta event (the same size and "sequence"), so the
 *	client sees the same bytes per frame.
 *
 *	The relay reads the pipe as agentd reads an agent's stdout (ev_io,
 *	non-blocking, big reads), frames each complete line once into one
 *	buffer shared by all clients of a kind (a WebSocket text frame, or
 *	"id: <line number>\ndata: <line>\n\n"), gives each client everything it
 *	has not had in one lws_write (raw: the frames are built here) right
 *	away, from the pipe's callback; a client whose socket is full gets
 *	the rest from its WRITEABLE callback. That is the least a relay of
 *	another process's lines to WebSocket clients can do.
 *
 *   floor relay --port P --lines N --log FILE
 *	The same, and the relay appends the complete lines of each read to
 *	FILE (O_APPEND, one write(2) per read) before it frames them, as
 *	agentd appends a loop pass's events to its log before any client
 *	sees them. Not synced: agentd syncs on a timer, not per event. Its
 *	lines are the frames' (about 250 bytes), agentd's log lines are
 *	larger (the event and the agent's own line, 443 bytes for a
 *	firehose chunk). Not a target's floor: it tells how much of agentd's
 *	distance to the relay floor is the log.
 *
 *   floor relay --port P --replay FILE
 *	The same, but the producer writes the lines of FILE (an agent's
 *	stdout, one line per write(2), as the replay agent writes it) and
 *	the relay, for each complete line it finds, frames one line of the
 *	generated kind, not the agent's: agentd too sends an event of that
 *	size per delta, whatever the agent's line held. This is the floor of
 *	the pi replay row, where the agent's lines grow with the reply: the
 *	kernel's copy of every byte and one newline search over it.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <libwebsockets.h>

#include "../../protocol/protocol.h"

#define FLOOR_MAX_CLIENTS 1024
#define FLOOR_WRITE_MAX	  (256 * 1024)	/* bytes per client per write */
#define FLOOR_READ	  (1024 * 1024) /* longest line, in replay */

struct floor_client {
	struct lws *wsi;
	int	    sse;
	size_t	    off; /* bytes of its kind's frames it has had */
};

/* Every frame so far of one kind, shared by all its clients. */
struct floor_frames {
	char  *p;
	size_t len, cap;
};

static struct ev_loop	  *floor_loop;
static struct lws_context *floor_ctx;
static int		   floor_relay_mode;
static long		   floor_lines = 1000;
static long		   floor_rate;	 /* 0: as fast as the pipe takes */
static const char	  *floor_replay; /* agent lines to write, or NULL */
static int		   floor_log_fd = -1; /* --log FILE */

static int   floor_go_fd = -1;	 /* relay -> producer: start */
static int   floor_pipe_fd = -1; /* producer -> relay: lines */
static ev_io floor_pipe_w;
static int   floor_started;

static char		  *floor_in; /* bytes from the pipe */
static size_t		   floor_in_len;
static size_t		   floor_in_off;  /* where the partial line starts */
static size_t		   floor_in_scan; /* searched up to here */
static struct floor_frames floor_ws, floor_sse;
static long		   floor_seq; /* lines framed */

static struct floor_client *floor_clients[FLOOR_MAX_CLIENTS];
static int		    floor_nclients;

static unsigned long long
floor_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((unsigned long long)ts.tv_sec * 1000000000ULL +
	    (unsigned long long)ts.tv_nsec);
}

/* Write all of buf to fd (blocking). */
static void
floor_put(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			_exit(0);
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Line i (from 1) of the generated kind, the size of agentd's delta. */
static int
floor_line(char *line, size_t size, long i, const char *delta)
{
	return (snprintf(line, size,
	    "{\"event_id\":\"evt_%ld\",\"sequence\":%ld,\"time\":"
	    "\"2026-12-03T12:00:00.000Z\",\"session_id\":\"f\","
	    "\"native_session_id\":\"mock-0123456789abcdef\","
	    "\"source\":\"agent\",\"synthetic\":false,\"type\":"
	    "\"item.delta\",\"data\":{\"item_id\":\"itm_2\","
	    "\"native_item_id\":\"msg-1-1\",\"delta\":\"%s\"}}\n",
	    i, i, delta));
}

/* The last line: what loadgen waits for. */
static int
floor_last(char *line, size_t size, long i)
{
	return (snprintf(line, size,
	    "{\"event_id\":\"evt_%ld\",\"sequence\":%ld,\"type\":"
	    "\"turn.ended\",\"data\":{\"turn_id\":\"turn_1\"}}\n",
	    i, i));
}

/* Replay: FILE's lines, one write each; the relay adds turn.ended. */
static void
floor_produce_file(int out)
{
	FILE   *f;
	char   *line = NULL;
	size_t	cap = 0;
	ssize_t n;

	if ((f = fopen(floor_replay, "r")) == NULL)
		_exit(1);
	while ((n = getline(&line, &cap, f)) > 0)
		floor_put(out, line, (size_t)n);
	_exit(0);
}

/* The producer: wait for the go byte, then write the lines. */
static void
floor_produce(int go, int out)
{
	struct timespec	   at;
	unsigned long long t0, due, step;
	char		   line[512], c;
	long		   i;
	int		   n;

	if (read(go, &c, 1) != 1)
		_exit(0);
	if (floor_replay != NULL)
		floor_produce_file(out);
	step =
	    floor_rate > 0 ? 1000000000ULL / (unsigned long long)floor_rate : 0;
	t0 = floor_now_ns();
	for (i = 0; i < floor_lines; i++) {
		char delta[32] = "x";

		if (step > 0) {
			due = t0 + step * (unsigned long long)i;
			at.tv_sec = (time_t)(due / 1000000000ULL);
			at.tv_nsec = (long)(due % 1000000000ULL);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
				   &at, NULL) == EINTR)
				;
			(void)snprintf(
			    delta, sizeof delta, "@ts:%llu", floor_now_ns());
		}
		n = floor_line(line, sizeof line, i + 1, delta);
		floor_put(out, line, (size_t)n);
	}
	n = floor_last(line, sizeof line, i + 1);
	floor_put(out, line, (size_t)n);
	_exit(0);
}

/* Room for n more bytes of frames. */
static char *
floor_room(struct floor_frames *f, size_t n)
{
	if (f->len + n > f->cap) {
		f->cap = (f->len + n) * 2;
		if ((f->p = realloc(f->p, f->cap)) == NULL)
			abort();
	}
	return (f->p + f->len);
}

/*
 * One line as a WebSocket text frame (server to client: no mask) and as
 * an SSE event.
 */
static void
floor_frame(const char *p, size_t len)
{
	unsigned char *h;
	size_t	       hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
	char	      *e;
	int	       i;

	h = (unsigned char *)floor_room(&floor_ws, hl + len);
	h[0] = 0x81;
	if (hl == 2)
		h[1] = (unsigned char)len;
	else if (hl == 4) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
	} else {
		h[1] = 127;
		for (i = 0; i < 8; i++)
			h[2 + i] =
			    (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	memcpy(h + hl, p, len);
	floor_ws.len += hl + len;
	e = floor_room(&floor_sse, 48 + len);
	i = snprintf(e, 48, "id: %ld\ndata: ", ++floor_seq);
	memcpy(e + i, p, len);
	memcpy(e + i + len, "\n\n", 2);
	floor_sse.len += (size_t)i + len + 2;
}

/* Give c what it has not had, in one write, unless lws still holds some. */
static void
floor_flush(struct floor_client *c)
{
	struct floor_frames *f = c->sse ? &floor_sse : &floor_ws;
	size_t		     n = f->len - c->off;

	if (n == 0 || lws_partial_buffered(c->wsi))
		return;
	if (n > FLOOR_WRITE_MAX)
		n = FLOOR_WRITE_MAX;
	/* lws keeps what the socket did not take and writes it first. */
	if (lws_write(c->wsi, (unsigned char *)f->p + c->off, n,
		c->sse ? LWS_WRITE_HTTP : LWS_WRITE_RAW) != (int)n) {
		lws_set_timeout(
		    c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	c->off += n;
	if (c->off < f->len)
		lws_callback_on_writable(c->wsi);
}

/* A client from now on: live, like agentd's offset=eventCount. */
static int
floor_join(struct lws *wsi, struct floor_client *c, int sse)
{
	if (!floor_relay_mode || floor_nclients == FLOOR_MAX_CLIENTS)
		return (-1);
	c->wsi = wsi;
	c->sse = sse;
	c->off = sse ? floor_sse.len : floor_ws.len;
	floor_clients[floor_nclients++] = c;
	return (0);
}

static void
floor_leave(struct floor_client *c)
{
	int i;

	for (i = 0; i < floor_nclients; i++)
		if (floor_clients[i] == c) {
			floor_clients[i] = floor_clients[--floor_nclients];
			break;
		}
}

/* An SSE client: the headers now, the events as they come. */
static int
floor_sse_start(struct lws *wsi, struct floor_client *c)
{
	unsigned char  buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof buf;

	if (lws_add_http_common_headers(wsi, 200, "text/event-stream",
		LWS_ILLEGAL_HTTP_CONTENT_LEN, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return (-1);
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	return (floor_join(wsi, c, 1));
}

static void
floor_flush_all(void)
{
	int i;

	for (i = 0; i < floor_nclients; i++)
		floor_flush(floor_clients[i]);
}

/* Append the complete lines in [p, end) to the log, whole or exit. */
static void
floor_log(const char *p, const char *end)
{
	const char *nl;
	ssize_t	    n;

	if ((nl = memrchr(p, '\n', (size_t)(end - p))) == NULL)
		return;
	for (end = nl + 1; p < end; p += n) {
		if ((n = write(floor_log_fd, p, (size_t)(end - p))) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			fprintf(stderr, "floor: log: %s\n", strerror(errno));
			exit(1);
		}
	}
}

/*
 * Read what the pipe holds after the bytes kept, and frame each complete
 * line. Each byte is searched once (the search resumes where it stopped)
 * and a partial line is moved to the front only when the room after it
 * runs short, as agentd's framer does.
 */
static void
floor_pipe_cb(struct ev_loop *l, ev_io *w, int revents)
{
	char   *p, *nl, *end, line[512];
	ssize_t n;

	if (FLOOR_READ - floor_in_len < FLOOR_READ / 4) {
		memmove(floor_in, floor_in + floor_in_off,
		    floor_in_len - floor_in_off);
		floor_in_len -= floor_in_off;
		floor_in_scan -= floor_in_off;
		floor_in_off = 0;
	}
	if (floor_in_len == FLOOR_READ) {
		fprintf(
		    stderr, "floor: a line longer than %d bytes\n", FLOOR_READ);
		exit(1);
	}
	n = read(w->fd, floor_in + floor_in_len, FLOOR_READ - floor_in_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ev_io_stop(l, w);
		close(w->fd);
		if (floor_replay != NULL) { /* the producer wrote it all */
			n = floor_last(line, sizeof line, floor_seq + 1);
			floor_frame(line, (size_t)n - 1);
			floor_flush_all();
		}
		return;
	}
	floor_in_len += (size_t)n;
	p = floor_in + floor_in_off;
	end = floor_in + floor_in_len;
	if (floor_log_fd != -1)
		floor_log(p, end);
	while ((nl = (char *)memfind(floor_in + floor_in_scan, '\n',
		    (size_t)(end - floor_in) - floor_in_scan)) != NULL) {
		if (floor_replay != NULL) {
			n = floor_line(line, sizeof line, floor_seq + 1, "x");
			floor_frame(line, (size_t)n - 1);
		} else
			floor_frame(p, (size_t)(nl - p));
		p = nl + 1;
		floor_in_scan = (size_t)(p - floor_in);
	}
	floor_in_off = (size_t)(p - floor_in);
	floor_in_scan = floor_in_len;
	if (floor_in_off == floor_in_len)
		floor_in_off = floor_in_len = floor_in_scan = 0;
	floor_flush_all();
}

/* Answer with status and body in one write. */
static int
floor_answer(struct lws *wsi, unsigned int status, const char *body)
{
	unsigned char  buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start;
	unsigned char *end = buf + sizeof buf;
	size_t	       blen = strlen(body);

	if (lws_add_http_common_headers(
		wsi, status, "application/json", blen, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end) || (size_t)(end - p) < blen)
		return (-1);
	memcpy(p, body, blen);
	p += blen;
	if (lws_write(wsi, start, (size_t)(p - start),
		LWS_WRITE_HTTP_HEADERS) != (int)(p - start))
		return (-1);
	return (lws_http_transaction_completed(wsi) ? -1 : 0);
}

static int
floor_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct floor_client *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0)
			return (0); /* answered once its body is in */
		if (strcmp(in, "/v1/health") == 0)
			return (floor_answer(wsi, 200,
			    "{\"status\":\"ok\",\"version\":\"floor\"}"));
		if (floor_relay_mode)
			return (floor_sse_start(wsi, c));
		return (floor_answer(wsi, 404, "{}"));
	case LWS_CALLBACK_HTTP_BODY:
		return (0);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (floor_relay_mode && !floor_started) {
			floor_started = 1;
			floor_put(floor_go_fd, "g", 1);
		}
		return (floor_answer(wsi, 200, "{}"));
	case LWS_CALLBACK_ESTABLISHED:
		return (floor_join(wsi, c, 0));
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c->wsi == wsi)
			floor_flush(c);
		return (0);
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c != NULL && c->wsi == wsi)
			floor_leave(c);
		return (0);
	default:
		break;
	}
	return (lws_callback_http_dummy(wsi, reason, user, in, len));
}

static const struct lws_protocols floor_protocols[] = {
	{ "floor", floor_cb, sizeof(struct floor_client), 4096, 0, NULL,
	    FLOOR_WRITE_MAX },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Fork the producer now, before lws opens anything it could inherit. */
static void
floor_fork_producer(void)
{
	int   go[2], out[2];
	pid_t pid;

	if (pipe(go) != 0 || pipe(out) != 0)
		abort();
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		close(go[1]);
		close(out[0]);
		floor_produce(go[0], out[1]);
	}
	close(go[0]);
	close(out[1]);
	floor_go_fd = go[1];
	floor_pipe_fd = out[0];
	fcntl(floor_pipe_fd, F_SETFL, O_NONBLOCK);
	if ((floor_in = malloc(FLOOR_READ)) == NULL)
		abort();
}

static void
floor_usage(void)
{
	fprintf(stderr,
	    "usage: floor health --port P\n"
	    "       floor relay --port P --lines N [--rate R] [--log FILE]\n"
	    "       floor relay --port P --replay FILE\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	void				*loops[1];
	int				 i, port = 0;

	if (argc < 2)
		floor_usage();
	if (strcmp(argv[1], "relay") == 0)
		floor_relay_mode = 1;
	else if (strcmp(argv[1], "health") != 0)
		floor_usage();
	for (i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--lines") == 0)
			floor_lines = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--rate") == 0)
			floor_rate = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--replay") == 0)
			floor_replay = argv[i + 1];
		else if (strcmp(argv[i], "--log") == 0) {
			floor_log_fd = open(argv[i + 1],
			    O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
			    0600);
			if (floor_log_fd == -1) {
				fprintf(stderr, "floor: %s: %s\n", argv[i + 1],
				    strerror(errno));
				return (1);
			}
		} else
			floor_usage();
	}
	if (i != argc || port <= 0)
		floor_usage();
	signal(SIGPIPE, SIG_IGN);
	if (floor_relay_mode)
		floor_fork_producer();
	floor_loop = ev_default_loop(EVFLAG_AUTO);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	loops[0] = floor_loop;
	info.port = port;
	info.iface = "127.0.0.1";
	info.protocols = floor_protocols;
	info.options = LWS_SERVER_OPTION_LIBEV;
	info.foreign_loops = loops;
	if ((floor_ctx = lws_create_context(&info)) == NULL) {
		fprintf(stderr, "floor: lws_create_context failed\n");
		return (1);
	}
	if (floor_relay_mode) {
		ev_io_init(
		    &floor_pipe_w, floor_pipe_cb, floor_pipe_fd, EV_READ);
		ev_io_start(floor_loop, &floor_pipe_w);
	}
	ev_run(floor_loop, 0);
	lws_context_destroy(floor_ctx);
	return (0);
}
