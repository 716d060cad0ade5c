/*
 * fuzz_json.c: protocol/json.c (json_parse, json_print) and protocol/utf8.c.
 *
 * Properties: utf8_repair's output is valid UTF-8, equals the input when
 * that was valid, and repairing twice changes nothing; whatever
 * json_parse accepts prints back to text that json_parse accepts again as
 * an equal value; a string built from valid UTF-8 survives a print and a
 * parse unchanged; json_scan_repair keeps the length, is idempotent and
 * keeps what parsed parsing.
 */
#include <math.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "fuzz.h"

/*
 * Numbers beyond a double's range (1e400) parse as infinity, which cJSON
 * prints as null: a known loss (docs/reliability.md), not checked.
 */
static int
has_nonfinite(const cJSON *v)
{
	const cJSON *el;

	if (json_is_num(v))
		return (!isfinite(json_num(v)));
	JSON_FOREACH(el, v) {
		if (has_nonfinite(el))
			return (1);
	}
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *err;
	char	   *fixed, *again, *text;
	size_t	    flen, alen, tlen;
	cJSON	   *v, *w;
	int	    valid;

	valid = utf8_valid(s, size);
	fixed = utf8_repair(s, size, &flen);
	FUZZ_CHECK(utf8_valid(fixed, flen), "repair left invalid UTF-8");
	FUZZ_CHECK(fixed[flen] == '\0', "repair not NUL-terminated");
	if (valid)
		FUZZ_CHECK(flen == size && memcmp(fixed, s, size) == 0,
		    "repair changed valid UTF-8");
	else
		FUZZ_CHECK(flen != size || memcmp(fixed, s, size) != 0,
		    "invalid UTF-8 came back unchanged");
	again = utf8_repair(fixed, flen, &alen);
	FUZZ_CHECK(alen == flen && memcmp(again, fixed, flen) == 0,
	    "repair is not idempotent");
	free(again);

	if ((v = json_parse(s, size, &err)) != NULL) {
		text = json_print(v, &tlen);
		FUZZ_CHECK(text != NULL, "json_print failed");
		w = json_parse(text, tlen, &err);
		FUZZ_CHECK(w != NULL, "printed JSON does not parse: %s: %.200s",
		    err, text);
		if (fuzz_has_duplicate_keys(v)) {
			again = json_print(w, &alen);
			FUZZ_CHECK(
			    alen == tlen && memcmp(again, text, tlen) == 0,
			    "print/parse changed the text: %.200s", text);
			free(again);
		} else
			FUZZ_CHECK(json_equal(v, w) || has_nonfinite(v),
			    "print/parse changed the value: %.200s", text);
		json_free(w);
		free(text);
		json_free(v);
	} else
		FUZZ_CHECK(err != NULL, "json_parse failed without a reason");

	/* The repaired text as one JSON string (as an event's delta). */
	if (memchr(fixed, '\0', flen) == NULL) {
		v = json_stringn(fixed, flen);
		text = json_print(v, &tlen);
		w = json_parse(text, tlen, &err);
		FUZZ_CHECK(w != NULL && json_str(w) != NULL,
		    "a printed string does not parse back");
		FUZZ_CHECK(strcmp(json_str(w), fixed) == 0,
		    "a string changed through print and parse");
		json_free(w);
		free(text);
		json_free(v);
	}
	free(fixed);

	/*
	 * json_scan_repair: as long as its input, a second pass finds
	 * nothing, and what json_parse took it still takes.
	 */
	if ((fixed = json_scan_repair(s, size)) != NULL) {
		FUZZ_CHECK(fixed[size] == '\0', "escape repair not terminated");
		FUZZ_CHECK(json_scan_repair(fixed, size) == NULL,
		    "escape repair is not idempotent");
		if ((v = json_parse(s, size, &err)) != NULL) {
			json_free(v);
			v = json_parse(fixed, size, &err);
			FUZZ_CHECK(
			    v != NULL, "escape repair broke JSON: %s", err);
			json_free(v);
		}
		free(fixed);
	}
	return (0);
}
