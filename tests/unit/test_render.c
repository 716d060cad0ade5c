/*
 * test_render.c: supervisor/cli/render.c, fed recorded mock turns (agentd run
 * --json mock …), output compared as text, without colours; then the
 * colours, the spinner and the answers to prompts.
 */
#include <stdlib.h>
#include <string.h>

#include "../../supervisor/cli/cli.h"
#include "test.h"

/* agentd run --json mock "hello" (session.* left out) */
static const char *const hello_turn[] = {
	"{\"sequence\":2,\"time\":\"2026-11-22T03:05:19.645Z\",\"type\":\""
	"turn.started\",\"data\":{\"turn_id\":\"turn_1\"}}",
	"{\"sequence\":3,\"time\":\"2026-11-22T03:05:19.646Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_1\",\"nativ"
	"e_item_id\":\"user-1\",\"kind\":\"message\",\"role\":\"user\",\""
	"status\":\"in_progress\",\"content\":[{\"type\":\"text\",\"text\""
	":\"hello\"}]}}}",
	"{\"sequence\":4,\"time\":\"2026-11-22T03:05:19.646Z\",\"type\":\""
	"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_1\",\"nat"
	"ive_item_id\":\"user-1\",\"kind\":\"message\",\"role\":\"user\","
	"\"status\":\"completed\",\"content\":[{\"type\":\"text\",\"text\""
	":\"hello\"}]}}}",
	"{\"sequence\":5,\"time\":\"2026-11-22T03:05:19.831Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_2\",\"nativ"
	"e_item_id\":\"thought-1-1\",\"kind\":\"reasoning\",\"role\":\"as"
	"sistant\",\"status\":\"in_progress\",\"content\":[]}}}",
	"{\"sequence\":6,\"time\":\"2026-11-22T03:05:19.831Z\",\"type\":\""
	"item.delta\",\"data\":{\"item_id\":\"itm_2\",\"native_item_id\":"
	"\"thought-1-1\",\"delta\":\"The user wants an echo.\"}}",
	"{\"sequence\":7,\"time\":\"2026-11-22T03:05:19.831Z\",\"type\":\""
	"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_2\",\"nat"
	"ive_item_id\":\"thought-1-1\",\"kind\":\"reasoning\",\"role\":\""
	"assistant\",\"status\":\"completed\",\"content\":[{\"type\":\"re"
	"asoning\",\"text\":\"The user wants an echo.\",\"visibility\":\""
	"public\"}]}}}",
	"{\"sequence\":8,\"time\":\"2026-11-22T03:05:19.831Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_3\",\"nativ"
	"e_item_id\":\"msg-1-2\",\"kind\":\"message\",\"role\":\"assistan"
	"t\",\"status\":\"in_progress\",\"content\":[]}}}",
	"{\"sequence\":9,\"time\":\"2026-11-22T03:05:19.831Z\",\"type\":\""
	"item.delta\",\"data\":{\"item_id\":\"itm_3\",\"native_item_id\":"
	"\"msg-1-2\",\"delta\":\"echo: \"}}",
	"{\"sequence\":10,\"time\":\"2026-11-22T03:05:19.831Z\",\"type\":"
	"\"item.delta\",\"data\":{\"item_id\":\"itm_3\",\"native_item_id\""
	":\"msg-1-2\",\"delta\":\"hello\"}}",
	"{\"sequence\":11,\"time\":\"2026-11-22T03:05:19.831Z\",\"type\":"
	"\"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_3\",\"n"
	"ative_item_id\":\"msg-1-2\",\"kind\":\"message\",\"role\":\"assi"
	"stant\",\"status\":\"completed\",\"content\":[{\"type\":\"text\""
	",\"text\":\"echo: hello\"}]}}}",
	"{\"sequence\":12,\"time\":\"2026-11-22T03:05:19.831Z\",\"type\":"
	"\"turn.ended\",\"data\":{\"turn_id\":\"turn_1\",\"stop_reason\":"
	"\"end_turn\",\"usage\":{\"input_tokens\":5,\"output_tokens\":10,"
	"\"cache_read_tokens\":0,\"cache_write_tokens\":0},\"cost_usd\":0"
	".0001}}",
	NULL
};

/* agentd run --json mock "tool" */
static const char *const tool_turn[] = {
	"{\"sequence\":2,\"time\":\"2026-11-22T03:05:19.840Z\",\"type\":\""
	"turn.started\",\"data\":{\"turn_id\":\"turn_1\"}}",
	"{\"sequence\":3,\"time\":\"2026-11-22T03:05:19.842Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_1\",\"nativ"
	"e_item_id\":\"user-1\",\"kind\":\"message\",\"role\":\"user\",\""
	"status\":\"in_progress\",\"content\":[{\"type\":\"text\",\"text\""
	":\"tool\"}]}}}",
	"{\"sequence\":4,\"time\":\"2026-11-22T03:05:19.842Z\",\"type\":\""
	"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_1\",\"nat"
	"ive_item_id\":\"user-1\",\"kind\":\"message\",\"role\":\"user\","
	"\"status\":\"completed\",\"content\":[{\"type\":\"text\",\"text\""
	":\"tool\"}]}}}",
	"{\"sequence\":5,\"time\":\"2026-11-22T03:05:19.847Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_2\",\"nativ"
	"e_item_id\":\"call-1\",\"kind\":\"tool_call\",\"role\":\"assista"
	"nt\",\"status\":\"in_progress\",\"content\":[{\"type\":\"tool_ca"
	"ll\",\"name\":\"echo\",\"arguments\":\"{\\\"command\\\":\\\"echo"
	" hi\\\"}\",\"call_id\":\"call-1\"}]}}}",
	"{\"sequence\":6,\"time\":\"2026-11-22T03:05:19.847Z\",\"type\":\""
	"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_2\",\"nat"
	"ive_item_id\":\"call-1\",\"kind\":\"tool_call\",\"role\":\"assis"
	"tant\",\"status\":\"completed\",\"content\":[{\"type\":\"tool_ca"
	"ll\",\"name\":\"echo\",\"arguments\":\"{\\\"command\\\":\\\"echo"
	" hi\\\"}\",\"call_id\":\"call-1\"}]}}}",
	"{\"sequence\":7,\"time\":\"2026-11-22T03:05:19.847Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_3\",\"nativ"
	"e_item_id\":\"call-1:result\",\"kind\":\"tool_result\",\"role\":"
	"\"tool\",\"status\":\"in_progress\",\"content\":[{\"type\":\"too"
	"l_result\",\"call_id\":\"call-1\",\"output\":\"hi\\n\",\"is_erro"
	"r\":false}]}}}",
	"{\"sequence\":8,\"time\":\"2026-11-22T03:05:19.847Z\",\"type\":\""
	"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_3\",\"nat"
	"ive_item_id\":\"call-1:result\",\"kind\":\"tool_result\",\"role\""
	":\"tool\",\"status\":\"completed\",\"content\":[{\"type\":\"tool"
	"_result\",\"call_id\":\"call-1\",\"output\":\"hi\\n\",\"is_error"
	"\":false}]}}}",
	"{\"sequence\":9,\"time\":\"2026-11-22T03:05:19.847Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_4\",\"nativ"
	"e_item_id\":\"msg-1-1\",\"kind\":\"message\",\"role\":\"assistan"
	"t\",\"status\":\"in_progress\",\"content\":[]}}}",
	"{\"sequence\":10,\"time\":\"2026-11-22T03:05:19.847Z\",\"type\":"
	"\"item.delta\",\"data\":{\"item_id\":\"itm_4\",\"native_item_id\""
	":\"msg-1-1\",\"delta\":\"the command printed hi\"}}",
	"{\"sequence\":11,\"time\":\"2026-11-22T03:05:19.847Z\",\"type\":"
	"\"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_4\",\"n"
	"ative_item_id\":\"msg-1-1\",\"kind\":\"message\",\"role\":\"assi"
	"stant\",\"status\":\"completed\",\"content\":[{\"type\":\"text\""
	",\"text\":\"the command printed hi\"}]}}}",
	"{\"sequence\":12,\"time\":\"2026-11-22T03:05:19.847Z\",\"type\":"
	"\"turn.ended\",\"data\":{\"turn_id\":\"turn_1\",\"stop_reason\":"
	"\"end_turn\",\"usage\":{\"input_tokens\":4,\"output_tokens\":10,"
	"\"cache_read_tokens\":0,\"cache_write_tokens\":0},\"cost_usd\":0"
	".0001}}",
	NULL
};

/* agentd run --json --permission-mode bypass mock "permission please" */
static const char *const permission_turn[] = {
	"{\"sequence\":2,\"time\":\"2026-11-22T03:05:19.592Z\",\"type\":\""
	"turn.started\",\"data\":{\"turn_id\":\"turn_1\"}}",
	"{\"sequence\":3,\"time\":\"2026-11-22T03:05:19.593Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_1\",\"nativ"
	"e_item_id\":\"user-1\",\"kind\":\"message\",\"role\":\"user\",\""
	"status\":\"in_progress\",\"content\":[{\"type\":\"text\",\"text\""
	":\"permission please\"}]}}}",
	"{\"sequence\":4,\"time\":\"2026-11-22T03:05:19.593Z\",\"type\":\""
	"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_1\",\"nat"
	"ive_item_id\":\"user-1\",\"kind\":\"message\",\"role\":\"user\","
	"\"status\":\"completed\",\"content\":[{\"type\":\"text\",\"text\""
	":\"permission please\"}]}}}",
	"{\"sequence\":5,\"time\":\"2026-11-22T03:05:19.599Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_2\",\"nativ"
	"e_item_id\":\"call-1\",\"kind\":\"tool_call\",\"role\":\"assista"
	"nt\",\"status\":\"in_progress\",\"content\":[{\"type\":\"tool_ca"
	"ll\",\"name\":\"Write mock.txt\",\"arguments\":\"{\\\"path\\\":\\"
	"\"mock.txt\\\",\\\"content\\\":\\\"mock\\\\n\\\"}\",\"call_id\":"
	"\"call-1\"}]}}}",
	"{\"sequence\":6,\"time\":\"2026-11-22T03:05:19.599Z\",\"type\":\""
	"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_2\",\"nat"
	"ive_item_id\":\"call-1\",\"kind\":\"tool_call\",\"role\":\"assis"
	"tant\",\"status\":\"completed\",\"content\":[{\"type\":\"tool_ca"
	"ll\",\"name\":\"Write mock.txt\",\"arguments\":\"{\\\"path\\\":\\"
	"\"mock.txt\\\",\\\"content\\\":\\\"mock\\\\n\\\"}\",\"call_id\":"
	"\"call-1\"}]}}}",
	"{\"sequence\":7,\"time\":\"2026-11-22T03:05:19.599Z\",\"type\":\""
	"permission.requested\",\"data\":{\"permission_id\":\"perm_1\",\""
	"action\":\"Write mock.txt\",\"status\":\"requested\",\"metadata\""
	":{\"tool_name\":\"Write mock.txt\",\"input\":{\"path\":\"mock.tx"
	"t\",\"content\":\"mock\\n\"},\"call_id\":\"call-1\",\"options\":"
	"[{\"optionId\":\"allow\",\"name\":\"Allow\",\"kind\":\"allow_onc"
	"e\"},{\"optionId\":\"always\",\"name\":\"Always allow\",\"kind\""
	":\"allow_always\"},{\"optionId\":\"reject\",\"name\":\"Reject\","
	"\"kind\":\"reject_once\"}]}}}",
	"{\"sequence\":8,\"time\":\"2026-11-22T03:05:19.600Z\",\"type\":\""
	"permission.resolved\",\"data\":{\"permission_id\":\"perm_1\",\"a"
	"ction\":\"Write mock.txt\",\"status\":\"accept\"}}",
	"{\"sequence\":9,\"time\":\"2026-11-22T03:05:19.600Z\",\"type\":\""
	"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_3\",\"nativ"
	"e_item_id\":\"call-1:result\",\"kind\":\"tool_result\",\"role\":"
	"\"tool\",\"status\":\"in_progress\",\"content\":[{\"type\":\"too"
	"l_result\",\"call_id\":\"call-1\",\"output\":\"\",\"is_error\":f"
	"alse},{\"type\":\"file_ref\",\"path\":\"mock.txt\",\"action\":\""
	"write\",\"diff\":\"--- /dev/null\\n+++ mock.txt\\n@@ -0,0 +1,1 @"
	"@\\n+mock\\n\"}]}}}",
	"{\"sequence\":10,\"time\":\"2026-11-22T03:05:19.600Z\",\"type\":"
	"\"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_3\",\"n"
	"ative_item_id\":\"call-1:result\",\"kind\":\"tool_result\",\"rol"
	"e\":\"tool\",\"status\":\"completed\",\"content\":[{\"type\":\"t"
	"ool_result\",\"call_id\":\"call-1\",\"output\":\"\",\"is_error\""
	":false},{\"type\":\"file_ref\",\"path\":\"mock.txt\",\"action\":"
	"\"write\",\"diff\":\"--- /dev/null\\n+++ mock.txt\\n@@ -0,0 +1,1"
	" @@\\n+mock\\n\"}]}}}",
	"{\"sequence\":11,\"time\":\"2026-11-22T03:05:19.600Z\",\"type\":"
	"\"item.started\",\"data\":{\"item\":{\"item_id\":\"itm_4\",\"nat"
	"ive_item_id\":\"mock-msg-2\",\"kind\":\"message\",\"role\":\"ass"
	"istant\",\"status\":\"in_progress\",\"content\":[]}}}",
	"{\"sequence\":12,\"time\":\"2026-11-22T03:05:19.600Z\",\"type\":"
	"\"item.delta\",\"data\":{\"item_id\":\"itm_4\",\"native_item_id\""
	":\"mock-msg-2\",\"delta\":\"permission granted\"}}",
	"{\"sequence\":13,\"time\":\"2026-11-22T03:05:19.600Z\",\"type\":"
	"\"item.completed\",\"data\":{\"item\":{\"item_id\":\"itm_4\",\"n"
	"ative_item_id\":\"mock-msg-2\",\"kind\":\"message\",\"role\":\"a"
	"ssistant\",\"status\":\"completed\",\"content\":[{\"type\":\"tex"
	"t\",\"text\":\"permission granted\"}]}}}",
	"{\"sequence\":14,\"time\":\"2026-11-22T03:05:19.600Z\",\"type\":"
	"\"turn.ended\",\"data\":{\"turn_id\":\"turn_1\",\"stop_reason\":"
	"\"end_turn\",\"usage\":{\"input_tokens\":17,\"output_tokens\":10"
	",\"cache_read_tokens\":0,\"cache_write_tokens\":0},\"cost_usd\":"
	"0.0001}}",
	NULL
};

/* What the renderer wrote, per descriptor. */
struct sink {
	char   out[16384];
	size_t outlen;
	char   err[4096];
	size_t errlen;
};

static void
sink_write(void *arg, int fd, const char *buf, size_t len)
{
	struct sink *k = arg;
	char	    *dst = fd == 1 ? k->out : k->err;
	size_t	    *n = fd == 1 ? &k->outlen : &k->errlen;
	size_t	     cap = fd == 1 ? sizeof k->out : sizeof k->err;

	if (*n + len >= cap)
		len = cap - *n - 1;
	memcpy(dst + *n, buf, len);
	*n += len;
	dst[*n] = '\0';
}

static void
feed(struct render *r, const char *const *lines)
{
	cJSON *ev;

	for (; *lines != NULL; lines++) {
		ev = json_parse(*lines, strlen(*lines), NULL);
		if (ev == NULL) {
			fprintf(stderr, "bad test JSON: %s\n", *lines);
			abort();
		}
		render_event(r, ev);
		json_free(ev);
	}
}

static void
feed_one(struct render *r, const char *line)
{
	const char *lines[2] = { line, NULL };

	feed(r, lines);
}

TEST(plain_hello_turn)
{
	struct sink    k;
	struct render *r;

	memset(&k, 0, sizeof k);
	r = render_new(0, 80, sink_write, &k);
	feed(r, hello_turn);
	CHECK_STR(k.out,
	    "thinking: The user wants an echo.\n"
	    "echo: hello\n"
	    "— 5 in / 10 out tokens · $0.0001 · 0.2s\n");
	CHECK_STR(k.err, "");
	render_free(r);
}

TEST(plain_user_messages)
{
	struct sink    k;
	struct render *r;

	memset(&k, 0, sizeof k);
	r = render_new(RENDER_USER, 80, sink_write, &k);
	feed(r, hello_turn);
	CHECK(strncmp(k.out, "› hello\nthinking: ", 18) == 0);
	render_free(r);
}

TEST(plain_tool_turn)
{
	struct sink    k;
	struct render *r;

	memset(&k, 0, sizeof k);
	r = render_new(0, 80, sink_write, &k);
	feed(r, tool_turn);
	CHECK_STR(k.out,
	    "✓ echo  echo hi\n"
	    "    hi\n"
	    "the command printed hi\n"
	    "— 4 in / 10 out tokens · $0.0001 · 0.0s\n");
	render_free(r);
}

TEST(plain_permission_turn)
{
	struct sink    k;
	struct render *r;

	memset(&k, 0, sizeof k);
	r = render_new(0, 80, sink_write, &k);
	feed(r, permission_turn);
	CHECK_STR(k.out,
	    "permission Write mock.txt: allowed\n"
	    "✓ Write mock.txt\n"
	    "    --- /dev/null\n"
	    "    +++ mock.txt\n"
	    "    @@ -0,0 +1,1 @@\n"
	    "    +mock\n"
	    "permission granted\n"
	    "— 17 in / 10 out tokens · $0.0001 · 0.0s\n");
	render_free(r);
}

TEST(colours)
{
	struct sink    k;
	struct render *r;

	memset(&k, 0, sizeof k);
	r = render_new(RENDER_COLOR, 80, sink_write, &k);
	feed(r, hello_turn);
	CHECK(strstr(k.out, "\033[2mThe user wants an echo.\033[0m") != NULL);
	CHECK(strstr(k.out, "thinking:") == NULL);
	render_free(r);

	memset(&k, 0, sizeof k);
	r = render_new(RENDER_COLOR, 80, sink_write, &k);
	feed(r, permission_turn);
	CHECK(strstr(k.out, "\033[32m+mock\033[0m") != NULL);
	CHECK(strstr(k.out, "\033[36m@@ -0,0 +1,1 @@\033[0m") != NULL);
	render_free(r);
}

TEST(spinner_on_a_tty)
{
	struct sink    k;
	struct render *r;
	size_t	       n;

	memset(&k, 0, sizeof k);
	r = render_new(RENDER_TTY, 80, sink_write, &k);
	feed_one(r, tool_turn[3]); /* item.started of the call */
	CHECK(render_spinning(r));
	CHECK_STR(k.out, "\r\033[K⠋ echo  echo hi");
	n = k.outlen;
	render_tick(r);
	CHECK_STR(k.out + n, "\r\033[K⠙ echo  echo hi");
	feed_one(r, tool_turn[4]);
	feed_one(r, tool_turn[5]);
	feed_one(r, tool_turn[6]); /* item.completed of the result */
	CHECK(!render_spinning(r));
	CHECK(strstr(k.out, "\r\033[K✓ echo  echo hi\n    hi\n") != NULL);
	render_free(r);
}

TEST(errors_and_session_end_on_stderr)
{
	struct sink    k;
	struct render *r;

	memset(&k, 0, sizeof k);
	r = render_new(0, 80, sink_write, &k);
	feed_one(r,
	    "{\"type\":\"item.delta\",\"data\":{\"item_id\":\"itm_2\","
	    "\"delta\":\"about to crash\"}}");
	feed_one(r,
	    "{\"type\":\"error\",\"data\":{\"message\":\"the agent "
	    "exited with status 3\",\"code\":\"agent_exited\"}}");
	feed_one(r,
	    "{\"type\":\"turn.ended\",\"data\":{\"turn_id\":\"t\","
	    "\"stop_reason\":\"error\"}}");
	feed_one(r,
	    "{\"type\":\"session.ended\",\"data\":{\"reason\":\"error\","
	    "\"exit_code\":3,\"stderr\":{\"head\":\"x\",\"tail\":\"mock agent "
	    "crashing\\n\",\"truncated\":false}}}");
	CHECK_STR(k.out, "about to crash\n— error\n");
	CHECK_STR(k.err,
	    "error: the agent exited with status 3\n"
	    "the agent ended: exit code 3\n"
	    "its stderr ended with:\n"
	    "  mock agent crashing\n");
	render_free(r);
}

TEST(permission_prompt_and_answer)
{
	struct sink    k;
	struct render *r;
	cJSON	      *cmd;

	memset(&k, 0, sizeof k);
	r = render_new(RENDER_ASK, 80, sink_write, &k);
	feed(r, (const char *const[]){ permission_turn[5], NULL });
	CHECK(render_asking(r));
	render_prompt(r);
	CHECK_STR(k.out, "Allow Write mock.txt? [y]es / [a]lways / [n]o ");
	CHECK(render_answer(r, "maybe") == NULL); /* asked again */
	CHECK(render_asking(r));
	cmd = render_answer(r, "a");
	CHECK(cmd != NULL);
	CHECK_STR(json_get_str(cmd, "type"), "permission.reply");
	CHECK_STR(json_get_str(cmd, "permission_id"), "perm_1");
	CHECK_STR(json_get_str(cmd, "reply"), "always");
	json_free(cmd);
	CHECK(!render_asking(r));
	render_free(r);
}

TEST(question_prompt_and_answer)
{
	static const char q[] =
	    "{\"type\":\"question.requested\",\"data\":{\"question_id\":\"q_"
	    "1\","
	    "\"questions\":[{\"question\":\"Which "
	    "color?\",\"header\":\"color\","
	    "\"multi_select\":false,\"options\":[{\"label\":\"Red\"},"
	    "{\"label\":\"Blue\",\"description\":\"the sky\"}]}]}}";
	struct sink    k;
	struct render *r;
	cJSON	      *cmd;
	char	      *s;

	memset(&k, 0, sizeof k);
	r = render_new(RENDER_ASK, 80, sink_write, &k);
	feed_one(r, q);
	render_prompt(r);
	CHECK_STR(k.out,
	    "? Which color?\n  1. Red\n  2. Blue — the sky\n"
	    "choose (1-2): ");
	CHECK(render_answer(r, "3") == NULL);
	CHECK(render_answer(r, "1,2") == NULL); /* not multi_select */
	cmd = render_answer(r, "blue");
	CHECK(cmd != NULL);
	s = json_print(json_get(cmd, "answers"), NULL);
	CHECK_STR(s, "[[\"Blue\"]]");
	free(s);
	CHECK_STR(json_get_str(cmd, "type"), "question.reply");
	json_free(cmd);

	/* Resolved elsewhere: the line says so, nothing is asked any more. */
	memset(&k, 0, sizeof k);
	feed_one(r, q);
	feed_one(r,
	    "{\"type\":\"question.resolved\",\"data\":{\"question_id\":"
	    "\"q_1\",\"status\":\"answered\",\"answers\":[[\"Red\"]]}}");
	CHECK(!render_asking(r));
	CHECK_STR(k.out, "color: Red\n");
	render_free(r);
}

TEST(long_tool_line_is_cut)
{
	struct sink    k;
	struct render *r;

	memset(&k, 0, sizeof k);
	r = render_new(0, 24, sink_write, &k);
	feed_one(r,
	    "{\"type\":\"item.started\",\"data\":{\"item\":{\"item_id\":"
	    "\"i\",\"kind\":\"tool_call\",\"status\":\"in_progress\","
	    "\"content\":"
	    "[{\"type\":\"tool_call\",\"name\":\"Bash\",\"arguments\":"
	    "\"{\\\"command\\\":\\\"ls -la\\\\n  /very/long/path/here\\\"}\","
	    "\"call_id\":\"c\"}]}}}");
	feed_one(r,
	    "{\"type\":\"item.completed\",\"data\":{\"item\":{\"item_id\":"
	    "\"j\",\"kind\":\"tool_result\",\"status\":\"failed\",\"content\":"
	    "[{\"type\":\"tool_result\",\"call_id\":\"c\",\"output\":\"a\\nb\\n"
	    "c\\nd\\ne\",\"is_error\":true}]}}}");
	CHECK_STR(k.out,
	    "✗ Bash  ls -la /very/l…\n    a\n    b\n    c\n"
	    "    … 2 more lines\n");
	render_free(r);
}

TEST(time_parse)
{
	CHECK(render_time_ms("2026-11-22T12:00:00.123Z") == 1795348800123LL);
	CHECK(render_time_ms("2026-11-22T12:00:00Z") == 1795348800000LL);
	CHECK(render_time_ms("nonsense") == -1);
}

TEST_MAIN(TEST_ENTRY(plain_hello_turn), TEST_ENTRY(plain_user_messages),
    TEST_ENTRY(plain_tool_turn), TEST_ENTRY(plain_permission_turn),
    TEST_ENTRY(colours), TEST_ENTRY(spinner_on_a_tty),
    TEST_ENTRY(errors_and_session_end_on_stderr),
    TEST_ENTRY(permission_prompt_and_answer),
    TEST_ENTRY(question_prompt_and_answer), TEST_ENTRY(long_tool_line_is_cut),
    TEST_ENTRY(time_parse))
