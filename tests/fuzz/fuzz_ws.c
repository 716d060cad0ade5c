/*
 * fuzz_ws.c: the WebSocket client commands, server_ws_command of
 * supervisor/http/server.c and the command table of api.c behind it, on
 * one fuzzed text message.
 *
 * server_ws_command is static, so this file includes server.c whole; its
 * one call into lws on this path, lws_callback_on_writable (asking for a
 * write callback), is redirected to a counter by a macro, so no socket or
 * lws context is needed. The sessions are the fakes of session_stub.c.
 *
 * Properties: every command gets exactly one reply (until the reply queue
 * is full), each reply is a JSON object {"reply_to": string, "status":
 * the HTTP status of the command's route, "error"?: string} in valid
 * UTF-8: 2xx without "error", or 4xx/5xx with an "error" that says why.
 */
#include <libwebsockets.h>

#include "fuzz.h"
#include "session_stub.h"

static int fuzz_writable;

static int
fuzz_on_writable(struct lws *wsi)
{
	fuzz_writable++;
	return (0);
}

#define lws_callback_on_writable(w) fuzz_on_writable(w)
#include "../../supervisor/http/server.c"
#undef lws_callback_on_writable

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn c;
	const char *err;
	char	   *text;
	cJSON	   *v;
	long long   st;
	int	    i;

	stub_sessions_reset();
	memset(&c, 0, sizeof c);
	c.kind = CONN_WS;
	c.session = session_find("s1");
	text = xmalloc(size + 1); /* exact size for ASan */
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_writable = 0;
	server_ws_command(&c, text, size);
	FUZZ_CHECK(c.nreplies == 1, "%d replies to one command", c.nreplies);
	FUZZ_CHECK(fuzz_writable == 1, "no write callback asked");
	for (i = 0; i < c.nreplies; i++) {
		FUZZ_CHECK(utf8_valid(c.replies[i], strlen(c.replies[i])),
		    "reply not UTF-8: %.300s", c.replies[i]);
		v = json_parse(c.replies[i], strlen(c.replies[i]), &err);
		FUZZ_CHECK(json_is_obj(v), "reply not an object: %.300s",
		    c.replies[i]);
		FUZZ_CHECK(json_get_str(v, "reply_to") != NULL,
		    "reply without reply_to: %.300s", c.replies[i]);
		FUZZ_CHECK(json_get_int(v, "status", &st) == 0 &&
			((st >= 200 && st <= 299 &&
			     json_get(v, "error") == NULL) ||
			    (st >= 400 && st <= 599 &&
				json_get_str(v, "error") != NULL &&
				*json_get_str(v, "error") != '\0')),
		    "bad reply: %.300s", c.replies[i]);
		json_free(v);
		free(c.replies[i]);
	}
	free(text);
	stub_sessions_reset();
	return (0);
}
