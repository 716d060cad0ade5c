/*
 * fuzz_jsonrpc.c: json_parse then jsonrpc_parse on one line, and the
 * answers agentd would build to it (result, error, pending lookup).
 *
 * Properties: a message classified as request has a method and an id, a
 * notification a method and no id, a response a result, an error an
 * error; a result or error built with the message's id parses back as a
 * response with an equal id.
 */
#include <string.h>

#include "../../protocol/protocol.h"
#include "fuzz.h"

static void
roundtrip(cJSON *built, enum jsonrpc_kind kind, const cJSON *id)
{
	struct jsonrpc_msg m;
	const char	  *err;
	char		  *text;
	size_t		   len;
	cJSON		  *v;

	text = json_print(built, &len);
	v = json_parse(text, len, &err);
	FUZZ_CHECK(v != NULL, "built message does not parse: %.200s", text);
	FUZZ_CHECK(jsonrpc_parse(v, &m, &err) == 0,
	    "built message is not JSON-RPC: %s: %.200s", err, text);
	FUZZ_CHECK(m.kind == kind, "built kind %d, want %d", m.kind, kind);
	FUZZ_CHECK(json_equal(m.id, id), "id changed: %.200s", text);
	json_free(v);
	free(text);
	json_free(built);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonrpc_pending *p;
	struct jsonrpc_msg	m;
	const char	       *err;
	cJSON		       *v;
	void		       *ptr;
	int			tag;

	if ((v = json_parse((const char *)data, size, &err)) == NULL)
		return (0);
	memset(&m, 0, sizeof m);
	if (jsonrpc_parse(v, &m, &err) != 0) {
		FUZZ_CHECK(err != NULL, "refused without a reason");
		json_free(v);
		return (0);
	}
	switch (m.kind) {
	case JSONRPC_REQUEST:
		FUZZ_CHECK(m.method != NULL && m.id != NULL, "bad request");
		roundtrip(jsonrpc_result(1, m.id, json_object()),
		    JSONRPC_RESPONSE, m.id);
		roundtrip(
		    jsonrpc_error(m.has_version, m.id, JSONRPC_METHOD_NOT_FOUND,
			"method not found", NULL),
		    JSONRPC_ERROR, m.id);
		break;
	case JSONRPC_NOTIFICATION:
		FUZZ_CHECK(
		    m.method != NULL && m.id == NULL, "bad notification");
		break;
	case JSONRPC_RESPONSE:
		FUZZ_CHECK(m.result != NULL, "response without result");
		break;
	case JSONRPC_ERROR:
		FUZZ_CHECK(m.error != NULL, "error without error");
		break;
	default:
		break;
	}
	if (m.kind == JSONRPC_RESPONSE || m.kind == JSONRPC_ERROR) {
		p = jsonrpc_pending_new();
		(void)jsonrpc_pending_add(p, 7, NULL);
		(void)jsonrpc_pending_add(p, 8, p);
		if (jsonrpc_pending_take(p, m.id, &tag, &ptr) == 0)
			FUZZ_CHECK(tag == 7 || tag == 8, "tag %d", tag);
		jsonrpc_pending_free(p);
	}
	json_free(v);
	return (0);
}
