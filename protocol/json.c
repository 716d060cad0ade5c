/*
 * json.c: the one file that includes cJSON; small typed helpers over it.
 *
 * Invariant: every getter is safe on a NULL or wrongly typed value and
 * answers NULL (pointers) or -1 (ints), so callers can chain lookups on
 * untrusted input without checking each step. Object keys are compared
 * case-sensitively everywhere. cJSON allocates through xmalloc/free (set
 * by a constructor), so out-of-memory aborts like everywhere else and
 * json_print's result is freed with free(3).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "protocol.h"

#define JSON_MAX_SAFE_INT 9007199254740992.0 /* 2^53 */

static void   json_init(void) __attribute__((constructor));
static int    json_is_ws(unsigned char);
static int    json_is_digit(unsigned char);
static size_t json_number_end(const char *, size_t, size_t);
static int    json_lex(const char *, size_t, size_t *);

/* Make cJSON allocate through xmalloc before anything can parse. */
static void
json_init(void)
{
	cJSON_Hooks hooks = { xmalloc, free };

	cJSON_InitHooks(&hooks);
}

static int
json_is_ws(unsigned char c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

static int
json_is_digit(unsigned char c)
{
	return (c >= '0' && c <= '9');
}

/*
 * The end of the number at s[i] under the strict RFC 8259 grammar, or 0
 * if it is not one. cJSON hands numbers to strtod, which also takes "01",
 * "1." and "1.e5"; we insert raw lines verbatim into events, so whatever
 * we accept must be JSON to every client's parser too.
 */
static size_t
json_number_end(const char *s, size_t len, size_t i)
{
	if (i < len && s[i] == '-')
		i++;
	if (i >= len || !json_is_digit(s[i]))
		return (0);
	if (s[i] == '0')
		i++;
	else {
		while (i < len && json_is_digit(s[i]))
			i++;
	}
	if (i < len && s[i] == '.') {
		if (++i >= len || !json_is_digit(s[i]))
			return (0);
		while (i < len && json_is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !json_is_digit(s[i]))
			return (0);
		while (i < len && json_is_digit(s[i]))
			i++;
	}
	if (i < len &&
	    (json_is_digit(s[i]) || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
		s[i] == '+' || s[i] == '-'))
		return (0);
	return (i);
}

/*
 * Reject what cJSON lets through but JSON forbids: control characters
 * (NUL included) inside strings or outside them other than whitespace,
 * and numbers outside the strict grammar. Structure is left to cJSON.
 * Return 0, or -1 with *at the offending byte.
 */
static int
json_lex(const char *s, size_t len, size_t *at)
{
	size_t	      i, end;
	unsigned char c;
	int	      instr = 0;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (instr) {
			/* Most of a line is string text: pass it in a tight loop. */
			while (c >= 0x20 && c != '"' && c != '\\' && ++i < len)
				c = (unsigned char)s[i];
			if (i == len)
				break;
			if (c < 0x20)
				break;
			if (c == '\\') {
				if (++i < len && (unsigned char)s[i] < 0x20)
					break;
			} else if (c == '"')
				instr = 0;
		} else if (c == '"')
			instr = 1;
		else if (c == '-' || json_is_digit(c)) {
			if ((end = json_number_end(s, len, i)) == 0)
				break;
			i = end - 1;
		} else if (c < 0x20 && !json_is_ws(c))
			break;
	}
	*at = i;
	return (i < len ? -1 : 0);
}

/*
 * Parse exactly one JSON value from buf[0..len), which need not be
 * NUL-terminated; only JSON whitespace may surround it. Stricter than
 * cJSON alone (see json_lex; a byte order mark is refused too), so that
 * an accepted line is valid JSON for any client. "\u0000" in a string is
 * accepted but ends the C string there. On failure *err (if err is not
 * NULL) points to a static message such as "invalid JSON at byte 17",
 * valid until the next call: fine for a single-threaded daemon.
 */
cJSON *
json_parse(const char *buf, size_t len, const char **err)
{
	static char msg[64];
	const char *end = NULL;
	cJSON	   *v;
	size_t	    at;

	at = 0;
	if (buf == NULL || len == 0)
		goto fail;
	if (json_lex(buf, len, &at) != 0)
		goto fail;
	at = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		goto fail;
	if (!utf8_valid(buf, len)) /* RFC 8259 8.1: JSON text is UTF-8 */
		goto fail;
	v = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (v == NULL) {
		if (end != NULL && end >= buf && end <= buf + len)
			at = (size_t)(end - buf);
		goto fail;
	}
	for (at = (size_t)(end - buf); at < len; at++) {
		if (!json_is_ws((unsigned char)buf[at])) {
			cJSON_Delete(v);
			goto fail;
		}
	}
	return (v);

fail:
	if (err != NULL) {
		(void)snprintf(msg, sizeof msg, "invalid JSON at byte %zu", at);
		*err = msg;
	}
	return (NULL);
}

/* Print v without whitespace; malloc'd, NUL-terminated, length in *len. */
char *
json_print(const cJSON *v, size_t *len)
{
	char *s;

	if (v == NULL) {
		if (len != NULL)
			*len = 0;
		return (NULL);
	}
	s = cJSON_PrintUnformatted(v);
	if (s == NULL)
		s = xstrdup("null"); /* cJSON fails only on a bad tree */
	if (len != NULL)
		*len = strlen(s);
	return (s);
}

/*
 * One JSON line for a stdin or a file: v printed and a newline added (the
 * length counts it); takes v.
 */
char *
json_print_line(cJSON *v, size_t *len)
{
	char *s;

	s = json_print(v, len);
	json_free(v);
	s = xrealloc(s, *len + 2);
	s[(*len)++] = '\n';
	s[*len] = '\0';
	return (s);
}

void
json_free(cJSON *v)
{
	if (v != NULL)
		cJSON_Delete(v);
}

cJSON *
json_dup(const cJSON *v)
{
	if (v == NULL)
		return (NULL);
	return (cJSON_Duplicate(v, 1));
}

cJSON *
json_object(void)
{
	return (cJSON_CreateObject());
}

cJSON *
json_array(void)
{
	return (cJSON_CreateArray());
}

/* A string value; NULL gives NULL (so json_set of it is a no-op). */
cJSON *
json_string(const char *s)
{
	if (s == NULL)
		return (NULL);
	return (cJSON_CreateString(s));
}

/* A string value from len bytes (an embedded NUL ends the C string). */
cJSON *
json_stringn(const char *s, size_t len)
{
	cJSON *v;
	char  *copy;

	if (s == NULL)
		return (NULL);
	copy = xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	v = cJSON_CreateString("");
	cJSON_free(v->valuestring);
	v->valuestring = copy;
	return (v);
}

cJSON *
json_number(double n)
{
	return (cJSON_CreateNumber(n));
}

cJSON *
json_bool(int b)
{
	return (cJSON_CreateBool(b != 0));
}

cJSON *
json_null(void)
{
	return (cJSON_CreateNull());
}

/*
 * Set member key of o to v, replacing an existing member of that exact key
 * or appending a new one. v is owned by o afterwards; a NULL v is a no-op
 * and a NULL or non-object o frees v.
 */
void
json_set(cJSON *o, const char *key, cJSON *v)
{
	if (v == NULL)
		return;
	if (!cJSON_IsObject(o) || key == NULL) {
		cJSON_Delete(v);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, key) != NULL)
		(void)cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
	else
		(void)cJSON_AddItemToObject(o, key, v);
}

void
json_set_str(cJSON *o, const char *key, const char *s)
{
	json_set(o, key, json_string(s));
}

void
json_set_int(cJSON *o, const char *key, long long n)
{
	json_set(o, key, cJSON_CreateNumber((double)n));
}

void
json_set_num(cJSON *o, const char *key, double n)
{
	json_set(o, key, cJSON_CreateNumber(n));
}

void
json_set_bool(cJSON *o, const char *key, int b)
{
	json_set(o, key, cJSON_CreateBool(b != 0));
}

/* Append v to array a; v is owned by a (freed if a is not an array). */
void
json_append(cJSON *a, cJSON *v)
{
	if (v == NULL)
		return;
	if (!cJSON_IsArray(a)) {
		cJSON_Delete(v);
		return;
	}
	(void)cJSON_AddItemToArray(a, v);
}

/* Remove member key from o and return it (the caller owns it), or NULL. */
cJSON *
json_detach(cJSON *o, const char *key)
{
	if (!cJSON_IsObject(o) || key == NULL)
		return (NULL);
	return (cJSON_DetachItemFromObjectCaseSensitive(o, key));
}

cJSON *
json_get(const cJSON *o, const char *key)
{
	if (!cJSON_IsObject(o) || key == NULL)
		return (NULL);
	return (cJSON_GetObjectItemCaseSensitive(o, key));
}

const char *
json_get_str(const cJSON *o, const char *key)
{
	return (json_str(json_get(o, key)));
}

cJSON *
json_get_obj(const cJSON *o, const char *key)
{
	cJSON *v;

	v = json_get(o, key);
	return (cJSON_IsObject(v) ? v : NULL);
}

cJSON *
json_get_arr(const cJSON *o, const char *key)
{
	cJSON *v;

	v = json_get(o, key);
	return (cJSON_IsArray(v) ? v : NULL);
}

/* Integral numbers within +-2^53 only; 0 and *out, or -1. */
int
json_get_int(const cJSON *o, const char *key, long long *out)
{
	cJSON *v;
	double d;

	v = json_get(o, key);
	if (!cJSON_IsNumber(v))
		return (-1);
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || fabs(d) > JSON_MAX_SAFE_INT)
		return (-1);
	if (out != NULL)
		*out = (long long)d;
	return (0);
}

int
json_get_num(const cJSON *o, const char *key, double *out)
{
	cJSON *v;

	v = json_get(o, key);
	if (!cJSON_IsNumber(v))
		return (-1);
	if (out != NULL)
		*out = v->valuedouble;
	return (0);
}

int
json_get_bool(const cJSON *o, const char *key, int *out)
{
	cJSON *v;

	v = json_get(o, key);
	if (!cJSON_IsBool(v))
		return (-1);
	if (out != NULL)
		*out = cJSON_IsTrue(v);
	return (0);
}

int
json_is_str(const cJSON *v)
{
	return (cJSON_IsString(v) && v->valuestring != NULL);
}

int
json_is_num(const cJSON *v)
{
	return (cJSON_IsNumber(v));
}

int
json_is_bool(const cJSON *v)
{
	return (cJSON_IsBool(v));
}

int
json_is_true(const cJSON *v)
{
	return (cJSON_IsTrue(v));
}

int
json_is_null(const cJSON *v)
{
	return (cJSON_IsNull(v));
}

int
json_is_obj(const cJSON *v)
{
	return (cJSON_IsObject(v));
}

int
json_is_arr(const cJSON *v)
{
	return (cJSON_IsArray(v));
}

/* The string of a string value, else NULL. */
const char *
json_str(const cJSON *v)
{
	return (json_is_str(v) ? v->valuestring : NULL);
}

/* The number of a number value, else 0. */
double
json_num(const cJSON *v)
{
	return (cJSON_IsNumber(v) ? v->valuedouble : 0);
}

/* The key of an object member, else NULL. */
const char *
json_key(const cJSON *v)
{
	return (v != NULL ? v->string : NULL);
}

/* Number of elements or members; -1 if v is not an array or object. */
int
json_size(const cJSON *v)
{
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return (-1);
	return (cJSON_GetArraySize(v));
}

/* The i-th element (or member) of an array (or object), else NULL. */
cJSON *
json_at(const cJSON *v, int i)
{
	if ((!cJSON_IsArray(v) && !cJSON_IsObject(v)) || i < 0)
		return (NULL);
	return (cJSON_GetArrayItem(v, i));
}

cJSON *
json_first(const cJSON *v)
{
	if (!cJSON_IsArray(v) && !cJSON_IsObject(v))
		return (NULL);
	return (v->child);
}

cJSON *
json_next(const cJSON *v)
{
	return (v != NULL ? v->next : NULL);
}

/* Deep equality, keys compared case-sensitively; NULL equals nothing. */
int
json_equal(const cJSON *a, const cJSON *b)
{
	return (cJSON_Compare(a, b, 1) ? 1 : 0);
}

/*
 * The strings of an array (with key, each element's key member; anything
 * else is skipped) joined by sep, malloc'd; NULL if there were none. Held
 * to JSON_JOIN_MAX, more than one line can carry: what would pass it is
 * left out.
 */
char *
json_join(const cJSON *array, const char *key, const char *sep)
{
	const cJSON *el;
	const char  *s;
	struct buf   b;

	buf_init(&b, JSON_JOIN_MAX);
	JSON_FOREACH(el, array) {
		if ((s = key != NULL ? json_get_str(el, key) : json_str(el)) ==
		    NULL)
			continue;
		if (b.len != 0)
			(void)buf_str(&b, sep);
		(void)buf_str(&b, s);
	}
	return (b.p != NULL ? buf_take(&b, NULL) : NULL);
}
