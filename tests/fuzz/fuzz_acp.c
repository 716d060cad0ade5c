/*
 * fuzz_acp.c: adapters/acp.c's line handler through the stub host.
 *
 * The input is the agent's stdout, one line per \n (made valid UTF-8 as
 * session.c does). Lines starting with "#!" are the client's doing
 * instead, so the fuzzer can interleave both sides:
 *   #!msg TEXT        a user message (a turn starts first, as session.c does)
 *   #!att PATH        a user message with one attachment
 *   #!perm N          reply to the first pending permission (N: 0 once,
 *                     1 always, 2 reject, 3 cancelled)
 *   #!answer JSON     answer the first pending question (JSON: answers)
 *   #!reject          reject the first pending question
 *   #!cancel          cancel the turn
 * on_start runs first (it sends initialize, request id 1). Every event the
 * adapter makes is validated by host_stub.c.
 */
#include <string.h>

#include "../../adapters/adapters.h"
#include "fuzz.h"
#include "host_stub.h"

static const char *const	  fuzz_argv[] = { "fuzz-acp-agent", NULL };
static const struct agent_profile fuzz_profile = { "fuzz", &adapter_acp,
	fuzz_argv, NULL, NULL, AGENT_BUILTIN };

static void
fuzz_client(struct session *s, const char *cmd, size_t len)
{
	const struct adapter *a = &adapter_acp;
	struct user_message   um;
	const char	     *id, *err;
	char		     *arg;
	cJSON		     *v, *att;
	int		      r;

	arg = xstrndup(cmd + 2, len - 2);
	memset(&um, 0, sizeof um);
	if (strncmp(arg, "msg ", 4) == 0 || strncmp(arg, "att ", 4) == 0) {
		if (!utf8_valid(arg, strlen(arg)))
			goto out;
		um.text = arg + 4;
		att = NULL;
		if (arg[0] == 'a') {
			att = json_array();
			v = json_object();
			json_set_str(v, "path", arg + 4);
			json_set_str(v, "mime", "text/plain");
			json_append(att, v);
			um.attachments = att;
		}
		session_turn_start(s);
		if (a->send_message(s, &um) != 0)
			session_turn_end(s, "error", NULL, -1);
		json_free(att);
	} else if (strncmp(arg, "perm ", 5) == 0) {
		if ((id = stub_session_pending(s, 0)) == NULL)
			goto out;
		id = xstrdup(id);
		r = (arg[5] - '0') & 3;
		(void)a->reply_permission(s, id, (enum permission_reply)r);
		stub_session_resolved(s, id);
		free((char *)id);
	} else if (strncmp(arg, "answer ", 7) == 0 ||
	    strcmp(arg, "reject") == 0) {
		if ((id = stub_session_pending(s, 1)) == NULL)
			goto out;
		id = xstrdup(id);
		v = NULL;
		if (arg[0] == 'a') {
			v = json_parse(arg + 7, strlen(arg + 7), &err);
			if (!json_is_arr(v)) {
				json_free(v);
				free((char *)id);
				goto out;
			}
		}
		(void)a->reply_question(s, id, v);
		stub_session_resolved(s, id);
		json_free(v);
		free((char *)id);
	} else if (strcmp(arg, "cancel") == 0)
		(void)a->cancel(s);
out:
	free(arg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session *s;
	const char     *p = (const char *)data, *end = p + size, *nl;
	size_t		len, step;
	char	       *line;

	s = stub_session_new(&fuzz_profile, NULL);
	adapter_acp.on_start(s);
	FUZZ_CHECK(stub_session_sent(s) == 1, "on_start sent %zu lines",
	    stub_session_sent(s));
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
			fuzz_client(s, line, len);
		else
			stub_session_line(s, line, len);
		free(line);
		p += step;
	}
	/* The agent exits: open items close as session.c would. */
	session_turn_end(s, "error", NULL, -1);
	stub_session_free(s);
	return (0);
}
