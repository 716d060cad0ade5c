/*
 * test_claude.c: the claude adapter's fast path for content_block_delta
 * lines (adapters/claude.c claude_delta_scan, protocol/json-scan.c
 * json_scan_flat with JSON_SCAN_SCALARS), against the tree it stands in
 * for (json_parse, claude_block_delta_cb).
 *
 * The same lines go through the adapter and the real host twice, once
 * with the fast path and once without (claude_fast_path); what comes out
 * must be the same (run.h). The lines are every recorded fixture of
 * claude and of amp (which speaks the same lines through this adapter)
 * and hand-made edge cases. Each line the scanner takes is also parsed
 * with json_parse and must read alike there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../adapters/adapters.h"
#include "../../supervisor/core/core.h"
#include "../../supervisor/host/host.h"
#include "test.h"
#include "scratch.h"
#include "run.h"

/* Lines the scanner took. */
static int scanned;

/* Two strings alike, NULL only as NULL. */
static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * Check one line at the scanner: if it takes the line, json_parse must
 * too, and the tree must say what the scanner read. Return 0 if taken.
 */
static int
check_scan(const char *line, size_t len)
{
	static const char *const keys[][2] = { { "text_delta", "text" },
		{ "thinking_delta", "thinking" },
		{ "input_json_delta", "partial_json" } };
	struct claude_delta_line d;
	const cJSON		*ev, *delta;
	const char		*err, *key = NULL;
	long long		 idx;
	char			*buf;
	cJSON			*v;
	size_t			 k;
	int			 r;

	buf = xmalloc(len > 0 ? len : 1); /* exactly: ASan sees overruns */
	r = claude_delta_scan(line, len, buf, &d);
	if (r == 0) {
		scanned++;
		if ((v = json_parse(line, len, &err)) == NULL) {
			test_fail(__FILE__, __LINE__,
			    "scanned, json_parse refuses: %.*s", (int)len,
			    line);
			free(buf);
			return (r);
		}
		ev = json_get_obj(v, "event");
		delta = json_get_obj(ev, "delta");
		CHECK_STR(json_get_str(v, "type"), "stream_event");
		CHECK_STR(json_get_str(ev, "type"), "content_block_delta");
		CHECK(json_get_int(ev, "index", &idx) == 0 && idx == d.index);
		CHECK_STR(json_get_str(delta, "type"), d.type);
		for (k = 0; k < nitems(keys); k++) {
			if (strcmp(keys[k][0], d.type) == 0)
				key = keys[k][1];
		}
		CHECK(key != NULL);
		if (!same_str(
			json_get_str(delta, key != NULL ? key : ""), d.text) ||
		    !same_str(json_get_str(v, "parent_tool_use_id"), d.parent))
			test_fail(__FILE__, __LINE__,
			    "the tree reads otherwise: %.*s", (int)len, line);
		json_free(v);
	}
	free(buf);
	return (r);
}

static void
claude_line_hook(const char *line, size_t len)
{
	if (claude_fast_path)
		(void)check_scan(line, len);
}

/* agentd's user messages and interrupts in a fixture. */
static void
claude_sent_hook(struct run *r, const cJSON *v)
{
	const char  *type = json_get_str(v, "type"), *text, *sub;
	const cJSON *content;

	if (type == NULL)
		return;
	sub = json_get_str(json_get_obj(v, "request"), "subtype");
	if (strcmp(type, "user") == 0) {
		content = json_get_arr(json_get_obj(v, "message"), "content");
		text = json_get_str(json_at(content, 0), "text");
		run_user(r, text != NULL ? text : "hello");
	} else if (strcmp(type, "control_request") == 0 && sub != NULL &&
	    strcmp(sub, "interrupt") == 0)
		run_cancel(r);
}

static int
claude_want(const struct adapter *a)
{
	return (a == &adapter_claude || a == &adapter_amp);
}

/* Every fixture of claude and amp, fast and slow. */
TEST(fixtures_alike)
{
	int n;

	run_line_hook = claude_line_hook;
	run_sent_hook = claude_sent_hook;
	scanned = 0;
	n = run_fixtures(claude_want, &claude_fast_path);
	/* claude: six scenarios, amp: two */
	CHECK(n >= 8);
	/* The fast path must have had something to do. */
	CHECK(scanned > 30);
}

#define EV(e)                                                        \
	"{\"type\":\"stream_event\",\"event\":" e ",\"session_id\":" \
	"\"s1\",\"parent_tool_use_id\":null,\"uuid\":\"u1\"}"
#define D(idx, delta)                                         \
	EV("{\"type\":\"content_block_delta\",\"index\":" idx \
	   ",\"delta\":" delta "}")
#define T(text) D("0", "{\"type\":\"text_delta\",\"text\":" text "}")

/* Hand-made lines, and whether the scanner takes them (1) or not (0). */
static const struct {
	const char *line;
	int	    fast;
} edges[] = {
	{ T("\"plain\""), 1 },
	{ D("1", "{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}"), 1 },
	{ D("2",
	      "{\"type\":\"input_json_delta\",\"partial_json\":"
	      "\"{\\\"cmd\\\":\"}"),
	    1 },
	/* Any order, whitespace anywhere. */
	{ " {\"uuid\" : \"u2\", \"type\":\"stream_event\",\t\"event\": "
	  "{ \"delta\" : {\"text\":\"ws\",\"type\":\"text_delta\"} ,"
	  "\"index\" :0 ,\"type\":\"content_block_delta\"}\t} ",
	    1 },
	/* Escapes, as cJSON decodes them. */
	{ T("\"a\\nb\\tc\\\"d\\\\e\\/f\\u00e9\\ud83d\\ude00\""), 1 },
	{ T("\"h\xc3\xa9llo \xf0\x9f\x98\x80\""), 1 },
	{ EV("{\"typ\\u0065\":\"content_block_delta\",\"index\":0,\"delta\":"
	     "{\"type\":\"text_delta\",\"text\":\"escaped key\"}}"),
	    1 },
	/* Integers as json_get_int reads them; others to the tree. */
	{ D("-0", "{\"type\":\"text_delta\",\"text\":\"minus zero\"}"), 1 },
	{ D("0.0", "{\"type\":\"text_delta\",\"text\":\"fraction\"}"), 0 },
	{ D("0e0", "{\"type\":\"text_delta\",\"text\":\"exponent\"}"), 0 },
	{ D("\"0\"", "{\"type\":\"text_delta\",\"text\":\"string\"}"), 0 },
	{ D("00", "{\"type\":\"text_delta\",\"text\":\"not JSON\"}"), 0 },
	{ D("-", "{\"type\":\"text_delta\",\"text\":\"not JSON\"}"), 0 },
	{ D("1234567890123456",
	      "{\"type\":\"text_delta\",\"text\":\"16 digits\"}"),
	    0 },
	{ D("123456789012345",
	      "{\"type\":\"text_delta\",\"text\":\"no such block\"}"),
	    1 },
	{ D("4294967296", "{\"type\":\"text_delta\",\"text\":\"2^32\"}"), 1 },
	{ D("null", "{\"type\":\"text_delta\",\"text\":\"null index\"}"), 0 },
	/* parent_tool_use_id: a string is a subagent's, anything else not. */
	{ "{\"type\":\"stream_event\",\"event\":{\"type\":"
	  "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	  "\"text_delta\",\"text\":\"from the subagent\"}},"
	  "\"parent_tool_use_id\":\"toolu_1\"}",
	    1 },
	{ "{\"type\":\"stream_event\",\"event\":{\"type\":"
	  "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	  "\"text_delta\",\"text\":\"parent 5\"}},\"parent_tool_use_id\":5}",
	    1 },
	{ "{\"type\":\"stream_event\",\"event\":{\"type\":"
	  "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	  "\"text_delta\",\"text\":\"parent {}\"}},\"parent_tool_use_id\":{}}",
	    1 },
	{ "{\"type\":\"stream_event\",\"event\":{\"type\":"
	  "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	  "\"text_delta\",\"text\":\"parent true\"}},"
	  "\"parent_tool_use_id\":true,\"x\":false}",
	    1 },
	/* The text is not a string, or not there. */
	{ T("5"), 1 },
	{ T("null"), 1 },
	{ T("{}"), 1 },
	{ D("0", "{\"type\":\"text_delta\"}"), 1 },
	{ T("\"\""), 1 },
	/* Twice the same member: the first one, as cJSON. */
	{ D("0",
	      "{\"type\":\"text_delta\",\"text\":\"first\",\"text\":"
	      "\"second\"}"),
	    1 },
	{ "{\"type\":\"stream_event\",\"type\":\"assistant\",\"event\":{"
	  "\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	  "\"text_delta\",\"text\":\"first type\"}}}",
	    1 },
	{ "{\"type\":\"keep_alive\",\"type\":\"stream_event\",\"event\":{"
	  "\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	  "\"text_delta\",\"text\":\"second type\"}}}",
	    0 },
	/* What cJSON reads otherwise, or json_parse refuses. */
	{ T("\"a\\u0000b\""), 0 },
	{ T("\"lone \\ud83d high\""), 0 },
	{ T("\"raw\ttab\""), 0 },
	{ T("\"bad \\x escape\""), 0 },
	{ T("nul"), 0 },
	{ T("truex"), 0 },
	{ T("\"trailing\"} x"), 0 },
	{ T("\"comma\","), 0 },
	{ "\xef\xbb\xbf" T("\"bom\""), 0 },
	{ T("\"plain\"") "{}", 0 },
	/* Lines the tree has. */
	{ D("0", "{\"type\":\"signature_delta\",\"signature\":\"c2ln\"}"), 0 },
	{ D("0", "{\"type\":\"citations_delta\",\"text\":\"cite\"}"), 0 },
	{ D("0", "null"), 0 },
	{ D("0", "\"text_delta\""), 0 },
	{ D("0",
	      "{\"type\":\"text_delta\",\"text\":\"in an array\",\"x\":"
	      "[1]}"),
	    0 },
	{ EV("\"not an object\""), 0 },
	{ EV("{\"type\":\"content_block_delta\",\"index\":0}"), 0 },
	{ EV("{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
	     "\"end_turn\"}}"),
	    0 },
	{ D("0",
	      "{\"type\":\"text_delta\",\"text\":\"deep\",\"a\":{\"b\":{"
	      "\"c\":{\"d\":{\"e\":{\"f\":{}}}}}}}"),
	    0 },
	{ "{\"uuid\":\"0123456789012345678901234567890123456789012345678901"
	  "23456789\",\"type\":\"stream_event\",\"event\":{\"type\":"
	  "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	  "\"text_delta\",\"text\":\"type after 64 bytes\"}}}",
	    0 },
	{ "{}", 0 },
	{ "not json", 0 },
	/* A stopped block takes no more. */
	{ EV("{\"type\":\"content_block_stop\",\"index\":1}"), 0 },
	{ D("1", "{\"type\":\"thinking_delta\",\"thinking\":\"late\"}"), 1 },
	{ T("\"last\""), 1 },
};

/* The texts the edges stream, in order (the item.delta events). */
static const char *const edge_deltas[] = { "plain", "hmm", "ws",
	"a\nb\tc\"d\\e/f\xc3\xa9\xf0\x9f\x98\x80",
	"h\xc3\xa9llo \xf0\x9f\x98\x80", "escaped key", "minus zero",
	"fraction", "exponent", "2^32", "from the subagent", "parent 5",
	"parent {}", "parent true", "first", "first type",
	"a", /* \u0000 ends the C string */
	"in an array", "deep", "type after 64 bytes", "last" };

/* The lines of a turn with the edge cases in it. */
static void
run_edges(struct run *r)
{
	static const char *const before[] = {
		EV("{\"type\":\"message_start\",\"message\":{\"id\":\"m1\"}}"),
		EV("{\"type\":\"content_block_start\",\"index\":0,"
		   "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
		EV("{\"type\":\"content_block_start\",\"index\":1,"
		   "\"content_block\":{\"type\":\"thinking\",\"thinking\":"
		   "\"\"}}"),
		EV("{\"type\":\"content_block_start\",\"index\":2,"
		   "\"content_block\":{\"type\":\"tool_use\","
		   "\"id\":\"toolu_1\",\"name\":\"Bash\",\"input\":{}}}"),
		"{\"type\":\"stream_event\",\"event\":{\"type\":"
		"\"message_start\",\"message\":{\"id\":\"m2\"}},"
		"\"parent_tool_use_id\":\"toolu_1\"}",
		"{\"type\":\"stream_event\",\"event\":{\"type\":"
		"\"content_block_start\",\"index\":0,\"content_block\":{"
		"\"type\":\"text\",\"text\":\"\"}},\"parent_tool_use_id\":"
		"\"toolu_1\"}"
	};
	static const char *const result =
	    "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,"
	    "\"result\":\"done\",\"session_id\":\"s1\"}";
	size_t i;

	run_user(r, "hello");
	for (i = 0; i < nitems(before); i++)
		run_line(r, before[i], strlen(before[i]));
	for (i = 0; i < nitems(edges); i++)
		run_line(r, edges[i].line, strlen(edges[i].line));
	run_line(r, result, strlen(result));
}

/* Each edge case is taken or left as the table says. */
TEST(edges_scanned)
{
	size_t i;

	for (i = 0; i < nitems(edges); i++) {
		scanned = 0;
		(void)check_scan(edges[i].line, strlen(edges[i].line));
		if (scanned != edges[i].fast)
			test_fail(__FILE__, __LINE__,
			    "edge %zu: scanned %d: %s", i, scanned,
			    edges[i].line);
	}
}

/* The edge cases, fast and slow, give the same. */
TEST(edges_alike)
{
	const struct agent_profile *p = adapter_find_agent("claude");
	struct run		    r;
	cJSON			   *fast, *slow;

	run_line_hook = claude_line_hook;
	run_sent_hook = claude_sent_hook;
	claude_fast_path = 1;
	if (run_open(&r, p, NULL) != 0)
		return;
	run_edges(&r);
	fast = run_close(&r);
	claude_fast_path = 0;
	if (run_open(&r, p, NULL) != 0) {
		json_free(fast);
		claude_fast_path = 1;
		return;
	}
	run_edges(&r);
	slow = run_close(&r);
	claude_fast_path = 1;
	run_same("edges", fast, slow);
}

/* And what they give is the deltas they should. */
TEST(edges_events)
{
	const struct agent_profile *p = adapter_find_agent("claude");
	struct run		    r;
	cJSON			   *out, *v;
	const cJSON		   *e, *data;
	const char		   *err;
	size_t			    n = 0;

	run_line_hook = claude_line_hook;
	run_sent_hook = claude_sent_hook;
	claude_fast_path = 1;
	if (run_open(&r, p, NULL) != 0)
		return;
	run_edges(&r);
	out = run_close(&r);
	JSON_FOREACH(e, out) {
		if (strncmp(json_str(e), "{", 1) != 0 ||
		    (v = json_parse(json_str(e), strlen(json_str(e)), &err)) ==
			NULL)
			continue;
		data = json_get_obj(v, "data");
		if (same_str(json_get_str(v, "type"), "item.delta")) {
			if (n < nitems(edge_deltas))
				CHECK_STR(json_get_str(data, "delta"),
				    edge_deltas[n]);
			n++;
		}
		json_free(v);
	}
	CHECK_INT((int)n, (int)nitems(edge_deltas));
	json_free(out);
}

TEST_MAIN(TEST_ENTRY(edges_scanned), TEST_ENTRY(edges_alike),
    TEST_ENTRY(edges_events), TEST_ENTRY(fixtures_alike))
