/*
 * test_event.c: protocol/event.c, names, builders, serialize, validate.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

#define T_MS 1795348800123LL /* 2026-11-22T12:00:00.123Z */

static cJSON *
parse(const char *s)
{
	cJSON *v;

	v = json_parse(s, strlen(s), NULL);
	if (v == NULL) {
		fprintf(stderr, "bad test JSON: %s\n", s);
		abort();
	}
	return (v);
}

/* Serialize an event of type with data (owned), parse it back. */
static cJSON *
make_event(enum event_type type, cJSON *data)
{
	struct event ev;
	char	    *line;
	size_t	     len, noraw;
	cJSON	    *v;

	memset(&ev, 0, sizeof ev);
	ev.sequence = 42;
	ev.time_ms = T_MS;
	ev.session_id = "s1";
	ev.native_session_id = "native-1";
	ev.type = type;
	ev.data = data;
	ev.raw = "{\"native\":true}";
	line = event_serialize(&ev, &len, &noraw);
	v = json_parse(line, len, NULL);
	free(line);
	json_free(data);
	return (v);
}

/* A complete item with one part of every type. */
static cJSON *
full_item(enum item_status status)
{
	cJSON *c;

	c = json_array();
	json_append(c, event_part_text("hello"));
	json_append(c, event_part_reasoning("hmm", NULL));
	json_append(
	    c, event_part_tool_call("Bash", "{\"command\":\"ls\"}", "toolu_1"));
	json_append(c, event_part_tool_result("toolu_1", "a\nb", 0));
	json_append(c, event_part_file_ref("/w/a.c", "patch", "@@ -1 +1 @@"));
	json_append(c, event_part_image(NULL, "aGk=", "image/png"));
	json_append(c, event_part_json(parse("{\"k\":[1]}")));
	json_append(c, event_part_status("thinking", NULL));
	return (event_item("itm_1", "msg_1", "itm_0", ITEM_MESSAGE,
	    ROLE_ASSISTANT, status, c));
}

static cJSON *
item_data(enum item_status status)
{
	cJSON *d;

	d = json_object();
	json_set(d, "item", full_item(status));
	return (d);
}

/* Valid data for every type. */
static cJSON *
valid_data(enum event_type t)
{
	switch (t) {
	case EVENT_SESSION_STARTED:
		return (
		    parse("{\"metadata\":{\"agent\":\"claude\","
			  "\"agentVersion\":\"2.0.1\",\"model\":null,"
			  "\"permissionMode\":\"default\",\"cwd\":\"/w\"}}"));
	case EVENT_SESSION_ENDED:
		return (
		    parse("{\"reason\":\"error\",\"terminated_by\":"
			  "\"daemon\",\"message\":\"killed\",\"exit_code\":137,"
			  "\"stderr\":{\"head\":\"a\",\"tail\":\"b\","
			  "\"truncated\":false}}"));
	case EVENT_TURN_STARTED:
		return (parse("{\"turn_id\":\"turn_1\"}"));
	case EVENT_TURN_ENDED:
		return (parse("{\"turn_id\":\"turn_1\",\"stop_reason\":"
			      "\"end_turn\",\"usage\":{\"input_tokens\":10,"
			      "\"output_tokens\":5,\"cache_read_tokens\":0,"
			      "\"cache_write_tokens\":0},\"cost_usd\":0.01}"));
	case EVENT_ITEM_STARTED:
		return (item_data(ITEM_IN_PROGRESS));
	case EVENT_ITEM_COMPLETED:
		return (item_data(ITEM_COMPLETED));
	case EVENT_ITEM_DELTA:
		return (parse("{\"item_id\":\"itm_1\",\"native_item_id\":null,"
			      "\"delta\":\"he\"}"));
	case EVENT_PERMISSION_REQUESTED:
		return (parse(
		    "{\"permission_id\":\"perm_1\",\"action\":"
		    "\"Bash\",\"status\":\"requested\",\"metadata\":"
		    "{\"tool_name\":\"Bash\",\"input\":{\"command\":\"ls\"},"
		    "\"call_id\":\"toolu_1\"}}"));
	case EVENT_PERMISSION_RESOLVED:
		return (parse("{\"permission_id\":\"perm_1\",\"action\":"
			      "\"Bash\",\"status\":\"accept_for_session\"}"));
	case EVENT_QUESTION_REQUESTED:
		return (parse(
		    "{\"question_id\":\"q_1\",\"questions\":"
		    "[{\"question\":\"Which?\",\"header\":\"Pick\","
		    "\"multi_select\":false,\"options\":[{\"label\":\"A\","
		    "\"description\":\"first\"},{\"label\":\"B\"}]}]}"));
	case EVENT_QUESTION_RESOLVED:
		return (parse("{\"question_id\":\"q_1\",\"status\":"
			      "\"answered\",\"answers\":[[\"A\"]]}"));
	case EVENT_ERROR:
		return (parse("{\"message\":\"rate limited\",\"code\":"
			      "\"rate_limit\",\"details\":{\"retry\":3}}"));
	case EVENT_AGENT_UNPARSED:
		return (parse("{\"error\":\"invalid JSON at byte 3\","
			      "\"location\":\"stdout\"}"));
	default:
		abort();
	}
}

/* Expect ev to fail validation with exactly want; frees ev. */
static void
check_reject(cJSON *ev, const char *want, const char *file, int line)
{
	char *cause = NULL;

	if (event_validate(ev, &cause) != -1)
		test_fail(file, line, "accepted, expected \"%s\"", want);
	else if (cause == NULL || strcmp(cause, want) != 0)
		test_fail(file, line, "cause \"%s\", expected \"%s\"",
		    cause != NULL ? cause : "(null)", want);
	free(cause);
	json_free(ev);
}
#define CHECK_REJECT(ev, want) check_reject(ev, want, __FILE__, __LINE__)

static void
check_accept(cJSON *ev, const char *what, const char *file, int line)
{
	char *cause = NULL;

	if (ev == NULL)
		test_fail(file, line, "%s: did not parse", what);
	else if (event_validate(ev, &cause) != 0)
		test_fail(file, line, "%s: %s", what, cause);
	free(cause);
}

TEST(names)
{
	int t;

	for (t = 0; t < EVENT_TYPE_COUNT; t++)
		CHECK_INT(event_type_from_name(event_type_name(t)), t);
	CHECK_STR(event_type_name(EVENT_ITEM_DELTA), "item.delta");
	CHECK_STR(event_type_name(EVENT_AGENT_UNPARSED), "agent.unparsed");
	CHECK_STR(
	    event_type_name(EVENT_PERMISSION_RESOLVED), "permission.resolved");
	CHECK_INT(event_type_from_name("error"), EVENT_ERROR);
	CHECK_INT(event_type_from_name("item.Delta"), -1);
	CHECK_INT(event_type_from_name(""), -1);
	CHECK_INT(event_type_from_name(NULL), -1);
	CHECK(event_type_name(EVENT_TYPE_COUNT) == NULL);
	CHECK(event_type_name((enum event_type) - 1) == NULL);
	CHECK_STR(event_item_kind_name(ITEM_TOOL_RESULT), "tool_result");
	CHECK_STR(event_item_kind_name(ITEM_STATUS), "status");
	CHECK(event_item_kind_name(ITEM_KIND_COUNT) == NULL);
	CHECK_STR(event_item_role_name(ROLE_ASSISTANT), "assistant");
	CHECK_STR(event_item_role_name(ROLE_TOOL), "tool");
	CHECK(event_item_role_name(ROLE_COUNT) == NULL);
	CHECK_STR(event_item_status_name(ITEM_IN_PROGRESS), "in_progress");
	CHECK_STR(event_item_status_name(ITEM_FAILED), "failed");
	CHECK(event_item_status_name(ITEM_STATUS_COUNT) == NULL);
}

/* The one table of permission reply words and resolved statuses. */
TEST(permission_words)
{
	static const char *const words[] = { "once", "always", "reject" };
	static const char *const statuses[] = { "accept", "accept_for_session",
		"reject", "cancelled" };
	enum permission_reply	 r;
	int			 i;

	for (i = 0; i < 3; i++) {
		r = PERMISSION_CANCELLED;
		CHECK_INT(event_permission_reply(words[i], &r), 0);
		CHECK_INT(r, i);
		CHECK_STR(event_permission_word(r), words[i]);
	}
	for (i = 0; i <= PERMISSION_CANCELLED; i++)
		CHECK_STR(event_permission_status(i), statuses[i]);
	CHECK(event_permission_word(PERMISSION_CANCELLED) == NULL);
	CHECK(event_permission_status(PERMISSION_CANCELLED + 1) == NULL);
	CHECK(event_permission_word((enum permission_reply) - 1) == NULL);
	r = PERMISSION_ONCE;
	CHECK_INT(event_permission_reply("cancelled", &r), -1);
	CHECK_INT(event_permission_reply("accept", &r), -1);
	CHECK_INT(event_permission_reply("ONCE", &r), -1);
	CHECK_INT(event_permission_reply("", &r), -1);
	CHECK_INT(event_permission_reply(NULL, &r), -1);
	CHECK_INT(r, PERMISSION_ONCE); /* untouched on failure */
}

TEST(format_time)
{
	char buf[32];

	event_format_time(T_MS, buf, sizeof buf);
	CHECK_STR(buf, "2026-11-22T12:00:00.123Z");
	event_format_time(0, buf, sizeof buf);
	CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
	event_format_time(951868799999LL, buf, sizeof buf);
	CHECK_STR(buf, "2000-02-29T23:59:59.999Z");
	event_format_time(-1, buf, sizeof buf);
	CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
	event_format_time(5, buf, sizeof buf);
	CHECK_STR(buf, "1970-01-01T00:00:00.005Z");
	/* Truncated, still terminated. */
	event_format_time(T_MS, buf, 5);
	CHECK_STR(buf, "2026");
}

TEST(serialize_exact)
{
	struct event ev;
	char	    *line, *noraw;
	size_t	     len, nlen;
	const char  *want;

	memset(&ev, 0, sizeof ev);
	ev.sequence = 7;
	ev.time_ms = T_MS;
	ev.session_id = "demo";
	ev.native_session_id = "f8e3";
	ev.type = EVENT_ITEM_DELTA;
	ev.data = parse("{\"item_id\":\"itm_3\",\"native_item_id\":\"msg_1\","
			"\"delta\":\"hi\"}");
	ev.raw = "{\"type\":\"x\"}";
	ev.rawlen = strlen(ev.raw);
	want = "{\"event_id\":\"evt_7\",\"sequence\":7,\"time\":"
	       "\"2026-11-22T12:00:00.123Z\",\"session_id\":\"demo\","
	       "\"native_session_id\":\"f8e3\",\"source\":\"agent\","
	       "\"synthetic\":false,\"type\":\"item.delta\",\"data\":"
	       "{\"item_id\":\"itm_3\",\"native_item_id\":\"msg_1\","
	       "\"delta\":\"hi\"},\"raw\":{\"type\":\"x\"}}";
	line = event_serialize(&ev, &len, &nlen);
	CHECK_STR(line, want);
	CHECK_INT(len, strlen(want));

	/* The prefix plus "}" is the same event without raw. */
	noraw = xmalloc(nlen + 2);
	memcpy(noraw, line, nlen);
	memcpy(noraw + nlen, "}", 2);
	CHECK_STR(noraw,
	    "{\"event_id\":\"evt_7\",\"sequence\":7,\"time\":"
	    "\"2026-11-22T12:00:00.123Z\",\"session_id\":\"demo\","
	    "\"native_session_id\":\"f8e3\",\"source\":\"agent\","
	    "\"synthetic\":false,\"type\":\"item.delta\",\"data\":"
	    "{\"item_id\":\"itm_3\",\"native_item_id\":\"msg_1\","
	    "\"delta\":\"hi\"}}");
	CHECK(strncmp(line + nlen, ",\"raw\":", 7) == 0);
	free(noraw);
	free(line);
	json_free((cJSON *)ev.data);
}

TEST(serialize_daemon_no_raw)
{
	struct event	ev;
	enum event_type st;
	char	       *line;
	size_t		len, nlen, scanned;

	memset(&ev, 0, sizeof ev);
	ev.sequence = 1;
	ev.time_ms = 0;
	ev.session_id = "s";
	ev.daemon = 1;
	ev.synthetic = 1;
	ev.type = EVENT_TURN_STARTED;
	ev.data = NULL;
	line = event_serialize(&ev, &len, &nlen);
	CHECK_STR(line,
	    "{\"event_id\":\"evt_1\",\"sequence\":1,\"time\":"
	    "\"1970-01-01T00:00:00.000Z\",\"session_id\":\"s\",\"source\":"
	    "\"daemon\",\"synthetic\":true,\"type\":\"turn.started\","
	    "\"data\":{}}");
	CHECK_INT(nlen, len - 1);
	CHECK_INT(event_scan(line, len, &st, &scanned), 0);
	CHECK_INT(st, EVENT_TURN_STARTED);
	CHECK_INT(scanned, nlen);
	free(line);
	/* len and noraw_len may be NULL. */
	line = event_serialize(&ev, NULL, NULL);
	CHECK(line != NULL && line[strlen(line) - 1] == '}');
	free(line);
}

TEST(serialize_escapes_and_rawlen)
{
	struct event ev;
	char	    *line;
	size_t	     len, nlen;
	cJSON	    *v;

	memset(&ev, 0, sizeof ev);
	ev.sequence = 18446744073709551615ULL;
	ev.time_ms = T_MS;
	ev.session_id = "a\"b\\c\n\x01\xc3\xa9";
	ev.native_session_id = "\t";
	ev.type = EVENT_ERROR;
	ev.data = parse("{\"message\":\"m\"}");
	ev.raw = "[1,2]garbage";
	ev.rawlen = 5;
	line = event_serialize(&ev, &len, &nlen);
	CHECK(strstr(line,
		  "\"session_id\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"") != NULL);
	CHECK(strstr(line, "\"native_session_id\":\"\\t\"") != NULL);
	CHECK(
	    strstr(line, "\"event_id\":\"evt_18446744073709551615\"") != NULL);
	CHECK(strstr(line, "garbage") == NULL);
	CHECK(strcmp(line + len - 13, ",\"raw\":[1,2]}") == 0);
	v = json_parse(line, len, NULL);
	CHECK(v != NULL);
	CHECK_STR(json_get_str(v, "session_id"), ev.session_id);
	CHECK(json_size(json_get(v, "raw")) == 2);
	json_free(v);
	v = json_parse(line, nlen, NULL); /* prefix alone is not JSON */
	CHECK(v == NULL);
	free(line);
	json_free((cJSON *)ev.data);
}

TEST(noraw_prefix_every_type)
{
	struct event	ev;
	char	       *line, *cause;
	size_t		len, nlen;
	size_t		scanned;
	enum event_type st;
	cJSON	       *v, *data;
	int		t;

	for (t = 0; t < EVENT_TYPE_COUNT; t++) {
		data = valid_data(t);
		memset(&ev, 0, sizeof ev);
		ev.sequence = (uint64_t)t + 1;
		ev.time_ms = T_MS + t;
		ev.session_id = "s";
		ev.type = t;
		ev.data = data;
		ev.raw = "{\"raw\":{\"nested\":\",\\\"raw\\\":\"}}";
		line = event_serialize(&ev, &len, &nlen);
		/* event-scan.c finds the same cut from the text alone. */
		CHECK_INT(event_scan(line, len, &st, &scanned), 0);
		CHECK_INT(st, t);
		CHECK_INT(scanned, nlen);
		line[nlen] = '}';
		v = json_parse(line, nlen + 1, NULL);
		CHECK(v != NULL);
		CHECK(json_get(v, "raw") == NULL);
		CHECK(json_equal(json_get(v, "data"), data));
		cause = NULL;
		if (event_validate(v, &cause) != 0)
			test_fail(__FILE__, __LINE__, "%s: %s",
			    event_type_name(t), cause);
		free(cause);
		json_free(v);
		free(line);
		json_free(data);
	}
}

TEST(validate_every_type)
{
	cJSON *v;
	int    t;

	for (t = 0; t < EVENT_TYPE_COUNT; t++) {
		v = make_event(t, valid_data(t));
		check_accept(v, event_type_name(t), __FILE__, __LINE__);
		json_free(v);
	}
	/* cause may be NULL. */
	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	CHECK_INT(event_validate(v, NULL), 0);
	json_free(v);
}

TEST(validate_minimal_and_optional_nulls)
{
	cJSON *v;

	v = make_event(EVENT_SESSION_ENDED,
	    parse("{\"reason\":\"completed\","
		  "\"terminated_by\":\"agent\",\"message\":null}"));
	check_accept(v, "session.ended", __FILE__, __LINE__);
	json_free(v);
	v = make_event(EVENT_ERROR, parse("{\"message\":\"m\",\"code\":429}"));
	check_accept(v, "error", __FILE__, __LINE__);
	json_free(v);
	v = make_event(EVENT_TURN_ENDED,
	    parse("{\"turn_id\":\"t\","
		  "\"usage\":{}}"));
	check_accept(v, "turn.ended", __FILE__, __LINE__);
	json_free(v);
	v = make_event(EVENT_SESSION_STARTED,
	    parse("{\"metadata\":"
		  "{\"agent\":\"mock\"}}"));
	check_accept(v, "session.started", __FILE__, __LINE__);
	json_free(v);
}

TEST(builders_exact)
{
	cJSON *v;
	char  *s;

	v = event_part_tool_call("Bash", "{\"command\":\"ls\"}", "toolu_1");
	s = json_print(v, NULL);
	CHECK_STR(s,
	    "{\"type\":\"tool_call\",\"name\":\"Bash\",\"arguments\":"
	    "\"{\\\"command\\\":\\\"ls\\\"}\",\"call_id\":\"toolu_1\"}");
	free(s);
	json_free(v);

	v = event_item("itm_2", NULL, NULL, ITEM_TOOL_RESULT, ROLE_TOOL,
	    ITEM_FAILED, NULL);
	s = json_print(v, NULL);
	CHECK_STR(s,
	    "{\"item_id\":\"itm_2\",\"native_item_id\":null,"
	    "\"kind\":\"tool_result\",\"role\":\"tool\",\"status\":"
	    "\"failed\",\"content\":[]}");
	free(s);
	json_free(v);

	v = full_item(ITEM_COMPLETED);
	s = json_print(json_get(v, "content"), NULL);
	CHECK_STR(s,
	    "[{\"type\":\"text\",\"text\":\"hello\"},"
	    "{\"type\":\"reasoning\",\"text\":\"hmm\",\"visibility\":"
	    "\"public\"},{\"type\":\"tool_call\",\"name\":\"Bash\","
	    "\"arguments\":\"{\\\"command\\\":\\\"ls\\\"}\",\"call_id\":"
	    "\"toolu_1\"},{\"type\":\"tool_result\",\"call_id\":\"toolu_1\","
	    "\"output\":\"a\\nb\",\"is_error\":false},{\"type\":\"file_ref\","
	    "\"path\":\"/w/a.c\",\"action\":\"patch\",\"diff\":"
	    "\"@@ -1 +1 @@\"},{\"type\":\"image\",\"data\":\"aGk=\","
	    "\"mime\":\"image/png\"},{\"type\":\"json\",\"json\":"
	    "{\"k\":[1]}},{\"type\":\"status\",\"label\":\"thinking\"}]");
	free(s);
	CHECK_STR(json_get_str(v, "parent_id"), "itm_0");
	json_free(v);

	v = json_array();
	json_append(v, event_part_reasoning("r", "private"));
	json_append(v, event_part_file_ref("p", "read", NULL));
	json_append(v, event_part_json(NULL));
	json_append(v, event_part_status("l", "d"));
	json_append(v, event_part_tool_result(NULL, NULL, 1));
	json_append(v, event_part_image("/tmp/x.png", NULL, "image/png"));
	json_append(v, event_part_tool_call("n", NULL, "c"));
	s = json_print(v, NULL);
	CHECK_STR(s,
	    "[{\"type\":\"reasoning\",\"text\":\"r\",\"visibility\":"
	    "\"private\"},{\"type\":\"file_ref\",\"path\":\"p\",\"action\":"
	    "\"read\"},{\"type\":\"json\",\"json\":null},{\"type\":\"status\","
	    "\"label\":\"l\",\"detail\":\"d\"},{\"type\":\"tool_result\","
	    "\"call_id\":\"\",\"output\":\"\",\"is_error\":true},"
	    "{\"type\":\"image\",\"path\":\"/tmp/x.png\",\"mime\":"
	    "\"image/png\"},{\"type\":\"tool_call\",\"name\":\"n\","
	    "\"arguments\":\"{}\",\"call_id\":\"c\"}]");
	free(s);
	json_free(v);
}

/* The data member of a valid event of type t, for mutation. */
static cJSON *
data_of(cJSON *ev)
{
	return (json_get_obj(ev, "data"));
}

TEST(reject_envelope)
{
	cJSON *v;

	CHECK_REJECT(parse("[]"), "event: not an object");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_str(v, "event_id", "evt_41");
	CHECK_REJECT(v, "event_id: does not match sequence");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_free(json_detach(v, "event_id"));
	CHECK_REJECT(v, "event_id: missing");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_int(v, "sequence", 0);
	json_set_str(v, "event_id", "evt_0");
	CHECK_REJECT(v, "sequence: less than 1");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_num(v, "sequence", 4.5);
	CHECK_REJECT(v, "sequence: not an integer");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_str(v, "time", "2026-11-22T12:00:00Z");
	CHECK_REJECT(v, "time: not RFC 3339 UTC with ms");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_str(v, "time", "2026-11-22 12:00:00.123Z");
	CHECK_REJECT(v, "time: not RFC 3339 UTC with ms");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_int(v, "session_id", 3);
	CHECK_REJECT(v, "session_id: not a string");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_int(v, "native_session_id", 3);
	CHECK_REJECT(v, "native_session_id: not a string");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_str(v, "source", "robot");
	CHECK_REJECT(v, "source: unknown value \"robot\"");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_str(v, "synthetic", "false");
	CHECK_REJECT(v, "synthetic: not a boolean");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_str(v, "type", "item.deltas");
	CHECK_REJECT(v, "type: unknown value \"item.deltas\"");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set(v, "data", json_array());
	CHECK_REJECT(v, "data: not an object");

	/* A valid envelope whose data belongs to another type. */
	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_str(v, "type", "agent.unparsed");
	CHECK_REJECT(v, "data.error: missing");
}

TEST(reject_data)
{
	cJSON *v;

	v = make_event(
	    EVENT_SESSION_STARTED, valid_data(EVENT_SESSION_STARTED));
	json_set_int(json_get_obj(data_of(v), "metadata"), "cwd", 1);
	CHECK_REJECT(v, "data.metadata.cwd: not a string");

	v = make_event(EVENT_SESSION_STARTED, parse("{}"));
	CHECK_REJECT(v, "data.metadata: missing");

	v = make_event(EVENT_SESSION_ENDED, valid_data(EVENT_SESSION_ENDED));
	json_set_str(data_of(v), "reason", "done");
	CHECK_REJECT(v, "data.reason: unknown value \"done\"");

	v = make_event(EVENT_SESSION_ENDED, valid_data(EVENT_SESSION_ENDED));
	json_free(json_detach(data_of(v), "terminated_by"));
	CHECK_REJECT(v, "data.terminated_by: missing");

	v = make_event(EVENT_SESSION_ENDED, valid_data(EVENT_SESSION_ENDED));
	json_set_str(json_get_obj(data_of(v), "stderr"), "truncated", "no");
	CHECK_REJECT(v, "data.stderr.truncated: not a boolean");

	v = make_event(EVENT_SESSION_ENDED, valid_data(EVENT_SESSION_ENDED));
	json_set_num(data_of(v), "exit_code", 1.5);
	CHECK_REJECT(v, "data.exit_code: not an integer");

	v = make_event(EVENT_TURN_STARTED, parse("{\"turn\":\"t\"}"));
	CHECK_REJECT(v, "data.turn_id: missing");

	v = make_event(EVENT_TURN_ENDED, valid_data(EVENT_TURN_ENDED));
	json_set_int(json_get_obj(data_of(v), "usage"), "input_tokens", -1);
	CHECK_REJECT(v, "data.usage.input_tokens: negative");

	v = make_event(EVENT_TURN_ENDED, valid_data(EVENT_TURN_ENDED));
	json_set_str(data_of(v), "cost_usd", "0.1");
	CHECK_REJECT(v, "data.cost_usd: not a number");

	v = make_event(EVENT_ITEM_DELTA, valid_data(EVENT_ITEM_DELTA));
	json_set_int(data_of(v), "delta", 1);
	CHECK_REJECT(v, "data.delta: not a string");

	v = make_event(
	    EVENT_PERMISSION_REQUESTED, valid_data(EVENT_PERMISSION_REQUESTED));
	json_set_str(data_of(v), "status", "accept");
	CHECK_REJECT(v, "data.status: unknown value \"accept\"");

	v = make_event(
	    EVENT_PERMISSION_REQUESTED, valid_data(EVENT_PERMISSION_REQUESTED));
	json_free(json_detach(json_get_obj(data_of(v), "metadata"), "input"));
	CHECK_REJECT(v, "data.metadata.input: missing");

	v = make_event(
	    EVENT_PERMISSION_RESOLVED, valid_data(EVENT_PERMISSION_RESOLVED));
	json_set_str(data_of(v), "status", "allow");
	CHECK_REJECT(v, "data.status: unknown value \"allow\"");

	v = make_event(
	    EVENT_QUESTION_REQUESTED, valid_data(EVENT_QUESTION_REQUESTED));
	json_free(json_detach(
	    json_at(
		json_get_arr(json_at(json_get_arr(data_of(v), "questions"), 0),
		    "options"),
		1),
	    "label"));
	CHECK_REJECT(v, "data.questions[0].options[1].label: missing");

	v = make_event(
	    EVENT_QUESTION_REQUESTED, valid_data(EVENT_QUESTION_REQUESTED));
	json_append(json_get_arr(data_of(v), "questions"), json_string("q"));
	CHECK_REJECT(v, "data.questions[1]: not an object");

	v = make_event(
	    EVENT_QUESTION_REQUESTED, valid_data(EVENT_QUESTION_REQUESTED));
	json_set_str(json_at(json_get_arr(data_of(v), "questions"), 0),
	    "multi_select", "yes");
	CHECK_REJECT(v, "data.questions[0].multi_select: not a boolean");

	v = make_event(
	    EVENT_QUESTION_RESOLVED, valid_data(EVENT_QUESTION_RESOLVED));
	json_set_str(data_of(v), "status", "requested");
	CHECK_REJECT(v, "data.status: unknown value \"requested\"");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set(data_of(v), "message", json_null());
	CHECK_REJECT(v, "data.message: not a string");

	v = make_event(EVENT_ERROR, valid_data(EVENT_ERROR));
	json_set_bool(data_of(v), "code", 1);
	CHECK_REJECT(v, "data.code: not a string or a number");

	v = make_event(EVENT_AGENT_UNPARSED, valid_data(EVENT_AGENT_UNPARSED));
	json_free(json_detach(data_of(v), "location"));
	CHECK_REJECT(v, "data.location: missing");
}

TEST(reject_item)
{
	cJSON *v, *item, *content;

#define ITEM_EVENT()                                                         \
	(v = make_event(EVENT_ITEM_STARTED, valid_data(EVENT_ITEM_STARTED)), \
	    item = json_get_obj(data_of(v), "item"),                         \
	    content = json_get_arr(item, "content"))

	ITEM_EVENT();
	json_free(json_detach(json_at(content, 2), "call_id"));
	CHECK_REJECT(v, "data.item.content[2].call_id: missing");

	ITEM_EVENT();
	json_set_str(json_at(content, 0), "type", "video");
	CHECK_REJECT(v, "data.item.content[0].type: unknown value \"video\"");

	ITEM_EVENT();
	json_free(json_detach(json_at(content, 0), "type"));
	CHECK_REJECT(v, "data.item.content[0].type: missing");

	ITEM_EVENT();
	json_append(content, json_number(1));
	CHECK_REJECT(v, "data.item.content[8]: not an object");

	ITEM_EVENT();
	json_set_str(json_at(content, 1), "visibility", "secret");
	CHECK_REJECT(v,
	    "data.item.content[1].visibility: unknown value "
	    "\"secret\"");

	ITEM_EVENT();
	json_set_str(json_at(content, 3), "is_error", "false");
	CHECK_REJECT(v, "data.item.content[3].is_error: not a boolean");

	ITEM_EVENT();
	json_set_str(json_at(content, 4), "action", "delete");
	CHECK_REJECT(v,
	    "data.item.content[4].action: unknown value "
	    "\"delete\"");

	ITEM_EVENT();
	json_free(json_detach(json_at(content, 5), "mime"));
	CHECK_REJECT(v, "data.item.content[5].mime: missing");

	ITEM_EVENT();
	json_free(json_detach(json_at(content, 6), "json"));
	CHECK_REJECT(v, "data.item.content[6].json: missing");

	ITEM_EVENT();
	json_set(json_at(content, 2), "arguments", json_object());
	CHECK_REJECT(v, "data.item.content[2].arguments: not a string");

	ITEM_EVENT();
	json_set_int(json_at(content, 7), "label", 3);
	CHECK_REJECT(v, "data.item.content[7].label: not a string");

	ITEM_EVENT();
	json_set_str(item, "kind", "thought");
	CHECK_REJECT(v, "data.item.kind: unknown value \"thought\"");

	ITEM_EVENT();
	json_set_str(item, "role", "bot");
	CHECK_REJECT(v, "data.item.role: unknown value \"bot\"");

	ITEM_EVENT();
	json_set_str(item, "status", "done");
	CHECK_REJECT(v, "data.item.status: unknown value \"done\"");

	ITEM_EVENT();
	json_set(item, "content", json_object());
	CHECK_REJECT(v, "data.item.content: not an array");

	ITEM_EVENT();
	json_free(json_detach(item, "item_id"));
	CHECK_REJECT(v, "data.item.item_id: missing");

	ITEM_EVENT();
	json_set_int(item, "native_item_id", 5);
	CHECK_REJECT(v, "data.item.native_item_id: not a string");

	v = make_event(EVENT_ITEM_COMPLETED, item_data(ITEM_IN_PROGRESS));
	CHECK_REJECT(v, "data.item.status: in_progress in item.completed");

	v = make_event(EVENT_ITEM_COMPLETED, item_data(ITEM_FAILED));
	check_accept(v, "failed item", __FILE__, __LINE__);
	json_free(v);
	(void)item;
	(void)content;
#undef ITEM_EVENT
}

/*
 * An item.delta with data d (printed without a tree) is byte for byte the
 * event with the tree json_print prints, noraw_len and all.
 */
static void
check_delta(const char *native_id, const char *text)
{
	struct event_delta d = { "itm_1", native_id, text, strlen(text) };
	struct event	   ev;
	char		  *a, *b;
	size_t		   alen, blen, anoraw, bnoraw;
	cJSON		  *o;

	o = json_object();
	json_set_str(o, "item_id", "itm_1");
	json_set_str(o, "native_item_id", native_id);
	json_set_str(o, "delta", text);
	memset(&ev, 0, sizeof ev);
	ev.sequence = 7;
	ev.time_ms = T_MS;
	ev.session_id = "s1";
	ev.type = EVENT_ITEM_DELTA;
	ev.raw = "{\"native\":true}";
	ev.data = o;
	a = event_serialize(&ev, &alen, &anoraw);
	ev.data = NULL;
	ev.delta = &d;
	b = event_serialize(&ev, &blen, &bnoraw);
	CHECK_STR(b, a);
	CHECK(alen == blen && anoraw == bnoraw);
	free(a);
	free(b);
	json_free(o);
}

/*
 * For every escape cJSON writes, with and without native_item_id (an
 * escaped string six times longer than it is: the cap must hold it).
 */
TEST(delta_data_matches_tree)
{
	static const char *const texts[] = { "", "hello", "a\"b\\c",
		"\b\f\n\r\t", "\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac",
		"</script>", "\\u0000" };
	char			 ctl[301];
	size_t			 i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		check_delta(NULL, texts[i]);
		check_delta(texts[i], texts[i]);
	}
	/* 1,800 bytes escaped: past what the envelope's slack would hold. */
	memset(ctl, 1, sizeof ctl - 1);
	ctl[sizeof ctl - 1] = '\0';
	check_delta(NULL, ctl);
	check_delta(ctl, ctl);
}

/*
 * The same, with each byte that must be escaped (and a few that must not)
 * after 0 to 19 plain ones, so that it falls in every lane of the quoting
 * scan's eight-byte steps and in its tail.
 */
TEST(delta_data_lanes)
{
	static const char *const mid[] = { "\"", "\\", "\n", "\x01", "\x1f",
		"\b", "\f", "\x7f", "\xc3\xa9", " ", "/" };
	char			 text[64];
	size_t			 i, k;

	for (i = 0; i < sizeof mid / sizeof mid[0]; i++)
		for (k = 0; k < 20; k++) {
			(void)snprintf(text, sizeof text, "%.*s%s%s", (int)k,
			    "aaaaaaaaaaaaaaaaaaaa", mid[i], "bbbbbbbbbbb");
			check_delta(NULL, text);
		}
}

TEST_MAIN(TEST_ENTRY(names), TEST_ENTRY(delta_data_matches_tree),
    TEST_ENTRY(delta_data_lanes), TEST_ENTRY(permission_words),
    TEST_ENTRY(format_time), TEST_ENTRY(serialize_exact),
    TEST_ENTRY(serialize_daemon_no_raw),
    TEST_ENTRY(serialize_escapes_and_rawlen),
    TEST_ENTRY(noraw_prefix_every_type), TEST_ENTRY(validate_every_type),
    TEST_ENTRY(validate_minimal_and_optional_nulls), TEST_ENTRY(builders_exact),
    TEST_ENTRY(reject_envelope), TEST_ENTRY(reject_data),
    TEST_ENTRY(reject_item))
