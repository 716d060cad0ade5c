/*
 * host_stub.c: the I/O around supervisor/host/host.c, for fuzzing an
 * adapter through the normaliser that ships.
 *
 * The host is the real one; only what it writes to and calls out to is
 * stood in for here, and each stand-in checks what crosses it:
 * - the journal (journal_append, journal_last, journal_sync): every line
 *   is parsed back and must be one valid event in UTF-8 (event_validate),
 *   read alike by event_scan, numbered right after the previous one, and
 *   from the agent with its raw exactly while a native line is handled.
 *   The stream as a whole must keep DESIGN.md section 3: an item starts
 *   once, its deltas and its completion follow its start, a completed
 *   assistant message or reasoning with text has a delta, a turn ends
 *   with no item open, a request is resolved at most once;
 * - loop_wall_ms: a fixed clock; loop_now_ms a clock that moves 100 ms at
 *   every look from each stub's start, so the host's once-a-second
 *   agent.unparsed both tells and
 *   counts; loop timers that never fire (the harness flushes at the end,
 *   as the session does when the agent exits);
 * - the host_cbs a session registers: a line sent to the agent is one
 *   JSON message (JSON-RPC for JSON-RPC adapters) and its newline; a
 *   turn callback matches the turn.* just journaled; native id and agent
 *   version are UTF-8 when the host says they changed.
 * A violation aborts, as a finding. Nothing is written anywhere. Every
 * event and every line sent is also kept (stub_log), for a harness that
 * runs one input two ways and compares: stub_run plays an input (agent
 * lines and "#!" client lines, as fuzz_acp.c's header says) through an
 * adapter, stub_same compares two logs.
 */
#include <string.h>

#include "../../adapters/adapters.h"
#include "../../supervisor/core/core.h"
#include "fuzz.h"
#include "host_stub.h"

/* What the stream said so far, as a reader of the journal sees it. */
struct journal {
	uint64_t	last;
	cJSON	       *ids;	 /* item and request ids ever seen: 1 */
	cJSON	       *open;	 /* open item id: its number of deltas */
	cJSON	       *pending; /* unresolved permission or question id: 1 */
	char	       *turn_id; /* the turn in progress, or NULL */
	int		in_line; /* an adapter is handling a native line */
	enum event_type type;	 /* of the last event */
	size_t		syncs;
	struct buf	log; /* events and sent lines, each and a newline */
};

struct stub {
	struct journal	      j;
	struct host	     *h;
	const struct adapter *adapter;
	int		      jsonrpc; /* lines to the agent are JSON-RPC */
	size_t		      sent;    /* lines to the agent */
};

static void
stub_utf8(const char *s, const char *what)
{
	if (s != NULL)
		FUZZ_CHECK(utf8_valid(s, strlen(s)), "%s is not UTF-8", what);
}

int64_t
loop_wall_ms(void)
{
	return (1700000000000LL);
}

static int64_t stub_now;

int64_t
loop_now_ms(void)
{
	return (stub_now += 100);
}

struct loop_timer {
	loop_timer_cb cb;
	void	     *arg;
};

struct loop_timer *
loop_timer_new(loop_timer_cb cb, void *arg)
{
	struct loop_timer *t;

	t = xcalloc(1, sizeof *t);
	t->cb = cb;
	t->arg = arg;
	return (t);
}

void
loop_timer_set(struct loop_timer *t, double after)
{
	FUZZ_CHECK(after >= 0 && after <= 1, "timer in %f s", after);
}

void
loop_timer_stop(struct loop_timer *t)
{
}

void
loop_timer_free(struct loop_timer *t)
{
	free(t);
}

uint64_t
journal_last(struct journal *j)
{
	return (j->last);
}

void
journal_sync(struct journal *j)
{
	j->syncs++;
}

/* The text a completed item carries, as host.c looks for it. */
static const char *
stub_text(const cJSON *content)
{
	const cJSON *part;
	const char  *type;

	JSON_FOREACH(part, content) {
		type = json_get_str(part, "type");
		if (type != NULL &&
		    (strcmp(type, "text") == 0 ||
			strcmp(type, "reasoning") == 0))
			return (json_get_str(part, "text"));
	}
	return (NULL);
}

/* A new item or request id: never seen before in this stream. */
static void
stub_new_id(struct journal *j, cJSON *set, const char *id)
{
	FUZZ_CHECK(json_get(j->ids, id) == NULL, "id %s used twice", id);
	json_set_int(j->ids, id, 1);
	json_set_int(set, id, 0);
}

/* An item's life: started once, deltas and completion after its start. */
static void
stub_item(struct journal *j, enum event_type type, const cJSON *data)
{
	const cJSON *item = json_get_obj(data, "item");
	const char  *id, *kind, *role, *text;
	cJSON	    *n;

	id = json_get_str(item != NULL ? item : data, "item_id");
	if (type == EVENT_ITEM_STARTED) {
		stub_new_id(j, j->open, id);
		return;
	}
	FUZZ_CHECK((n = json_get(j->open, id)) != NULL,
	    "%s for item %s, which is not open", event_type_name(type), id);
	if (type == EVENT_ITEM_DELTA) {
		json_set_int(j->open, id, (long long)json_num(n) + 1);
		return;
	}
	kind = json_get_str(item, "kind");
	role = json_get_str(item, "role");
	text = stub_text(json_get_arr(item, "content"));
	FUZZ_CHECK(json_num(n) > 0 || text == NULL || *text == '\0' ||
		strcmp(role, "user") == 0 ||
		(strcmp(kind, "message") != 0 &&
		    strcmp(kind, "reasoning") != 0),
	    "item %s completed with text and no delta", id);
	json_free(json_detach(j->open, id));
}

/* Permissions and questions: perm_N and q_N, resolved at most once. */
static void
stub_request(struct journal *j, enum event_type type, const cJSON *data)
{
	const char *id;

	if (type == EVENT_PERMISSION_REQUESTED ||
	    type == EVENT_PERMISSION_RESOLVED) {
		id = json_get_str(data, "permission_id");
		FUZZ_CHECK(
		    strncmp(id, "perm_", 5) == 0, "permission id %s", id);
	} else {
		id = json_get_str(data, "question_id");
		FUZZ_CHECK(strncmp(id, "q_", 2) == 0, "question id %s", id);
	}
	if (type == EVENT_PERMISSION_REQUESTED ||
	    type == EVENT_QUESTION_REQUESTED) {
		stub_new_id(j, j->pending, id);
		return;
	}
	FUZZ_CHECK(json_get(j->pending, id) != NULL,
	    "%s for %s, which is not pending", event_type_name(type), id);
	json_free(json_detach(j->pending, id));
}

static void
stub_turn(struct journal *j, enum event_type type, const cJSON *data)
{
	const char *id = json_get_str(data, "turn_id");

	if (type == EVENT_TURN_STARTED) {
		FUZZ_CHECK(j->turn_id == NULL, "turn %s starts inside %s", id,
		    j->turn_id);
		j->turn_id = xstrdup(id);
		return;
	}
	FUZZ_CHECK(j->turn_id != NULL && strcmp(j->turn_id, id) == 0,
	    "turn %s ends, not the one running", id);
	FUZZ_CHECK(json_size(j->open) == 0, "turn %s ends with %d items open",
	    id, json_size(j->open));
	free(j->turn_id);
	j->turn_id = NULL;
}

/* One serialised event from host_emit; takes line. */
void
journal_append(struct journal *j, uint64_t seq, enum event_type type,
    char *line, size_t len, size_t noraw)
{
	enum event_type st;
	const char     *err, *source;
	char	       *cause = NULL;
	size_t		snoraw;
	long long	n;
	cJSON	       *v, *data;

	(void)buf_add(&j->log, line, len);
	(void)buf_add(&j->log, "\n", 1);
	FUZZ_CHECK(seq == j->last + 1, "sequence %llu after %llu",
	    (unsigned long long)seq, (unsigned long long)j->last);
	FUZZ_CHECK(utf8_valid(line, len), "event is not UTF-8: %.300s", line);
	FUZZ_CHECK(memchr(line, '\n', len) == NULL,
	    "a newline in an event: %.300s", line);
	v = json_parse(line, len, &err);
	FUZZ_CHECK(v != NULL, "event is not JSON (%s): %.300s", err, line);
	FUZZ_CHECK(event_validate(v, &cause) == 0,
	    "invalid %s event: %s: %.300s", event_type_name(type), cause, line);
	FUZZ_CHECK(event_scan(line, len, &st, &snoraw) == 0 && st == type &&
		snoraw == noraw,
	    "event_scan disagrees with event_serialize: %.300s", line);
	FUZZ_CHECK(json_get_int(v, "sequence", &n) == 0 && (uint64_t)n == seq,
	    "sequence field is not %llu", (unsigned long long)seq);
	source = json_get_str(v, "source");
	/*
	 * Unparsed lines counted within a second are told later, outside any
	 * line, as the agent's: their raw is the first of them, as a string.
	 */
	if (type == EVENT_AGENT_UNPARSED && !j->in_line &&
	    json_get(v, "raw") != NULL)
		FUZZ_CHECK(strcmp(source, "agent") == 0 &&
			json_is_str(json_get(v, "raw")),
		    "a coalesced agent.unparsed without its first line: %.300s",
		    line);
	else
		FUZZ_CHECK((strcmp(source, "agent") == 0) == j->in_line &&
			(json_get(v, "raw") != NULL) == j->in_line,
		    "source %s and raw %s %s a native line: %.300s", source,
		    json_get(v, "raw") != NULL ? "present" : "absent",
		    j->in_line ? "inside" : "outside", line);
	data = json_get_obj(v, "data");
	switch (type) {
	case EVENT_ITEM_STARTED:
	case EVENT_ITEM_DELTA:
	case EVENT_ITEM_COMPLETED:
		stub_item(j, type, data);
		break;
	case EVENT_PERMISSION_REQUESTED:
	case EVENT_PERMISSION_RESOLVED:
	case EVENT_QUESTION_REQUESTED:
	case EVENT_QUESTION_RESOLVED:
		stub_request(j, type, data);
		break;
	case EVENT_TURN_STARTED:
	case EVENT_TURN_ENDED:
		stub_turn(j, type, data);
		break;
	default:
		break;
	}
	json_free(v);
	free(line);
	j->last = seq;
	j->type = type;
}

/* -- the session's side of host_cbs */

static void
stub_send_cb(void *arg, const char *line, size_t len)
{
	struct stub	  *st = arg;
	struct jsonrpc_msg m;
	const char	  *err;
	cJSON		  *v;

	FUZZ_CHECK(len > 0 && line[len - 1] == '\n',
	    "a line to the agent without its newline");
	(void)buf_add(&st->j.log, "> ", 2);
	(void)buf_add(&st->j.log, line, len);
	FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL,
	    "a newline inside a line sent to the agent");
	FUZZ_CHECK(utf8_valid(line, len), "sent text is not UTF-8");
	v = json_parse(line, len - 1, &err);
	FUZZ_CHECK(v != NULL, "sent text is not JSON: %.300s", line);
	if (st->jsonrpc)
		FUZZ_CHECK(jsonrpc_parse(v, &m, &err) == 0,
		    "sent a message that is not JSON-RPC (%s): %.300s", err,
		    line);
	json_free(v);
	st->sent++;
}

static void
stub_turn_cb(void *arg, enum host_turn what)
{
	struct stub *st = arg;

	if (what == HOST_TURN_STARTED)
		FUZZ_CHECK(
		    st->j.type == EVENT_TURN_STARTED && st->j.turn_id != NULL,
		    "turn callback without turn.started");
	else if (what == HOST_TURN_CLOSED)
		FUZZ_CHECK(st->j.type == EVENT_TURN_ENDED,
		    "turn closed without turn.ended");
	FUZZ_CHECK(st->j.turn_id == NULL || what == HOST_TURN_STARTED,
	    "turn callback %d while turn %s runs", (int)what, st->j.turn_id);
	FUZZ_CHECK(host_in_turn(st->h) == (what == HOST_TURN_STARTED),
	    "host_in_turn disagrees with the turn callback");
}

static void
stub_changed_cb(void *arg)
{
	struct stub *st = arg;

	stub_utf8(host_native_id(st->h), "native session id");
	stub_utf8(host_agent_version(st->h), "agent version");
}

static const struct host_cbs stub_cbs = { stub_send_cb, stub_turn_cb,
	stub_changed_cb };

/* -- the harness's side */

struct stub *
stub_new(const struct agent_profile *p)
{
	struct host_settings set;
	struct stub	    *st;

	st = xcalloc(1, sizeof *st);
	stub_now = 0;
	buf_init(&st->j.log, SIZE_MAX);
	st->j.ids = json_object();
	st->j.open = json_object();
	st->j.pending = json_object();
	st->adapter = p->adapter;
	st->jsonrpc =
	    p->adapter == &adapter_acp || p->adapter == &adapter_codex;
	memset(&set, 0, sizeof set);
	set.id = "fuzz";
	set.profile = p;
	set.cwd = "/nonexistent/agentd-fuzz";
	set.model = "fuzz-model";
	set.permission_mode = "default";
	st->h = host_new(&set, &st->j, &stub_cbs, st);
	return (st);
}

struct host *
stub_host(struct stub *st)
{
	return (st->h);
}

/* Every event journaled and line sent so far, in order; *len its length. */
const char *
stub_log(struct stub *st, size_t *len)
{
	*len = st->j.log.len;
	return (st->j.log.p != NULL ? st->j.log.p : "");
}

size_t
stub_sent(struct stub *st)
{
	return (st->sent);
}

/* One line of the agent's stdout, as session_line_cb hands it over. */
void
stub_line(struct stub *st, const char *line, size_t len)
{
	char *fixed = NULL;

	if (len == 0)
		return;
	if (!utf8_valid(line, len))
		line = fixed = utf8_repair(line, len, &len);
	st->j.in_line = 1;
	host_line_begin(st->h, line, len);
	st->adapter->on_line(st->h, line, len);
	host_line_end(st->h);
	st->j.in_line = 0;
	free(fixed);
}

void
stub_free(struct stub *st)
{
	if (st->adapter->free != NULL)
		st->adapter->free(st->h);
	host_free(st->h);
	json_free(st->j.ids);
	json_free(st->j.open);
	json_free(st->j.pending);
	free(st->j.turn_id);
	buf_free(&st->j.log);
	free(st);
}

/* The first pending permission (0) or question (1) of the host, or NULL. */
static char *
stub_pending(struct host *h, int question)
{
	cJSON *perms, *qs, *first;
	char  *id = NULL;

	perms = json_array();
	qs = json_array();
	host_pending_ids(h, perms, qs);
	if ((first = json_at(question ? qs : perms, 0)) != NULL)
		id = xstrdup(json_str(first));
	json_free(perms);
	json_free(qs);
	return (id);
}

/* As session_tell_cb: a cancelled turn's requests are answered so. */
static void
stub_tell_cb(void *arg, const char *native_id, int question)
{
	struct host	     *h = arg;
	const struct adapter *a = host_profile(h)->adapter;

	if (question)
		(void)a->reply_question(h, native_id, NULL);
	else
		(void)a->reply_permission(h, native_id, PERMISSION_CANCELLED);
}

/* The client's side, as session.c drives the adapter and the host. */
static void
stub_client(struct host *h, const char *cmd, size_t len)
{
	static const char *names[] = { "accept", "accept_for_session", "reject",
		"cancelled" };
	const struct adapter *a = host_profile(h)->adapter;
	struct user_message   um;
	const char	     *native, *err;
	char		     *arg, *id = NULL;
	cJSON		     *v = NULL, *att = NULL, *content;
	int		      r;

	arg = xstrndup(cmd + 2, len - 2);
	memset(&um, 0, sizeof um);
	if (strncmp(arg, "msg ", 4) == 0 || strncmp(arg, "att ", 4) == 0) {
		if (!utf8_valid(arg, strlen(arg)))
			goto out;
		um.text = arg + 4;
		if (arg[0] == 'a') {
			att = json_array();
			v = json_object();
			json_set_str(v, "path", arg + 4);
			json_set_str(v, "mime", "text/plain");
			json_append(att, v);
			v = NULL;
			um.attachments = att;
		}
		host_turn_start(h);
		content = json_array();
		json_append(content, event_part_text(um.text));
		host_user_message(h, content);
		if (a->send_message(h, &um) != 0) {
			host_error(h, "the agent did not accept the message",
			    "send_failed", NULL);
			host_turn_end(h, "error", NULL, -1);
		}
	} else if (strncmp(arg, "perm ", 5) == 0) {
		if ((id = stub_pending(h, 0)) == NULL)
			goto out;
		native = host_pending_native(h, id, 0);
		FUZZ_CHECK(native != NULL, "pending %s has no native id", id);
		r = (arg[5] - '0') & 3;
		if (a->reply_permission(h, native, (enum permission_reply)r) !=
		    0)
			goto out;
		host_pending_resolve(h, id, 0, names[r], NULL);
		FUZZ_CHECK(host_pending_native(h, id, 0) == NULL,
		    "%s still pending after its reply", id);
	} else if (strncmp(arg, "answer ", 7) == 0 ||
	    strcmp(arg, "reject") == 0) {
		if ((id = stub_pending(h, 1)) == NULL)
			goto out;
		native = host_pending_native(h, id, 1);
		FUZZ_CHECK(native != NULL, "pending %s has no native id", id);
		if (arg[0] == 'a') {
			v = json_parse(arg + 7, strlen(arg + 7), &err);
			if (!json_is_arr(v))
				goto out;
		}
		if (a->reply_question(h, native, v) != 0)
			goto out;
		host_pending_resolve(
		    h, id, 1, v != NULL ? "answered" : "rejected", v);
		FUZZ_CHECK(host_pending_native(h, id, 1) == NULL,
		    "%s still pending after its reply", id);
	} else if (strcmp(arg, "cancel") == 0) {
		host_pending_cancel(h, stub_tell_cb, h);
		FUZZ_CHECK((id = stub_pending(h, 0)) == NULL &&
			(id = stub_pending(h, 1)) == NULL,
		    "%s still pending after a cancel", id);
		(void)a->cancel(h);
	}
out:
	json_free(att);
	json_free(v);
	free(id);
	free(arg);
}

/*
 * The input through p's adapter and the host, as the header of
 * fuzz_acp.c says: one agent line per \n, "#!" lines the client's (the
 * agent's lines also to scan, if not NULL, with arg). What the host and
 * the adapter said, malloc'd, its length in *loglen.
 */
char *
stub_run(const struct agent_profile *p, const uint8_t *data, size_t size,
    void (*scan)(void *, const char *, size_t), void *arg, size_t *loglen)
{
	struct stub *st;
	struct host *h;
	const char  *s = (const char *)data, *end = s + size, *nl, *log;
	size_t	     len, step;
	char	    *line, *out;

	st = stub_new(p);
	h = stub_host(st);
	p->adapter->on_start(h);
	/* ACP's and claude's adapters both start with an initialize. */
	FUZZ_CHECK(
	    stub_sent(st) == 1, "on_start sent %zu lines", stub_sent(st));
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		len = nl != NULL ? (size_t)(nl - s) : (size_t)(end - s);
		step = nl != NULL ? len + 1 : len;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		line = xmalloc(len + 1); /* exact size, NULs kept */
		memcpy(line, s, len);
		line[len] = '\0';
		if (len >= 2 && s[0] == '#' && s[1] == '!')
			stub_client(h, line, len);
		else {
			if (scan != NULL && utf8_valid(line, len))
				scan(arg, line, len); /* stub_line repairs */
			stub_line(st, line, len);
		}
		free(line);
		s += step;
	}
	/* The agent exits: as session.c does, requests then the turn close. */
	host_unparsed_flush(h);
	host_pending_cancel(h, NULL, NULL);
	host_turn_close(h, "error", NULL, -1);
	log = stub_log(st, loglen);
	out = xmalloc(*loglen + 1);
	memcpy(out, log, *loglen + 1);
	stub_free(st);
	return (out);
}

/* Two logs of one input, the fast path's and the slow one's: the same. */
void
stub_same(char *fast, size_t flen, char *slow, size_t slen)
{
	size_t i;

	for (i = 0; i < flen && i < slen && fast[i] == slow[i]; i++)
		;
	FUZZ_CHECK(flen == slen && i == flen,
	    "the fast path differs at byte %zu:\n fast %.300s\n slow %.300s", i,
	    fast + (i > 100 ? i - 100 : 0), slow + (i > 100 ? i - 100 : 0));
	free(fast);
	free(slow);
}
