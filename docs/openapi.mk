# docs/openapi.mk: GET /v1/openapi.json serves docs/openapi.json, which
# supervisor/http/openapi.c includes with the assembler's .incbin; rebuild that
# object whenever the document changes. tests/openapi/ checks the document.

build/musl/supervisor/http/openapi.o $(HOST_DIR)/supervisor/http/openapi.o: \
    docs/openapi.json
