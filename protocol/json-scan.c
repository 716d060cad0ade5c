/*
 * json-scan.c: walk the top-level members of a JSON object's text without
 * building a tree.
 *
 * Two hot paths need a member or two of a long line and nothing else:
 * subscribers reading old events back from disk (the type, and where
 * "raw" starts, since raw is sent only on request), and adapters whose
 * agent repeats a whole partial message on every delta (pi). A full parse
 * there would cost more than the rest of the work, and for pi it would
 * make agentd quadratic in the length of a reply. The scanner is pure,
 * bounded by len, and does not validate: callers parse what it finds.
 */
#include <string.h>

#include "protocol.h"

/*
 * Skip a string starting at s[i] == '"'; returns the index after it. The
 * closing quote is found with memfind (a long text is one fast pass): a
 * quote ends the string unless an odd run of backslashes precedes it.
 */
static size_t
json_scan_string(const char *s, size_t len, size_t i)
{
	const char *q;
	size_t	    start = i + 1, k;

	for (i = start; i < len; i = (size_t)(q - s) + 1) {
		if ((q = memfind(s + i, '"', len - i)) == NULL)
			break;
		for (k = 0;
		     (size_t)(q - s) - k > start && q[-1 - (long)k] == '\\';)
			k++;
		if (k % 2 == 0)
			return ((size_t)(q - s) + 1);
	}
	return (len + 1);
}

/* Skip any value starting at s[i]; returns the index after it. */
static size_t
json_scan_value(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	if (i < len && s[i] == '"')
		return (json_scan_string(s, len, i));
	for (; i < len; i++) {
		switch (s[i]) {
		case '"':
			i = json_scan_string(s, len, i) - 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return (i);
			if (--depth == 0)
				return (i + 1);
			break;
		case ',':
			if (depth == 0)
				return (i);
			break;
		default:
			break;
		}
	}
	return (i);
}

static size_t
json_scan_space(const char *s, size_t len, size_t i)
{
	while (i < len &&
	    (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return (i);
}

/*
 * Walk the top-level members of the object in s, calling cb (if not NULL)
 * for each. If stop is not NULL, the walk ends at the member of that key
 * before its value is passed: 1 and the value's offset in *at. Else 0 when
 * cb returns non-zero or the object ends, -1 if s is not an object.
 */
static int
json_scan_walk(const char *s, size_t len, const char *stop, json_scan_cb cb,
    void *arg, size_t *at)
{
	size_t i, key, klen, val, sep = 0, stoplen;

	stoplen = stop != NULL ? strlen(stop) : 0;
	while (len > 0 &&
	    (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return (-1);
	for (i = 1;;) {
		i = json_scan_space(s, len, i);
		if (i >= len || s[i] != '"')
			return (0);
		key = i;
		i = json_scan_string(s, len, i);
		klen = i - key;
		i = json_scan_space(s, len, i);
		if (i >= len || s[i] != ':')
			return (-1);
		val = json_scan_space(s, len, i + 1);
		if (stop != NULL && klen == stoplen + 2 &&
		    memcmp(s + key + 1, stop, stoplen) == 0) {
			*at = val;
			return (1);
		}
		i = json_scan_value(s, len, val);
		if (i > len)
			return (-1);
		if (cb != NULL &&
		    cb(arg, s + key, klen, val, i - val, sep) != 0)
			return (0);
		if (i >= len || s[i] != ',')
			return (0);
		sep = i++;
	}
}

/*
 * Call cb for each top-level member of the object in s: its key (with the
 * quotes), the offset and length of its value, and the offset of the comma
 * before it (0 for the first member). Stops when cb returns non-zero.
 * Returns -1 if s is not an object.
 */
int
json_scan_members(const char *s, size_t len, json_scan_cb cb, void *arg)
{
	return (json_scan_walk(s, len, NULL, cb, arg, NULL));
}

/*
 * The offset of a top-level member's value, found without passing over
 * the value: a caller that walks the value next (pi's event, which holds
 * the whole reply so far) then looks at each of its bytes once, not twice.
 * 0, or -1 if s is not an object with that member.
 */
int
json_scan_key(const char *s, size_t len, const char *key, size_t *off)
{
	return (json_scan_walk(s, len, key, NULL, NULL, off) == 1 ? 0 : -1);
}

struct json_scan_find {
	const char *key;
	size_t	    klen;
	size_t	    off;
	size_t	    len;
	int	    found;
};

static int
json_scan_find_cb(
    void *arg, const char *key, size_t klen, size_t off, size_t len, size_t sep)
{
	struct json_scan_find *f = arg;

	if (klen != f->klen + 2 || memcmp(key + 1, f->key, f->klen) != 0)
		return (0);
	f->off = off;
	f->len = len;
	f->found = 1;
	return (1);
}

/* Find a top-level member's value text: 0 and its offset and length. */
int
json_scan_member(
    const char *s, size_t len, const char *key, size_t *off, size_t *vlen)
{
	struct json_scan_find f;

	memset(&f, 0, sizeof f);
	f.key = key;
	f.klen = strlen(key);
	if (json_scan_members(s, len, json_scan_find_cb, &f) != 0 || !f.found)
		return (-1);
	*off = f.off;
	*vlen = f.len;
	return (0);
}

/*
 * 1 if a string of this JSON text holds a NUL (the escape \u0000): cJSON
 * keeps strings as C strings, so "a\u0000b" would silently become "a".
 * Input from clients is refused instead. Escaped backslashes ("\\u0000"
 * is six characters of text) are skipped as escapes.
 */
int
json_scan_nul(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len &&
		    memcmp(s + i + 2, "0000", 4) == 0)
			return (1);
		i++; /* the escaped character */
	}
	return (0);
}
