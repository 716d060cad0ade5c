/*
 * run.c: "agentd run AGENT [PROMPT]", one agent here, without a server.
 *
 * The same loop and the same session code as agentd serve: the session is
 * created in a data dir of its own (a temporary one unless --data-dir),
 * and instead of sockets this file is a subscriber of its journal,
 * reading the events after its cursor and handing them to render.c, or
 * printing them as JSON lines with --json.
 *
 * With a prompt, one turn runs and its end decides the exit status: 0
 * for end_turn, 1 for an error or an agent that died (the renderer says
 * why on stderr), 130 when Ctrl-C cancelled it. Without one, lines read on
 * stdin are messages, one turn each, until EOF.
 *
 * Permissions and questions are asked inline when stdin is a terminal;
 * otherwise --permission-mode decides (bypass allows, acceptEdits allows
 * edits, anything else rejects) and says so. Ctrl-C cancels the turn; a
 * second one (or one between turns) stops the agent and leaves.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define RUN_SPIN_SECONDS 0.08

struct run_line {
	char *text;
	TAILQ_ENTRY(run_line) entry;
};

struct run {
	struct session	    *session;
	struct journal_sub  *sub;
	struct render	    *render;
	struct render_input *input;
	struct loop_timer   *spin;
	int		     spinning;
	uint64_t	     cursor;

	int	    json;
	int	    conversation; /* no prompt: lines are messages */
	int	    ask;	  /* stdin is a terminal */
	const char *mode;	  /* --permission-mode */

	int busy; /* a message's turn runs */
	int eof;
	int interrupts;
	int stopping; /* we asked the agent to stop */
	int status;   /* the exit status */
	TAILQ_HEAD(, run_line) lines;
};

static struct run run_state;

static const char run_usage[] =
    "usage: agentd run [options] AGENT [PROMPT]\n"
    "\n"
    "Runs one agent here, without a server, and shows its events as text.\n"
    "With PROMPT one turn runs; the exit status is 0 if it ended normally,\n"
    "1 on an error, 130 if Ctrl-C cancelled it. Without PROMPT each line read\n"
    "on stdin is a message (a conversation) until EOF.\n"
    "\n"
    "options:\n"
    "  --cwd DIR                the agent's working directory (default: here)\n"
    "  --model M                the model to ask the agent for\n"
    "  --permission-mode M      default, acceptEdits, bypass or plan; without\n"
    "                           a terminal it decides permissions: bypass\n"
    "                           allows, acceptEdits allows edits, else reject\n"
    "  --json                   print the universal events as JSON lines\n"
    "  --agent-command JSON     the command to run, as a JSON array of "
    "strings\n"
    "  --data-dir D             keep the session in D (default: a temporary\n"
    "                           directory, removed at the end)\n"
    "  --log-level L            agentd's own logs on stderr (default error)\n";

static void run_wake_cb(void *);
static void run_finish(struct run *);

/* Print one event as a JSON line; line is the event without its raw. */
static void
run_json(const char *line, size_t len)
{
	render_write_fd(NULL, STDOUT_FILENO, line, len);
	render_write_fd(NULL, STDOUT_FILENO, "\n", 1);
}

static void
run_spin_cb(void *arg)
{
	struct run *r = arg;

	render_tick(r->render);
	if (render_spinning(r->render))
		loop_timer_set(r->spin, RUN_SPIN_SECONDS);
	else
		r->spinning = 0;
}

/* Keep the spinner turning while a tool runs (on a terminal only). */
static void
run_spin(struct run *r)
{
	if (r->spinning || r->spin == NULL || !render_spinning(r->render))
		return;
	r->spinning = 1;
	loop_timer_set(r->spin, RUN_SPIN_SECONDS);
}

/* The "› " prompt of a conversation on a terminal. */
static void
run_ready(struct run *r)
{
	if (r->conversation && r->ask && !r->json && !r->busy && !r->eof &&
	    !r->stopping && !render_asking(r->render)) {
		render_write_fd(NULL, STDOUT_FILENO, "› ", strlen("› "));
		render_input_line(r->render);
	}
}

/* Send the next line typed, if no turn runs. */
static void
run_next(struct run *r)
{
	struct run_line *l;
	cJSON		*msg;
	char		*cause = NULL;

	if (r->busy || r->stopping || (l = TAILQ_FIRST(&r->lines)) == NULL) {
		if (!r->busy && r->eof && TAILQ_EMPTY(&r->lines))
			run_finish(r);
		return;
	}
	TAILQ_REMOVE(&r->lines, l, entry);
	msg = json_object();
	json_set_str(msg, "message", l->text);
	free(l->text);
	free(l);
	if (session_post_message(r->session, msg, &cause) != 0) {
		render_error(r->render, "%s",
		    cause != NULL ? cause : "the message was refused");
		free(cause);
		r->status = 1;
		run_finish(r);
	} else
		r->busy = 1;
	json_free(msg);
}

/* Carry out a command render_answer made (as a WebSocket would send). */
static void
run_command(struct run *r, cJSON *cmd)
{
	enum permission_reply reply;
	const char	     *type;
	char		     *cause = NULL;
	int		      rv = 0;

	type = json_get_str(cmd, "type");
	if (type != NULL && strcmp(type, "permission.reply") == 0) {
		if (event_permission_reply(
			json_get_str(cmd, "reply"), &reply) != 0)
			reply = PERMISSION_REJECT;
		rv = session_reply_permission(r->session,
		    json_get_str(cmd, "permission_id"), reply, &cause);
	} else if (type != NULL && strcmp(type, "question.reply") == 0)
		rv = session_reply_question(r->session,
		    json_get_str(cmd, "question_id"),
		    json_get_arr(cmd, "answers"), &cause);
	if (rv != 0) {
		render_error(r->render, "%s",
		    cause != NULL ? cause : "the reply was refused");
		free(cause);
	}
	json_free(cmd);
}

/* Is this permission an edit of a file (for --permission-mode acceptEdits)? */
static int
run_is_edit(const cJSON *data)
{
	static const char *const edits[] = { "Write", "Edit", "MultiEdit",
		"NotebookEdit", "apply_patch", "edit", "write", "patch" };
	const char		*name;
	size_t			 i, len;

	name = json_get_str(json_get_obj(data, "metadata"), "tool_name");
	if (name == NULL)
		name = json_get_str(data, "action");
	if (name == NULL)
		return (0);
	for (i = 0; i < nitems(edits); i++) {
		len = strlen(edits[i]);
		if (strncmp(name, edits[i], len) == 0 &&
		    (name[len] == '\0' || name[len] == ' '))
			return (1);
	}
	return (0);
}

/* No terminal to ask: --permission-mode answers, and we say how. */
static void
run_decide(struct run *r, enum event_type type, const cJSON *data)
{
	const char *mode = r->mode != NULL ? r->mode : "default";
	const char *id, *action;
	char	   *cause = NULL;
	int	    allow, rv;

	if (type == EVENT_QUESTION_REQUESTED) {
		id = json_get_str(data, "question_id");
		render_note(r->render, STDERR_FILENO,
		    "agentd: no terminal to "
		    "answer a question: declining it");
		rv = session_reply_question(r->session, id, NULL, &cause);
	} else {
		id = json_get_str(data, "permission_id");
		action = json_get_str(data, "action");
		allow = strcmp(mode, "bypass") == 0 ||
		    strcmp(mode, "bypassPermissions") == 0 ||
		    (strcmp(mode, "acceptEdits") == 0 && run_is_edit(data));
		if (allow)
			render_note(r->render, STDERR_FILENO,
			    "agentd: allowing "
			    "%s (--permission-mode %s)",
			    action, mode);
		else
			render_note(r->render, STDERR_FILENO,
			    "agentd: no "
			    "terminal to ask: rejecting %s (--permission-mode "
			    "%s; bypass would allow it)",
			    action, mode);
		rv = session_reply_permission(r->session, id,
		    allow ? PERMISSION_ONCE : PERMISSION_REJECT, &cause);
	}
	if (rv != 0) {
		render_error(
		    r->render, "%s", cause != NULL ? cause : "refused");
		free(cause);
	}
}

/* React to one event after it was shown. */
static void
run_event(struct run *r, enum event_type type, const cJSON *ev)
{
	const cJSON *data = json_get_obj(ev, "data");
	const char  *reason;

	switch (type) {
	case EVENT_PERMISSION_REQUESTED:
	case EVENT_QUESTION_REQUESTED:
		if (!r->ask || r->json || r->eof)
			run_decide(r, type, data);
		break;
	case EVENT_TURN_ENDED:
		reason = json_get_str(data, "stop_reason");
		if (reason != NULL && strcmp(reason, "end_turn") == 0)
			r->status = 0;
		else if (reason != NULL && strcmp(reason, "cancelled") == 0 &&
		    r->interrupts > 0)
			r->status = 130;
		else
			r->status = 1;
		r->busy = 0;
		r->interrupts = 0;
		if (!r->conversation)
			run_finish(r);
		else
			run_next(r);
		run_ready(r);
		break;
	case EVENT_SESSION_ENDED:
		if (!r->stopping) {
			reason = json_get_str(data, "reason");
			if (reason == NULL ||
			    strcmp(reason, "completed") != 0 || r->busy)
				r->status = r->status == 130 ? 130 : 1;
		}
		r->stopping = 1;
		loop_break();
		break;
	default:
		break;
	}
}

/* The end of a session we stopped ourselves goes without saying. */
static int
run_quiet(struct run *r, enum event_type type, const cJSON *ev)
{
	const char *reason;

	if (type != EVENT_SESSION_ENDED || !r->stopping)
		return (0);
	reason = json_get_str(json_get_obj(ev, "data"), "reason");
	return (reason != NULL && strcmp(reason, "terminated") == 0);
}

struct run_read {
	uint64_t	seq;
	enum event_type type;
	char	       *line;
	size_t		len;
};

/* Take one event (without its raw) and stop. */
static int
run_read_cb(void *arg, uint64_t seq, enum event_type type, const char *line,
    size_t len, size_t noraw)
{
	struct run_read *rd = arg;

	rd->seq = seq;
	rd->type = type;
	rd->line = xmalloc(noraw + 2);
	memcpy(rd->line, line, noraw);
	rd->line[noraw] = '}'; /* close the object cut before "raw" */
	rd->line[noraw + 1] = '\0';
	rd->len = noraw + 1;
	return (1);
}

/* The session has new events: show each, then react to it. */
static void
run_wake_cb(void *arg)
{
	struct run     *r = arg;
	struct run_read rd;
	const char     *err;
	cJSON	       *ev;

	for (;;) {
		memset(&rd, 0, sizeof rd);
		if (session_read(r->session, r->cursor, 1, run_read_cb, &rd) <
			0 ||
		    rd.line == NULL)
			break;
		r->cursor = rd.seq;
		ev = json_parse(rd.line, rd.len, &err);
		if (r->json)
			run_json(rd.line, rd.len);
		else if (ev != NULL && !run_quiet(r, rd.type, ev))
			render_event(r->render, ev);
		free(rd.line);
		if (ev != NULL)
			run_event(r, rd.type, ev);
		json_free(ev);
	}
	if (r->ask && !r->json)
		render_prompt(r->render);
	run_spin(r);
}

/* A line from stdin: an answer to what is asked, or a message. */
static void
run_line_cb(void *arg, const char *line)
{
	struct run	*r = arg;
	struct run_line *l;
	cJSON		*cmd;

	if (r->ask && !r->json && render_asking(r->render)) {
		if ((cmd = render_answer(r->render, line)) != NULL)
			run_command(r, cmd);
		return;
	}
	if (r->ask)
		render_input_line(r->render);
	if (!r->conversation)
		return;
	if (*line == '\0') {
		run_ready(r);
		return;
	}
	l = xcalloc(1, sizeof *l);
	l->text = xstrdup(line);
	TAILQ_INSERT_TAIL(&r->lines, l, entry);
	run_next(r);
}

static void
run_eof_cb(void *arg)
{
	struct run *r = arg;

	r->eof = 1;
	if (r->ask && !r->json && r->busy && render_asking(r->render)) {
		/* Nobody is left to answer: cancel the turn. */
		(void)session_cancel(r->session, NULL);
	}
	if (r->conversation) {
		if (r->ask)
			render_write_fd(NULL, STDOUT_FILENO, "\n", 1);
		run_next(r);
	}
}

/* Stop the agent; session.ended then ends the loop. */
static void
run_finish(struct run *r)
{
	if (r->stopping)
		return;
	r->stopping = 1;
	if (session_is_dead(r->session))
		loop_break();
	else
		(void)session_terminate(r->session);
}

/* Ctrl-C: cancel the turn; a second one, or one between turns, leaves. */
static void
run_signal_cb(int signo)
{
	struct run *r = &run_state;
	char	   *cause = NULL;

	if (signo == SIGINT && r->busy && r->interrupts++ == 0 &&
	    !r->stopping) {
		if (!r->json)
			render_note(r->render, STDERR_FILENO,
			    "cancelling "
			    "(Ctrl-C again to stop the agent)");
		if (session_cancel(r->session, &cause) == 0)
			return;
		free(cause);
	}
	r->status = signo == SIGINT ? 130 : 128 + signo;
	if (r->stopping)
		loop_break();
	run_finish(r);
}

/* A temporary data dir, or NULL. */
static char *
run_temp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char	   *dir;

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	xasprintf(&dir, "%s/agentd-run-XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		free(dir);
		return (NULL);
	}
	return (dir);
}

/* The create request from the options. */
static cJSON *
run_request(const char *agent, const char *cwd, const char *model,
    const char *mode, const char *command)
{
	const char *err;
	cJSON	   *req, *argv;

	req = json_object();
	json_set_str(req, "agent", agent);
	if (cwd != NULL)
		json_set_str(req, "cwd", cwd);
	if (model != NULL)
		json_set_str(req, "model", model);
	if (mode != NULL)
		json_set_str(req, "permissionMode", mode);
	if (command != NULL) {
		if ((argv = json_parse(command, strlen(command), &err)) ==
			NULL ||
		    !json_is_arr(argv)) {
			fprintf(stderr,
			    "agentd: --agent-command: not a JSON "
			    "array of strings: %s\n",
			    command);
			exit(2);
		}
		json_set(req, "agentCommand", argv);
	}
	return (req);
}

static char *
run_join(int argc, char **argv)
{
	char *s = NULL, *t;
	int   i;

	for (i = 0; i < argc; i++) {
		if (s == NULL)
			s = xstrdup(argv[i]);
		else {
			xasprintf(&t, "%s %s", s, argv[i]);
			free(s);
			s = t;
		}
	}
	return (s);
}

int
run_main(int argc, char **argv)
{
	static const struct option longopts[] = { { "cwd", required_argument,
						      NULL, 'C' },
		{ "model", required_argument, NULL, 'm' },
		{ "permission-mode", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "agent-command", required_argument, NULL, 'a' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	static const char *const modes[] = { "default", "acceptEdits", "bypass",
		"bypassPermissions", "plan" };
	struct run		*r = &run_state;
	const char		*cwd = NULL, *model = NULL;
	const char		*command = NULL, *data_dir = NULL;
	char			*temp = NULL, *prompt, *cause = NULL;
	char			*path, *id, stamp[32];
	time_t			 now;
	cJSON			*req, *msg;
	size_t			 i;
	int			 ch, flags = 0, rv;

	(void)log_set_level("error");
	memset(r, 0, sizeof *r);
	TAILQ_INIT(&r->lines);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			cwd = optarg;
			break;
		case 'm':
			model = optarg;
			break;
		case 'P':
			for (i = 0; i < nitems(modes); i++) {
				if (strcmp(modes[i], optarg) == 0)
					break;
			}
			if (i == nitems(modes)) {
				fprintf(stderr,
				    "agentd: run: unknown "
				    "--permission-mode '%s'\n",
				    optarg);
				return (2);
			}
			r->mode = optarg;
			break;
		case 'j':
			r->json = 1;
			break;
		case 'a':
			command = optarg;
			break;
		case 'd':
			data_dir = optarg;
			break;
		case 'l':
			if (log_set_level(optarg) != 0)
				return (2);
			break;
		case 'h':
			fputs(run_usage, stdout);
			return (0);
		default:
			fputs(run_usage, stderr);
			return (2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fputs(run_usage, stderr);
		return (2);
	}
	if (adapter_find_agent(argv[0]) == NULL) {
		fprintf(stderr,
		    "agentd: run: unknown agent '%s' (agentd agents "
		    "lists them)\n",
		    argv[0]);
		return (2);
	}
	prompt = run_join(argc - 1, argv + 1);
	r->conversation = prompt == NULL;
	r->ask = isatty(STDIN_FILENO);

	if (data_dir == NULL) {
		if ((temp = run_temp_dir()) == NULL) {
			fprintf(stderr,
			    "agentd: run: cannot make a temporary "
			    "directory: %s\n",
			    strerror(errno));
			return (1);
		}
		data_dir = temp;
	}
	options.data_dir = data_dir;
	options.kill_grace = 2;
	agentd_start_ms = loop_now_ms();
	loop_init();
	loop_on_signal(SIGINT, run_signal_cb);
	loop_on_signal(SIGTERM, run_signal_cb);
	loop_on_signal(SIGHUP, run_signal_cb);
	if (store_init(options.data_dir, &cause) != 0) {
		fprintf(stderr, "agentd: run: data dir %s: %s\n",
		    options.data_dir, cause);
		return (1);
	}

	if (render_color_wanted(STDOUT_FILENO))
		flags |= RENDER_COLOR;
	if (isatty(STDOUT_FILENO))
		flags |= RENDER_TTY;
	if (r->ask)
		flags |= RENDER_ASK;
	if (r->conversation && !r->ask)
		flags |= RENDER_USER;
	r->render = render_new(
	    flags, render_width(STDOUT_FILENO), render_write_fd, NULL);
	if (flags & RENDER_TTY)
		r->spin = loop_timer_new(run_spin_cb, r);

	req = run_request(argv[0], cwd, model, r->mode, command);
	if (temp != NULL)
		id = xstrdup("run");
	else {
		now = time(NULL);
		strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", gmtime(&now));
		xasprintf(&id, "run-%s-%ld", stamp, (long)getpid());
	}
	rv = session_create(id, req, &r->session, &cause);
	free(id);
	json_free(req);
	if (rv != 0 && r->session == NULL) {
		render_error(r->render, "%s", cause);
		r->status = 1;
		goto out;
	}
	r->sub = journal_subscribe(session_journal(r->session), run_wake_cb, r);
	if (rv != 0) {
		/* It could not start: its log says why; show it and leave. */
		free(cause);
		r->status = 1;
		r->stopping = 1;
		run_wake_cb(r);
		goto out;
	}
	if (prompt != NULL) {
		msg = json_object();
		json_set_str(msg, "message", prompt);
		if (session_post_message(r->session, msg, &cause) != 0) {
			render_error(r->render, "%s", cause);
			r->status = 1;
			r->stopping = 1;
		} else
			r->busy = 1;
		json_free(msg);
	}
	if (r->conversation || r->ask)
		r->input =
		    render_input_new(STDIN_FILENO, run_line_cb, run_eof_cb, r);
	run_ready(r);
	if (!r->stopping || !session_is_dead(r->session))
		loop_run();
out:
	render_input_free(r->input);
	loop_timer_free(r->spin);
	if (r->session != NULL) {
		journal_unsubscribe(r->sub);
		if (temp != NULL)
			session_delete(r->session);
	}
	session_shutdown();
	render_free(r->render);
	if (temp != NULL) {
		xasprintf(&path, "%s/sessions", temp);
		(void)rmdir(path);
		free(path);
		(void)rmdir(temp);
		free(temp);
	}
	free(prompt);
	return (r->status);
}
