/*
 * fuzz_api.c: supervisor/http/api.c's request routing (api_handle) with a
 * fuzzed method, path, query, Last-Event-ID and body, over the fake
 * sessions of session_stub.c.
 *
 * Input: byte 0 the method (mod 6), byte 1 flags (bit 0: a WebSocket
 * upgrade), then four fields separated by NUL bytes: the path (decoded,
 * as lws hands it over; cut at 511 bytes like server.c), the query
 * ("a=1&b=2", at most 16 arguments), the Last-Event-ID header, and the
 * body (the rest, NULs included).
 *
 * Properties: every answer has a status in 200..599; a reply's body, when
 * there is one, is JSON and valid UTF-8 (what the client receives); a
 * problem has a status equal to the HTTP one and a detail; 405 lists the
 * allowed methods; a stream holds exactly one session reference, which
 * the harness drops, and no other reference leaks.
 */
#include <string.h>

#include "../../supervisor/http/http.h"
#include "fuzz.h"
#include "session_stub.h"

static const char *
field(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *s = *p, *z;

	z = memchr(s, '\0', (size_t)(end - s));
	if (z == NULL)
		z = end;
	*len = (size_t)(z - s);
	*p = z < end ? z + 1 : end;
	return ((const char *)s);
}

void fuzz_check_response(const struct api_response *);

void
fuzz_check_response(const struct api_response *resp)
{
	const char *err;
	cJSON	   *v;

	FUZZ_CHECK(resp->status >= 200 && resp->status <= 599, "status %d",
	    resp->status);
	if (resp->kind == API_STREAM) {
		FUZZ_CHECK(resp->session != NULL, "a stream without session");
		return;
	}
	FUZZ_CHECK(resp->kind == API_REPLY, "kind %d", (int)resp->kind);
	FUZZ_CHECK(resp->session == NULL, "a reply holding a session");
	if (resp->static_body != NULL)
		return;
	if (resp->status == 204) {
		FUZZ_CHECK(resp->body == NULL, "204 with a body");
		return;
	}
	FUZZ_CHECK(resp->body != NULL && resp->content_type != NULL,
	    "status %d without a body", resp->status);
	FUZZ_CHECK(strlen(resp->body) == resp->len, "body length");
	FUZZ_CHECK(utf8_valid(resp->body, resp->len),
	    "answer body is not UTF-8: %.300s", resp->body);
	v = json_parse(resp->body, resp->len, &err);
	FUZZ_CHECK(v != NULL, "answer body is not JSON: %.300s", resp->body);
	if (resp->status >= 400) {
		FUZZ_CHECK(
		    strcmp(resp->content_type, "application/problem+json") == 0,
		    "error not a problem");
		FUZZ_CHECK(json_get_str(v, "detail") != NULL,
		    "problem without detail");
	}
	if (resp->status == 405)
		FUZZ_CHECK(resp->allow[0] != '\0', "405 without Allow");
	json_free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_request  req;
	struct api_response resp;
	const uint8_t	   *p, *end = data + size;
	const char	   *f, *args[16];
	char		    path[512], query[2048], lei[32], *q, *tok;
	char		   *body;
	size_t		    len;
	int		    n;

	if (size < 2)
		return (0);
	stub_sessions_reset();
	memset(&req, 0, sizeof req);
	req.method = (enum http_method)(data[0] % 6);
	req.websocket = data[1] & 1;
	p = data + 2;

	f = field(&p, end, &len);
	if (len >= sizeof path)
		len = sizeof path - 1;
	memcpy(path, f, len);
	path[len] = '\0';
	req.path = path;

	f = field(&p, end, &len);
	if (len >= sizeof query)
		len = sizeof query - 1;
	memcpy(query, f, len);
	query[len] = '\0';
	n = 0;
	for (q = query; n < 16 && (tok = strsep(&q, "&")) != NULL;)
		args[n++] = tok;
	req.args = args;
	req.nargs = query[0] != '\0' ? n : 0;

	f = field(&p, end, &len);
	if (len > 0) {
		if (len >= sizeof lei)
			len = sizeof lei - 1;
		memcpy(lei, f, len);
		lei[len] = '\0';
		req.last_event_id = lei;
	}

	len = (size_t)(end - p);
	body = xmalloc(len + 1); /* exact size for ASan */
	memcpy(body, p, len);
	req.body = body;
	req.body_len = len;

	api_handle(&req, &resp);
	fuzz_check_response(&resp);
	if (resp.kind == API_STREAM)
		session_unref(resp.session);
	free(resp.body);
	free(body);
	stub_sessions_reset();
	return (0);
}
