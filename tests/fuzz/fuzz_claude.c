/*
 * fuzz_claude.c: adapters/claude.c's line handler through the shipped
 * host over the checking I/O of host_stub.c, as fuzz_acp.c does for ACP
 * (its header says what the input is, "#!" lines and all).
 *
 * Each input runs twice, with the fast path for content_block_delta
 * lines (claude_delta_scan) and without it: the events and the lines
 * sent must be the same, byte for byte. Every agent line the scanner
 * takes must be one json_parse takes too and reads alike.
 */
#include <string.h>

#include "../../adapters/adapters.h"
#include "fuzz.h"
#include "host_stub.h"

static const char *const	  fuzz_argv[] = { "fuzz-claude-agent", NULL };
static const struct agent_profile fuzz_profile = { "fuzz", &adapter_claude,
	fuzz_argv, NULL, NULL, AGENT_BUILTIN };

/* Two strings alike, NULL only as NULL. */
static int
fuzz_same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* A line claude_delta_scan takes must read alike in json_parse's tree. */
static void
fuzz_scan(void *arg, const char *line, size_t len)
{
	struct claude_delta_line d;
	const cJSON		*ev, *delta;
	const char		*err, *key;
	long long		 idx;
	char			*buf;
	cJSON			*v;

	buf = xmalloc(len + 1);
	if (claude_delta_scan(line, len, buf, &d) == 0) {
		v = json_parse(line, len, &err);
		FUZZ_CHECK(
		    v != NULL, "scanned, json_parse refuses: %.300s", line);
		ev = json_get_obj(v, "event");
		delta = json_get_obj(ev, "delta");
		key = strcmp(d.type, "text_delta") == 0	    ? "text"
		    : strcmp(d.type, "thinking_delta") == 0 ? "thinking"
							    : "partial_json";
		FUZZ_CHECK(
		    fuzz_same_str(json_get_str(v, "type"), "stream_event") &&
			fuzz_same_str(
			    json_get_str(ev, "type"), "content_block_delta") &&
			json_get_int(ev, "index", &idx) == 0 &&
			idx == d.index &&
			fuzz_same_str(json_get_str(delta, "type"), d.type) &&
			fuzz_same_str(json_get_str(delta, key), d.text) &&
			fuzz_same_str(
			    json_get_str(v, "parent_tool_use_id"), d.parent),
		    "scanned otherwise than parsed: %.300s", line);
		json_free(v);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t flen, slen;
	char  *fast, *slow;

	claude_fast_path = 1;
	fast = stub_run(&fuzz_profile, data, size, fuzz_scan, NULL, &flen);
	claude_fast_path = 0;
	slow = stub_run(&fuzz_profile, data, size, NULL, NULL, &slen);
	claude_fast_path = 1;
	stub_same(fast, flen, slow, slen);
	return (0);
}
