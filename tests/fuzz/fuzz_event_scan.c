/*
 * fuzz_event_scan.c: protocol/event-scan.c on arbitrary bytes, checked
 * against a full parse when the bytes are JSON.
 *
 * Properties: event_scan never reads past len (ASan, on an exact-size
 * copy); a success names a known type and a prefix inside the line; for
 * an object without duplicate keys whose "type" is a known name, it
 * succeeds with that type; when "raw" is the last member (as event.c
 * writes it), the prefix plus "}" parses as the same object without raw.
 * The oracle applies to compact JSON as cJSON prints it (what event.c
 * writes: no whitespace, keys unescaped); the scanner has no contract for
 * leading whitespace or escaped key names.
 */
#include <string.h>

#include "../../protocol/protocol.h"
#include "fuzz.h"

static int
canonical(const cJSON *v, const char *s, size_t size)
{
	char  *text;
	size_t len;
	int    same;

	text = json_print(v, &len);
	same = len == size && memcmp(text, s, size) == 0;
	free(text);
	return (same);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum event_type type;
	const char     *err, *tname;
	const cJSON    *last;
	char	       *s, *pre;
	size_t		noraw;
	cJSON	       *v, *w;
	int		rc, t;

	s = malloc(size != 0 ? size : 1); /* exact size for ASan */
	memcpy(s, data, size);
	rc = event_scan(s, size, &type, &noraw);
	if (rc == 0) {
		FUZZ_CHECK((int)type >= 0 && type < EVENT_TYPE_COUNT, "type %d",
		    (int)type);
		FUZZ_CHECK(noraw < size, "noraw %zu of %zu", noraw, size);
	}
	v = json_parse(s, size, &err);
	if (v != NULL && json_is_obj(v) && !fuzz_has_duplicate_keys(v) &&
	    (tname = json_get_str(v, "type")) != NULL &&
	    strlen(tname) == strlen(json_get_str(v, "type")) &&
	    (t = event_type_from_name(tname)) >= 0 && canonical(v, s, size)) {
		FUZZ_CHECK(
		    rc == 0, "a JSON event of type %s not scanned", tname);
		FUZZ_CHECK(
		    (int)type == t, "scanned type %d, want %d", (int)type, t);
		last = json_at(v, json_size(v) - 1);
		if (strcmp(json_key(last), "raw") == 0 && json_size(v) > 1) {
			pre = malloc(noraw + 2);
			memcpy(pre, s, noraw);
			pre[noraw] = '}';
			w = json_parse(pre, noraw + 1, &err);
			FUZZ_CHECK(w != NULL,
			    "prefix without raw is not JSON: "
			    "%.*s",
			    (int)(noraw + 1), pre);
			json_free(json_detach(v, "raw"));
			FUZZ_CHECK(json_equal(v, w),
			    "prefix is not the event "
			    "without raw");
			json_free(w);
			free(pre);
		}
	}
	json_free(v);
	free(s);
	return (0);
}
