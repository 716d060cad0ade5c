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
 *	(else)		a thought, then "echo: <text>" in several chunks
 *
 * It is a separate process from the daemon, so it uses plain blocking I/O:
 * poll(2) on stdin only where a turn has to notice session/cancel while it
 * streams. Messages that arrive while a turn waits for the client (say a
 * second prompt while a permission is open) are kept in a backlog and
 * handled after the turn. Every message goes out as one write of its line
 * and a newline. EOF on stdin ends the process with status 0.
 */
#include <sys/random.h>

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
	struct jsonl *in;
	int	      eof;
	long long     next_id; /* our requests */
	unsigned int  seq;     /* ids of calls, messages */
	char	     *session;
	int	      cancelled; /* in this turn */
	unsigned int  turns;	 /* cost: $0.0001 each */
	TAILQ_HEAD(, mockagent_msg) backlog;
};

struct mockagent_method {
	const char *method;
	void (*fn)(struct mockagent *, const cJSON *, const cJSON *);
};

/* A prompt behaviour: returns the stopReason, or NULL if it answered. */
struct mockagent_keyword {
	const char *keyword;
	const char *(*fn)(struct mockagent *, const cJSON *, const char *);
};

static void	 mockagent_send(cJSON *);
static cJSON	*mockagent_poll(struct mockagent *, int);
static cJSON	*mockagent_next(struct mockagent *);
static void	 mockagent_defer(struct mockagent *, cJSON *);
static void	 mockagent_interrupt(struct mockagent *, cJSON *);
static void	 mockagent_dispatch(struct mockagent *, cJSON *);
static cJSON	*mockagent_wait(struct mockagent *, long long);
static long long mockagent_request(struct mockagent *, const char *, cJSON *);
static void	 mockagent_update(struct mockagent *, cJSON *);
static void
mockagent_chunk(struct mockagent *, const char *, const char *, const char *);
static char *mockagent_prompt_text(const cJSON *);
static void  mockagent_tool_call(
     struct mockagent *, const char *, const char *, const char *, cJSON *);
static void
mockagent_tool_done(struct mockagent *, const char *, const char *, cJSON *);
static cJSON	*mockagent_text_content(const char *);
static cJSON	*mockagent_diff_content(void);
static long long mockagent_ask_permission(struct mockagent *, const char *);
static long long mockagent_ask_question(struct mockagent *);

static void
mockagent_initialize(struct mockagent *, const cJSON *, const cJSON *);
static void mockagent_new(struct mockagent *, const cJSON *, const cJSON *);
static void mockagent_load(struct mockagent *, const cJSON *, const cJSON *);
static void mockagent_prompt(struct mockagent *, const cJSON *, const cJSON *);
static void mockagent_cancel(struct mockagent *, const cJSON *, const cJSON *);

static const char *
mockagent_permission(struct mockagent *, const cJSON *, const char *);
static const char *
mockagent_question(struct mockagent *, const cJSON *, const char *);
static const char *
mockagent_slow(struct mockagent *, const cJSON *, const char *);
static const char *
mockagent_error(struct mockagent *, const cJSON *, const char *);
static const char *
mockagent_crash(struct mockagent *, const cJSON *, const char *);
static const char *
mockagent_tool(struct mockagent *, const cJSON *, const char *);
static const char *
mockagent_firehose(struct mockagent *, const cJSON *, const char *);
static const char *
mockagent_echo(struct mockagent *, const cJSON *, const char *);

/* Requests (id set) and notifications (id NULL) we answer. */
static const struct mockagent_method mockagent_methods[] = {
	{ "initialize", mockagent_initialize },
	{ "session/new", mockagent_new }, { "session/load", mockagent_load },
	{ "session/prompt", mockagent_prompt },
	{ "session/cancel", mockagent_cancel }
};

/* The first keyword found in the prompt wins, in this order. */
static const struct mockagent_keyword mockagent_keywords[] = {
	{ "crash", mockagent_crash }, { "error", mockagent_error },
	{ "permission", mockagent_permission },
	{ "question", mockagent_question }, { "firehose", mockagent_firehose },
	{ "slow", mockagent_slow }, { "tool", mockagent_tool },
	{ "", mockagent_echo }
};

/* Run the mock agent until stdin closes. */
int
mockagent_main(int argc, char **argv)
{
	struct mockagent m;
	cJSON		*v;

	signal(SIGPIPE, SIG_IGN);
	memset(&m, 0, sizeof m);
	m.in = jsonl_new(0);
	TAILQ_INIT(&m.backlog);
	while ((v = mockagent_next(&m)) != NULL)
		mockagent_dispatch(&m, v);
	jsonl_free(m.in);
	free(m.session);
	return (0);
}

/*
 * Write one message as one line. A client that went away (EPIPE) ends the
 * agent as EOF on stdin would.
 */
static void
mockagent_send(cJSON *msg)
{
	char   *text, *line;
	size_t	len, off = 0;
	ssize_t n;

	text = json_print(msg, &len);
	json_free(msg);
	line = xmalloc(len + 1);
	memcpy(line, text, len);
	line[len++] = '\n';
	free(text);
	while (off < len) {
		if ((n = write(STDOUT_FILENO, line + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			free(line);
			exit(errno == EPIPE ? 0 : 1);
		}
		off += (size_t)n;
	}
	free(line);
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
			mockagent_send(jsonrpc_error(
			    1, NULL, JSONRPC_PARSE_ERROR, err, NULL));
			continue;
		case JSONL_TOOLONG:
			mockagent_send(jsonrpc_error(1, NULL,
			    JSONRPC_PARSE_ERROR, "line too long", NULL));
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

	if (method != NULL && strcmp(method, "session/cancel") == 0 &&
	    json_get(v, "id") == NULL) {
		m->cancelled = 1;
		json_free(v);
	} else
		mockagent_defer(m, v);
}

/* Handle one message from the client; frees it. */
static void
mockagent_dispatch(struct mockagent *m, cJSON *v)
{
	struct jsonrpc_msg msg;
	const char	  *err;
	size_t		   i;

	if (jsonrpc_parse(v, &msg, &err) != 0) {
		mockagent_send(jsonrpc_error(
		    1, json_get(v, "id"), JSONRPC_INVALID_REQUEST, err, NULL));
		json_free(v);
		return;
	}
	if (msg.kind != JSONRPC_REQUEST && msg.kind != JSONRPC_NOTIFICATION) {
		json_free(v); /* a late answer to a request of ours */
		return;
	}
	for (i = 0; i < nitems(mockagent_methods); i++) {
		if (strcmp(mockagent_methods[i].method, msg.method) == 0) {
			mockagent_methods[i].fn(m, msg.id, msg.params);
			break;
		}
	}
	if (i == nitems(mockagent_methods) && msg.kind == JSONRPC_REQUEST) {
		mockagent_send(jsonrpc_error(1, msg.id,
		    JSONRPC_METHOD_NOT_FOUND, "method not found", NULL));
	}
	json_free(v);
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
	cJSON *params;

	params = json_object();
	json_set_str(params, "sessionId", m->session);
	json_set(params, "update", update);
	mockagent_send(jsonrpc_notification(1, "session/update", params));
}

/* One text chunk of kind (agent_message_chunk, …), messageId optional. */
static void
mockagent_chunk(struct mockagent *m, const char *kind, const char *text,
    const char *message_id)
{
	cJSON *u, *c;

	c = json_object();
	json_set_str(c, "type", "text");
	json_set_str(c, "text", text);
	u = json_object();
	json_set_str(u, "sessionUpdate", kind);
	json_set(u, "content", c);
	json_set_str(u, "messageId", message_id);
	mockagent_update(m, u);
}

static void
mockagent_initialize(struct mockagent *m, const cJSON *id, const cJSON *params)
{
	cJSON *r, *caps, *prompt, *info;

	prompt = json_object();
	json_set_bool(prompt, "image", 0);
	json_set_bool(prompt, "embeddedContext", 0);
	caps = json_object();
	json_set_bool(caps, "loadSession", 1);
	json_set(caps, "promptCapabilities", prompt);
	info = json_object();
	json_set_str(info, "name", "agentd-mock");
	json_set_str(info, "version", AGENTD_VERSION);
	r = json_object();
	json_set_int(r, "protocolVersion", 1);
	json_set(r, "agentCapabilities", caps);
	json_set(r, "agentInfo", info);
	json_set(r, "authMethods", json_array());
	mockagent_send(jsonrpc_result(1, id, r));
}

static void
mockagent_new(struct mockagent *m, const cJSON *id, const cJSON *params)
{
	unsigned char rnd[8];
	char	      hex[sizeof rnd * 2 + 1];
	size_t	      i;
	cJSON	     *r;

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		for (i = 0; i < sizeof rnd; i++)
			rnd[i] = (unsigned char)(getpid() >> (i % 4 * 8));
	}
	for (i = 0; i < sizeof rnd; i++)
		snprintf(hex + i * 2, 3, "%02x", rnd[i]);
	free(m->session);
	xasprintf(&m->session, "mock-%s", hex);
	r = json_object();
	json_set_str(r, "sessionId", m->session);
	mockagent_send(jsonrpc_result(1, id, r));
}

/* session/load: the mock remembers nothing, so there is nothing to replay. */
static void
mockagent_load(struct mockagent *m, const cJSON *id, const cJSON *params)
{
	const char *sid = json_get_str(params, "sessionId");

	if (sid == NULL) {
		mockagent_send(jsonrpc_error(1, id, JSONRPC_INVALID_PARAMS,
		    "sessionId is required", NULL));
		return;
	}
	free(m->session);
	m->session = xstrdup(sid);
	mockagent_send(jsonrpc_result(1, id, json_object()));
}

/* session/cancel outside a turn has nothing to stop. */
static void
mockagent_cancel(struct mockagent *m, const cJSON *id, const cJSON *params)
{
}

/* The text blocks of a prompt, joined. */
static char *
mockagent_prompt_text(const cJSON *prompt)
{
	const cJSON *b;
	const char  *t;
	char	    *text = xstrdup(""), *next;

	JSON_FOREACH(b, prompt) {
		if ((t = json_get_str(b, "text")) == NULL)
			continue;
		xasprintf(&next, "%s%s", text, t);
		free(text);
		text = next;
	}
	return (text);
}

/*
 * session/prompt: run the behaviour of the first keyword in the text, then
 * answer with its stopReason, the usage and (through usage_update) the
 * cumulative cost.
 */
static void
mockagent_prompt(struct mockagent *m, const cJSON *id, const cJSON *params)
{
	const char *reason;
	char	   *text;
	size_t	    i;
	cJSON	   *r, *usage, *u, *cost;

	text = mockagent_prompt_text(json_get_arr(params, "prompt"));
	m->cancelled = 0;
	for (i = 0; i < nitems(mockagent_keywords); i++) {
		if (strstr(text, mockagent_keywords[i].keyword) != NULL)
			break;
	}
	reason = mockagent_keywords[i].fn(m, id, text);
	if (reason != NULL) {
		cost = json_object();
		json_set_num(cost, "amount", ++m->turns / 10000.0);
		json_set_str(cost, "currency", "USD");
		u = json_object();
		json_set_str(u, "sessionUpdate", "usage_update");
		json_set_int(u, "used", (long long)strlen(text));
		json_set_int(u, "size", 200000);
		json_set(u, "cost", cost);
		mockagent_update(m, u);

		usage = json_object();
		json_set_int(usage, "inputTokens", (long long)strlen(text));
		json_set_int(usage, "outputTokens", 10);
		json_set_int(
		    usage, "totalTokens", (long long)strlen(text) + 10);
		r = json_object();
		json_set_str(r, "stopReason", reason);
		json_set(r, "usage", usage);
		mockagent_send(jsonrpc_result(1, id, r));
	}
	free(text);
}

/* A tool_call notification. */
static void
mockagent_tool_call(struct mockagent *m, const char *call_id, const char *title,
    const char *kind, cJSON *input)
{
	cJSON *u;

	u = json_object();
	json_set_str(u, "sessionUpdate", "tool_call");
	json_set_str(u, "toolCallId", call_id);
	json_set_str(u, "title", title);
	json_set_str(u, "kind", kind);
	json_set_str(u, "status", "pending");
	json_set(u, "rawInput", input);
	mockagent_update(m, u);
}

/* A tool_call_update with a final status and content (owned). */
static void
mockagent_tool_done(struct mockagent *m, const char *call_id,
    const char *status, cJSON *content)
{
	cJSON *u;

	u = json_object();
	json_set_str(u, "sessionUpdate", "tool_call_update");
	json_set_str(u, "toolCallId", call_id);
	json_set_str(u, "status", status);
	json_set(u, "content", content);
	mockagent_update(m, u);
}

/* [{type:"content", content:{type:"text", text}}] */
static cJSON *
mockagent_text_content(const char *text)
{
	cJSON *a, *c, *t;

	t = json_object();
	json_set_str(t, "type", "text");
	json_set_str(t, "text", text);
	c = json_object();
	json_set_str(c, "type", "content");
	json_set(c, "content", t);
	a = json_array();
	json_append(a, c);
	return (a);
}

/* [{type:"diff", path:"mock.txt", oldText:null, newText:"mock\n"}] */
static cJSON *
mockagent_diff_content(void)
{
	cJSON *a, *d;

	d = json_object();
	json_set_str(d, "type", "diff");
	json_set_str(d, "path", "mock.txt");
	json_set(d, "oldText", json_null());
	json_set_str(d, "newText", "mock\n");
	a = json_array();
	json_append(a, d);
	return (a);
}

/* The permission request for call_id; its options are fixed. */
static long long
mockagent_ask_permission(struct mockagent *m, const char *call_id)
{
	static const char *const opts[][3] = { { "allow", "Allow",
						   "allow_once" },
		{ "always", "Always allow", "allow_always" },
		{ "reject", "Reject", "reject_once" } };
	cJSON			*p, *tc, *input, *list, *o;
	size_t			 i;

	input = json_object();
	json_set_str(input, "path", "mock.txt");
	json_set_str(input, "content", "mock\n");
	tc = json_object();
	json_set_str(tc, "toolCallId", call_id);
	json_set_str(tc, "title", "Write mock.txt");
	json_set_str(tc, "kind", "edit");
	json_set_str(tc, "status", "pending");
	json_set(tc, "rawInput", input);
	json_set(tc, "content", mockagent_diff_content());
	list = json_array();
	for (i = 0; i < nitems(opts); i++) {
		o = json_object();
		json_set_str(o, "optionId", opts[i][0]);
		json_set_str(o, "name", opts[i][1]);
		json_set_str(o, "kind", opts[i][2]);
		json_append(list, o);
	}
	p = json_object();
	json_set_str(p, "sessionId", m->session);
	json_set(p, "toolCall", tc);
	json_set(p, "options", list);
	return (mockagent_request(m, "session/request_permission", p));
}

/*
 * "permission": a pending edit, then session/request_permission. Allowed,
 * the call completes with a diff (nothing is written); rejected, it fails;
 * cancelled, the turn ends "cancelled".
 */
static const char *
mockagent_permission(struct mockagent *m, const cJSON *id, const char *text)
{
	const cJSON *outcome;
	const char  *kind, *option;
	char	     call[32], mid[32];
	cJSON	    *input, *v;

	snprintf(call, sizeof call, "call-%u", ++m->seq);
	snprintf(mid, sizeof mid, "mock-msg-%u", ++m->seq);
	input = json_object();
	json_set_str(input, "path", "mock.txt");
	json_set_str(input, "content", "mock\n");
	mockagent_tool_call(m, call, "Write mock.txt", "edit", input);
	if ((v = mockagent_wait(m, mockagent_ask_permission(m, call))) == NULL)
		return ("cancelled");
	outcome = json_get_obj(json_get_obj(v, "result"), "outcome");
	kind = json_get_str(outcome, "outcome");
	option = json_get_str(outcome, "optionId");
	if (kind == NULL || strcmp(kind, "selected") != 0 || m->cancelled) {
		mockagent_tool_done(
		    m, call, "failed", mockagent_text_content("cancelled"));
		json_free(v);
		return ("cancelled");
	}
	if (option != NULL && strcmp(option, "reject") != 0) {
		mockagent_tool_done(
		    m, call, "completed", mockagent_diff_content());
		mockagent_chunk(
		    m, "agent_message_chunk", "permission granted", mid);
	} else {
		mockagent_tool_done(m, call, "failed",
		    mockagent_text_content("permission denied by the user"));
		mockagent_chunk(
		    m, "agent_message_chunk", "permission denied", mid);
	}
	json_free(v);
	return ("end_turn");
}

/* The elicitation form: one property, color, Red or Blue. */
static long long
mockagent_ask_question(struct mockagent *m)
{
	cJSON *p, *schema, *props, *color, *values;

	values = json_array();
	json_append(values, json_string("Red"));
	json_append(values, json_string("Blue"));
	color = json_object();
	json_set_str(color, "type", "string");
	json_set_str(color, "title", "Which color?");
	json_set(color, "enum", values);
	props = json_object();
	json_set(props, "color", color);
	schema = json_object();
	json_set_str(schema, "type", "object");
	json_set(schema, "properties", props);
	values = json_array();
	json_append(values, json_string("color"));
	json_set(schema, "required", values);
	p = json_object();
	json_set_str(p, "sessionId", m->session);
	json_set_str(p, "mode", "form");
	json_set_str(p, "message", "Pick a color");
	json_set(p, "requestedSchema", schema);
	return (mockagent_request(m, "elicitation/create", p));
}

/* "question": elicitation/create, then say what was chosen. */
static const char *
mockagent_question(struct mockagent *m, const cJSON *id, const char *text)
{
	const cJSON *r;
	const char  *action, *color;
	char	    *reply;
	cJSON	    *v;

	if ((v = mockagent_wait(m, mockagent_ask_question(m))) == NULL)
		return ("cancelled");
	r = json_get_obj(v, "result");
	action = json_get_str(r, "action");
	color = json_get_str(json_get_obj(r, "content"), "color");
	if (m->cancelled) {
		json_free(v);
		return ("cancelled");
	}
	if (action != NULL && strcmp(action, "accept") == 0 && color != NULL)
		xasprintf(&reply, "you chose %s", color);
	else
		reply = xstrdup("question declined");
	mockagent_chunk(m, "agent_message_chunk", reply, NULL);
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
		mockagent_chunk(m, "agent_message_chunk", chunk, NULL);
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
	mockagent_chunk(m, "agent_message_chunk", "about to fail", NULL);
	mockagent_send(jsonrpc_error(1, id, JSONRPC_INTERNAL_ERROR,
	    "mock agent error: the prompt asked for an error", NULL));
	return (NULL);
}

/* "crash": a word on stderr, one chunk, and exit 3 with the turn open. */
static const char *
mockagent_crash(struct mockagent *m, const cJSON *id, const char *text)
{
	static const char msg[] = "mock agent crashing\n";

	(void)write(STDERR_FILENO, msg, sizeof msg - 1);
	mockagent_chunk(m, "agent_message_chunk", "about to crash", NULL);
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
	    m, call, "completed", mockagent_text_content("hi\n"));
	mockagent_chunk(
	    m, "agent_message_chunk", "the command printed hi", NULL);
	return ("end_turn");
}

/* "firehose N": N one-word chunks with no pause (benchmarks). */
static const char *
mockagent_firehose(struct mockagent *m, const cJSON *id, const char *text)
{
	const char *p = strstr(text, "firehose") + strlen("firehose");
	long	    n, i;

	n = strtol(p, NULL, 10);
	if (n <= 0)
		n = 1000;
	if (n > MOCKAGENT_FIREHOSE_MAX)
		n = MOCKAGENT_FIREHOSE_MAX;
	for (i = 0; i < n; i++)
		mockagent_chunk(m, "agent_message_chunk", "x", NULL);
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
	    m, "agent_thought_chunk", "The user wants an echo.", NULL);
	mockagent_chunk(m, "agent_message_chunk", "echo: ", NULL);
	while (*p != '\0') {
		end = p + strcspn(p, " \t\n");
		end += strspn(end, " \t\n");
		word = xstrndup(p, (size_t)(end - p));
		mockagent_chunk(m, "agent_message_chunk", word, NULL);
		free(word);
		p = end;
	}
	return ("end_turn");
}
