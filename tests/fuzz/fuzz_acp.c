/*
 * fuzz_acp.c: adapters/acp.c's line handler through the shipped host
 * (supervisor/host/host.c) over the checking I/O of host_stub.c.
 *
 * The input is the agent's stdout, one line per \n (made valid UTF-8 as
 * session.c does). Lines starting with "#!" are the client's doing
 * instead, so the fuzzer can interleave both sides:
 *   #!msg TEXT        a user message (a turn and the user's item first, as
 *                     session.c does)
 *   #!att PATH        a user message with one attachment
 *   #!perm N          reply to the first pending permission (N: 0 once,
 *                     1 always, 2 reject, 3 cancelled)
 *   #!answer JSON     answer the first pending question (JSON: answers)
 *   #!reject          reject the first pending question
 *   #!cancel          cancel the turn (pending requests are cancelled first)
 * Replies and cancels reach the adapter and the host as session.c sends
 * them (host_stub.c stub_run, which fuzz_claude.c shares). on_start runs
 * first (it sends initialize, request id 1); at the end the agent exits
 * and the host closes what is open. Every event the host journals and
 * every line sent to the agent is checked by host_stub.c.
 *
 * Each input runs twice, with the fast path for text chunks
 * (acp_chunk_fast) and without it: the events and the lines sent must be
 * the same, byte for byte. Every agent line the fast path's scanner takes
 * must be one json_parse takes too and reads alike.
 */
#include <string.h>

#include "../../adapters/adapters.h"
#include "fuzz.h"
#include "host_stub.h"

static const char *const	  fuzz_argv[] = { "fuzz-acp-agent", NULL };
static const struct agent_profile fuzz_profile = { "fuzz", &adapter_acp,
	fuzz_argv, NULL, NULL, AGENT_BUILTIN };

/*
 * A line acpmsg_chunk_scan takes must read alike in json_parse's tree,
 * and alike with the envelope of the lines before (*mo) and without.
 */
static void
fuzz_scan(void *arg, const char *line, size_t len)
{
	struct acpmsg_memo **mo = arg;
	struct acpmsg_chunk  c, m;
	struct jsonrpc_msg   msg;
	const cJSON	    *u, *block;
	const char	    *err, *mid;
	char		    *buf, *mbuf;
	cJSON		    *v;
	int		     r;

	buf = xmalloc(len + 1);
	mbuf = xmalloc(len + 1);
	r = acpmsg_chunk_scan(NULL, line, len, buf, &c);
	FUZZ_CHECK(
	    (acpmsg_chunk_scan(mo, line, len, mbuf, &m) == 0) == (r == 0),
	    "%s with the memo only: %.300s", r == 0 ? "refused" : "taken",
	    line);
	FUZZ_CHECK(r != 0 ||
		(m.kind == c.kind && strcmp(m.text, c.text) == 0 &&
		    (m.message_id == NULL ? c.message_id == NULL
					  : c.message_id != NULL &&
				strcmp(m.message_id, c.message_id) == 0)),
	    "read otherwise with the memo: %.300s", line);
	free(mbuf);
	if (r == 0) {
		v = json_parse(line, len, &err);
		FUZZ_CHECK(
		    v != NULL, "scanned, json_parse refuses: %.300s", line);
		FUZZ_CHECK(jsonrpc_parse(v, &msg, &err) == 0 &&
			msg.kind == JSONRPC_NOTIFICATION &&
			strcmp(msg.method, ACPMSG_SESSION_UPDATE) == 0,
		    "scanned, not a session/update: %.300s", line);
		u = json_get_obj(msg.params, "update");
		block = json_get_obj(u, "content");
		mid = json_get_str(u, "messageId");
		FUZZ_CHECK(json_get_str(u, "sessionUpdate") != NULL &&
			strcmp(json_get_str(u, "sessionUpdate"),
			    acpmsg_update_name(c.kind)) == 0 &&
			json_get_str(block, "text") != NULL &&
			strcmp(json_get_str(block, "text"), c.text) == 0 &&
			(mid == NULL ? c.message_id == NULL
				     : c.message_id != NULL &&
				    strcmp(mid, c.message_id) == 0),
		    "scanned otherwise than parsed: %.300s", line);
		json_free(v);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acpmsg_memo *mo = NULL;
	size_t		    flen, slen;
	char		   *fast, *slow;

	acp_fast_path = 1;
	fast = stub_run(&fuzz_profile, data, size, fuzz_scan, &mo, &flen);
	acpmsg_memo_free(mo);
	acp_fast_path = 0;
	slow = stub_run(&fuzz_profile, data, size, NULL, NULL, &slen);
	acp_fast_path = 1;
	stub_same(fast, flen, slow, slen);
	return (0);
}
