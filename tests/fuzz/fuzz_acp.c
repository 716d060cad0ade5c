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
 * them. on_start runs first (it sends initialize, request id 1); at the
 * end the agent exits and the host closes what is open. Every event the
 * host journals and every line sent to the agent is checked by
 * host_stub.c.
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

/* The first pending permission (0) or question (1) of the host, or NULL. */
static char *
fuzz_pending(struct host *h, int question)
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
fuzz_tell_cb(void *arg, const char *native_id, int question)
{
	struct host *h = arg;

	if (question)
		(void)adapter_acp.reply_question(h, native_id, NULL);
	else
		(void)adapter_acp.reply_permission(
		    h, native_id, PERMISSION_CANCELLED);
}

/* The client's side, as session.c drives the adapter and the host. */
static void
fuzz_client(struct host *h, const char *cmd, size_t len)
{
	static const char *names[] = { "accept", "accept_for_session", "reject",
		"cancelled" };
	const struct adapter *a = &adapter_acp;
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
		if ((id = fuzz_pending(h, 0)) == NULL)
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
		if ((id = fuzz_pending(h, 1)) == NULL)
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
		host_pending_cancel(h, fuzz_tell_cb, h);
		FUZZ_CHECK((id = fuzz_pending(h, 0)) == NULL &&
			(id = fuzz_pending(h, 1)) == NULL,
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
 * A line acpmsg_chunk_scan takes must read alike in json_parse's tree,
 * and alike with the envelope of the lines before (*mo) and without.
 */
static void
fuzz_scan(struct acpmsg_memo **mo, const char *line, size_t len)
{
	struct acpmsg_chunk c, m;
	struct jsonrpc_msg  msg;
	const cJSON	   *u, *block;
	const char	   *err, *mid;
	char		   *buf, *mbuf;
	cJSON		   *v;
	int		    r;

	if (!utf8_valid(line, len)) /* stub_line repairs it first */
		return;
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

/* The input through the adapter and the host; what they said, malloc'd. */
static char *
fuzz_run(const uint8_t *data, size_t size, int fast, size_t *loglen)
{
	struct stub	   *st;
	struct host	   *h;
	const char	   *p = (const char *)data, *end = p + size, *nl, *log;
	struct acpmsg_memo *mo = NULL;
	size_t		    len, step;
	char		   *line, *out;

	acp_fast_path = fast;
	st = stub_new(&fuzz_profile);
	h = stub_host(st);
	adapter_acp.on_start(h);
	FUZZ_CHECK(
	    stub_sent(st) == 1, "on_start sent %zu lines", stub_sent(st));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		step = nl != NULL ? len + 1 : len;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		line = xmalloc(len + 1); /* exact size, NULs kept */
		memcpy(line, p, len);
		line[len] = '\0';
		if (len >= 2 && p[0] == '#' && p[1] == '!')
			fuzz_client(h, line, len);
		else {
			if (fast)
				fuzz_scan(&mo, line, len);
			stub_line(st, line, len);
		}
		free(line);
		p += step;
	}
	/* The agent exits: as session.c does, requests then the turn close. */
	host_unparsed_flush(h); /* as session.c at the agent's exit */
	host_pending_cancel(h, NULL, NULL);
	host_turn_close(h, "error", NULL, -1);
	log = stub_log(st, loglen);
	out = xmalloc(*loglen + 1);
	memcpy(out, log, *loglen + 1);
	stub_free(st);
	acpmsg_memo_free(mo);
	acp_fast_path = 1;
	return (out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t flen, slen, i;
	char  *fast, *slow;

	fast = fuzz_run(data, size, 1, &flen);
	slow = fuzz_run(data, size, 0, &slen);
	for (i = 0; i < flen && i < slen && fast[i] == slow[i]; i++)
		;
	FUZZ_CHECK(flen == slen && i == flen,
	    "the fast path differs at byte %zu:\n fast %.300s\n slow %.300s", i,
	    fast + (i > 100 ? i - 100 : 0), slow + (i > 100 ? i - 100 : 0));
	free(fast);
	free(slow);
	return (0);
}
