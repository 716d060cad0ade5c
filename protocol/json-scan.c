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
 *
 * json_scan_flat is the exception that does validate: the fast paths
 * for ACP text chunks (acpmsg_chunk_scan) and claude's delta lines
 * (claude_delta_scan) take what it finds instead of json_parse's tree,
 * so it accepts only what json_parse would accept and read alike, and
 * answers -1 for anything else, which the caller then parses.
 */
#include <stdint.h>
#include <string.h>

#include "protocol.h"

#define JSON_SCAN_DEPTH 8 /* objects in objects, for json_scan_flat */

struct json_scan_flat {
	const char	      *s;
	size_t		       len;
	size_t		       i;
	char		      *buf; /* decoded keys and strings */
	size_t		       used;
	struct json_scan_node *nodes;
	size_t		       max;
	size_t		       n;
	int		       flags; /* JSON_SCAN_SCALARS */
};

static int json_scan_object(struct json_scan_flat *, int, int);

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

static int json_scan_hex(const char *, size_t, size_t, unsigned int *);

/*
 * The first escape at or after s[*at] that json_parse cannot keep as it
 * is written: \u0000 (cJSON's strings are C strings: it would cut the
 * string there) or a lone UTF-16 surrogate, a high half not followed by
 * a low one or a low half alone (cJSON refuses the whole text, though
 * such escapes are valid JSON grammar: Node's JSON.stringify writes them
 * for a string cut in the middle of an emoji). JSON_SCAN_ESC_NUL or
 * JSON_SCAN_ESC_SURROGATE with *at on its backslash, or 0. A "\u" is an
 * escape only after an even run of backslashes ("\\u0000" is text);
 * each run is looked at once, so the walk is linear in len.
 */
int
json_scan_bad_escape(const char *s, size_t len, size_t *at)
{
	const char  *q;
	size_t	     i = *at, k;
	unsigned int c, lo;

	while (i < len && (q = memfind2(s + i, '\\', 'u', len - i)) != NULL) {
		i = (size_t)(q - s);
		for (k = 0; k < i && s[i - k - 1] == '\\'; k++)
			;
		if (k % 2 == 1 || json_scan_hex(s, len, i + 2, &c) != 0) {
			i += 2;
			continue;
		}
		if (c >= 0xd800 && c <= 0xdbff && i + 12 <= len &&
		    s[i + 6] == '\\' && s[i + 7] == 'u' &&
		    json_scan_hex(s, len, i + 8, &lo) == 0 && lo >= 0xdc00 &&
		    lo <= 0xdfff) {
			i += 12; /* a pair */
			continue;
		}
		if (c == 0 || (c >= 0xd800 && c <= 0xdfff)) {
			*at = i;
			return (c == 0 ? JSON_SCAN_ESC_NUL
				       : JSON_SCAN_ESC_SURROGATE);
		}
		i += 6;
	}
	return (0);
}

/*
 * A copy of s, len bytes and NUL-terminated, with every escape
 * json_scan_bad_escape finds replaced by \ufffd, which is as long, so
 * the text keeps its length and its offsets; NULL if there is none. For
 * an agent's output (as utf8_repair for its bytes): the line parses and
 * only the broken character is lost, where cJSON would refuse it all or
 * cut a string at its NUL.
 */
char *
json_scan_repair(const char *s, size_t len)
{
	char  *out = NULL;
	size_t at = 0;

	while (json_scan_bad_escape(s, len, &at) != 0) {
		if (out == NULL) {
			out = xmalloc(len + 1);
			memcpy(out, s, len);
			out[len] = '\0';
		}
		memcpy(out + at, "\\ufffd", 6);
		at += 6;
	}
	return (out);
}

#define JSON_SCAN_ONES 0x0101010101010101ULL

#define JSON_SCAN_HIGH (JSON_SCAN_ONES * 0x80)

/*
 * Non-zero if one of the eight bytes of w may be a quote, a backslash or
 * a control character: the high bit of each byte that is one (the usual
 * test for a zero byte, after the xor, and for a byte below 0x20). None
 * is missed, and only a byte above a flagged one can be flagged wrongly
 * (by the borrow), so the lowest flag is exact.
 */
static inline __attribute__((__always_inline__)) uint64_t
json_scan_special(uint64_t w)
{
	uint64_t q = w ^ (JSON_SCAN_ONES * '"');
	uint64_t b = w ^ (JSON_SCAN_ONES * '\\');

	return (((w - JSON_SCAN_ONES * 0x20) & ~w) |
		   ((q - JSON_SCAN_ONES) & ~q) | ((b - JSON_SCAN_ONES) & ~b)) &
	    JSON_SCAN_HIGH;
}

/*
 * The length of the longest prefix of s[0, len) a JSON string holds as it
 * is: no quote, backslash or control character in it. Eight bytes a step,
 * as json_scan_decode reads, for writers that quote a string.
 */
size_t
json_scan_plain(const char *s, size_t len)
{
	size_t	      i;
	uint64_t      w, m;
	unsigned char c;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		if ((m = json_scan_special(w)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return (i + (size_t)__builtin_ctzll(m) / 8);
#else
			break;
#endif
		}
	}
	for (; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == '"' || c == '\\')
			break;
	}
	return (i);
}

/* Four hex digits at s[i] as *out; -1 if any is not one. */
static int
json_scan_hex(const char *s, size_t len, size_t i, unsigned int *out)
{
	unsigned int  v = 0;
	unsigned char c;
	size_t	      k;

	if (i + 4 > len)
		return (-1);
	for (k = 0; k < 4; k++) {
		c = (unsigned char)s[i + k];
		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (c - 'A' + 10);
		else
			return (-1);
	}
	*out = v;
	return (0);
}

/*
 * Decode the string at s[*i] == '"' into out as cJSON 1.7.15's
 * parse_string would, NUL-terminated: 0, *i past the closing quote and
 * *olen the length. out needs the string's length in the text less one
 * (no escape decodes longer than it is written). The text is valid UTF-8
 * (the caller's to check), copied as it is. -1 for anything json_parse
 * refuses or reads otherwise, so that the caller can hand the line to
 * it: a control character (json_lex), an unknown escape, a \u that is
 * not four hex digits (cJSON reads "\uZZZZ" as U+0000), a lone or
 * reversed surrogate, and \u0000 itself, which would end cJSON's C
 * string early.
 */
int
json_scan_decode(const char *s, size_t len, size_t *i, char *out, size_t *olen)
{
	size_t	      j = *i + 1, o = 0, k;
	unsigned int  c, lo;
	unsigned char b;
	uint64_t      w, m;

	while (j < len) {
		/*
		 * Most of a string is plain text: eight bytes a step while
		 * none is a quote, a backslash or a control character, then
		 * on from the first one flagged (the lowest flag, which is
		 * exact, on a little-endian machine) byte by byte. One pass
		 * that copies as it looks, where json_scan_plain and a copy
		 * after it would read each byte twice.
		 */
		while (j + 8 <= len) {
			memcpy(&w, s + j, 8);
			if ((m = json_scan_special(w)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				k = (size_t)__builtin_ctzll(m) / 8;
				buf_copy(out + o, s + j, k);
				o += k;
				j += k;
#endif
				break;
			}
			memcpy(out + o, &w, 8);
			o += 8;
			j += 8;
		}
		for (; j < len; j++) {
			b = (unsigned char)s[j];
			if (b < 0x20 || b == '"' || b == '\\')
				break;
			out[o++] = (char)b;
		}
		if (j >= len)
			break;
		b = (unsigned char)s[j];
		if (b == '"') {
			out[o] = '\0';
			*i = j + 1;
			*olen = o;
			return (0);
		}
		if (b < 0x20 || ++j >= len)
			return (-1);
		switch (s[j++]) {
		case '"':
		case '\\':
		case '/':
			out[o++] = s[j - 1];
			break;
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u':
			if (json_scan_hex(s, len, j, &c) != 0 || c == 0 ||
			    (c >= 0xdc00 && c <= 0xdfff))
				return (-1);
			j += 4;
			if (c >= 0xd800 && c <= 0xdbff) {
				if (j + 6 > len || s[j] != '\\' ||
				    s[j + 1] != 'u' ||
				    json_scan_hex(s, len, j + 2, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return (-1);
				j += 6;
				c = 0x10000 +
				    (((c & 0x3ff) << 10) | (lo & 0x3ff));
			}
			if (c < 0x80)
				out[o++] = (char)c;
			else if (c < 0x800) {
				out[o++] = (char)(0xc0 | (c >> 6));
				out[o++] = (char)(0x80 | (c & 0x3f));
			} else if (c < 0x10000) {
				out[o++] = (char)(0xe0 | (c >> 12));
				out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
				out[o++] = (char)(0x80 | (c & 0x3f));
			} else {
				out[o++] = (char)(0xf0 | (c >> 18));
				out[o++] = (char)(0x80 | ((c >> 12) & 0x3f));
				out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
				out[o++] = (char)(0x80 | (c & 0x3f));
			}
			break;
		default:
			return (-1);
		}
	}
	return (-1);
}

/* A string at f->i decoded into f->buf; its start and length. */
static int
json_scan_flat_string(struct json_scan_flat *f, const char **str, size_t *len)
{
	char *out = f->buf + f->used;

	if (f->i >= f->len || f->s[f->i] != '"' ||
	    json_scan_decode(f->s, f->len, &f->i, out, len) != 0)
		return (-1);
	f->used += *len + 1;
	*str = out;
	return (0);
}

/*
 * An integer or a literal at f->i into nd (JSON_SCAN_SCALARS). Integers
 * are taken only as -?(0|[1-9][0-9]*), at most 15 digits, which json_lex
 * takes and cJSON's double holds exactly; a fraction or an exponent is
 * left to json_parse (the caller's check for ',' or '}' after the value
 * then fails the line).
 */
static int
json_scan_flat_scalar(struct json_scan_flat *f, struct json_scan_node *nd)
{
	static const char *const lits[] = { "null", "true", "false" };
	const char		*p = f->s + f->i;
	size_t			 left = f->len - f->i, k, n;
	long long		 v = 0;

	nd->str = p;
	for (k = 0; k < nitems(lits); k++) {
		n = strlen(lits[k]);
		if (left >= n && memcmp(p, lits[k], n) == 0) {
			nd->kind = JSON_SCAN_LITERAL;
			nd->len = n;
			f->i += n;
			return (0);
		}
	}
	k = (left > 0 && *p == '-');
	for (n = k; n < left && p[n] >= '0' && p[n] <= '9'; n++) {
		if (n - k == 15)
			return (-1);
		v = v * 10 + (p[n] - '0');
	}
	if (n == k || (p[k] == '0' && n - k > 1))
		return (-1);
	nd->kind = JSON_SCAN_INT;
	nd->num = k ? -v : v;
	nd->len = n;
	f->i += n;
	return (0);
}

/*
 * The object at f->i == '{', member by member into f->nodes, in the text's
 * order; parent is the node of the member it is the value of (-1: the
 * top). The grammar is RFC 8259's, with whitespace as json_lex allows it.
 */
static int
json_scan_object(struct json_scan_flat *f, int parent, int depth)
{
	struct json_scan_node *nd;
	int		       self;

	if (depth >= JSON_SCAN_DEPTH)
		return (-1);
	f->i = json_scan_space(f->s, f->len, f->i + 1);
	if (f->i < f->len && f->s[f->i] == '}') {
		f->i++;
		return (0);
	}
	for (;;) {
		if (f->n == f->max)
			return (-1);
		self = (int)f->n;
		nd = &f->nodes[f->n++];
		nd->parent = parent;
		if (json_scan_flat_string(f, &nd->key, &nd->klen) != 0)
			return (-1);
		f->i = json_scan_space(f->s, f->len, f->i);
		if (f->i >= f->len || f->s[f->i] != ':')
			return (-1);
		f->i = json_scan_space(f->s, f->len, f->i + 1);
		if (f->i >= f->len)
			return (-1);
		nd->at = f->i;
		if (f->s[f->i] == '"') {
			nd->kind = JSON_SCAN_STR;
			if (json_scan_flat_string(f, &nd->str, &nd->len) != 0)
				return (-1);
		} else if (f->s[f->i] == '{') {
			nd->kind = JSON_SCAN_OBJ;
			nd->str = NULL;
			nd->len = 0;
			if (json_scan_object(f, self, depth + 1) != 0)
				return (-1);
		} else if (!(f->flags & JSON_SCAN_SCALARS) ||
		    json_scan_flat_scalar(f, nd) != 0)
			return (-1);
		nd->end = f->i;
		f->i = json_scan_space(f->s, f->len, f->i);
		if (f->i >= f->len)
			return (-1);
		if (f->s[f->i] == '}') {
			f->i++;
			return (0);
		}
		if (f->s[f->i] != ',')
			return (-1);
		f->i = json_scan_space(f->s, f->len, f->i + 1);
	}
}

/*
 * Read s, valid UTF-8 (the caller checks), if it is a JSON object whose
 * members are strings or such objects (or, with JSON_SCAN_SCALARS in
 * flags, integers, null, true and false), at most max of them and nested
 * less than JSON_SCAN_DEPTH deep: 0 and every member into nodes, *n of
 * them, keys and strings decoded (json_scan_decode) into buf, which has
 * len bytes. -1 for anything else, including what json_parse would take
 * (numbers, arrays, an escape json_scan_decode leaves to cJSON): the
 * caller parses those. Nothing is allocated; buf and nodes are the
 * caller's.
 */
int
json_scan_flat(const char *s, size_t len, char *buf,
    struct json_scan_node *nodes, size_t max, int flags, size_t *n)
{
	struct json_scan_flat f;

	memset(&f, 0, sizeof f);
	f.s = s;
	f.len = len;
	f.buf = buf;
	f.nodes = nodes;
	f.max = max;
	f.flags = flags;
	f.i = json_scan_space(s, len, 0);
	if (f.i >= len || s[f.i] != '{' || json_scan_object(&f, -1, 0) != 0)
		return (-1);
	if (json_scan_space(s, len, f.i) != len)
		return (-1);
	*n = f.n;
	return (0);
}
