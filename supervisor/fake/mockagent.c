/*
 * mockagent.c: "agentd mock-agent", a real ACP agent on stdin and stdout,
 * driven by keywords in the prompt text, for tests, demos and benchmarks
 * without any model or network.
 *
 *	permission	a tool call that asks session/request_permission
 *	question	an elicitation/create form (color: Red or Blue)
 *	slow		2,000 small chunks 2 ms apart; session/cancel stops it
 *	error		one chunk, then a JSON-RPC error for the prompt
 *	crash		one chunk, then exit 3 in the middle of the turn
 *	tool		an "echo hi" tool call and its result
 *	firehose N	N small chunks as fast as stdout takes them
 *	whoami		"model=M mode=M effort=E": the session's settings
 *	recall		"recall: " and the earlier prompts, joined by " | "
 *
 * Each image block of a prompt is first answered "saw image TYPE, N
 * bytes" (it says promptCapabilities.image).
 *	(else)		a thought, then "echo: <text>" in several chunks
 *
 * Its sessions have settings, as ACP agents tell them: modes (default,
 * acceptEdits, plan; session/set_mode), models (mock-fast, mock-smart;
 * session/set_model) and configOptions for all three (effort is the
 * thought_level category; session/set_config_option). In acceptEdits the
 * "permission" edit is allowed without asking.
 *
 * With AGENTD_MOCK_STORE=1 in its environment it keeps its sessions as a
 * real agent does, under its HOME: ~/.agentd-mock/sessions/<id>.jsonl, a
 * first line {"sessionId", "cwd"} and one {"prompt"} per prompt. Its
 * session/load then finds the session there, refuses it for another cwd
 * (as Claude Code keys its transcripts by the cwd), replays the prompts
 * as user_message_chunk updates and recalls them. The volume and
 * export/import tests move sessions with it. Without the variable it
 * remembers nothing, and session/load just takes the id. With
 * AGENTD_MOCK_STORE=behind it writes the file only as it exits (at EOF on
 * stdin; SIGTERM is taken as a request to finish), as Claude Code queues
 * its transcript behind its answers: a copy taken while it runs lacks it.
 *
 * It is a separate process from the daemon, so it uses plain blocking I/O:
 * poll(2) on stdin only where a turn has to notice session/cancel while it
 * streams. Messages that arrive while a turn waits for the client (say a
 * second prompt while a permission is open) are kept in a backlog and
 * handled after the turn. Every message goes out as one write of its line
 * and a newline. EOF on stdin ends the process with status 0. Messages
 * are dispatched by the JSON-RPC peer and shaped by protocol/acpmsg.c,
 * as the acp adapter on the other end of the pipe does.
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"

#ifndef AGENTD_VERSION
#define AGENTD_VERSION "0.0.0"
#endif

#define MOCKAGENT_SLOW_CHUNKS  2000
#define MOCKAGENT_SLOW_MS      2
#define MOCKAGENT_FIREHOSE_MAX 100000000L

/* A message read while a turn was busy, handled after it. */
struct mockagent_msg {
	cJSON *v;
	TAILQ_ENTRY(mockagent_msg) entry;
};

struct mockagent {
	struct jsonl	    *in;
	struct jsonrpc_peer *peer;
	int		     eof;
	long long	     next_id; /* our requests */
	unsigned int	     seq;     /* ids of calls, messages */
	char		    *session;
	int		     cancelled;	 /* in this turn */
	unsigned int	     turns;	 /* cost: $0.0001 each */
	const char	    *setting[3]; /* model, mode, effort */
	cJSON		    *prompts;	 /* this session's, for recall */
	char		    *store;	 /* the session's file, or NULL */
	int		     behind;	 /* AGENTD_MOCK_STORE=behind */
	cJSON		    *held;	 /* lines for store, if behind */
	TAILQ_HEAD(, mockagent_msg) backlog;
};

/* The settings: our key, ACP's config category and the values. */
enum {
	MOCKAGENT_MODEL,
	MOCKAGENT_MODE,
	MOCKAGENT_EFFORT,
	MOCKAGENT_NSET
};
static const struct {
	const char *key;
	const char *name;
	const char *values[4];
} mockagent_settings[MOCKAGENT_NSET] = {
	{ "model", "Model", { "mock-fast", "mock-smart", NULL } },
	{ "mode", "Mode", { "default", "acceptEdits", "plan", NULL } },
	{ "effort", "Thought level", { "low", "medium", "high", NULL } },
};

/* A prompt behaviour: returns the stopReason, or NULL if it answered. */
typedef const char *
mockagent_keyword_fn(struct mockagent *, const cJSON *, const char *);
struct mockagent_keyword {
	const char	     *keyword;
	mockagent_keyword_fn *fn;
};

static void mockagent_send(cJSON *);
static void mockagent_send_cb(void *, cJSON *);
static void
mockagent_invalid_cb(void *, const char *, const cJSON *, const char *);
static cJSON	*mockagent_poll(struct mockagent *, int);
static cJSON	*mockagent_next(struct mockagent *);
static void	 mockagent_defer(struct mockagent *, cJSON *);
static void	 mockagent_interrupt(struct mockagent *, cJSON *);
static cJSON	*mockagent_wait(struct mockagent *, long long);
static long long mockagent_request(struct mockagent *, const char *, cJSON *);
static void	 mockagent_update(struct mockagent *, cJSON *);
static char	*mockagent_store_path(const char *);
static void	 mockagent_store_add(struct mockagent *, cJSON *);
static void	 mockagent_store_flush(struct mockagent *);
static void	 mockagent_store_open(struct mockagent *, const char *);
static cJSON *mockagent_store_load(const char *, const char *, const char **);
static void   mockagent_images(struct mockagent *, const cJSON *);
static void   mockagent_chunk(
      struct mockagent *, enum acpmsg_update, const char *, const char *);
static void mockagent_tool_call(
    struct mockagent *, const char *, const char *, const char *, cJSON *);
static void mockagent_tool_done(
    struct mockagent *, const char *, enum acpmsg_status, cJSON *);
static cJSON	*mockagent_text_content(const char *);
static cJSON	*mockagent_diff_content(void);
static long long mockagent_ask_permission(struct mockagent *, const char *);
static long long mockagent_ask_question(struct mockagent *);

static jsonrpc_msg_fn mockagent_initialize;
static jsonrpc_msg_fn mockagent_new;
static jsonrpc_msg_fn mockagent_load;
static jsonrpc_msg_fn mockagent_prompt;
static jsonrpc_msg_fn mockagent_cancel;
static jsonrpc_msg_fn mockagent_set_mode;
static jsonrpc_msg_fn mockagent_set_model;
static jsonrpc_msg_fn mockagent_set_config;
static cJSON	     *mockagent_session_state(struct mockagent *, cJSON *);
static cJSON	     *mockagent_config_options(struct mockagent *);
static int	      mockagent_set(struct mockagent *, int, const char *);

static mockagent_keyword_fn mockagent_permission;
static mockagent_keyword_fn mockagent_question;
static mockagent_keyword_fn mockagent_slow;
static mockagent_keyword_fn mockagent_error;
static mockagent_keyword_fn mockagent_crash;
static mockagent_keyword_fn mockagent_tool;
static mockagent_keyword_fn mockagent_firehose;
static mockagent_keyword_fn mockagent_recall;
static mockagent_keyword_fn mockagent_whoami;
static mockagent_keyword_fn mockagent_echo;

/* Requests we answer; anything else is answered -32601. */
static const struct jsonrpc_method mockagent_requests[] = {
	{ ACPMSG_INITIALIZE, mockagent_initialize },
	{ ACPMSG_SESSION_NEW, mockagent_new },
	{ ACPMSG_SESSION_LOAD, mockagent_load },
	{ ACPMSG_SESSION_PROMPT, mockagent_prompt },
	{ ACPMSG_SESSION_SET_MODE, mockagent_set_mode },
	{ ACPMSG_SESSION_SET_MODEL, mockagent_set_model },
	{ ACPMSG_SESSION_SET_CONFIG, mockagent_set_config }
};

/* Notifications; session/cancel during a turn is mockagent_interrupt's. */
static const struct jsonrpc_method mockagent_notifications[] = {
	{ ACPMSG_SESSION_CANCEL, mockagent_cancel }
};

/*
 * The agent's side of ACP. Its own requests are matched by
 * mockagent_wait, which blocks for them, so it has no response table.
 */
static const struct jsonrpc_peer_ops mockagent_rpc = { "mock-agent", 1,
	mockagent_requests, nitems(mockagent_requests), mockagent_notifications,
	nitems(mockagent_notifications), NULL, 0, NULL, mockagent_send_cb,
	mockagent_invalid_cb };

/* The permission options of "permission"; allowed or not, by kind. */
static const struct acpmsg_choice mockagent_choices[] = {
	{ "allow", "Allow", ACPMSG_ALLOW_ONCE },
	{ "always", "Always allow", ACPMSG_ALLOW_ALWAYS },
	{ "reject", "Reject", ACPMSG_REJECT_ONCE }
};

/* The first keyword found in the prompt wins, in this order. */
static const struct mockagent_keyword mockagent_keywords[] = {
	{ "crash", mockagent_crash }, { "error", mockagent_error },
	{ "permission", mockagent_permission },
	{ "question", mockagent_question }, { "firehose", mockagent_firehose },
	{ "slow", mockagent_slow }, { "tool", mockagent_tool },
	{ "whoami", mockagent_whoami }, { "recall", mockagent_recall },
	{ "", mockagent_echo }
};

static void
mockagent_term_cb(int sig)
{
	(void)sig;
}

/* Run the mock agent until stdin closes. */
int
mockagent_main(int argc, char **argv)
{
	struct mockagent m;
	struct sigaction sa;
	const char	*v_env;
	cJSON		*v;

	signal(SIGPIPE, SIG_IGN);
	memset(&m, 0, sizeof m);
	v_env = getenv("AGENTD_MOCK_STORE");
	if (v_env != NULL && strcmp(v_env, "behind") == 0) {
		/* Finish at the EOF that comes with the SIGTERM. */
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = mockagent_term_cb;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGTERM, &sa, NULL);
		m.behind = 1;
	}
	m.in = jsonl_new(0);
	m.peer = jsonrpc_peer_new(&mockagent_rpc, &m);
	TAILQ_INIT(&m.backlog);
	m.setting[MOCKAGENT_MODEL] = "mock-fast";
	m.setting[MOCKAGENT_MODE] = "default";
	m.setting[MOCKAGENT_EFFORT] = "medium";
	while ((v = mockagent_next(&m)) != NULL) {
		jsonrpc_peer_dispatch(m.peer, v);
		json_free(v);
	}
	mockagent_store_flush(&m);
	jsonrpc_peer_free(m.peer);
	jsonl_free(m.in);
	free(m.session);
	free(m.store);
	json_free(m.prompts);
	return (0);
}

/*
 * Write one message as one line. A client that went away (EPIPE) ends the
 * agent as EOF on stdin would.
 */
static void
mockagent_write(const char *line, size_t len)
{
	if (compat_writeall(STDOUT_FILENO, line, len) != 0)
		exit(errno == EPIPE ? 0 : 1);
}

static void
mockagent_send(cJSON *msg)
{
	char  *line;
	size_t len;

	line = json_print_line(msg, &len);
	mockagent_write(line, len);
	free(line);
}

static void
mockagent_send_cb(void *arg, cJSON *msg)
{
	mockagent_send(msg);
}

/*
 * Not JSON (v NULL): -32700; not a JSON-RPC message: -32600, with its id
 * if it has one.
 */
static void
mockagent_invalid_cb(
    void *arg, const char *name, const cJSON *v, const char *why)
{
	struct mockagent *m = arg;

	jsonrpc_peer_error(m->peer, json_get(v, "id"),
	    v != NULL ? JSONRPC_INVALID_REQUEST : JSONRPC_PARSE_ERROR, why);
}

/*
 * The next message from stdin, waiting at most timeout ms (-1: forever).
 * NULL on timeout or EOF (m->eof). A line that is not JSON gets a -32700
 * error response and is skipped.
 */
static cJSON *
mockagent_poll(struct mockagent *m, int timeout)
{
	struct pollfd pfd;
	const char   *line, *err;
	char	      buf[65536];
	size_t	      len;
	ssize_t	      n;
	cJSON	     *v;

	for (;;) {
		switch (jsonl_next(m->in, &line, &len)) {
		case JSONL_LINE:
			if ((v = json_parse(line, len, &err)) != NULL)
				return (v);
			mockagent_invalid_cb(m, NULL, NULL, err);
			continue;
		case JSONL_TOOLONG:
			mockagent_invalid_cb(m, NULL, NULL, "line too long");
			continue;
		case JSONL_AGAIN:
			break;
		}
		if (m->eof)
			return (NULL);
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, timeout)) == 0)
			return (NULL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || (n = read(STDIN_FILENO, buf, sizeof buf)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			m->eof = 1;
			continue; /* one last unterminated line? */
		}
		jsonl_feed(m->in, buf, (size_t)n);
	}
}

/* The next message to handle: the backlog first, then stdin. */
static cJSON *
mockagent_next(struct mockagent *m)
{
	struct mockagent_msg *b;
	cJSON		     *v;

	if ((b = TAILQ_FIRST(&m->backlog)) != NULL) {
		TAILQ_REMOVE(&m->backlog, b, entry);
		v = b->v;
		free(b);
		return (v);
	}
	return (mockagent_poll(m, -1));
}

/* Keep a message for after the turn. */
static void
mockagent_defer(struct mockagent *m, cJSON *v)
{
	struct mockagent_msg *b;

	b = xcalloc(1, sizeof *b);
	b->v = v;
	TAILQ_INSERT_TAIL(&m->backlog, b, entry);
}

/*
 * A message that arrived during a turn: session/cancel marks the turn
 * cancelled at once, anything else waits in the backlog. Frees or keeps v.
 */
static void
mockagent_interrupt(struct mockagent *m, cJSON *v)
{
	const char *method = json_get_str(v, "method");

	if (method != NULL && strcmp(method, ACPMSG_SESSION_CANCEL) == 0 &&
	    json_get(v, "id") == NULL) {
		m->cancelled = 1;
		json_free(v);
	} else
		mockagent_defer(m, v);
}

/* Send a request to the client; returns its id. */
static long long
mockagent_request(struct mockagent *m, const char *method, cJSON *params)
{
	long long id = m->next_id++;

	mockagent_send(jsonrpc_request(1, id, method, params));
	return (id);
}

/*
 * Wait for the client's response to our request id; everything else that
 * arrives meanwhile goes through mockagent_interrupt. NULL on EOF.
 */
static cJSON *
mockagent_wait(struct mockagent *m, long long id)
{
	cJSON	 *v;
	long long got;

	while ((v = mockagent_poll(m, -1)) != NULL) {
		if (json_get(v, "method") == NULL &&
		    json_get_int(v, "id", &got) == 0 && got == id)
			return (v);
		mockagent_interrupt(m, v);
	}
	return (NULL);
}

static void
mockagent_update(struct mockagent *m, cJSON *update)
{
	mockagent_send(acpmsg_update(m->session, update));
}

/* One text chunk of kind (an agent message, a thought), messageId optional. */
static void
mockagent_chunk(struct mockagent *m, enum acpmsg_update kind, const char *text,
    const char *message_id)
{
	mockagent_update(m, acpmsg_chunk(kind, text, message_id));
}

static void
mockagent_initialize(void *arg, const struct jsonrpc_msg *msg)
{
	struct mockagent   *m = arg;
	struct acpmsg_agent ag = { .name = "agentd-mock",
		.version = AGENTD_VERSION,
		.load_session = 1,
		.image = 1 };

	jsonrpc_peer_reply(m->peer, msg->id, acpmsg_initialized(&ag));
}

static void
mockagent_new(void *arg, const struct jsonrpc_msg *msg)
{
	struct mockagent *m = arg;
	unsigned char	  rnd[8];
	char		  hex[sizeof rnd * 2 + 1];
	size_t		  i;

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		for (i = 0; i < sizeof rnd; i++)
			rnd[i] = (unsigned char)(getpid() >> (i % 4 * 8));
	}
	for (i = 0; i < sizeof rnd; i++)
		snprintf(hex + i * 2, 3, "%02x", rnd[i]);
	free(m->session);
	xasprintf(&m->session, "mock-%s", hex);
	json_free(m->prompts);
	m->prompts = json_array();
	mockagent_store_open(m, json_get_str(msg->params, "cwd"));
	jsonrpc_peer_reply(m->peer, msg->id,
	    mockagent_session_state(m, acpmsg_session_id(m->session)));
}

/* Add modes, models and configOptions to a session/new or load answer. */
static cJSON *
mockagent_session_state(struct mockagent *m, cJSON *r)
{
	const char *const *v;
	cJSON		  *modes, *models, *list, *c;

	list = json_array();
	for (v = mockagent_settings[MOCKAGENT_MODE].values; *v != NULL; v++) {
		c = json_object();
		json_set_str(c, "id", *v);
		json_set_str(c, "name", *v);
		json_append(list, c);
	}
	modes = json_object();
	json_set_str(modes, "currentModeId", m->setting[MOCKAGENT_MODE]);
	json_set(modes, "availableModes", list);
	list = json_array();
	for (v = mockagent_settings[MOCKAGENT_MODEL].values; *v != NULL; v++) {
		c = json_object();
		json_set_str(c, "modelId", *v);
		json_set_str(c, "name", *v);
		json_append(list, c);
	}
	models = json_object();
	json_set_str(models, "currentModelId", m->setting[MOCKAGENT_MODEL]);
	json_set(models, "availableModels", list);
	json_set(r, "modes", modes);
	json_set(r, "models", models);
	json_set(r, "configOptions", mockagent_config_options(m));
	return (r);
}

/* The three settings as select configOptions. */
static cJSON *
mockagent_config_options(struct mockagent *m)
{
	const char *const *v;
	cJSON		  *opts, *list, *c;
	int		   i;

	opts = json_array();
	for (i = 0; i < MOCKAGENT_NSET; i++) {
		list = json_array();
		for (v = mockagent_settings[i].values; *v != NULL; v++) {
			c = json_object();
			json_set_str(c, "id", *v);
			json_append(list, c);
		}
		json_append(opts,
		    acpmsg_config_option(mockagent_settings[i].key,
			mockagent_settings[i].name,
			acpmsg_config_category(mockagent_settings[i].key),
			m->setting[i], list));
		json_free(list);
	}
	return (opts);
}

/* Set setting i to value if it is one of its values: 0, else -1. */
static int
mockagent_set(struct mockagent *m, int i, const char *value)
{
	const char *const *v;

	for (v = mockagent_settings[i].values; value != NULL && *v != NULL;
	     v++) {
		if (strcmp(*v, value) == 0) {
			m->setting[i] = *v;
			return (0);
		}
	}
	return (-1);
}

/* session/set_mode {sessionId, modeId}: {} or -32602. */
static void
mockagent_set_mode(void *arg, const struct jsonrpc_msg *msg)
{
	struct mockagent *m = arg;

	if (mockagent_set(
		m, MOCKAGENT_MODE, json_get_str(msg->params, "modeId")) != 0) {
		jsonrpc_peer_error(
		    m->peer, msg->id, JSONRPC_INVALID_PARAMS, "unknown mode");
		return;
	}
	jsonrpc_peer_reply(m->peer, msg->id, json_object());
}

/* session/set_model {sessionId, modelId}: {} or -32602. */
static void
mockagent_set_model(void *arg, const struct jsonrpc_msg *msg)
{
	struct mockagent *m = arg;

	if (mockagent_set(m, MOCKAGENT_MODEL,
		json_get_str(msg->params, "modelId")) != 0) {
		jsonrpc_peer_error(
		    m->peer, msg->id, JSONRPC_INVALID_PARAMS, "unknown model");
		return;
	}
	jsonrpc_peer_reply(m->peer, msg->id, json_object());
}

/* session/set_config_option {sessionId, configId, value}: the options. */
static void
mockagent_set_config(void *arg, const struct jsonrpc_msg *msg)
{
	struct mockagent *m = arg;
	const char	 *id = json_get_str(msg->params, "configId");
	cJSON		 *r;
	int		  i;

	for (i = 0; i < MOCKAGENT_NSET; i++) {
		if (id != NULL && strcmp(id, mockagent_settings[i].key) == 0)
			break;
	}
	if (i == MOCKAGENT_NSET ||
	    mockagent_set(m, i, json_get_str(msg->params, "value")) != 0) {
		jsonrpc_peer_error(m->peer, msg->id, JSONRPC_INVALID_PARAMS,
		    "unknown config option or value");
		return;
	}
	r = json_object();
	json_set(r, "configOptions", mockagent_config_options(m));
	jsonrpc_peer_reply(m->peer, msg->id, r);
}

/* ~/.agentd-mock/sessions/<id>.jsonl if AGENTD_MOCK_STORE=1, or NULL. */
static char *
mockagent_store_path(const char *id)
{
	const char *v = getenv("AGENTD_MOCK_STORE"), *home = getenv("HOME");
	char	   *path;

	if (v == NULL || (strcmp(v, "1") != 0 && strcmp(v, "behind") != 0) ||
	    home == NULL || strchr(id, '/') != NULL || *id == '.')
		return (NULL);
	xasprintf(&path, "%s/.agentd-mock/sessions/%s.jsonl", home, id);
	return (path);
}

/* Write the lines held back (behind) to the session's file. */
static void
mockagent_store_flush(struct mockagent *m)
{
	cJSON *e;
	char  *text;
	size_t len;
	FILE  *f;

	if (m->held == NULL)
		return;
	if (m->store != NULL && (f = fopen(m->store, "a")) != NULL) {
		JSON_FOREACH(e, m->held) {
			text = json_print(e, &len);
			fprintf(f, "%s\n", text);
			free(text);
		}
		fclose(f);
	}
	json_free(m->held);
	m->held = NULL;
}

/* Append one line of JSON to the session's file; behind, only hold it. */
static void
mockagent_store_add(struct mockagent *m, cJSON *line)
{
	if (m->store == NULL) {
		json_free(line);
		return;
	}
	if (m->held == NULL)
		m->held = json_array();
	json_append(m->held, line);
	if (!m->behind)
		mockagent_store_flush(m);
}

/* A new session's file, its first line naming the session and its cwd. */
static void
mockagent_store_open(struct mockagent *m, const char *cwd)
{
	const char *home = getenv("HOME");
	cJSON	   *head;
	char	   *dir;

	mockagent_store_flush(m);
	free(m->store);
	if ((m->store = mockagent_store_path(m->session)) == NULL)
		return;
	xasprintf(&dir, "%s/.agentd-mock", home);
	(void)mkdir(dir, 0700);
	free(dir);
	xasprintf(&dir, "%s/.agentd-mock/sessions", home);
	(void)mkdir(dir, 0700);
	free(dir);
	head = json_object();
	json_set_str(head, "sessionId", m->session);
	json_set_str(head, "cwd", cwd != NULL ? cwd : "");
	mockagent_store_add(m, head);
}

/*
 * Read a stored session for session/load: the prompts, or NULL with *why
 * when it is not there or belongs to another cwd.
 */
static cJSON *
mockagent_store_load(const char *path, const char *cwd, const char **why)
{
	char	    line[65536];
	const char *err, *have;
	cJSON	   *v, *prompts = NULL;
	FILE	   *f;

	if ((f = fopen(path, "r")) == NULL) {
		*why = "no such session in ~/.agentd-mock/sessions";
		return (NULL);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if ((v = json_parse(line, strlen(line), &err)) == NULL)
			continue;
		if (prompts == NULL) {
			have = json_get_str(v, "cwd");
			if (have == NULL || cwd == NULL ||
			    strcmp(have, cwd) != 0) {
				*why = "the session belongs to another cwd";
				json_free(v);
				break;
			}
			prompts = json_array();
		} else if (json_get_str(v, "prompt") != NULL)
			json_append(
			    prompts, json_string(json_get_str(v, "prompt")));
		json_free(v);
	}
	fclose(f);
	return (prompts);
}

/* session/load: the mock remembers nothing, so there is nothing to replay. */
static void
mockagent_load(void *arg, const struct jsonrpc_msg *msg)
{
	struct mockagent *m = arg;
	const char	 *sid = json_get_str(msg->params, "sessionId");
	const char	 *why = NULL;
	const cJSON	 *e;
	char		 *path;
	cJSON		 *prompts = json_array();

	if (sid == NULL) {
		jsonrpc_peer_error(m->peer, msg->id, JSONRPC_INVALID_PARAMS,
		    "sessionId is required");
		json_free(prompts);
		return;
	}
	if ((path = mockagent_store_path(sid)) != NULL) {
		json_free(prompts);
		prompts = mockagent_store_load(
		    path, json_get_str(msg->params, "cwd"), &why);
		if (prompts == NULL) {
			jsonrpc_peer_error(
			    m->peer, msg->id, JSONRPC_INTERNAL_ERROR, why);
			free(path);
			return;
		}
	}
	free(m->session);
	m->session = xstrdup(sid);
	mockagent_store_flush(m);
	free(m->store);
	m->store = path;
	json_free(m->prompts);
	m->prompts = prompts;
	JSON_FOREACH(e, m->prompts)
		mockagent_chunk(m, ACPMSG_USER_CHUNK, json_str(e), NULL);
	jsonrpc_peer_reply(
	    m->peer, msg->id, mockagent_session_state(m, json_object()));
}

/* session/cancel outside a turn has nothing to stop. */
static void
mockagent_cancel(void *arg, const struct jsonrpc_msg *msg)
{
}

/*
 * session/prompt: run the behaviour of the first keyword in the text, then
 * answer with its stopReason, the usage and (through usage_update) the
 * cumulative cost.
 */
static void
mockagent_prompt(void *arg, const struct jsonrpc_msg *msg)
{
	struct mockagent *m = arg;
	const char	 *reason;
	char		 *text;
	size_t		  i;
	long long	  len;

	text = acpmsg_prompt_text(json_get_arr(msg->params, "prompt"));
	len = (long long)strlen(text);
	if (m->prompts == NULL)
		m->prompts = json_array();
	m->cancelled = 0;
	mockagent_images(m, json_get_arr(msg->params, "prompt"));
	for (i = 0; i < nitems(mockagent_keywords); i++) {
		if (strstr(text, mockagent_keywords[i].keyword) != NULL)
			break;
	}
	reason = mockagent_keywords[i].fn(m, msg->id, text);
	json_append(m->prompts, json_string(text));
	if (m->store != NULL) {
		cJSON *line = json_object();

		json_set_str(line, "prompt", text);
		mockagent_store_add(m, line);
	}
	if (reason != NULL) {
		mockagent_update(
		    m, acpmsg_usage_update(len, 200000, ++m->turns / 10000.0));
		jsonrpc_peer_reply(m->peer, msg->id,
		    acpmsg_prompt_result(reason, acpmsg_usage(len, 10, 0, 0)));
	}
	free(text);
}

/* Say what each image block of a prompt is: "saw image TYPE, N bytes". */
static void
mockagent_images(struct mockagent *m, const cJSON *blocks)
{
	const cJSON *b;
	const char  *type, *data;
	char	     said[128];
	size_t	     n;

	JSON_FOREACH(b, blocks) {
		type = json_get_str(b, "type");
		if (type == NULL || strcmp(type, "image") != 0 ||
		    (data = json_get_str(b, "data")) == NULL)
			continue;
		n = strlen(data) / 4 * 3;
		if (n > 0 && data[strlen(data) - 1] == '=')
			n -= data[strlen(data) - 2] == '=' ? 2 : 1;
		snprintf(said, sizeof said, "saw image %s, %zu bytes. ",
		    json_get_str(b, "mimeType") != NULL
			? json_get_str(b, "mimeType")
			: "?",
		    n);
		mockagent_chunk(m, ACPMSG_AGENT_CHUNK, said, NULL);
	}
}

/* A tool_call notification. */
static void
mockagent_tool_call(struct mockagent *m, const char *call_id, const char *title,
    const char *kind, cJSON *input)
{
	cJSON *u;

	u = acpmsg_tool_call(
	    ACPMSG_TOOL_CALL, call_id, title, kind, ACPMSG_PENDING);
	json_set(u, "rawInput", input);
	mockagent_update(m, u);
}

/* A tool_call_update with a final status and content (owned). */
static void
mockagent_tool_done(struct mockagent *m, const char *call_id,
    enum acpmsg_status status, cJSON *content)
{
	cJSON *u;

	u = acpmsg_tool_call(
	    ACPMSG_TOOL_CALL_UPDATE, call_id, NULL, NULL, status);
	json_set(u, "content", content);
	mockagent_update(m, u);
}

/* [{type:"content", content:{type:"text", text}}] */
static cJSON *
mockagent_text_content(const char *text)
{
	cJSON *a;

	a = json_array();
	json_append(a, acpmsg_content_text(text));
	return (a);
}

/* [{type:"diff", path:"mock.txt", oldText:null, newText:"mock\n"}] */
static cJSON *
mockagent_diff_content(void)
{
	cJSON *a;

	a = json_array();
	json_append(a, acpmsg_content_diff("mock.txt", NULL, "mock\n"));
	return (a);
}

/* The permission request for call_id; its options are fixed. */
static long long
mockagent_ask_permission(struct mockagent *m, const char *call_id)
{
	cJSON *tc, *input;

	input = json_object();
	json_set_str(input, "path", "mock.txt");
	json_set_str(input, "content", "mock\n");
	tc = acpmsg_tool_call(
	    -1, call_id, "Write mock.txt", "edit", ACPMSG_PENDING);
	json_set(tc, "rawInput", input);
	json_set(tc, "content", mockagent_diff_content());
	return (mockagent_request(m, ACPMSG_REQUEST_PERMISSION,
	    acpmsg_permission(
		m->session, tc, mockagent_choices, nitems(mockagent_choices))));
}

/*
 * "permission": a pending edit, then session/request_permission. Allowed,
 * the call completes with a diff (nothing is written); rejected, it fails;
 * cancelled, the turn ends "cancelled".
 */
static const char *
mockagent_permission(struct mockagent *m, const cJSON *id, const char *text)
{
	const char	     *option;
	char		      call[32], mid[32];
	cJSON		     *input, *v;
	enum permission_reply reply;

	snprintf(call, sizeof call, "call-%u", ++m->seq);
	snprintf(mid, sizeof mid, "mock-msg-%u", ++m->seq);
	input = json_object();
	json_set_str(input, "path", "mock.txt");
	json_set_str(input, "content", "mock\n");
	mockagent_tool_call(m, call, "Write mock.txt", "edit", input);
	if (strcmp(m->setting[MOCKAGENT_MODE], "acceptEdits") == 0) {
		mockagent_tool_done(
		    m, call, ACPMSG_COMPLETED, mockagent_diff_content());
		mockagent_chunk(m, ACPMSG_AGENT_CHUNK,
		    "permission granted by the mode", mid);
		return ("end_turn");
	}
	if ((v = mockagent_wait(m, mockagent_ask_permission(m, call))) == NULL)
		return ("cancelled");
	option = acpmsg_selected(json_get_obj(v, "result"));
	if (option == NULL || m->cancelled) {
		mockagent_tool_done(m, call, ACPMSG_FAILED,
		    mockagent_text_content("cancelled"));
		json_free(v);
		return ("cancelled");
	}
	if (acpmsg_choice_reply(mockagent_choices, nitems(mockagent_choices),
		json_get_obj(v, "result"), &reply) == 0 &&
	    reply != PERMISSION_REJECT) {
		mockagent_tool_done(
		    m, call, ACPMSG_COMPLETED, mockagent_diff_content());
		mockagent_chunk(
		    m, ACPMSG_AGENT_CHUNK, "permission granted", mid);
	} else {
		mockagent_tool_done(m, call, ACPMSG_FAILED,
		    mockagent_text_content("permission denied by the user"));
		mockagent_chunk(
		    m, ACPMSG_AGENT_CHUNK, "permission denied", mid);
	}
	json_free(v);
	return ("end_turn");
}

/* The elicitation form: one property, color, Red or Blue. */
static long long
mockagent_ask_question(struct mockagent *m)
{
	cJSON *fields, *values;

	values = json_array();
	json_append(values, json_string("Red"));
	json_append(values, json_string("Blue"));
	fields = json_object();
	json_set(fields, "color", acpmsg_field("Which color?", values, 0));
	return (mockagent_request(m, ACPMSG_ELICITATION,
	    acpmsg_elicitation(m->session, "Pick a color", fields)));
}

/* "question": elicitation/create, then say what was chosen. */
static const char *
mockagent_question(struct mockagent *m, const cJSON *id, const char *text)
{
	const cJSON *content;
	const char  *color;
	char	    *reply;
	cJSON	    *v;
	int	     accepted;

	if ((v = mockagent_wait(m, mockagent_ask_question(m))) == NULL)
		return ("cancelled");
	accepted = acpmsg_accepted(json_get_obj(v, "result"), &content);
	color = json_get_str(content, "color");
	if (m->cancelled) {
		json_free(v);
		return ("cancelled");
	}
	if (accepted && color != NULL)
		xasprintf(&reply, "you chose %s", color);
	else
		reply = xstrdup("question declined");
	mockagent_chunk(m, ACPMSG_AGENT_CHUNK, reply, NULL);
	free(reply);
	json_free(v);
	return ("end_turn");
}

/*
 * "slow": small chunks 2 ms apart, watching stdin between them so that
 * session/cancel stops the stream at once.
 */
static const char *
mockagent_slow(struct mockagent *m, const cJSON *id, const char *text)
{
	char   chunk[16];
	cJSON *v;
	int    i;

	for (i = 0; i < MOCKAGENT_SLOW_CHUNKS; i++) {
		snprintf(chunk, sizeof chunk, "s%d ", i);
		mockagent_chunk(m, ACPMSG_AGENT_CHUNK, chunk, NULL);
		if ((v = mockagent_poll(m, MOCKAGENT_SLOW_MS)) != NULL)
			mockagent_interrupt(m, v);
		if (m->cancelled || m->eof)
			return ("cancelled");
	}
	return ("end_turn");
}

/* "error": one chunk, then a JSON-RPC error instead of a stopReason. */
static const char *
mockagent_error(struct mockagent *m, const cJSON *id, const char *text)
{
	mockagent_chunk(m, ACPMSG_AGENT_CHUNK, "about to fail", NULL);
	jsonrpc_peer_error(m->peer, id, JSONRPC_INTERNAL_ERROR,
	    "mock agent error: the prompt asked for an error");
	return (NULL);
}

/* "crash": a word on stderr, one chunk, and exit 3 with the turn open. */
static const char *
mockagent_crash(struct mockagent *m, const cJSON *id, const char *text)
{
	static const char msg[] = "mock agent crashing\n";

	(void)write(STDERR_FILENO, msg, sizeof msg - 1);
	mockagent_chunk(m, ACPMSG_AGENT_CHUNK, "about to crash", NULL);
	exit(3);
}

/* "tool": run "echo hi", as far as the client can tell. */
static const char *
mockagent_tool(struct mockagent *m, const cJSON *id, const char *text)
{
	char   call[32];
	cJSON *input;

	snprintf(call, sizeof call, "call-%u", ++m->seq);
	input = json_object();
	json_set_str(input, "command", "echo hi");
	mockagent_tool_call(m, call, "echo", "execute", input);
	mockagent_tool_done(
	    m, call, ACPMSG_COMPLETED, mockagent_text_content("hi\n"));
	mockagent_chunk(m, ACPMSG_AGENT_CHUNK, "the command printed hi", NULL);
	return ("end_turn");
}

/*
 * "firehose N": N one-word chunks with no pause (benchmarks). They are
 * alike, so the line is printed once and written N times, one write(2)
 * each: the agent then costs what the floor's producer costs (a write a
 * line), not a tree built and printed a chunk, and on a machine of two
 * cores the figure is agentd's rather than the mock's.
 */
static const char *
mockagent_firehose(struct mockagent *m, const cJSON *id, const char *text)
{
	const char *p = strstr(text, "firehose") + strlen("firehose");
	char	   *line;
	size_t	    len;
	long	    n, i;

	n = strtol(p, NULL, 10);
	if (n <= 0)
		n = 1000;
	if (n > MOCKAGENT_FIREHOSE_MAX)
		n = MOCKAGENT_FIREHOSE_MAX;
	line = json_print_line(acpmsg_update(m->session,
				   acpmsg_chunk(ACPMSG_AGENT_CHUNK, "x", NULL)),
	    &len);
	for (i = 0; i < n; i++)
		mockagent_write(line, len);
	free(line);
	return ("end_turn");
}

/* recall: the earlier prompts of this session, as the agent kept them. */
static const char *
mockagent_recall(struct mockagent *m, const cJSON *id, const char *text)
{
	char *all, *reply;

	all = json_join(m->prompts, NULL, " | ");
	xasprintf(&reply, "recall: %s", all != NULL ? all : "");
	mockagent_chunk(m, ACPMSG_AGENT_CHUNK, reply, NULL);
	free(reply);
	free(all);
	return ("end_turn");
}

/* "whoami": the session's settings, as the agent runs with them. */
static const char *
mockagent_whoami(struct mockagent *m, const cJSON *id, const char *text)
{
	char *reply;

	xasprintf(&reply, "model=%s mode=%s effort=%s",
	    m->setting[MOCKAGENT_MODEL], m->setting[MOCKAGENT_MODE],
	    m->setting[MOCKAGENT_EFFORT]);
	mockagent_chunk(m, ACPMSG_AGENT_CHUNK, reply, NULL);
	free(reply);
	return ("end_turn");
}

/*
 * Anything else: a thought, then "echo: <text>" as one chunk per word
 * (each chunk keeps the whitespace after its word, so they join exactly).
 */
static const char *
mockagent_echo(struct mockagent *m, const cJSON *id, const char *text)
{
	const char *p = text, *end;
	char	   *word;

	mockagent_chunk(
	    m, ACPMSG_THOUGHT_CHUNK, "The user wants an echo.", NULL);
	mockagent_chunk(m, ACPMSG_AGENT_CHUNK, "echo: ", NULL);
	while (*p != '\0') {
		end = p + strcspn(p, " \t\n");
		end += strspn(end, " \t\n");
		word = xstrndup(p, (size_t)(end - p));
		mockagent_chunk(m, ACPMSG_AGENT_CHUNK, word, NULL);
		free(word);
		p = end;
	}
	return ("end_turn");
}
