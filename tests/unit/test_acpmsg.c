/*
 * test_acpmsg.c: protocol/acpmsg.c (ACP shapes, both directions) and
 * protocol/acpmap.c (universal events as ACP updates).
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

static cJSON *
parse(const char *s)
{
	cJSON *v;

	if ((v = json_parse(s, strlen(s), NULL)) == NULL)
		abort();
	return (v);
}

/* v printed (then freed) must be want. */
static void
check_json(cJSON *v, const char *want, const char *file, int line)
{
	char *s;

	s = json_print(v, NULL);
	if (strcmp(s, want) != 0)
		test_fail(file, line, "printed\n%s\nexpected\n%s", s, want);
	free(s);
	json_free(v);
}
#define CHECK_JSON(v, want) check_json(v, want, __FILE__, __LINE__)

TEST(names)
{
	int i, bad = 0;

	for (i = 0; i < ACPMSG_UPDATE_COUNT; i++) {
		if (acpmsg_update_parse(acpmsg_update_name(i)) != i)
			bad++;
	}
	for (i = 0; i < ACPMSG_STATUS_COUNT; i++) {
		if (acpmsg_status_parse(acpmsg_status_name(i)) != i)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK_STR(
	    acpmsg_update_name(ACPMSG_THOUGHT_CHUNK), "agent_thought_chunk");
	CHECK_INT(acpmsg_update_parse("compaction_summary_chunk"), -1);
	CHECK_INT(acpmsg_update_parse(NULL), -1);
	CHECK_INT(acpmsg_status_parse("done"), -1);
	CHECK(acpmsg_update_name(ACPMSG_UPDATE_COUNT) == NULL);
	CHECK_STR(acpmsg_option_name(ACPMSG_REJECT_ALWAYS), "reject_always");
}

TEST(stop_reasons)
{
	CHECK_STR(acpmsg_stop_to("max_turns"), "max_turn_requests");
	CHECK_STR(acpmsg_stop_to("cancelled"), "cancelled");
	CHECK_STR(acpmsg_stop_to(NULL), "end_turn");
	CHECK_STR(acpmsg_stop_to("something new"), "end_turn");
	CHECK(acpmsg_stop_to("error") == NULL);
	CHECK(acpmsg_stop_to("interrupted") == NULL);
	CHECK_STR(acpmsg_stop_from("max_turn_requests"), "max_turns");
	CHECK_STR(acpmsg_stop_from("refusal"), "refusal");
	CHECK_STR(acpmsg_stop_from("a future reason"), "a future reason");
	CHECK_STR(acpmsg_stop_from(NULL), "end_turn");
}

TEST(tool_kinds)
{
	CHECK_STR(acpmsg_tool_kind("Bash"), "execute");
	CHECK_STR(acpmsg_tool_kind("read_file"), "read");
	CHECK_STR(acpmsg_tool_kind("apply_patch"), "edit");
	CHECK_STR(acpmsg_tool_kind("mcp__x__WebFetch"), "fetch");
	CHECK_STR(acpmsg_tool_kind("zzz"), "other");
	CHECK_STR(acpmsg_tool_kind(NULL), "other");
}

TEST(updates)
{
	cJSON *u;
	char  *t;

	CHECK_JSON(
	    acpmsg_update("s1", acpmsg_chunk(ACPMSG_AGENT_CHUNK, "hi", "m1")),
	    "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":"
	    "{\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	    "\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":"
	    "\"hi\"},\"messageId\":\"m1\"}}}");
	CHECK_JSON(acpmsg_chunk(ACPMSG_USER_CHUNK, "x", NULL),
	    "{\"sessionUpdate\":\"user_message_chunk\",\"content\":{\"type\":"
	    "\"text\",\"text\":\"x\"}}");
	CHECK_JSON(acpmsg_tool_call(ACPMSG_TOOL_CALL, "c1", "echo", "execute",
		       ACPMSG_PENDING),
	    "{\"sessionUpdate\":\"tool_call\",\"toolCallId\":\"c1\",\"title\":"
	    "\"echo\",\"kind\":\"execute\",\"status\":\"pending\"}");
	/* An update leaves out what did not change. */
	CHECK_JSON(acpmsg_tool_call(ACPMSG_TOOL_CALL_UPDATE, "c1", NULL, NULL,
		       ACPMSG_FAILED),
	    "{\"sessionUpdate\":\"tool_call_update\",\"toolCallId\":\"c1\","
	    "\"status\":\"failed\"}");
	/* In a permission request: no sessionUpdate member at all. */
	CHECK_JSON(acpmsg_tool_call(-1, NULL, "t", "other", ACPMSG_PENDING),
	    "{\"toolCallId\":\"\",\"title\":\"t\",\"kind\":\"other\","
	    "\"status\":\"pending\"}");
	CHECK_JSON(acpmsg_content_diff("a", NULL, "b\n"),
	    "{\"type\":\"diff\",\"path\":\"a\",\"oldText\":null,\"newText\":"
	    "\"b\\n\"}");
	u = json_array();
	json_append(u, acpmsg_content_text("one"));
	json_append(u, acpmsg_content_diff("a", "x", "y"));
	json_append(u, acpmsg_content_text("two"));
	t = acpmsg_tool_text(u);
	CHECK_STR(t, "one\ntwo");
	free(t);
	json_free(u);
	CHECK_JSON(acpmsg_usage_update(5, 100, 0.5),
	    "{\"sessionUpdate\":\"usage_update\",\"used\":5,\"size\":100,"
	    "\"cost\":{\"amount\":0.5,\"currency\":\"USD\"}}");
}

TEST(session_messages)
{
	cJSON			 *mcp;
	const struct acpmsg_agent mock = {
		.name = "m", .version = "1", .load_session = 1
	};
	const struct acpmsg_agent facade = { .name = "agentd",
		.title = "claude",
		.version = "2",
		.load_session = 1,
		.embedded_context = 1,
		.list_sessions = 1 };

	CHECK_JSON(acpmsg_initialize(1, "agentd", "0.1"),
	    "{\"protocolVersion\":1,\"clientCapabilities\":{\"fs\":{"
	    "\"readTextFile\":true,\"writeTextFile\":true},\"terminal\":false,"
	    "\"elicitation\":{\"form\":{}}},\"clientInfo\":{\"name\":"
	    "\"agentd\","
	    "\"version\":\"0.1\"}}");
	CHECK_JSON(acpmsg_initialized(&mock),
	    "{\"protocolVersion\":1,\"agentCapabilities\":{\"loadSession\":"
	    "true,"
	    "\"promptCapabilities\":{\"image\":false,\"audio\":false,"
	    "\"embeddedContext\":false},\"mcpCapabilities\":{\"http\":false,"
	    "\"sse\":false}},\"agentInfo\":{\"name\":\"m\",\"version\":\"1\"},"
	    "\"authMethods\":[]}");
	CHECK_JSON(acpmsg_initialized(&facade),
	    "{\"protocolVersion\":1,\"agentCapabilities\":{\"loadSession\":"
	    "true,"
	    "\"promptCapabilities\":{\"image\":false,\"audio\":false,"
	    "\"embeddedContext\":true},\"mcpCapabilities\":{\"http\":false,"
	    "\"sse\":false},\"sessionCapabilities\":{\"list\":{}}},"
	    "\"agentInfo\":"
	    "{\"name\":\"agentd\",\"title\":\"claude\",\"version\":\"2\"},"
	    "\"authMethods\":[]}");
	mcp = parse("[{\"name\":\"x\"}]");
	CHECK_JSON(acpmsg_session("/w", mcp, NULL),
	    "{\"cwd\":\"/w\",\"mcpServers\":[{\"name\":\"x\"}]}");
	CHECK_JSON(acpmsg_session("/w", NULL, "s9"),
	    "{\"cwd\":\"/w\",\"mcpServers\":[],\"sessionId\":\"s9\"}");
	json_free(mcp);
	CHECK_JSON(acpmsg_set_mode("s", "plan"),
	    "{\"sessionId\":\"s\",\"modeId\":\"plan\"}");
	CHECK_JSON(acpmsg_prompt_result("end_turn", acpmsg_usage(3, 4, 1, 0)),
	    "{\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":3,"
	    "\"outputTokens\":4,\"cachedReadTokens\":1,\"cachedWriteTokens\":0,"
	    "\"totalTokens\":7}}");
	CHECK_JSON(acpmsg_prompt_result("cancelled", NULL),
	    "{\"stopReason\":\"cancelled\"}");
}

TEST(prompt_blocks)
{
	cJSON *blocks;
	char  *text;

	blocks = json_array();
	json_append(blocks, acpmsg_block_text("look at"));
	json_append(blocks, acpmsg_block_link("file:///a%20b", "a b", NULL));
	json_append(blocks,
	    parse(
		"{\"type\":\"resource\",\"resource\":{\"text\":\"inline\"}}"));
	json_append(blocks, parse("{\"type\":\"image\",\"data\":\"AAAA\"}"));
	text = acpmsg_prompt_text(blocks);
	CHECK_STR(text, "look at\nfile:///a%20b\ninline");
	free(text);
	CHECK_JSON(acpmsg_prompt("s", blocks),
	    "{\"sessionId\":\"s\",\"prompt\":[{\"type\":\"text\",\"text\":"
	    "\"look at\"},{\"type\":\"resource_link\",\"uri\":\"file:///"
	    "a%20b\",\"name\":\"a b\"},{\"type\":\"resource\",\"resource\":{"
	    "\"text\":\"inline\"}},{\"type\":\"image\",\"data\":\"AAAA\"}]}");
	text = acpmsg_prompt_text(NULL);
	CHECK_STR(text, "");
	free(text);
}

TEST(prompt_split)
{
	cJSON *blocks, *atts;
	char  *text;

	blocks = parse("[{\"type\":\"text\",\"text\":\"look at\"},"
		       "{\"type\":\"image\",\"data\":\"AAAA\","
		       "\"mimeType\":\"image/png\"},"
		       "{\"type\":\"image\",\"uri\":\"file:///w/a%20b.png\"},"
		       "{\"type\":\"resource_link\",\"uri\":"
		       "\"file://localhost/w/n.md\",\"name\":\"n.md\"},"
		       "{\"type\":\"resource_link\",\"uri\":\"https://x/y\"},"
		       "{\"type\":\"resource_link\",\"uri\":\"file:///a%00b\"},"
		       "{\"type\":\"resource\",\"resource\":{\"text\":"
		       "\"inline\"}},"
		       "{\"type\":\"resource\",\"resource\":{\"blob\":"
		       "\"BBBB\",\"mimeType\":\"image/gif\"}},"
		       "{\"type\":\"image\",\"uri\":\"https://x/z.png\"}]");
	atts = acpmsg_prompt_split(blocks, &text);
	/* A file:// link with a NUL in its path is no file: it stays text. */
	CHECK_STR(text, "look at\nhttps://x/y\nfile:///a%00b\ninline");
	CHECK_JSON(atts,
	    "[{\"data\":\"AAAA\",\"mime\":\"image/png\"},"
	    "{\"path\":\"/w/a b.png\"},"
	    "{\"path\":\"/w/n.md\",\"name\":\"n.md\"},"
	    "{\"data\":\"BBBB\",\"mime\":\"image/gif\"},{}]");
	free(text);
	json_free(blocks);
	CHECK(acpmsg_prompt_split(NULL, &text) == NULL);
	CHECK_STR(text, "");
	free(text);
}

TEST(permission_both_ways)
{
	static const struct acpmsg_choice choices[] = {
		{ "yes", "Yes", ACPMSG_ALLOW_ONCE },
		{ "ever", "Always", ACPMSG_ALLOW_ALWAYS },
		{ "no", "No", ACPMSG_REJECT_ONCE },
	};
	enum permission_reply reply = PERMISSION_CANCELLED;
	const cJSON	     *options;
	cJSON		     *params, *r, *once;

	/* The agent asks... */
	params = acpmsg_permission("s",
	    acpmsg_tool_call(-1, "c", "Write", "edit", ACPMSG_PENDING), choices,
	    nitems(choices));
	options = json_get_arr(params, "options");
	CHECK_INT(json_size(options), 3);
	CHECK_STR(json_get_str(json_at(options, 2), "kind"), "reject_once");
	CHECK_STR(
	    json_get_str(json_get_obj(params, "toolCall"), "toolCallId"), "c");
	CHECK(json_get(json_get_obj(params, "toolCall"), "sessionUpdate") ==
	    NULL);
	/* ...the client picks by the reply's kinds, with a fallback... */
	CHECK_STR(acpmsg_option_for(options, PERMISSION_ALWAYS), "ever");
	CHECK_STR(acpmsg_option_for(options, PERMISSION_REJECT), "no");
	CHECK(acpmsg_option_for(options, PERMISSION_CANCELLED) == NULL);
	CHECK(acpmsg_option_for(NULL, PERMISSION_ONCE) == NULL);
	once = parse("[{\"optionId\":\"o\",\"kind\":\"allow_once\"},"
		     "{\"optionId\":\"r\",\"kind\":\"reject_always\"}]");
	CHECK_STR(acpmsg_option_for(once, PERMISSION_ALWAYS), "o");
	CHECK_STR(acpmsg_option_for(once, PERMISSION_REJECT), "r");
	json_free(once);
	/* ...and the agent reads the answer back. */
	r = acpmsg_outcome(acpmsg_option_for(options, PERMISSION_ONCE));
	CHECK_STR(acpmsg_selected(r), "yes");
	CHECK_INT(acpmsg_choice_reply(choices, nitems(choices), r, &reply), 0);
	CHECK_INT(reply, PERMISSION_ONCE);
	CHECK_JSON(r,
	    "{\"outcome\":{\"outcome\":\"selected\",\"optionId\":"
	    "\"yes\"}}");
	r = acpmsg_outcome(acpmsg_option_for(options, PERMISSION_REJECT));
	CHECK_INT(acpmsg_choice_reply(choices, nitems(choices), r, &reply), 0);
	CHECK_INT(reply, PERMISSION_REJECT);
	json_free(r);
	r = acpmsg_outcome(NULL);
	CHECK(acpmsg_selected(r) == NULL);
	CHECK_INT(acpmsg_choice_reply(choices, nitems(choices), r, &reply), -1);
	CHECK_JSON(r, "{\"outcome\":{\"outcome\":\"cancelled\"}}");
	r = acpmsg_outcome("maybe");
	CHECK_INT(acpmsg_choice_reply(choices, nitems(choices), r, &reply), -1);
	json_free(r);
	json_free(params);
}

TEST(elicitation_both_ways)
{
	const cJSON *content;
	cJSON	    *fields, *labels, *params, *r;

	fields = json_object();
	labels = json_array();
	json_append(labels, json_string("Red"));
	json_set(fields, "q0", acpmsg_field("Color?", labels, 0));
	json_set(fields, "q1", acpmsg_field("Why?", json_array(), 0));
	labels = json_array();
	json_append(labels, json_string("a"));
	json_set(fields, "q2", acpmsg_field("Which?", labels, 1));
	params = acpmsg_elicitation("s", NULL, fields);
	CHECK_JSON(params,
	    "{\"sessionId\":\"s\",\"mode\":\"form\",\"message\":\"\","
	    "\"requestedSchema\":{\"type\":\"object\",\"properties\":{\"q0\":{"
	    "\"type\":\"string\",\"title\":\"Color?\",\"enum\":[\"Red\"]},"
	    "\"q1\":{\"type\":\"string\",\"title\":\"Why?\"},\"q2\":{\"type\":"
	    "\"array\",\"title\":\"Which?\",\"items\":{\"type\":\"string\","
	    "\"enum\":[\"a\"]}}},\"required\":[\"q0\",\"q1\",\"q2\"]}}");

	r = acpmsg_elicited(parse("{\"q0\":\"Red\"}"));
	CHECK_INT(acpmsg_accepted(r, &content), 1);
	CHECK_STR(json_get_str(content, "q0"), "Red");
	json_free(r);
	r = acpmsg_elicited(NULL);
	CHECK_INT(acpmsg_accepted(r, &content), 0);
	CHECK(content == NULL);
	CHECK_JSON(r, "{\"action\":\"decline\"}");
	/* Accepted with nothing filled in is still accepted. */
	r = parse("{\"action\":\"accept\"}");
	CHECK_INT(acpmsg_accepted(r, &content), 1);
	CHECK(content == NULL);
	json_free(r);
}

/* The messages acpmap makes of one event, printed on one line each. */
static char *
map_event(struct acpmap *m, const char *ev, int replay)
{
	cJSON	    *v, *out;
	const cJSON *el;
	struct buf   b;
	char	    *s;

	v = parse(ev);
	out = acpmap_event(m, v, replay);
	buf_init(&b, 65536);
	JSON_FOREACH(el, out) {
		s = json_print(el, NULL);
		(void)buf_printf(&b, "%s\n", s);
		free(s);
	}
	json_free(out);
	json_free(v);
	return (buf_take(&b, NULL));
}

#define UPDATE "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":"

TEST(acpmap_stream)
{
	struct acpmap *m;
	char	      *s;

	m = acpmap_new("S");
	s = map_event(m,
	    "{\"type\":\"item.started\",\"data\":{\"item\":{\"item_id\":\"i1\","
	    "\"kind\":\"message\",\"role\":\"assistant\",\"content\":[]}}}",
	    0);
	CHECK_STR(s, "");
	free(s);
	s = map_event(m,
	    "{\"type\":\"item.delta\",\"data\":{\"item_id\":\"i1\",\"delta\":"
	    "\"he\"}}",
	    0);
	CHECK_STR(s,
	    UPDATE "{\"sessionId\":\"S\",\"update\":{\"sessionUpdate\":"
		   "\"agent_message_chunk\",\"content\":{\"type\":\"text\","
		   "\"text\":\"he\"},\"messageId\":\"i1\"}}}\n");
	free(s);
	/* Deltas streamed: the completed item adds nothing. */
	s = map_event(m,
	    "{\"type\":\"item.completed\",\"data\":{\"item\":{\"item_id\":"
	    "\"i1\",\"kind\":\"message\",\"role\":\"assistant\",\"content\":[{"
	    "\"type\":\"text\",\"text\":\"he\"}]}}}",
	    0);
	CHECK_STR(s, "");
	free(s);
	/* In replay, the whole text in one chunk. */
	s = map_event(m,
	    "{\"type\":\"item.completed\",\"data\":{\"item\":{\"item_id\":"
	    "\"i2\",\"kind\":\"message\",\"role\":\"user\",\"content\":[{"
	    "\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":"
	    "\"b\"}]}}}",
	    1);
	CHECK_STR(s,
	    UPDATE "{\"sessionId\":\"S\",\"update\":{\"sessionUpdate\":"
		   "\"user_message_chunk\",\"content\":{\"type\":\"text\","
		   "\"text\":\"ab\"},\"messageId\":\"i2\"}}}\n");
	free(s);
	acpmap_free(m);
}

TEST(acpmap_tools)
{
	struct acpmap *m;
	char	      *s;
	cJSON	      *u;

	m = acpmap_new("S");
	s = map_event(m,
	    "{\"type\":\"item.started\",\"data\":{\"item\":{\"item_id\":\"t\","
	    "\"kind\":\"tool_call\",\"role\":\"assistant\",\"content\":[{"
	    "\"type\":\"tool_call\",\"name\":\"Write\",\"call_id\":\"c1\","
	    "\"arguments\":\"{\\\"file_path\\\":\\\"/a\\\"}\"}]}}}",
	    0);
	CHECK_STR(s,
	    UPDATE "{\"sessionId\":\"S\",\"update\":{\"sessionUpdate\":"
		   "\"tool_call\",\"toolCallId\":\"c1\",\"title\":\"Write\","
		   "\"kind\":\"edit\",\"status\":\"in_progress\","
		   "\"locations\":[{\"path\":\"/a\"}],\"rawInput\":{"
		   "\"file_path\":\"/a\"}}}}\n");
	free(s);
	s = map_event(m,
	    "{\"type\":\"item.completed\",\"data\":{\"item\":{\"item_id\":"
	    "\"r\",\"kind\":\"tool_result\",\"status\":\"completed\","
	    "\"content\":[{\"type\":\"tool_result\",\"call_id\":\"c1\","
	    "\"output\":\"ok\",\"is_error\":false},{\"type\":\"file_ref\","
	    "\"path\":\"/a\",\"action\":\"write\",\"diff\":\"--- /dev/null\\n"
	    "+++ /a\\n@@ -0,0 +1,2 @@\\n+x\\n+y\\n\"}]}}}",
	    0);
	CHECK_STR(s,
	    UPDATE "{\"sessionId\":\"S\",\"update\":{\"sessionUpdate\":"
		   "\"tool_call_update\",\"toolCallId\":\"c1\",\"status\":"
		   "\"completed\",\"content\":[{\"type\":\"content\","
		   "\"content\":{\"type\":\"text\",\"text\":\"ok\"}},{\"type\":"
		   "\"diff\",\"path\":\"/a\",\"oldText\":null,\"newText\":"
		   "\"x\\ny\\n\"}],\"rawOutput\":\"ok\"}}}\n");
	free(s);
	acpmap_free(m);
	u = parse("{\"input_tokens\":2,\"output_tokens\":3}");
	CHECK_JSON(acpmap_usage(u),
	    "{\"inputTokens\":2,\"outputTokens\":3,\"cachedReadTokens\":0,"
	    "\"cachedWriteTokens\":0,\"totalTokens\":5}");
	json_free(u);
	CHECK(acpmap_usage(NULL) == NULL);
}

/*
 * Settings: ACP's three shapes (modes, models, grouped or flat select
 * options) become agentd's choices; a select built from choices reads
 * back the same; categories map to our keys both ways.
 */
TEST(settings_both_ways)
{
	const char *err, *text;
	cJSON	   *v, *c, *o;
	char	   *s;

	CHECK_STR(acpmsg_config_key("thought_level"), "effort");
	CHECK_STR(acpmsg_config_category("effort"), "thought_level");
	CHECK_STR(acpmsg_config_key("model"), "model");
	CHECK(acpmsg_config_key("other") == NULL);
	CHECK(acpmsg_config_category(NULL) == NULL);
	text = "[{\"modelId\":\"a\",\"name\":\"A\"},{\"name\":\"x\"},"
	       "{\"modelId\":\"b\",\"description\":\"d\"}]";
	v = json_parse(text, strlen(text), &err);
	c = acpmsg_choices(v, "modelId");
	s = json_print(c, NULL);
	CHECK_STR(s,
	    "[{\"id\":\"a\",\"name\":\"A\"},{\"id\":\"b\",\"description\":"
	    "\"d\"}]");
	free(s);
	json_free(v);
	json_free(c);
	text = "[{\"group\":\"g\",\"name\":\"G\",\"options\":[{"
	       "\"value\":\"low\"},{\"value\":\"high\",\"name\":\"Hi\"}]},"
	       "{\"value\":\"max\"}]";
	v = json_parse(text, strlen(text), &err);
	c = acpmsg_choices(v, "value");
	CHECK_INT(json_size(c), 3);
	CHECK_STR(json_get_str(json_at(c, 1), "name"), "Hi");
	CHECK_STR(json_get_str(json_at(c, 2), "id"), "max");
	o = acpmsg_config_option("effort", "Effort", "thought_level", NULL, c);
	CHECK_STR(json_get_str(o, "type"), "select");
	CHECK_STR(json_get_str(o, "currentValue"), "");
	CHECK_STR(json_get_str(json_at(json_get_arr(o, "options"), 0), "name"),
	    "low");
	json_free(c);
	c = acpmsg_choices(json_get_arr(o, "options"), "value");
	CHECK_INT(json_size(c), 3);
	CHECK_STR(json_get_str(json_at(c, 1), "id"), "high");
	json_free(c);
	json_free(o);
	json_free(v);
	o = acpmsg_set_config("S", "effort", "high");
	s = json_print(o, NULL);
	CHECK_STR(s,
	    "{\"sessionId\":\"S\",\"configId\":\"effort\",\"value\":"
	    "\"high\"}");
	free(s);
	json_free(o);
	o = acpmsg_set_model("S", "m");
	CHECK_STR(json_get_str(o, "modelId"), "m");
	json_free(o);
}

TEST_MAIN(TEST_ENTRY(names), TEST_ENTRY(stop_reasons), TEST_ENTRY(tool_kinds),
    TEST_ENTRY(updates), TEST_ENTRY(session_messages),
    TEST_ENTRY(prompt_blocks), TEST_ENTRY(prompt_split),
    TEST_ENTRY(permission_both_ways), TEST_ENTRY(elicitation_both_ways),
    TEST_ENTRY(acpmap_stream), TEST_ENTRY(acpmap_tools),
    TEST_ENTRY(settings_both_ways))
