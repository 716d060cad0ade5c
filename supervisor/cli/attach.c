/*
 * attach.c: "agentd attach URL SESSION", a session of a running agentd in
 * this terminal.
 *
 * Its events come over the WebSocket route (server-client.c) and are shown
 * by render.c as agentd run shows its own. Lines typed on stdin are sent
 * as {"type":"message"} commands; with a terminal, permissions and
 * questions are asked inline and answered with permission.reply and
 * question.reply.
 *
 * The last sequence seen is the offset of the next connection, so a
 * dropped connection (agentd restarted, a network blip) is picked up again
 * after 0.5 s, then 1, 2, 4 and 5 s at most, without losing or repeating
 * an event. Until the backlog has been read (no frame for a short while)
 * nothing is asked and nothing typed is sent, so that old requests are
 * not asked again and a message goes after what is already there.
 *
 * EOF on stdin ends attach once the turns of the messages it sent are
 * over; Ctrl-C ends it at once. Both leave the session running. Exit
 * status: 0, or 1 if the session could not be reached at all or ended
 * with an error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define ATTACH_QUIET_SECONDS 0.15 /* no frame: the backlog is read */
#define ATTACH_BACKOFF_MIN   0.5
#define ATTACH_BACKOFF_MAX   5.0
#define ATTACH_SPIN_SECONDS  0.08

/* A line typed, to send, or sent and waiting for its turn to show. */
struct attach_line {
	char *text;
	int   acked;
	TAILQ_ENTRY(attach_line) entry;
};
TAILQ_HEAD(attach_lines, attach_line);

struct attach {
	struct client	    *client;
	struct render	    *render;
	struct render_input *input;
	struct loop_timer   *retry;
	struct loop_timer   *quiet;
	struct loop_timer   *spin;
	int		     spinning;

	char *host;
	int   port;
	int   tls;
	char *base; /* path prefix of the URL */
	char *session;
	char *token;
	int   ask; /* stdin is a terminal */

	uint64_t	    offset; /* last sequence seen */
	double		    backoff;
	int		    connected;
	int		    ever; /* was connected once */
	int		    caught_up;
	int		    eof;
	int		    mine;    /* a turn of ours runs */
	int		    in_turn; /* any turn runs */
	int		    lost_said;
	unsigned int	    nextid;
	int		    status;
	struct attach_lines todo; /* typed, not sent */
	struct attach_lines sent; /* sent, turn not seen */
};

static struct attach attach_state;

static const char attach_usage[] =
    "usage: agentd attach [--token T] [--offset N] URL SESSION\n"
    "\n"
    "Follows session SESSION of the agentd at URL (http://host:port) over\n"
    "WebSocket and shows its events as agentd run does, from the start (or\n"
    "after sequence N). Each line typed is sent as a message; on a terminal,\n"
    "permissions and questions are asked inline. The connection is picked up\n"
    "again where it left off when it drops. EOF on stdin leaves once the\n"
    "turns of the messages sent are over; Ctrl-C leaves at once.\n"
    "\n"
    "options:\n"
    "  --token T    the server's token (also AGENTD_TOKEN)\n"
    "  --offset N   start after sequence N (default 0: the whole session)\n";

static void attach_connect(struct attach *);

static void
attach_line_free(struct attach_lines *q, struct attach_line *l)
{
	TAILQ_REMOVE(q, l, entry);
	free(l->text);
	free(l);
}

/* Send a command; takes cmd. */
static int
attach_send(struct attach *a, cJSON *cmd)
{
	char  *text, id[16];
	size_t len;
	int    rv;

	if (json_get_str(cmd, "id") == NULL) {
		snprintf(id, sizeof id, "c%u", ++a->nextid);
		json_set_str(cmd, "id", id);
	}
	text = json_print(cmd, &len);
	json_free(cmd);
	rv = client_send(a->client, text, len);
	free(text);
	return (rv);
}

/* Leave once stdin is done, the backlog read and the turns over. */
static void
attach_check_done(struct attach *a)
{
	if (a->eof && a->caught_up && TAILQ_EMPTY(&a->todo) &&
	    TAILQ_EMPTY(&a->sent) && !a->mine && !a->in_turn)
		loop_break();
}

/* Send what was typed while we could not. */
static void
attach_flush(struct attach *a)
{
	struct attach_line *l;
	cJSON		   *cmd;

	if (!a->connected || !a->caught_up)
		return;
	while ((l = TAILQ_FIRST(&a->todo)) != NULL) {
		cmd = json_object();
		json_set_str(cmd, "type", "message");
		json_set_str(cmd, "message", l->text);
		json_set_str(cmd, "id", "message");
		if (attach_send(a, cmd) != 0)
			return;
		TAILQ_REMOVE(&a->todo, l, entry);
		TAILQ_INSERT_TAIL(&a->sent, l, entry);
	}
	attach_check_done(a);
}

static void
attach_spin_cb(void *arg)
{
	struct attach *a = arg;

	render_tick(a->render);
	if (render_spinning(a->render))
		loop_timer_set(a->spin, ATTACH_SPIN_SECONDS);
	else
		a->spinning = 0;
}

/* No frame for a while: the backlog is read; ask, send. */
static void
attach_quiet_cb(void *arg)
{
	struct attach *a = arg;

	if (!a->connected)
		return;
	a->caught_up = 1;
	render_prompt(a->render);
	attach_flush(a);
	attach_check_done(a);
}

/*
 * A command's reply: {"reply_to", "status", "error"?}, status being the
 * HTTP status the command's route answers (2xx: done).
 */
static void
attach_reply(struct attach *a, const cJSON *o)
{
	struct attach_line *l;
	const char	   *to, *error;
	long long	    status = 0;
	int		    ok;

	to = json_get_str(o, "reply_to");
	(void)json_get_int(o, "status", &status);
	ok = status >= 200 && status <= 299;
	error = json_get_str(o, "error");
	if (to != NULL && strcmp(to, "message") == 0) {
		TAILQ_FOREACH(l, &a->sent, entry) {
			if (!l->acked)
				break;
		}
		if (l != NULL && ok)
			l->acked = 1;
		else if (l != NULL)
			attach_line_free(&a->sent, l);
	}
	if (!ok)
		render_error(a->render, "%s",
		    error != NULL ? error : "the session refused a command");
	attach_check_done(a);
}

/* Is this the user message of the first line we sent? */
static void
attach_match(struct attach *a, const cJSON *data)
{
	const cJSON	   *item = json_get_obj(data, "item"), *part;
	struct attach_line *l;
	const char	   *role, *text = NULL;

	role = json_get_str(item, "role");
	if (role == NULL || strcmp(role, "user") != 0 ||
	    (l = TAILQ_FIRST(&a->sent)) == NULL)
		return;
	JSON_FOREACH(part, json_get_arr(item, "content")) {
		if ((text = json_get_str(part, "text")) != NULL)
			break;
	}
	if (text != NULL && strcmp(text, l->text) == 0) {
		attach_line_free(&a->sent, l);
		a->mine = 1;
	}
}

/* One event frame. */
static void
attach_event(struct attach *a, const cJSON *ev)
{
	const char *type, *reason;
	long long   seq;

	if (json_get_int(ev, "sequence", &seq) != 0 || seq < 0)
		return;
	if ((uint64_t)seq <= a->offset)
		return; /* seen before the connection dropped */
	a->offset = (uint64_t)seq;
	render_event(a->render, ev);
	if ((type = json_get_str(ev, "type")) == NULL)
		return;
	if (strcmp(type, "item.completed") == 0)
		attach_match(a, json_get_obj(ev, "data"));
	else if (strcmp(type, "turn.started") == 0)
		a->in_turn = 1;
	else if (strcmp(type, "turn.ended") == 0) {
		a->mine = 0;
		a->in_turn = 0;
		attach_check_done(a);
	} else if (strcmp(type, "session.ended") == 0) {
		reason = json_get_str(json_get_obj(ev, "data"), "reason");
		if (reason != NULL && strcmp(reason, "error") == 0)
			a->status = 1;
		loop_break();
	}
}

static void
attach_message_cb(void *arg, const char *text, size_t len)
{
	struct attach *a = arg;
	const char    *err;
	cJSON	      *o;

	if ((o = json_parse(text, len, &err)) == NULL)
		return;
	if (json_get(o, "reply_to") != NULL)
		attach_reply(a, o);
	else
		attach_event(a, o);
	json_free(o);
	if (a->caught_up)
		render_prompt(a->render);
	else
		loop_timer_set(a->quiet, ATTACH_QUIET_SECONDS);
	if (!a->spinning && a->spin != NULL && render_spinning(a->render)) {
		a->spinning = 1;
		loop_timer_set(a->spin, ATTACH_SPIN_SECONDS);
	}
}

static void
attach_connected_cb(void *arg)
{
	struct attach *a = arg;

	if (a->lost_said)
		render_note(a->render, STDERR_FILENO, "agentd: reconnected");
	a->connected = 1;
	a->ever = 1;
	a->lost_said = 0;
	a->backoff = ATTACH_BACKOFF_MIN;
	a->caught_up = 0;
	loop_timer_set(a->quiet, ATTACH_QUIET_SECONDS);
}

static void
attach_retry_cb(void *arg)
{
	attach_connect(arg);
}

/* The connection is gone: try again later, or give up if it never was. */
static void
attach_closed_cb(void *arg, const char *why)
{
	struct attach	   *a = arg;
	struct attach_line *l, *next;

	a->connected = 0;
	a->caught_up = 0;
	loop_timer_stop(a->quiet);
	if (!a->ever) {
		render_error(a->render,
		    "cannot attach to session '%s' at "
		    "%s:%d: %s",
		    a->session, a->host, a->port,
		    why != NULL ? why : "connection closed");
		a->status = 1;
		loop_break();
		return;
	}
	/* A message sent but not acknowledged may or may not be in. */
	for (l = TAILQ_FIRST(&a->sent); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (!l->acked) {
			render_error(a->render,
			    "the connection dropped before "
			    "the session took \"%s\"; not sent again",
			    l->text);
			attach_line_free(&a->sent, l);
		}
	}
	if (!a->lost_said)
		render_note(a->render, STDERR_FILENO,
		    "agentd: connection lost"
		    "%s%s; reconnecting",
		    why != NULL ? ": " : "", why != NULL ? why : "");
	a->lost_said = 1;
	loop_timer_set(a->retry, a->backoff);
	a->backoff *= 2;
	if (a->backoff > ATTACH_BACKOFF_MAX)
		a->backoff = ATTACH_BACKOFF_MAX;
	attach_check_done(a);
}

static const struct client_cbs attach_cbs = { attach_connected_cb,
	attach_message_cb, attach_closed_cb };

/* Connect (again), asking for the events after the last one seen. */
static void
attach_connect(struct attach *a)
{
	char *path, *cause;

	xasprintf(&path, "%s/v1/sessions/%s/events/ws?offset=%llu", a->base,
	    a->session, (unsigned long long)a->offset);
	if (client_connect(a->client, a->host, a->port, a->tls, path, a->token,
		&cause) != 0) {
		if (!a->ever) {
			render_error(a->render, "%s", cause);
			a->status = 1;
			loop_break();
		} else
			loop_timer_set(a->retry, a->backoff);
		free(cause);
	}
	free(path);
}

static void
attach_line_cb(void *arg, const char *line)
{
	struct attach	   *a = arg;
	struct attach_line *l;
	cJSON		   *cmd;

	if (a->ask && render_asking(a->render) && a->caught_up) {
		if ((cmd = render_answer(a->render, line)) != NULL &&
		    attach_send(a, cmd) != 0)
			render_error(a->render,
			    "not connected: the answer "
			    "was not sent");
		return;
	}
	if (a->ask)
		render_input_line(a->render);
	if (*line == '\0')
		return;
	l = xcalloc(1, sizeof *l);
	l->text = xstrdup(line);
	TAILQ_INSERT_TAIL(&a->todo, l, entry);
	attach_flush(a);
}

static void
attach_eof_cb(void *arg)
{
	struct attach *a = arg;

	a->eof = 1;
	attach_check_done(a);
}

static void
attach_signal_cb(int signo)
{
	attach_state.status = signo == SIGINT ? 0 : 128 + signo;
	loop_break();
}

/*
 * http://host[:port][/base], ws:// alike; https and wss ask for TLS.
 * Returns 0 and fills a, or -1.
 */
static int
attach_parse_url(struct attach *a, const char *url)
{
	const char *p, *hostend, *slash;
	char	   *end;
	long	    port;

	if (strncmp(url, "http://", 7) == 0 || strncmp(url, "ws://", 5) == 0)
		a->port = 80;
	else if (strncmp(url, "https://", 8) == 0 ||
	    strncmp(url, "wss://", 6) == 0) {
		a->port = 443;
		a->tls = 1;
	} else
		return (-1);
	p = strstr(url, "://") + 3;
	if ((slash = strchr(p, '/')) == NULL)
		slash = p + strlen(p);
	if (*p == '[') {
		if ((hostend = strchr(p, ']')) == NULL || hostend > slash)
			return (-1);
		a->host = xstrndup(p + 1, (size_t)(hostend - p - 1));
		hostend++;
	} else {
		for (hostend = p; hostend < slash && *hostend != ':'; hostend++)
			;
		a->host = xstrndup(p, (size_t)(hostend - p));
	}
	if (*a->host == '\0')
		return (-1);
	if (*hostend == ':') {
		port = strtol(hostend + 1, &end, 10);
		if (end != slash || port <= 0 || port > 65535)
			return (-1);
		a->port = (int)port;
	} else if (hostend != slash)
		return (-1);
	a->base = xstrdup(slash);
	if (strchr(a->base, '?') != NULL || strchr(a->base, '#') != NULL)
		return (-1);
	while (*a->base != '\0' && a->base[strlen(a->base) - 1] == '/')
		a->base[strlen(a->base) - 1] = '\0';
	return (0);
}

int
attach_main(int argc, char **argv)
{
	static const struct option longopts[] = { { "token", required_argument,
						      NULL, 't' },
		{ "offset", required_argument, NULL, 'o' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	struct attach		  *a = &attach_state;
	struct attach_line	  *l;
	const char		  *s;
	char			  *cause, *end;
	int			   ch, flags = RENDER_USER;

	(void)log_set_level("error");
	memset(a, 0, sizeof *a);
	TAILQ_INIT(&a->todo);
	TAILQ_INIT(&a->sent);
	if ((s = getenv("AGENTD_TOKEN")) != NULL) {
		if (*s != '\0')
			a->token = xstrdup(s);
		unsetenv("AGENTD_TOKEN");
	}
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			free(a->token);
			a->token = xstrdup(optarg);
			memset(optarg, '*', strlen(optarg));
			break;
		case 'o':
			a->offset = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0') {
				fprintf(stderr,
				    "agentd: attach: invalid "
				    "--offset '%s'\n",
				    optarg);
				return (2);
			}
			break;
		case 'l':
			if (log_set_level(optarg) != 0)
				return (2);
			break;
		case 'h':
			fputs(attach_usage, stdout);
			return (0);
		default:
			fputs(attach_usage, stderr);
			return (2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2) {
		fputs(attach_usage, stderr);
		return (2);
	}
	if (attach_parse_url(a, argv[0]) != 0) {
		fprintf(stderr,
		    "agentd: attach: not an http:// or ws:// URL: "
		    "%s\n",
		    argv[0]);
		return (2);
	}
	if (!session_valid_id(argv[1])) {
		fprintf(stderr, "agentd: attach: invalid session id '%s'\n",
		    argv[1]);
		return (2);
	}
	a->session = xstrdup(argv[1]);
	a->ask = isatty(STDIN_FILENO);
	a->backoff = ATTACH_BACKOFF_MIN;

	loop_init();
	loop_on_signal(SIGINT, attach_signal_cb);
	loop_on_signal(SIGTERM, attach_signal_cb);
	loop_on_signal(SIGHUP, attach_signal_cb);
	if (render_color_wanted(STDOUT_FILENO))
		flags |= RENDER_COLOR;
	if (isatty(STDOUT_FILENO))
		flags |= RENDER_TTY;
	if (a->ask)
		flags |= RENDER_ASK;
	a->render = render_new(
	    flags, render_width(STDOUT_FILENO), render_write_fd, NULL);
	a->retry = loop_timer_new(attach_retry_cb, a);
	a->quiet = loop_timer_new(attach_quiet_cb, a);
	if (flags & RENDER_TTY)
		a->spin = loop_timer_new(attach_spin_cb, a);
	if ((a->client = client_new(&attach_cbs, a, &cause)) == NULL) {
		render_error(a->render, "%s", cause);
		free(cause);
		return (1);
	}
	a->input =
	    render_input_new(STDIN_FILENO, attach_line_cb, attach_eof_cb, a);
	attach_connect(a);
	if (a->status == 0)
		loop_run();

	render_input_free(a->input);
	client_free(a->client);
	loop_timer_free(a->retry);
	loop_timer_free(a->quiet);
	loop_timer_free(a->spin);
	render_free(a->render);
	while ((l = TAILQ_FIRST(&a->todo)) != NULL)
		attach_line_free(&a->todo, l);
	while ((l = TAILQ_FIRST(&a->sent)) != NULL)
		attach_line_free(&a->sent, l);
	free(a->host);
	free(a->base);
	free(a->session);
	free(a->token);
	return (a->status);
}
