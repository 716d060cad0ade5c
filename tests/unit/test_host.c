/*
 * test_host.c: supervisor/host/host.c, the normaliser, on its own.
 *
 * One test per invariant of DESIGN.md section 3 that host.c enforces. The
 * host writes to a real journal over a real store in a scratch data
 * directory, as in a session; each test reads the journal back, parses
 * every line (which must be a valid event) and looks at what a client
 * would see. The session's callbacks are recorded: lines sent to the
 * agent, turn news, metadata changes, cancelled requests told.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../supervisor/core/core.h"
#include "../../supervisor/host/host.h"
#include "scratch.h"
#include "test.h"

/* One session's worth: store, journal, host, and what the host said. */
struct fx {
	struct store   *st;
	struct journal *j;
	struct host    *h;
	cJSON	       *sent;  /* lines to the agent, without newline */
	cJSON	       *turns; /* HOST_TURN_* as numbers, in order */
	int		changed;
	cJSON	       *told; /* [native id, question, journal_last] per tell */
	cJSON	       *events; /* parsed, from the journal */
};

static void
fx_send_cb(void *arg, const char *line, size_t len)
{
	struct fx *fx = arg;

	CHECK(len > 0 && line[len - 1] == '\n');
	json_append(fx->sent, json_stringn(line, len - 1));
}

static void
fx_turn_cb(void *arg, enum host_turn what)
{
	struct fx *fx = arg;

	json_append(fx->turns, json_number(what));
}

static void
fx_changed_cb(void *arg)
{
	struct fx *fx = arg;

	fx->changed++;
}

static const struct host_cbs fx_cbs = { fx_send_cb, fx_turn_cb, fx_changed_cb };

/* A host over the journal of session id, new (create) or reopened. */
static int
fx_open(struct fx *fx, const char *id, int create)
{
	struct host_settings set;
	uint64_t	     last;
	char		    *cause = NULL;

	memset(fx, 0, sizeof *fx);
	if (scratch_setup() != 0) {
		CHECK(!"scratch directory");
		return (-1);
	}
	if (create)
		fx->st = store_create(STORE_EVENTS, scratch_dir, id, &cause);
	else
		fx->st =
		    store_open(STORE_EVENTS, scratch_dir, id, &last, &cause);
	if (fx->st == NULL) {
		test_fail(__FILE__, __LINE__, "store %s: %s", id, cause);
		free(cause);
		return (-1);
	}
	fx->j = journal_new(fx->st, id);
	memset(&set, 0, sizeof set);
	set.id = id;
	set.cwd = "/nonexistent";
	fx->sent = json_array();
	fx->turns = json_array();
	fx->told = json_array();
	fx->events = json_array();
	fx->h = host_new(&set, fx->j, &fx_cbs, fx);
	return (0);
}

static void
fx_close(struct fx *fx)
{
	host_free(fx->h);
	journal_free(fx->j); /* closes the store */
	json_free(fx->sent);
	json_free(fx->turns);
	json_free(fx->told);
	json_free(fx->events);
	memset(fx, 0, sizeof *fx);
}

static int
fx_read_cb(void *arg, uint64_t seq, enum event_type type, const char *line,
    size_t len, size_t noraw)
{
	struct fx  *fx = arg;
	const char *err;
	char	   *cause = NULL;
	cJSON	   *v;

	if ((v = json_parse(line, len, &err)) == NULL) {
		test_fail(__FILE__, __LINE__, "event %llu is not JSON: %s",
		    (unsigned long long)seq, err);
		return (-1);
	}
	if (event_validate(v, &cause) != 0) {
		test_fail(__FILE__, __LINE__, "event %llu: %s",
		    (unsigned long long)seq, cause);
		free(cause);
	}
	CHECK_STR(json_get_str(v, "type"), event_type_name(type));
	json_append(fx->events, v);
	return (0);
}

/* Read the journal's events after the last read; return how many. */
static int
fx_read(struct fx *fx)
{
	uint64_t  after = (uint64_t)json_size(fx->events);
	int	  n, total = 0;
	cJSON	 *last;
	long long seq;

	if ((last = json_at(fx->events, json_size(fx->events) - 1)) != NULL &&
	    json_get_int(last, "sequence", &seq) == 0)
		after = (uint64_t)seq;
	while ((n = journal_read(fx->j, after, 1 << 20, fx_read_cb, fx)) > 0) {
		total += n;
		after += (uint64_t)n;
	}
	CHECK(n == 0);
	return (total);
}

/* The types of events from index i on, space separated. */
static const char *
fx_types(struct fx *fx, int i)
{
	static char  buf[1024];
	const cJSON *ev;
	size_t	     off = 0;

	fx_read(fx);
	buf[0] = '\0';
	for (; (ev = json_at(fx->events, i)) != NULL; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s",
		    off > 0 ? " " : "", json_get_str(ev, "type"));
	return (buf);
}

static const cJSON *
fx_event(struct fx *fx, int i)
{
	fx_read(fx);
	return (json_at(fx->events, i));
}

static const cJSON *
fx_data(struct fx *fx, int i)
{
	return (json_get_obj(fx_event(fx, i), "data"));
}

static const cJSON *
fx_item(struct fx *fx, int i)
{
	return (json_get_obj(fx_data(fx, i), "item"));
}

static int
fx_synthetic(struct fx *fx, int i)
{
	int b = -1;

	(void)json_get_bool(fx_event(fx, i), "synthetic", &b);
	return (b);
}

/* The turn callbacks so far, as "S C E" (started, closed, ended). */
static const char *
fx_turns(struct fx *fx)
{
	static char  buf[64];
	const cJSON *t;
	size_t	     off = 0;

	buf[0] = '\0';
	JSON_FOREACH(t, fx->turns) {
		if (off + 3 < sizeof buf)
			off += (size_t)snprintf(buf + off, sizeof buf - off,
			    "%s%c", off > 0 ? " " : "",
			    "SCE"[(int)json_num(t)]);
	}
	return (buf);
}

static void
fx_start(struct fx *fx, const char *native_id, enum item_kind kind,
    enum item_role role, cJSON *content)
{
	struct item_spec spec;

	memset(&spec, 0, sizeof spec);
	spec.native_id = native_id;
	spec.kind = kind;
	spec.role = role;
	spec.content = content;
	host_item_start(fx->h, &spec);
}

/* Permission metadata as adapters give it (DESIGN.md section 3). */
static cJSON *
fx_meta(const char *tool)
{
	cJSON *m = json_object();

	json_set_str(m, "tool_name", tool);
	json_set(m, "input", json_object());
	return (m);
}

static cJSON *
fx_parts(cJSON *part)
{
	cJSON *a = json_array();

	json_append(a, part);
	return (a);
}

/* Sequences start at the journal's last + 1 and have no gaps. */
TEST(sequence_contiguous)
{
	struct fx fx;
	long long seq;
	char	  id[32];
	int	  i;

	if (fx_open(&fx, "seq", 1) != 0)
		return;
	CHECK_INT(host_seq(fx.h), 0);
	host_turn_start(fx.h);
	host_item_delta(fx.h, "m1", "hi");
	host_error(fx.h, "boom", "model_error", NULL);
	host_status(fx.h, "compacting", NULL);
	host_turn_end(fx.h, "end_turn", NULL, -1);
	fx_read(&fx);
	CHECK_INT(json_size(fx.events), 8);
	for (i = 0; i < json_size(fx.events); i++) {
		CHECK(json_get_int(fx_event(&fx, i), "sequence", &seq) == 0);
		CHECK_INT(seq, i + 1);
		snprintf(id, sizeof id, "evt_%d", i + 1);
		CHECK_STR(json_get_str(fx_event(&fx, i), "event_id"), id);
	}
	CHECK_INT(host_seq(fx.h), json_size(fx.events));
	CHECK_INT(journal_last(fx.j), json_size(fx.events));
	CHECK(host_updated_ms(fx.h) > 0);
	fx_close(&fx);
}

/* item.completed follows item.started; an unknown id is started first. */
TEST(completed_follows_started)
{
	struct fx fx;

	if (fx_open(&fx, "started", 1) != 0)
		return;
	fx_start(&fx, "a", ITEM_MESSAGE, ROLE_ASSISTANT, NULL);
	CHECK(host_item_open(fx.h, "a"));
	host_item_delta(fx.h, "a", "x");
	host_item_complete(fx.h, "a", 0, NULL);
	CHECK(!host_item_open(fx.h, "a"));
	CHECK_STR(fx_types(&fx, 0), "item.started item.delta item.completed");
	CHECK_INT(fx_synthetic(&fx, 0), 0);
	CHECK_STR(json_get_str(fx_item(&fx, 0), "item_id"),
	    json_get_str(fx_item(&fx, 2), "item_id"));
	CHECK_STR(json_get_str(fx_item(&fx, 2), "status"), "completed");

	/* Completed without a start: a synthetic assistant message. */
	host_item_complete(
	    fx.h, "b", 1, fx_parts(event_part_json(json_object())));
	CHECK_STR(fx_types(&fx, 3), "item.started item.completed");
	CHECK_INT(fx_synthetic(&fx, 3), 1);
	CHECK_STR(json_get_str(fx_item(&fx, 3), "native_item_id"), "b");
	CHECK_STR(json_get_str(fx_item(&fx, 3), "kind"), "message");
	CHECK_STR(json_get_str(fx_item(&fx, 3), "role"), "assistant");
	CHECK_STR(json_get_str(fx_item(&fx, 3), "status"), "in_progress");
	CHECK_STR(json_get_str(fx_item(&fx, 4), "status"), "failed");
	CHECK_STR(json_get_str(fx_item(&fx, 3), "item_id"),
	    json_get_str(fx_item(&fx, 4), "item_id"));

	/* A delta without a start: started first, then the delta. */
	host_item_delta(fx.h, "c", "y");
	CHECK_STR(fx_types(&fx, 5), "item.started item.delta");
	CHECK_INT(fx_synthetic(&fx, 5), 1);
	CHECK_INT(fx_synthetic(&fx, 6), 0);
	CHECK_STR(json_get_str(fx_data(&fx, 6), "item_id"),
	    json_get_str(fx_item(&fx, 5), "item_id"));

	/* A second start of an open id is the same item, not a new one. */
	fx_start(&fx, "c", ITEM_MESSAGE, ROLE_ASSISTANT, json_array());
	CHECK_STR(fx_types(&fx, 7), "");
	fx_close(&fx);
}

/*
 * A completed assistant message or reasoning that streamed nothing gets
 * exactly one synthetic delta with its text; a user message gets none,
 * and one that streamed keeps its own deltas.
 */
TEST(synthetic_delta)
{
	struct fx fx;
	cJSON	 *c;

	if (fx_open(&fx, "delta", 1) != 0)
		return;
	fx_start(&fx, "m", ITEM_MESSAGE, ROLE_ASSISTANT, NULL);
	host_item_complete(fx.h, "m", 0, fx_parts(event_part_text("whole")));
	CHECK_STR(fx_types(&fx, 0), "item.started item.delta item.completed");
	CHECK_INT(fx_synthetic(&fx, 1), 1);
	CHECK_STR(json_get_str(fx_data(&fx, 1), "delta"), "whole");
	CHECK_STR(json_get_str(fx_data(&fx, 1), "item_id"),
	    json_get_str(fx_item(&fx, 0), "item_id"));
	CHECK_STR(json_get_str(fx_data(&fx, 1), "native_item_id"), "m");

	fx_start(&fx, "r", ITEM_REASONING, ROLE_ASSISTANT, NULL);
	host_item_complete(
	    fx.h, "r", 0, fx_parts(event_part_reasoning("hmm", NULL)));
	CHECK_STR(fx_types(&fx, 3), "item.started item.delta item.completed");
	CHECK_STR(json_get_str(fx_data(&fx, 4), "delta"), "hmm");
	CHECK_INT(fx_synthetic(&fx, 4), 1);

	/* Streamed: no extra delta, and the text is what streamed. */
	fx_start(&fx, "s", ITEM_MESSAGE, ROLE_ASSISTANT, NULL);
	host_item_delta(fx.h, "s", "a");
	host_item_delta(fx.h, "s", "b");
	host_item_complete(fx.h, "s", 0, NULL);
	CHECK_STR(fx_types(&fx, 6),
	    "item.started item.delta item.delta item.completed");
	c = json_get_arr(fx_item(&fx, 9), "content");
	CHECK_STR(json_get_str(json_at(c, 0), "text"), "ab");

	/* The user's message: completed whole, no delta. */
	host_user_message(fx.h, fx_parts(event_part_text("hello")));
	CHECK_STR(fx_types(&fx, 10), "item.started item.completed");
	CHECK_STR(json_get_str(fx_item(&fx, 11), "role"), "user");

	/* Nothing to say: no delta for an empty text or a tool call. */
	fx_start(&fx, "e", ITEM_MESSAGE, ROLE_ASSISTANT, NULL);
	host_item_complete(fx.h, "e", 0, NULL);
	fx_start(&fx, "t", ITEM_TOOL_CALL, ROLE_ASSISTANT, NULL);
	host_item_complete(fx.h, "t", 0, fx_parts(event_part_text("x")));
	CHECK_STR(fx_types(&fx, 12),
	    "item.started item.completed item.started item.completed");
	fx_close(&fx);
}

/* A turn that ends completes its open items first, then is synced. */
TEST(turn_end_completes_items)
{
	struct fx    fx;
	const cJSON *d;
	cJSON	    *usage;
	double	     cost = 0;

	if (fx_open(&fx, "turnend", 1) != 0)
		return;
	host_turn_start(fx.h);
	CHECK(host_in_turn(fx.h));
	fx_start(&fx, "tool", ITEM_TOOL_CALL, ROLE_ASSISTANT, NULL);
	host_item_delta(fx.h, "msg", "part");
	usage = json_object();
	json_set_int(usage, "input_tokens", 3);
	host_turn_end(fx.h, "end_turn", usage, 0.25);
	CHECK(!host_in_turn(fx.h));
	CHECK(!host_item_open(fx.h, "tool") && !host_item_open(fx.h, "msg"));
	CHECK_STR(fx_types(&fx, 0),
	    "turn.started item.started item.started item.delta "
	    "item.completed item.completed turn.ended");
	CHECK_STR(json_get_str(fx_item(&fx, 4), "status"), "completed");
	CHECK_STR(json_get_str(fx_item(&fx, 5), "status"), "completed");
	/* the message completes with the text it streamed */
	CHECK_STR(
	    json_get_str(
		json_at(json_get_arr(fx_item(&fx, 4), "content"), 0), "text"),
	    "part");
	d = fx_data(&fx, 6);
	CHECK_STR(json_get_str(d, "turn_id"),
	    json_get_str(fx_data(&fx, 0), "turn_id"));
	CHECK_STR(json_get_str(d, "stop_reason"), "end_turn");
	CHECK(json_get_num(d, "cost_usd", &cost) == 0 && cost == 0.25);
	CHECK(json_get_obj(d, "usage") != NULL);
	CHECK_STR(fx_turns(&fx), "S E");
	CHECK_INT(store_dirty(fx.st), 0); /* a turn's end is on disk */

	/* Ended outside a turn: nothing in the log, the session is told. */
	host_turn_end(fx.h, "end_turn", json_object(), -1);
	CHECK_STR(fx_types(&fx, 7), "");
	CHECK_STR(fx_turns(&fx), "S E E");
	fx_close(&fx);
}

/*
 * For agents without turns of their own the session starts one on send
 * (synthetic, from the daemon) and closes it at the end; a start inside a
 * turn is no new turn, a close outside one is nothing.
 */
TEST(synthetic_turns)
{
	static const char line[] = "{\"type\":\"go\"}";
	struct fx	  fx;

	if (fx_open(&fx, "turns", 1) != 0)
		return;
	host_turn_start(fx.h);
	host_turn_start(fx.h);
	host_item_delta(fx.h, "m", "x");
	host_turn_close(fx.h, "cancelled", NULL, -1);
	host_turn_close(fx.h, "cancelled", NULL, -1);
	CHECK_STR(fx_types(&fx, 0),
	    "turn.started item.started item.delta item.completed turn.ended");
	CHECK_INT(fx_synthetic(&fx, 0), 1);
	CHECK_STR(json_get_str(fx_event(&fx, 0), "source"), "daemon");
	CHECK_STR(json_get_str(fx_data(&fx, 0), "turn_id"), "turn_1");
	CHECK_STR(json_get_str(fx_event(&fx, 4), "source"), "daemon");
	CHECK_STR(json_get_str(fx_data(&fx, 4), "turn_id"), "turn_1");
	CHECK_STR(json_get_str(fx_data(&fx, 4), "stop_reason"), "cancelled");
	CHECK_STR(fx_turns(&fx), "S C");

	/* An agent that starts its own turn: from its line, not synthetic. */
	host_line_begin(fx.h, line, sizeof line - 1);
	host_turn_start(fx.h);
	host_line_end(fx.h);
	CHECK_STR(fx_types(&fx, 5), "turn.started");
	CHECK_INT(fx_synthetic(&fx, 5), 0);
	CHECK_STR(json_get_str(fx_event(&fx, 5), "source"), "agent");
	CHECK_STR(json_get_str(fx_data(&fx, 5), "turn_id"), "turn_2");
	CHECK_STR(fx_turns(&fx), "S C S");
	fx_close(&fx);
}

/*
 * A tool call and its result are two items linked by call_id: the host
 * passes the parts through as given, and a result may name its call as
 * parent.
 */
TEST(tool_call_and_result)
{
	struct fx	 fx;
	const cJSON	*call, *res;
	cJSON		*cparts, *rparts;
	struct item_spec spec;

	if (fx_open(&fx, "tools", 1) != 0)
		return;
	cparts =
	    fx_parts(event_part_tool_call("Bash", "{\"cmd\":\"ls\"}", "c1"));
	rparts = fx_parts(event_part_tool_result("c1", "a b", 0));
	fx_start(&fx, "call", ITEM_TOOL_CALL, ROLE_ASSISTANT, json_dup(cparts));
	host_item_complete(fx.h, "call", 0, json_dup(cparts));
	fx_start(&fx, "call2", ITEM_TOOL_CALL, ROLE_ASSISTANT, NULL);
	memset(&spec, 0, sizeof spec);
	spec.native_id = "res";
	spec.parent_native_id = "call2";
	spec.kind = ITEM_TOOL_RESULT;
	spec.role = ROLE_TOOL;
	host_item_start(fx.h, &spec);
	host_item_complete(fx.h, "res", 0, json_dup(rparts));
	CHECK_STR(fx_types(&fx, 0),
	    "item.started item.completed item.started item.started "
	    "item.completed");
	call = fx_item(&fx, 1);
	res = fx_item(&fx, 4);
	CHECK(strcmp(json_get_str(call, "item_id"),
		  json_get_str(res, "item_id")) != 0);
	CHECK_STR(json_get_str(call, "kind"), "tool_call");
	CHECK_STR(json_get_str(res, "kind"), "tool_result");
	CHECK_STR(json_get_str(res, "role"), "tool");
	CHECK(json_equal(json_get(fx_item(&fx, 0), "content"), cparts));
	CHECK(json_equal(json_get(call, "content"), cparts));
	CHECK(json_equal(json_get(res, "content"), rparts));
	CHECK_STR(
	    json_get_str(json_at(json_get(call, "content"), 0), "call_id"),
	    json_get_str(json_at(json_get(res, "content"), 0), "call_id"));
	CHECK_STR(json_get_str(fx_item(&fx, 3), "parent_id"),
	    json_get_str(fx_item(&fx, 2), "item_id"));
	json_free(cparts);
	json_free(rparts);
	fx_close(&fx);
}

static void
fx_tell_cb(void *arg, const char *native_id, int question)
{
	struct fx *fx = arg;
	cJSON	  *t = json_array();

	json_append(t, json_string(native_id));
	json_append(t, json_bool(question));
	json_append(t, json_number((double)journal_last(fx->j)));
	json_append(fx->told, t);
}

/*
 * Permissions and questions get perm_N and q_N over the adapter's ids,
 * are resolved exactly once, and a cancel resolves every pending one as
 * cancelled, telling the session each native id first.
 */
TEST(pending_requests)
{
	struct fx    fx;
	const char  *p1, *q2, *p3;
	cJSON	    *perms, *qs, *answers;
	const cJSON *d;

	if (fx_open(&fx, "pending", 1) != 0)
		return;
	host_permission_request(fx.h, "native-p1", "Bash", fx_meta("Bash"));
	CHECK_INT(store_dirty(fx.st), 0); /* a request is on disk */
	host_question_request(fx.h, "native-q2", NULL);
	host_permission_request(fx.h, "native-p3", NULL, fx_meta("Edit"));
	CHECK_STR(fx_types(&fx, 0),
	    "permission.requested question.requested permission.requested");
	p1 = json_get_str(fx_data(&fx, 0), "permission_id");
	q2 = json_get_str(fx_data(&fx, 1), "question_id");
	p3 = json_get_str(fx_data(&fx, 2), "permission_id");
	CHECK_STR(p1, "perm_1");
	CHECK_STR(q2, "q_2");
	CHECK_STR(p3, "perm_3");
	CHECK_STR(json_get_str(fx_data(&fx, 0), "action"), "Bash");
	CHECK_STR(json_get_str(fx_data(&fx, 0), "status"), "requested");
	CHECK_STR(json_get_str(fx_data(&fx, 2), "action"), "");
	CHECK_STR(host_pending_native(fx.h, "perm_1", 0), "native-p1");
	CHECK_STR(host_pending_native(fx.h, "q_2", 1), "native-q2");
	CHECK(host_pending_native(fx.h, "q_2", 0) == NULL); /* not a perm */
	CHECK(host_pending_native(fx.h, "native-p1", 0) == NULL);
	perms = json_array();
	qs = json_array();
	host_pending_ids(fx.h, perms, qs);
	CHECK_INT(json_size(perms), 2);
	CHECK_INT(json_size(qs), 1);
	json_free(perms);
	json_free(qs);

	/* Resolved once: a second reply and a reply of the wrong kind
	 * are nothing. */
	host_pending_resolve(fx.h, "perm_1", 0, "accept", NULL);
	host_pending_resolve(fx.h, "perm_1", 0, "reject", NULL);
	host_pending_resolve(fx.h, "q_2", 0, "accept", NULL);
	CHECK_STR(fx_types(&fx, 3), "permission.resolved");
	d = fx_data(&fx, 3);
	CHECK_STR(json_get_str(d, "permission_id"), "perm_1");
	CHECK_STR(json_get_str(d, "status"), "accept");
	CHECK_STR(json_get_str(d, "action"), "Bash");
	CHECK(host_pending_native(fx.h, "perm_1", 0) == NULL);

	/* Cancel: every pending one, told to the agent, then resolved. */
	host_pending_cancel(fx.h, fx_tell_cb, &fx);
	CHECK_INT(json_size(fx.told), 2);
	CHECK_STR(fx_types(&fx, 4), "permission.resolved question.resolved");
	CHECK_STR(json_get_str(fx_data(&fx, 4), "status"), "cancelled");
	CHECK_STR(json_get_str(fx_data(&fx, 5), "status"), "cancelled");
	CHECK(json_get(fx_data(&fx, 5), "answers") == NULL);
	CHECK(host_pending_native(fx.h, "q_2", 1) == NULL);
	CHECK(host_pending_native(fx.h, "perm_3", 0) == NULL);
	/* each native id told once, with its kind, before its resolution */
	CHECK_STR(json_str(json_at(json_at(fx.told, 0), 0)), "native-p3");
	CHECK(!json_is_true(json_at(json_at(fx.told, 0), 1)));
	CHECK_INT(json_num(json_at(json_at(fx.told, 0), 2)), 4);
	CHECK_STR(json_str(json_at(json_at(fx.told, 1), 0)), "native-q2");
	CHECK(json_is_true(json_at(json_at(fx.told, 1), 1)));
	CHECK_INT(json_num(json_at(json_at(fx.told, 1), 2)), 5);
	host_pending_cancel(fx.h, fx_tell_cb, &fx); /* none left */
	CHECK_INT(json_size(fx.told), 2);
	CHECK_STR(fx_types(&fx, 6), "");

	/* A question answered carries its answers. */
	host_question_request(fx.h, "native-q4", json_array());
	answers = json_array();
	json_append(answers, json_string("yes"));
	host_pending_resolve(fx.h, "q_4", 1, "answered", answers);
	CHECK_STR(fx_types(&fx, 6), "question.requested question.resolved");
	CHECK(json_equal(json_get(fx_data(&fx, 7), "answers"), answers));
	json_free(answers);
	fx_close(&fx);
}

/*
 * raw is the native line being handled, only inside it; a line that is
 * not JSON (host_unparsed) is carried as a JSON string.
 */
TEST(raw_inside_lines)
{
	static const char json_line[] = "{\"k\":[1,2]}";
	static const char text_line[] = "not \"json\" at all";
	struct fx	  fx;
	const char	 *err;
	cJSON		 *want;

	if (fx_open(&fx, "raw", 1) != 0)
		return;
	host_error(fx.h, "outside", NULL, NULL);

	host_line_begin(fx.h, json_line, sizeof json_line - 1);
	host_item_delta(fx.h, "m", "x");
	host_line_end(fx.h);

	host_line_begin(fx.h, text_line, sizeof text_line - 1);
	host_unparsed(fx.h, "not JSON", "stdout");
	host_error(fx.h, "same line", NULL, NULL);
	host_line_end(fx.h);

	host_line_begin(fx.h, json_line, sizeof json_line - 1);
	host_error(fx.h, "parsed again", NULL, NULL);
	host_line_end(fx.h);
	host_item_complete(fx.h, "m", 0, NULL);

	CHECK_STR(fx_types(&fx, 0),
	    "error item.started item.delta agent.unparsed error error "
	    "item.completed");
	CHECK(json_get(fx_event(&fx, 0), "raw") == NULL);
	CHECK_STR(json_get_str(fx_event(&fx, 0), "source"), "daemon");
	want = json_parse(json_line, sizeof json_line - 1, &err);
	CHECK(json_equal(json_get(fx_event(&fx, 1), "raw"), want));
	CHECK(json_equal(json_get(fx_event(&fx, 2), "raw"), want));
	CHECK_STR(json_get_str(fx_event(&fx, 2), "source"), "agent");
	CHECK_STR(json_str(json_get(fx_event(&fx, 3), "raw")), text_line);
	CHECK_STR(json_str(json_get(fx_event(&fx, 4), "raw")), text_line);
	CHECK_STR(json_get_str(fx_data(&fx, 3), "location"), "stdout");
	CHECK(json_equal(json_get(fx_event(&fx, 5), "raw"), want));
	CHECK(json_get(fx_event(&fx, 6), "raw") == NULL);
	CHECK_STR(json_get_str(fx_event(&fx, 6), "source"), "daemon");
	json_free(want);
	fx_close(&fx);
}

/* host_set_raw replaces the raw of what follows in this line only. */
TEST(set_raw)
{
	static const char line[] = "{\"partial\":\"a long repeated text\"}";
	static const char kept[] = "{\"kept\":true}";
	struct fx	  fx;

	if (fx_open(&fx, "setraw", 1) != 0)
		return;
	host_set_raw(fx.h, kept, sizeof kept - 1); /* outside a line: no-op */
	host_error(fx.h, "outside", NULL, NULL);

	host_line_begin(fx.h, line, sizeof line - 1);
	host_error(fx.h, "before", NULL, NULL);
	host_unparsed(fx.h, "odd", "stdout");
	host_set_raw(fx.h, kept, sizeof kept - 1);
	host_error(fx.h, "after", NULL, NULL);
	host_line_end(fx.h);

	CHECK_STR(fx_types(&fx, 0), "error error agent.unparsed error");
	CHECK(json_get(fx_event(&fx, 0), "raw") == NULL);
	CHECK(json_is_obj(json_get(fx_event(&fx, 1), "raw")) &&
	    json_get_str(json_get(fx_event(&fx, 1), "raw"), "partial") != NULL);
	CHECK(json_is_str(json_get(fx_event(&fx, 2), "raw")));
	/* set_raw's text is JSON: embedded as is, not quoted */
	CHECK(
	    json_is_true(json_get(json_get(fx_event(&fx, 3), "raw"), "kept")));
	fx_close(&fx);
}

/* Collect the item, turn and request ids of events from index i on. */
static void
fx_ids(struct fx *fx, int i, cJSON *set)
{
	static const char *keys[] = { "turn_id", "permission_id",
		"question_id" };
	const cJSON	  *ev, *d, *item;
	size_t		   k;

	fx_read(fx);
	for (; (ev = json_at(fx->events, i)) != NULL; i++) {
		if (strcmp(json_get_str(ev, "type"), "item.started") != 0 &&
		    strncmp(json_get_str(ev, "type"), "item.", 5) == 0)
			continue; /* deltas and completions reuse the id */
		if (strcmp(json_get_str(ev, "type"), "turn.ended") == 0 ||
		    strstr(json_get_str(ev, "type"), ".resolved") != NULL)
			continue;
		d = json_get_obj(ev, "data");
		if ((item = json_get_obj(d, "item")) != NULL) {
			CHECK(json_get(set, json_get_str(item, "item_id")) ==
			    NULL);
			json_set_int(set, json_get_str(item, "item_id"), 1);
		}
		for (k = 0; k < nitems(keys); k++) {
			if (json_get_str(d, keys[k]) == NULL)
				continue;
			CHECK(json_get(set, json_get_str(d, keys[k])) == NULL);
			json_set_int(set, json_get_str(d, keys[k]), 1);
		}
	}
}

static void
fx_some_of_everything(struct fx *fx)
{
	host_turn_start(fx->h);
	host_item_delta(fx->h, "m", "x");
	host_permission_request(fx->h, "p", "Bash", fx_meta("Bash"));
	host_question_request(fx->h, "q", NULL);
	host_pending_cancel(fx->h, NULL, NULL);
	host_turn_end(fx->h, "end_turn", NULL, -1);
}

/*
 * A host on a journal that holds N events (agentd restarted) numbers on
 * from N, and its item, turn and request ids are new ones.
 */
TEST(ids_unique_after_restart)
{
	struct fx fx;
	cJSON	 *ids;
	uint64_t  n;
	long long seq;

	if (fx_open(&fx, "restart", 1) != 0)
		return;
	fx_some_of_everything(&fx);
	ids = json_object();
	fx_ids(&fx, 0, ids);
	n = host_seq(fx.h);
	CHECK(n > 0);
	fx_close(&fx);

	if (fx_open(&fx, "restart", 0) != 0) {
		json_free(ids);
		return;
	}
	CHECK_INT(host_seq(fx.h), n);
	CHECK_INT(journal_last(fx.j), n);
	CHECK(!host_in_turn(fx.h));
	fx_some_of_everything(&fx);
	fx_read(&fx);
	CHECK_INT(json_size(fx.events), 2 * n);
	CHECK(json_get_int(fx_event(&fx, (int)n), "sequence", &seq) == 0);
	CHECK_INT(seq, n + 1);
	fx_ids(&fx, (int)n, ids); /* fails on an id seen before */
	CHECK(json_size(ids) > 4);
	json_free(ids);
	fx_close(&fx);
}

/* agentd died in a turn: on restart the log says it was interrupted. */
TEST(interrupted)
{
	struct fx    fx;
	const cJSON *d;
	uint64_t     n;

	if (fx_open(&fx, "interrupted", 1) != 0)
		return;
	host_turn_start(fx.h);
	host_item_delta(fx.h, "m", "half an ans");
	n = host_seq(fx.h);
	fx_close(&fx); /* killed: the turn was never ended */

	if (fx_open(&fx, "interrupted", 0) != 0)
		return;
	CHECK_INT(host_seq(fx.h), n);
	host_interrupted(fx.h);
	CHECK(!host_in_turn(fx.h));
	CHECK_STR(fx_types(&fx, (int)n), "error turn.ended");
	d = fx_data(&fx, (int)n);
	CHECK_STR(json_get_str(d, "code"), "interrupted");
	CHECK(json_get_str(d, "message") != NULL);
	CHECK_STR(json_get_str(fx_event(&fx, (int)n), "source"), "daemon");
	d = fx_data(&fx, (int)n + 1);
	CHECK_STR(json_get_str(d, "stop_reason"), "interrupted");
	CHECK(json_get_str(d, "turn_id") != NULL);
	CHECK_STR(fx_turns(&fx), "C");
	CHECK_INT(store_dirty(fx.st), 0);
	fx_close(&fx);
}

/* The native id and agent version tell the session only when they change. */
TEST(metadata_changed)
{
	struct fx fx;

	if (fx_open(&fx, "meta", 1) != 0)
		return;
	host_set_native_id(fx.h, "n1");
	host_set_native_id(fx.h, "n1");
	host_set_agent_version(fx.h, "1.0");
	host_set_agent_version(fx.h, "1.0");
	host_set_native_id(fx.h, "n2");
	CHECK_INT(fx.changed, 3);
	CHECK_STR(host_native_id(fx.h), "n2");
	CHECK_STR(host_agent_version(fx.h), "1.0");
	host_error(fx.h, "e", NULL, NULL);
	CHECK_STR(json_get_str(fx_event(&fx, 0), "native_session_id"), "n2");
	host_send_json(fx.h, json_object());
	CHECK_INT(json_size(fx.sent), 1);
	CHECK_STR(json_str(json_at(fx.sent, 0)), "{}");
	fx_close(&fx);
}

/*
 * agent.unparsed is told at most once a second: the first at once, the
 * rest counted and told as one event with their number, bytes and the
 * first of them (cut) as raw; garbage (not JSON) never reaches the
 * adapter; a flush tells what was counted; a drop forgets it.
 */
TEST(unparsed_coalesced)
{
	static const char junk[] = "not json";
	char		  big[600];
	struct fx	  fx;
	const cJSON	 *d;
	long long	  lines = 0, bytes = 0;
	int		  i;

	if (fx_open(&fx, "unparsed", 1) != 0)
		return;
	CHECK(host_garbage(fx.h, junk, sizeof junk - 1) == 1);
	CHECK(host_garbage(fx.h, "{\"a\":1}", 7) == 0);
	memset(big, 'x', sizeof big);
	for (i = 0; i < 100; i++) /* within the second: counted */
		CHECK(host_garbage(fx.h, i == 0 ? big : junk,
			  i == 0 ? sizeof big : sizeof junk - 1) == 1);
	host_line_begin(fx.h, "{}", 2);
	host_unparsed(fx.h, "neither method nor id", "acp");
	host_line_end(fx.h);
	CHECK_STR(fx_types(&fx, 0), "agent.unparsed");
	host_unparsed_flush(fx.h);
	CHECK_STR(fx_types(&fx, 0), "agent.unparsed agent.unparsed");
	d = json_get_obj(fx_event(&fx, 1), "data");
	CHECK(json_get_int(d, "lines", &lines) == 0 &&
	    json_get_int(d, "bytes", &bytes) == 0);
	CHECK_INT(lines, 101);
	CHECK_INT(bytes, sizeof big + 1 + 99 * sizeof junk + 3);
	CHECK(json_get(d, "raw_cut") != NULL);
	CHECK_INT(strlen(json_str(json_get(fx_event(&fx, 1), "raw"))), 256);
	CHECK_STR(json_get_str(fx_event(&fx, 1), "source"), "agent");
	/* Counted, then dropped (a deleted session): nothing is told. */
	CHECK(host_garbage(fx.h, junk, sizeof junk - 1) == 1);
	host_unparsed_drop(fx.h);
	host_unparsed_flush(fx.h);
	CHECK_STR(fx_types(&fx, 0), "agent.unparsed agent.unparsed");
	fx_close(&fx);
}

/*
 * Options: what the adapter learned is kept per key, told to the session
 * only when it changed; a value is checked against what is offered (422
 * naming it), anything goes while the list is unknown.
 */
TEST(options_learned_and_checked)
{
	struct fx    fx;
	cJSON	    *list, *c;
	char	    *cause = NULL;
	const cJSON *o;

	if (fx_open(&fx, "opts", 1) != 0)
		return;
	CHECK_INT(host_option_check(fx.h, "model", "anything", &cause), 0);
	list = json_array();
	c = json_object();
	json_set_str(c, "id", "m1");
	json_append(list, c);
	c = json_object();
	json_set_str(c, "id", "m2");
	json_append(list, c);
	host_set_option(fx.h, "model", "m1", json_dup(list));
	CHECK_INT(fx.changed, 1);
	host_set_option(fx.h, "model", "m1", json_dup(list));
	host_set_option(fx.h, "model", NULL, NULL);
	CHECK_INT(fx.changed, 1);
	host_set_option(fx.h, "model", "m2", NULL);
	CHECK_INT(fx.changed, 2);
	o = json_get_obj(host_options(fx.h), "model");
	CHECK_STR(json_get_str(o, "current"), "m2");
	CHECK_INT(json_size(json_get_arr(o, "available")), 2);
	CHECK_INT(host_option_check(fx.h, "model", "m1", &cause), 0);
	CHECK_INT(host_option_check(fx.h, "model", "m3", &cause), 422);
	CHECK(cause != NULL && strstr(cause, "'m3'") != NULL &&
	    strstr(cause, "m1, m2") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(host_option_check(fx.h, "effort", "high", &cause), 0);
	json_free(list);
	CHECK_STR(fx_types(&fx, 0), ""); /* learning writes no event */
	fx_close(&fx);
}

/*
 * A change of settings: the host keeps it (for the next start) and
 * writes one completed status item "config" with the change as words
 * and as a json part.
 */
TEST(configure_logged)
{
	struct fx	      fx;
	struct session_config cfg;
	const cJSON	     *content;

	if (fx_open(&fx, "cfg", 1) != 0)
		return;
	memset(&cfg, 0, sizeof cfg);
	cfg.model = "m2";
	cfg.effort = "high";
	host_configure(fx.h, &cfg);
	CHECK_STR(host_model(fx.h), "m2");
	CHECK_STR(host_effort(fx.h), "high");
	CHECK(host_permission_mode(fx.h) == NULL);
	CHECK_INT(fx.changed, 1);
	CHECK_STR(fx_types(&fx, 0), "item.started item.completed");
	CHECK_STR(json_get_str(fx_item(&fx, 1), "kind"), "status");
	CHECK_STR(json_get_str(fx_item(&fx, 1), "status"), "completed");
	content = json_get_arr(fx_item(&fx, 1), "content");
	CHECK_STR(json_get_str(json_at(content, 0), "label"), "config");
	CHECK_STR(json_get_str(json_at(content, 0), "detail"),
	    "model m2, effort high");
	CHECK_STR(
	    json_get_str(json_get_obj(json_at(content, 1), "json"), "effort"),
	    "high");
	memset(&cfg, 0, sizeof cfg);
	cfg.mode = "plan";
	host_configure(fx.h, &cfg);
	CHECK_STR(host_permission_mode(fx.h), "plan");
	CHECK_STR(host_model(fx.h), "m2");
	CHECK_STR(
	    json_get_str(
		json_at(json_get_arr(fx_item(&fx, 3), "content"), 0), "detail"),
	    "mode plan");
	fx_close(&fx);
}

TEST_MAIN(TEST_ENTRY(sequence_contiguous),
    TEST_ENTRY(completed_follows_started), TEST_ENTRY(synthetic_delta),
    TEST_ENTRY(turn_end_completes_items), TEST_ENTRY(synthetic_turns),
    TEST_ENTRY(tool_call_and_result), TEST_ENTRY(pending_requests),
    TEST_ENTRY(raw_inside_lines), TEST_ENTRY(set_raw),
    TEST_ENTRY(ids_unique_after_restart), TEST_ENTRY(interrupted),
    TEST_ENTRY(metadata_changed), TEST_ENTRY(unparsed_coalesced),
    TEST_ENTRY(options_learned_and_checked), TEST_ENTRY(configure_logged))
