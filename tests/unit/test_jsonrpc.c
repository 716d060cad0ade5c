/*
 * test_jsonrpc.c: protocol/jsonrpc.c, classification, builders, pending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

static cJSON *
parse(const char *s)
{
	cJSON *v;

	v = json_parse(s, strlen(s), NULL);
	if (v == NULL)
		abort();
	return (v);
}

/* Classify s; return the kind (JSONRPC_INVALID on -1, checking err). */
static enum jsonrpc_kind
kind_of(const char *s, struct jsonrpc_msg *msg, cJSON **root)
{
	const char *err = NULL;
	int	    r;

	*root = parse(s);
	r = jsonrpc_parse(*root, msg, &err);
	if (r != 0 && (err == NULL || msg->kind != JSONRPC_INVALID))
		abort();
	if (r == 0 && msg->kind == JSONRPC_INVALID)
		abort();
	return (msg->kind);
}

static void
check_print(cJSON *v, const char *want, const char *file, int line)
{
	char *s;

	s = json_print(v, NULL);
	if (strcmp(s, want) != 0)
		test_fail(file, line, "printed %s, expected %s", s, want);
	free(s);
	json_free(v);
}
#define CHECK_PRINT(v, want) check_print(v, want, __FILE__, __LINE__)

TEST(request)
{
	struct jsonrpc_msg m;
	cJSON		  *r;

	CHECK_INT(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			  "\"initialize\",\"params\":{\"a\":1}}",
		      &m, &r),
	    JSONRPC_REQUEST);
	CHECK_INT(m.has_version, 1);
	CHECK_STR(m.method, "initialize");
	CHECK(json_is_num(m.id) && json_num(m.id) == 1);
	CHECK(json_is_obj(m.params));
	CHECK(m.params == json_get(r, "params"));
	CHECK(m.result == NULL && m.error == NULL);
	json_free(r);

	/* Codex: no "jsonrpc", string id, array params. */
	CHECK_INT(kind_of("{\"id\":\"req-7\",\"method\":\"item/commandExecution"
			  "/requestApproval\",\"params\":[1]}",
		      &m, &r),
	    JSONRPC_REQUEST);
	CHECK_INT(m.has_version, 0);
	CHECK_STR(json_str(m.id), "req-7");
	CHECK(json_is_arr(m.params));
	json_free(r);

	/* No params at all. */
	CHECK_INT(
	    kind_of("{\"id\":0,\"method\":\"x\"}", &m, &r), JSONRPC_REQUEST);
	CHECK(m.params == NULL);
	json_free(r);

	r = parse("{\"id\":-9007199254740992,\"method\":\"x\"}");
	CHECK_INT(jsonrpc_parse(r, &m, NULL), 0);
	CHECK_INT(m.kind, JSONRPC_REQUEST);
	json_free(r);
}

TEST(notification)
{
	struct jsonrpc_msg m;
	cJSON		  *r;

	CHECK_INT(kind_of("{\"jsonrpc\":\"2.0\",\"method\":\"session/update\","
			  "\"params\":{}}",
		      &m, &r),
	    JSONRPC_NOTIFICATION);
	CHECK_INT(m.has_version, 1);
	CHECK_STR(m.method, "session/update");
	CHECK(m.id == NULL);
	json_free(r);
	CHECK_INT(kind_of("{\"method\":\"turn/started\"}", &m, &r),
	    JSONRPC_NOTIFICATION);
	CHECK_INT(m.has_version, 0);
	json_free(r);
}

TEST(response)
{
	struct jsonrpc_msg m;
	cJSON		  *r;

	CHECK_INT(kind_of("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":"
			  "{\"x\":1}}",
		      &m, &r),
	    JSONRPC_RESPONSE);
	CHECK(json_is_obj(m.result));
	CHECK(m.method == NULL && m.error == NULL);
	json_free(r);
	CHECK_INT(kind_of("{\"id\":\"3\",\"result\":null}", &m, &r),
	    JSONRPC_RESPONSE);
	CHECK(json_is_null(m.result));
	CHECK_INT(m.has_version, 0);
	json_free(r);
}

TEST(error_response)
{
	struct jsonrpc_msg m;
	cJSON		  *r;

	CHECK_INT(
	    kind_of("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":"
		    "{\"code\":-32601,\"message\":\"nope\",\"data\":[1]}}",
		&m, &r),
	    JSONRPC_ERROR);
	CHECK_INT(m.error_code, -32601);
	CHECK_STR(m.error_message, "nope");
	CHECK(json_is_obj(m.error));
	CHECK(m.result == NULL);
	json_free(r);
	/* null id: the peer could not read ours. */
	CHECK_INT(kind_of("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
			  "{\"code\":-32700,\"message\":\"Parse error\"}}",
		      &m, &r),
	    JSONRPC_ERROR);
	CHECK(json_is_null(m.id));
	CHECK_INT(m.error_code, JSONRPC_PARSE_ERROR);
	json_free(r);
}

TEST(invalid)
{
	static const char *bad[] = { "[]", "\"x\"",
		"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}",
		"{\"jsonrpc\":2,\"id\":1,\"method\":\"x\"}",
		"{\"id\":true,\"method\":\"x\"}",
		"{\"id\":1.5,\"method\":\"x\"}", "{\"id\":{},\"method\":\"x\"}",
		"{\"id\":[1],\"result\":1}", "{\"id\":1e300,\"result\":1}",
		"{\"id\":1,\"method\":5}",
		"{\"id\":1,\"method\":\"x\",\"params\":\"p\"}",
		"{\"method\":\"x\",\"params\":3}", "{}",
		"{\"jsonrpc\":\"2.0\"}", "{\"id\":1}",
		"{\"id\":1,\"result\":1,\"error\":{\"code\":1,\"message\":"
		"\"m\"}}",
		"{\"id\":1,\"error\":\"boom\"}",
		"{\"id\":1,\"error\":{\"code\":\"1\",\"message\":\"m\"}}",
		"{\"id\":1,\"error\":{\"code\":1.5,\"message\":\"m\"}}",
		"{\"id\":1,\"error\":{\"code\":1}}",
		"{\"id\":1,\"error\":{\"message\":\"m\"}}",
		"{\"id\":null,\"method\":\"x\"}", "{\"id\":null,\"result\":{}}",
		"{\"result\":{}}" };
	struct jsonrpc_msg m;
	const char	  *err;
	cJSON		  *r;
	size_t		   i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = parse(bad[i]);
		err = NULL;
		memset(&m, 0xff, sizeof m);
		if (jsonrpc_parse(r, &m, &err) != -1 ||
		    m.kind != JSONRPC_INVALID || err == NULL)
			test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
		json_free(r);
	}
	CHECK_INT(jsonrpc_parse(NULL, &m, &err), -1);
	CHECK_STR(err, "not an object");
	r = parse("{\"jsonrpc\":\"1.0\",\"method\":\"x\"}");
	CHECK_INT(jsonrpc_parse(r, &m, &err), -1);
	CHECK_STR(err, "jsonrpc: not \"2.0\"");
	json_free(r);
}

TEST(builders)
{
	cJSON *id, *p;

	CHECK_PRINT(jsonrpc_request(1, 7, "initialize", NULL),
	    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\"}");
	p = json_object();
	json_set_int(p, "a", 1);
	CHECK_PRINT(jsonrpc_request(0, 1, "thread/start", p),
	    "{\"id\":1,\"method\":\"thread/start\",\"params\":{\"a\":1}}");
	CHECK_PRINT(jsonrpc_notification(1, "session/cancel", json_object()),
	    "{\"jsonrpc\":\"2.0\",\"method\":\"session/cancel\","
	    "\"params\":{}}");
	CHECK_PRINT(jsonrpc_notification(0, "initialized", NULL),
	    "{\"method\":\"initialized\"}");

	id = json_string("req-1");
	CHECK_PRINT(jsonrpc_result(1, id, NULL),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"result\":{}}");
	p = json_object();
	json_set_str(p, "decision", "accept");
	CHECK_PRINT(jsonrpc_result(0, id, p),
	    "{\"id\":\"req-1\",\"result\":{\"decision\":\"accept\"}}");
	CHECK_STR(json_str(id), "req-1"); /* still ours */
	json_free(id);

	CHECK_PRINT(jsonrpc_error(1, NULL, JSONRPC_METHOD_NOT_FOUND,
			"Method not found", NULL),
	    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32601,"
	    "\"message\":\"Method not found\"}}");
	id = json_number(12);
	CHECK_PRINT(jsonrpc_error(0, id, JSONRPC_INVALID_PARAMS, "bad",
			json_string("why")),
	    "{\"id\":12,\"error\":{\"code\":-32602,\"message\":\"bad\","
	    "\"data\":\"why\"}}");
	json_free(id);
}

TEST(builders_parse_back)
{
	struct jsonrpc_msg m;
	cJSON		  *v, *id;

	v = jsonrpc_request(1, 5, "m", json_object());
	CHECK_INT(jsonrpc_parse(v, &m, NULL), 0);
	CHECK_INT(m.kind, JSONRPC_REQUEST);
	CHECK_INT(m.has_version, 1);
	json_free(v);
	v = jsonrpc_notification(0, "n", NULL);
	CHECK_INT(jsonrpc_parse(v, &m, NULL), 0);
	CHECK_INT(m.kind, JSONRPC_NOTIFICATION);
	CHECK_INT(m.has_version, 0);
	json_free(v);
	id = json_number(5);
	v = jsonrpc_result(0, id, NULL);
	CHECK_INT(jsonrpc_parse(v, &m, NULL), 0);
	CHECK_INT(m.kind, JSONRPC_RESPONSE);
	json_free(v);
	v = jsonrpc_error(1, id, -1, "x", NULL);
	CHECK_INT(jsonrpc_parse(v, &m, NULL), 0);
	CHECK_INT(m.kind, JSONRPC_ERROR);
	CHECK_INT(m.error_code, -1);
	json_free(v);
	json_free(id);
}

TEST(pending)
{
	struct jsonrpc_pending *p;
	int			a, b, c, tag = 0;
	void		       *ptr = NULL;
	cJSON		       *id;

	p = jsonrpc_pending_new();
	CHECK_INT(jsonrpc_pending_count(p), 0);
	CHECK_INT(jsonrpc_pending_add(p, 10, &a), 1);
	CHECK_INT(jsonrpc_pending_add(p, 20, &b), 2);
	CHECK_INT(jsonrpc_pending_add(p, 30, &c), 3);
	CHECK_INT(jsonrpc_pending_count(p), 3);

	id = json_number(2);
	CHECK_INT(jsonrpc_pending_take(p, id, &tag, &ptr), 0);
	CHECK_INT(tag, 20);
	CHECK(ptr == &b);
	CHECK_INT(jsonrpc_pending_count(p), 2);
	CHECK_INT(jsonrpc_pending_take(p, id, &tag, &ptr), -1);
	json_free(id);

	/* A string holding the integer matches too. */
	id = json_string("3");
	CHECK_INT(jsonrpc_pending_take(p, id, &tag, &ptr), 0);
	CHECK_INT(tag, 30);
	CHECK(ptr == &c);
	json_free(id);

	id = json_string("x");
	CHECK_INT(jsonrpc_pending_take(p, id, &tag, &ptr), -1);
	json_free(id);
	id = json_string("1abc");
	CHECK_INT(jsonrpc_pending_take(p, id, &tag, &ptr), -1);
	json_free(id);
	id = json_string("");
	CHECK_INT(jsonrpc_pending_take(p, id, &tag, &ptr), -1);
	json_free(id);
	id = json_number(1.5);
	CHECK_INT(jsonrpc_pending_take(p, id, &tag, &ptr), -1);
	json_free(id);
	id = json_bool(1);
	CHECK_INT(jsonrpc_pending_take(p, id, &tag, &ptr), -1);
	json_free(id);
	CHECK_INT(jsonrpc_pending_take(p, NULL, &tag, &ptr), -1);
	CHECK_INT(jsonrpc_pending_count(p), 1);

	id = json_number(1);
	CHECK_INT(jsonrpc_pending_take(p, id, NULL, NULL), 0);
	json_free(id);
	CHECK_INT(jsonrpc_pending_count(p), 0);
	/* Ids are never reused. */
	CHECK_INT(jsonrpc_pending_add(p, 0, NULL), 4);
	jsonrpc_pending_free(p);
	jsonrpc_pending_free(NULL);
}

TEST(pending_many)
{
	struct jsonrpc_pending *p;
	long long		i;
	int			tag, bad = 0;
	void		       *ptr;
	cJSON		       *id;

	p = jsonrpc_pending_new();
	for (i = 1; i <= 1000; i++)
		CHECK_INT(jsonrpc_pending_add(p, (int)i, NULL), i);
	/* Take them out of order: odd ones first, then even. */
	for (i = 1; i <= 1000; i += 2) {
		id = json_number((double)i);
		if (jsonrpc_pending_take(p, id, &tag, &ptr) != 0 || tag != i)
			bad++;
		json_free(id);
	}
	CHECK_INT(jsonrpc_pending_count(p), 500);
	for (i = 2; i <= 1000; i += 2) {
		id = json_number((double)i);
		if (jsonrpc_pending_take(p, id, &tag, &ptr) != 0 || tag != i)
			bad++;
		json_free(id);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(jsonrpc_pending_count(p), 0);
	jsonrpc_pending_free(p);
}

/* A peer's world: what it sent, what reached which handler. */
struct world {
	char		     sent[2048];
	char		     seen[512];
	struct jsonrpc_peer *peer;
};

static void
world_note(struct world *w, const char *what, const struct jsonrpc_msg *msg)
{
	char *id = msg->id != NULL ? json_print(msg->id, NULL) : NULL;

	snprintf(w->seen + strlen(w->seen), sizeof w->seen - strlen(w->seen),
	    "%s(%s) ", what, id != NULL ? id : "-");
	free(id);
}

static void
world_send_cb(void *arg, cJSON *msg)
{
	struct world *w = arg;
	char	     *s;

	s = json_print(msg, NULL);
	snprintf(w->sent + strlen(w->sent), sizeof w->sent - strlen(w->sent),
	    "%s\n", s);
	free(s);
	json_free(msg);
}

static void
world_invalid_cb(void *arg, const char *name, const cJSON *v, const char *why)
{
	struct world *w = arg;

	snprintf(w->seen + strlen(w->seen), sizeof w->seen - strlen(w->seen),
	    "invalid:%s:%s ", name, v != NULL ? "json" : "text");
}

static void
world_first_cb(void *arg, const struct jsonrpc_msg *msg)
{
	world_note(arg, "first", msg);
}

static void
world_second_cb(void *arg, const struct jsonrpc_msg *msg)
{
	world_note(
	    arg, msg->kind == JSONRPC_ERROR ? "second-error" : "second", msg);
}

static void
world_stray_cb(void *arg, const struct jsonrpc_msg *msg)
{
	world_note(arg, "stray", msg);
}

static void
world_ask_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct world *w = arg;

	world_note(w, "ask", msg);
	(void)jsonrpc_peer_ask(w->peer, msg->id, json_string(msg->method));
}

static void
world_note_cb(void *arg, const struct jsonrpc_msg *msg)
{
	world_note(arg, "note", msg);
}

/* A handler may free the peer: dispatch touches nothing after it. */
static void
world_bye_cb(void *arg, const struct jsonrpc_msg *msg)
{
	struct world *w = arg;

	world_note(w, "bye", msg);
	jsonrpc_peer_free(w->peer);
	w->peer = NULL;
}

static jsonrpc_msg_fn *const	   world_responses[] = { world_first_cb,
	      world_second_cb, NULL };
static const struct jsonrpc_method world_requests[] = { { "ask", world_ask_cb },
	{ "bye", world_bye_cb } };
static const struct jsonrpc_method world_notes[] = { { "note",
    world_note_cb } };
static const struct jsonrpc_peer_ops world_ops = { "world", 0, world_requests,
	nitems(world_requests), world_notes, nitems(world_notes),
	world_responses, nitems(world_responses), world_stray_cb, world_send_cb,
	world_invalid_cb };

static void
world_line(struct world *w, const char *line)
{
	jsonrpc_peer_line(w->peer, line, strlen(line));
}

TEST(peer_dispatch)
{
	struct world w;

	memset(&w, 0, sizeof w);
	w.peer = jsonrpc_peer_new(&world_ops, &w);
	CHECK_INT(jsonrpc_peer_request(w.peer, 1, "go", NULL), 1);
	CHECK_INT(jsonrpc_peer_request(w.peer, 0, "go", json_object()), 2);
	CHECK_INT(jsonrpc_peer_request(w.peer, 2, "go", NULL), 3);
	CHECK_INT(jsonrpc_peer_request(w.peer, 1, "go", NULL), 4);
	CHECK_STR(w.sent,
	    "{\"id\":1,\"method\":\"go\"}\n"
	    "{\"id\":2,\"method\":\"go\",\"params\":{}}\n"
	    "{\"id\":3,\"method\":\"go\"}\n{\"id\":4,\"method\":\"go\"}\n");
	w.sent[0] = '\0';

	/* Responses by their request's tag, the id as a string too. */
	world_line(&w, "{\"id\":2,\"result\":{}}");
	world_line(
	    &w, "{\"id\":\"1\",\"error\":{\"code\":1,\"message\":\"m\"}}");
	/* Answered twice, or never asked: an error is stray, a result not. */
	world_line(&w, "{\"id\":2,\"result\":{}}");
	world_line(&w, "{\"id\":2,\"error\":{\"code\":1,\"message\":\"m\"}}");
	world_line(
	    &w, "{\"id\":null,\"error\":{\"code\":1,\"message\":\"m\"}}");
	/* A tag without a handler is no request of ours either. */
	world_line(&w, "{\"id\":3,\"error\":{\"code\":1,\"message\":\"m\"}}");
	world_line(&w, "{\"id\":4,\"result\":7}");
	CHECK_STR(w.seen,
	    "first(2) second-error(\"1\") stray(2) stray(null) stray(3) "
	    "second(4) ");
	CHECK_STR(w.sent, "");
	w.seen[0] = '\0';

	/* Requests by method, else -32601 without "jsonrpc" (codex). */
	world_line(&w, "{\"id\":\"a\",\"method\":\"ask\"}");
	world_line(&w, "{\"id\":9,\"method\":\"nope\",\"params\":[]}");
	world_line(&w, "{\"method\":\"note\"}");
	world_line(&w, "{\"method\":\"nope\"}");
	world_line(&w, "{\"method\":\"ask\"}"); /* a notification */
	world_line(&w, "not json");
	world_line(&w, "{\"id\":{},\"method\":\"ask\"}");
	CHECK_STR(w.seen,
	    "ask(\"a\") note(-) invalid:world:text invalid:world:json ");
	CHECK_STR(w.sent,
	    "{\"id\":9,\"error\":{\"code\":-32601,\"message\":\"method not "
	    "found\"}}\n");
	w.sent[0] = '\0';

	jsonrpc_peer_reply(w.peer, json_get(NULL, "x"), NULL);
	jsonrpc_peer_notify(w.peer, "n", NULL);
	CHECK_STR(w.sent, "{\"id\":null,\"result\":{}}\n{\"method\":\"n\"}\n");

	/* The handler frees the peer; nothing after it may touch it. */
	world_line(&w, "{\"id\":5,\"method\":\"bye\"}");
	CHECK(w.peer == NULL);
}

TEST(peer_asks)
{
	struct world	    w;
	struct jsonrpc_ask *k;

	memset(&w, 0, sizeof w);
	w.peer = jsonrpc_peer_new(&world_ops, &w);
	world_line(&w, "{\"id\":0,\"method\":\"ask\"}");
	world_line(&w, "{\"id\":\"0\",\"method\":\"ask\"}");
	world_line(&w, "{\"id\":\"x-1\",\"method\":\"ask\"}");
	CHECK(jsonrpc_peer_take(w.peer, "nope") == NULL);
	/* Two asks with ids 0 and "0" share their text: first in, first out. */
	k = jsonrpc_peer_take(w.peer, "0");
	CHECK(k != NULL && json_is_num(k->rpc_id));
	CHECK_STR(json_str(k->data), "ask");
	jsonrpc_peer_reply(w.peer, k->rpc_id, json_string("yes"));
	jsonrpc_ask_free(k);
	k = jsonrpc_peer_take(w.peer, "0");
	CHECK(k != NULL && json_is_str(k->rpc_id));
	jsonrpc_ask_free(k);
	CHECK(jsonrpc_peer_take(w.peer, "0") == NULL);
	CHECK_STR(w.sent, "{\"id\":0,\"result\":\"yes\"}\n");
	/* "x-1" is still kept: freeing the peer frees it. */
	jsonrpc_peer_free(w.peer);
	jsonrpc_peer_free(NULL);
}

TEST_MAIN(TEST_ENTRY(request), TEST_ENTRY(notification), TEST_ENTRY(response),
    TEST_ENTRY(error_response), TEST_ENTRY(invalid), TEST_ENTRY(builders),
    TEST_ENTRY(builders_parse_back), TEST_ENTRY(pending),
    TEST_ENTRY(pending_many), TEST_ENTRY(peer_dispatch), TEST_ENTRY(peer_asks))
