/*
 * test_acp.c: the ACP adapter's fast path for text chunks
 * (adapters/acp.c acp_chunk_fast, protocol/acpmsg.c acpmsg_chunk_scan,
 * protocol/json-scan.c json_scan_flat), against the slow path it stands
 * in for (json_parse, the JSON-RPC dispatch, acp_run_chunk).
 *
 * The same lines go through the adapter and the real host twice, once
 * with the fast path and once without (acp_fast_path), over a journal in
 * a scratch data directory as in a session; the events the journal holds
 * (all but their time), the lines sent to the agent and the turn news
 * must be the same (run.h). The lines are every recorded fixture of an
 * agent that speaks ACP and hand-made edge cases. Each line the scanner
 * accepts is also parsed with json_parse and must read alike there.
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

/* Lines the scanner took, and lines the fast path handled. */
static int scanned, handled;

/*
 * Check one line at the scanner: if it takes the line, json_parse must
 * too, and the tree must say what the scanner read. Return 0 if taken.
 */
static int
check_scan(const char *line, size_t len)
{
	struct acpmsg_chunk c;
	struct jsonrpc_msg  msg;
	const cJSON	   *u, *block;
	const char	   *err;
	char		   *buf;
	cJSON		   *v;
	int		    r;

	buf = xmalloc(len > 0 ? len : 1); /* exactly: ASan sees overruns */
	r = acpmsg_chunk_scan(NULL, line, len, buf, &c);
	if (r == 0) {
		scanned++;
		v = json_parse(line, len, &err);
		if (v == NULL)
			test_fail(__FILE__, __LINE__,
			    "scanned, json_parse refuses: %.*s", (int)len,
			    line);
		CHECK(jsonrpc_parse(v, &msg, &err) == 0 &&
		    msg.kind == JSONRPC_NOTIFICATION && msg.has_version);
		CHECK_STR(msg.method, ACPMSG_SESSION_UPDATE);
		u = json_get_obj(msg.params, "update");
		block = json_get_obj(u, "content");
		CHECK_STR(json_get_str(u, "sessionUpdate"),
		    acpmsg_update_name(c.kind));
		CHECK_STR(json_get_str(u, "messageId"), c.message_id);
		CHECK_STR(json_get_str(block, "type"), "text");
		CHECK_STR(json_get_str(block, "text"), c.text);
		json_free(v);
	}
	free(buf);
	return (r);
}

/* Each agent line at the scanner too, while the fast path is on. */
static void
acp_line_hook(const char *line, size_t len)
{
	if (acp_fast_path && check_scan(line, len) == 0)
		handled++;
}

/* agentd's session/prompt and session/cancel in a fixture. */
static void
acp_sent_hook(struct run *r, const cJSON *v)
{
	const char  *method = json_get_str(v, "method"), *text;
	const cJSON *prompt;

	if (method != NULL && strcmp(method, ACPMSG_SESSION_PROMPT) == 0) {
		prompt = json_get_arr(json_get_obj(v, "params"), "prompt");
		text = json_get_str(json_at(prompt, 0), "text");
		run_user(r, text != NULL ? text : "hello");
	} else if (method != NULL && strcmp(method, ACPMSG_SESSION_CANCEL) == 0)
		run_cancel(r);
}

static int
acp_want(const struct adapter *a)
{
	return (a == &adapter_acp);
}

/* Every fixture of an ACP agent, fast and slow. */
TEST(fixtures_alike)
{
	int n;

	run_line_hook = acp_line_hook;
	run_sent_hook = acp_sent_hook;
	scanned = handled = 0;
	n = run_fixtures(acp_want, &acp_fast_path);
	/* gemini, opencode, codex-acp, claude-agent-acp: six scenarios each */
	CHECK(n >= 24);
	/* The fast path must have had something to do. */
	CHECK(handled > 100);
	CHECK_INT(handled, scanned);
}

#define P                                                        \
	"{\"jsonrpc\":\"2.0\",\"method\":\"session/update\","    \
	"\"params\":{\"sessionId\":\"s1\",\"update\":{"          \
	"\"sessionUpdate\":\"agent_message_chunk\",\"content\":" \
	"{\"type\":\"text\",\"text\":"

/* Hand-made lines, and whether the scanner takes them (1) or not (0). */
static const struct {
	const char *line;
	int	    fast;
	const char *text; /* what it reads, if it takes it */
} edges[] = {
	{ P "\"plain\"},\"messageId\":\"m1\"}}}", 1, "plain" },
	{ P "\"same run\"},\"messageId\":\"m1\"}}}", 1, "same run" },
	{ P "\"no id\"}}}}", 1, "no id" },
	{ P "\"\"}}}}", 1, "" },
	/* A thought with the message's messageId, then the message again. */
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_thought_chunk\",\"content\":{\"type\":\"text\",\"text\":"
	  "\"hmm\"},\"messageId\":\"m1\"}}}",
	    1, "hmm" },
	{ P "\"back\"},\"messageId\":\"m1\"}}}", 1, "back" },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"user_message_chunk\",\"content\":{\"type\":\"text\",\"text\":"
	  "\"from the user\"}}}}",
	    1, "from the user" },
	/* Any order, whitespace anywhere, no sessionId. */
	{ " \t{ \"params\" : { \"update\" :{\"content\":{ \"text\" : \"ws\" ,"
	  "\"type\":\"text\"} , \"messageId\":\"m2\",\r\n\"sessionUpdate\":"
	  "\"agent_message_chunk\"}},\"method\":\"session/update\","
	  "\"jsonrpc\":\"2.0\" } \r\n ",
	    1, "ws" },
	/* Escapes, as cJSON decodes them. */
	{ P "\"a\\nb\\tc\\\"d\\\\e\\/f\\bg\\fh\\ri\"}}}}", 1,
	    "a\nb\tc\"d\\e/f\bg\fh\ri" },
	{ P "\"\\u00e9\\u00E9\\u20ac\\ud83d\\ude00\\u0041\"}}}}", 1,
	    "\xc3\xa9\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
	    "A" },
	{ P "\"h\xc3\xa9llo \xf0\x9f\x98\x80\"}}}}", 1,
	    "h\xc3\xa9llo \xf0\x9f\x98\x80" },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"session\\u0055pdate\":"
	  "\"agent_message\\u005fchunk\",\"content\":{\"type\":\"text\","
	  "\"t\\u0065xt\":\"escaped keys\"}}}}",
	    1, "escaped keys" },
	/* An API error passed through as the reply (acp_api_error). */
	{ P "\"{\\\"error\\\":{\\\"message\\\":\\\"boom\\\",\\\"type\\\":"
	    "\\\"invalid_request_error\\\"}}\"}}}}",
	    1,
	    "{\"error\":{\"message\":\"boom\",\"type\":"
	    "\"invalid_request_error\"}}" },
	/* What cJSON reads otherwise, or json_parse refuses. */
	{ P "\"a\\u0000b\"}}}}", 0, NULL },
	{ P "\"ab\\uZZZZcd\"}}}}", 0, NULL },
	{ P "\"lone \\ud83d high\"}}}}", 0, NULL },
	{ P "\"lone \\ude00 low\"}}}}", 0, NULL },
	{ P "\"reversed \\ude00\\ud83d\"}}}}", 0, NULL },
	{ P "\"high at the end \\ud83d\"}}}}", 0, NULL },
	{ P "\"short \\u12\"}}}}", 0, NULL },
	{ P "\"bad \\x escape\"}}}}", 0, NULL },
	{ P "\"raw\ttab\"}}}}", 0, NULL },
	{ P "\"raw\x01"
	    "control\"}}}}",
	    0, NULL },
	/* Members the fast path does not know. */
	{ P "\"meta\"},\"_meta\":{\"k\":\"v\"}}}}", 0, NULL },
	{ P "\"meta\"}},\"_meta\":{}}}", 0, NULL },
	{ P "\"meta\"}}},\"_meta\":{}}", 0, NULL },
	{ P "\"ann\",\"annotations\":{\"priority\":\"1\"}}}}}", 0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"session/update\","
	  "\"params\":{\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":"
	  "\"a request\"}}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"session/update\","
	  "\"params\":{\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":"
	  "\"a request\"}}}}",
	    0, NULL },
	/* Twice the same member. */
	{ P "\"one\",\"text\":\"two\"}}}}", 0, NULL },
	{ P "\"one\"},\"messageId\":\"a\",\"messageId\":\"b\"}}}", 0, NULL },
	/* Wrong types. */
	{ P "42}}}}", 0, NULL },
	{ P "null}}}}", 0, NULL },
	{ P "[\"x\"]}}}}", 0, NULL },
	{ P "{\"t\":\"x\"}}}}}", 0, NULL },
	{ P "\"mid number\"},\"messageId\":5}}}", 0, NULL },
	{ P "\"mid object\"},\"messageId\":{}}}}", 0, NULL },
	{ P "\"mid null\"},\"messageId\":null}}}", 0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":1,\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":"
	  "\"session number\"}}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk\",\"content\":\"text\"}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk\",\"content\":{\"type\":\"image\","
	  "\"data\":\"aGk=\",\"mimeType\":\"image/png\",\"text\":\"x\"}}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk\",\"content\":{\"text\":\"no type\"}}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk_x\",\"content\":{\"type\":\"text\","
	  "\"text\":\"unknown kind\"}}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":\"plan\","
	  "\"content\":{\"type\":\"text\",\"text\":\"a plan?\"}}}}",
	    0, NULL },
	{ "{\"method\":\"session/update\",\"params\":{\"sessionId\":\"s1\","
	  "\"update\":{\"sessionUpdate\":\"agent_message_chunk\","
	  "\"content\":{\"type\":\"text\",\"text\":\"no jsonrpc\"}}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"1.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":"
	  "\"jsonrpc 1.0\"}}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/updates\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":"
	  "\"agent_message_chunk\",\"content\":{\"type\":\"text\",\"text\":"
	  "\"other method\"}}}}",
	    0, NULL },
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"update\":{\"sessionUpdate\":\"agent_message_chunk\","
	  "\"content\":{\"type\":\"text\",\"text\":\"no sessionId\"}}}}",
	    1, "no sessionId" },
	/* Not JSON, or not only JSON. */
	{ P "\"trailing\"}}}} x", 0, NULL },
	{ P "\"two\"}}}}{}", 0, NULL },
	{ P "\"comma\",}}}}", 0, NULL },
	{ P "\"missing brace\"}}}", 0, NULL },
	{ P "\"single\"}}}}\x0b", 0, NULL },
	{ "\xef\xbb\xbf" P "\"bom\"}}}}", 0, NULL },
	{ P "\"unterminated}}}}", 0, NULL },
	{ P "'quotes'}}}}", 0, NULL },
	{ "{}", 0, NULL },
	{ "[]", 0, NULL },
	{ "\"just a string\"", 0, NULL },
	{ "not json", 0, NULL },
	/* The tool call ends the run; the next chunk opens another. */
	{ "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":{"
	  "\"sessionId\":\"s1\",\"update\":{\"sessionUpdate\":\"tool_call\","
	  "\"toolCallId\":\"t1\",\"title\":\"ls\",\"kind\":\"execute\","
	  "\"status\":\"completed\"}}}",
	    0, NULL },
	{ P "\"after the tool\"},\"messageId\":\"m1\"}}}", 1,
	    "after the tool" },
};

/* The lines a session of the edge cases gets, up to the turn's end. */
static void
run_edges(struct run *r, int load)
{
	static const char *const init =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":1,"
	    "\"agentCapabilities\":{\"loadSession\":true}}}";
	static const char *const opened =
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"sessionId\":\"s1\"}}";
	static const char *const ended =
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"stopReason\":"
	    "\"end_turn\"}}";
	size_t i;

	run_line(r, init, strlen(init));
	if (load) /* session/load replays: every update is dropped */
		for (i = 0; i < nitems(edges); i++)
			run_line(r, edges[i].line, strlen(edges[i].line));
	run_line(r, opened, strlen(opened));
	run_user(r, "hello");
	for (i = 0; i < nitems(edges); i++)
		run_line(r, edges[i].line, strlen(edges[i].line));
	run_line(r, ended, strlen(ended));
}

/* Each edge case at the scanner: taken or left as expected. */
TEST(edges_scanned)
{
	struct acpmsg_chunk c;
	size_t		    i, len;
	char		   *buf;

	for (i = 0; i < nitems(edges); i++) {
		len = strlen(edges[i].line);
		buf = xmalloc(len);
		if ((acpmsg_chunk_scan(NULL, edges[i].line, len, buf, &c) ==
			0) != edges[i].fast)
			test_fail(__FILE__, __LINE__, "edge %zu %s: %s", i,
			    edges[i].fast ? "not taken" : "taken",
			    edges[i].line);
		else if (edges[i].fast)
			CHECK_STR(c.text, edges[i].text);
		free(buf);
		(void)check_scan(edges[i].line, len);
	}
}

/* A taken line cut short anywhere is no longer taken. */
TEST(truncated_refused)
{
	struct acpmsg_chunk c;
	size_t		    i, k, len;
	char		   *buf, *cut;

	for (i = 0; i < nitems(edges); i++) {
		if (!edges[i].fast)
			continue;
		len = strlen(edges[i].line);
		for (k = 0; k < len; k++) {
			/* Trailing whitespace cut off leaves the object. */
			if (strspn(edges[i].line + k, " \t\r\n") == len - k)
				break;
			cut = xmalloc(k + 1);
			memcpy(cut, edges[i].line, k);
			buf = xmalloc(k + 1);
			if (acpmsg_chunk_scan(NULL, cut, k, buf, &c) == 0)
				test_fail(__FILE__, __LINE__,
				    "edge %zu cut at %zu taken", i, k);
			(void)check_scan(cut, k);
			free(buf);
			free(cut);
		}
	}
}

/*
 * What line reads as after the line before with a memo: exactly what it
 * reads as alone (taken or not, and the same kind, id and text).
 */
static void
check_memo(const char *before, const char *line)
{
	struct acpmsg_memo *mo = NULL;
	struct acpmsg_chunk c, alone;
	size_t		    blen = strlen(before), len = strlen(line);
	char		   *bbuf, *buf, *abuf;
	int		    r, ra;

	bbuf = xmalloc(blen + 1);
	buf = xmalloc(len + 1);
	abuf = xmalloc(len + 1);
	(void)acpmsg_chunk_scan(&mo, before, blen, bbuf, &c);
	r = acpmsg_chunk_scan(&mo, line, len, buf, &c);
	ra = acpmsg_chunk_scan(NULL, line, len, abuf, &alone);
	if (r != ra)
		test_fail(__FILE__, __LINE__,
		    "after %.100s\n%s with the memo: %.200s", before,
		    r == 0 ? "taken" : "refused", line);
	else if (r == 0) {
		CHECK_INT(c.kind, alone.kind);
		CHECK_STR(c.message_id, alone.message_id);
		CHECK_STR(c.text, alone.text);
	}
	acpmsg_memo_free(mo);
	free(abuf);
	free(buf);
	free(bbuf);
}

/*
 * The envelope kept from one chunk changes nothing of how the next line
 * reads: every edge case after every other, and texts in the envelope of
 * a taken one that end early, late or not at all, or escape its quote.
 */
TEST(memo_alike)
{
	static const char *const texts[] = { "\"x\"", "\"\"", "\"a\\\"b\"",
		"\"a\",\"type\":\"text\"", "\"a\\\"", "\"a\\\\\"",
		"\"\\u00e9\"", "\"\\ud83d\"", "\"\\u0000\"", "\"a\"b\"",
		"\"a\tb\"", "\"a\"}", "x\"", "\"x", "1", "\"\\", "" };
	static const char *const tails[] = { "},\"messageId\":\"m1\"}}}",
		"}}}}", "}}}} ", "},\"messageId\":\"m2\"}}}" };
	size_t			 i, j, t;
	char			*line;

	for (i = 0; i < nitems(edges); i++)
		for (j = 0; j < nitems(edges); j++)
			check_memo(edges[i].line, edges[j].line);
	for (i = 0; i < nitems(edges); i++)
		for (t = 0; t < nitems(tails); t++)
			for (j = 0; j < nitems(texts); j++) {
				xasprintf(
				    &line, "%s%s%s", P, texts[j], tails[t]);
				check_memo(edges[i].line, line);
				free(line);
			}
}

/* The edge cases through a session, fast and slow; and while loading. */
TEST(edges_alike)
{
	const struct agent_profile *p = adapter_find_agent("acp");
	struct run		    r;
	cJSON			   *fast, *slow;
	int			    load;

	run_line_hook = acp_line_hook;
	run_sent_hook = acp_sent_hook;
	for (load = 0; load < 2; load++) {
		handled = scanned = 0;
		acp_fast_path = 1;
		if (run_open(&r, p, load ? "native-1" : NULL) != 0)
			return;
		run_edges(&r, load);
		fast = run_close(&r);
		CHECK(handled > 10 * (load + 1));
		acp_fast_path = 0;
		if (run_open(&r, p, load ? "native-1" : NULL) != 0) {
			json_free(fast);
			return;
		}
		run_edges(&r, load);
		slow = run_close(&r);
		acp_fast_path = 1;
		run_same(load ? "edges while loading" : "edges", fast, slow);
	}
}

/* The fast path did emit what it should: an error for the API body. */
TEST(edges_events)
{
	const struct agent_profile *p = adapter_find_agent("acp");
	struct run		    r;
	cJSON			   *out;
	const cJSON		   *e;
	const char		   *s;
	int			    errors = 0, deltas = 0;

	run_line_hook = acp_line_hook;
	run_sent_hook = acp_sent_hook;
	acp_fast_path = 1;
	if (run_open(&r, p, NULL) != 0)
		return;
	run_edges(&r, 0);
	out = run_close(&r);
	JSON_FOREACH(e, out) {
		s = json_str(e);
		if (strstr(s, "\"type\":\"error\"") != NULL &&
		    strstr(s, "boom") != NULL)
			errors++;
		if (strstr(s, "\"type\":\"item.delta\"") != NULL)
			deltas++;
	}
	CHECK_INT(errors, 1);
	CHECK(deltas >= 12);
	json_free(out);
}

/*
 * json_scan_decode at every position of a string, so that each special
 * byte falls in every lane of its eight-byte steps and in the tail.
 */
TEST(decode_lanes)
{
	static const struct {
		const char *in;	 /* as written in the string */
		const char *out; /* decoded; NULL: refused */
	} mid[] = { { "\t", NULL }, { "\x01", NULL }, { "\x1f", NULL },
		{ "\\n", "\n" }, { "\\\"", "\"" }, { "\\\\", "\\" },
		{ "\\u00e9", "\xc3\xa9" }, { "\xc3\xa9", "\xc3\xa9" },
		{ "\x7f", "\x7f" }, { " ", " " }, { "!", "!" }, { "#", "#" },
		{ "[", "[" }, { "]", "]" }, { "\xe2\x82\xac", "\xe2\x82\xac" },
		{ "\\u0000", NULL }, { "\\x", NULL } };
	char   text[128], want[128], out[128];
	size_t i, a, b, at, olen;
	int    r;

	for (i = 0; i < nitems(mid); i++) {
		for (a = 0; a < 20; a++) {
			for (b = 0; b < 12; b += 11) {
				(void)snprintf(text, sizeof text,
				    "\"%.*s%s%.*s\"", (int)a,
				    "aaaaaaaaaaaaaaaaaaaa", mid[i].in, (int)b,
				    "bbbbbbbbbbbbbbbbbbbb");
				if (mid[i].out != NULL)
					(void)snprintf(want, sizeof want,
					    "%.*s%s%.*s", (int)a,
					    "aaaaaaaaaaaaaaaaaaaa", mid[i].out,
					    (int)b, "bbbbbbbbbbbbbbbbbbbb");
				at = 0;
				r = json_scan_decode(
				    text, strlen(text), &at, out, &olen);
				if (mid[i].out == NULL) {
					if (r == 0)
						test_fail(__FILE__, __LINE__,
						    "taken: %s", text);
					continue;
				}
				CHECK_INT(r, 0);
				CHECK_INT(at, strlen(text));
				CHECK_INT(olen, strlen(want));
				CHECK_STR(r == 0 ? out : NULL, want);
			}
		}
	}
}

/*
 * json_scan_plain against a byte at a time, with one byte of every value
 * after 0 to 19 plain ones and before a plain tail.
 */
TEST(plain_lanes)
{
	char	      text[40];
	size_t	      k, want;
	unsigned int  c;
	unsigned char u;

	for (c = 1; c < 256; c++)
		for (k = 0; k < 20; k++) {
			memset(text, 'a', sizeof text);
			text[k] = (char)c;
			u = (unsigned char)c;
			want =
			    u < 0x20 || u == '"' || u == '\\' ? k : sizeof text;
			CHECK_INT(json_scan_plain(text, sizeof text), want);
			CHECK_INT(json_scan_plain(text, k), k);
		}
	CHECK_INT(json_scan_plain("", 0), 0);
}

TEST_MAIN(TEST_ENTRY(decode_lanes), TEST_ENTRY(plain_lanes),
    TEST_ENTRY(edges_scanned), TEST_ENTRY(truncated_refused),
    TEST_ENTRY(memo_alike), TEST_ENTRY(edges_alike), TEST_ENTRY(edges_events),
    TEST_ENTRY(fixtures_alike))
