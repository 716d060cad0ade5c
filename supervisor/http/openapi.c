/*
 * openapi.c: docs/openapi.json, built into the binary for GET
 * /v1/openapi.json. The assembler includes the file as it is (paths are
 * relative to the top of the tree, where make runs); docs/openapi.mk
 * makes this object depend on it.
 */
#include "http.h"

extern const char   openapi_json[];
extern const size_t openapi_json_len;

/* In agentd_blobs, away from the hot constants (see ui.c's UI_INCBIN). */
__asm__("	.section agentd_blobs,\"a\",@progbits\n"
	"	.globl openapi_json\n"
	"	.type openapi_json, @object\n"
	"openapi_json:\n"
	"	.incbin \"docs/openapi.json\"\n"
	"openapi_json_end:\n"
	"	.byte 0\n"
	"	.balign 8\n"
	"	.globl openapi_json_len\n"
	"openapi_json_len:\n"
	"	.quad openapi_json_end - openapi_json\n"
	"	.previous\n");

/* The document and its length. */
const char *
openapi_document(size_t *len)
{
	*len = openapi_json_len;
	return (openapi_json);
}
