/*
 * test_json.c: protocol/json.c, the typed helpers over cJSON.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

/* Parse s from an exact-size heap copy with no NUL, so ASan sees overreads. */
static cJSON *
parse_exact(const char *s, size_t len, const char **err)
{
	char  *copy;
	cJSON *v;

	copy = xmalloc(len == 0 ? 1 : len);
	memcpy(copy, s, len);
	v = json_parse(copy, len, err);
	free(copy);
	return (v);
}

static cJSON *
parse(const char *s)
{
	return (parse_exact(s, strlen(s), NULL));
}

/* Print v and compare with want. */
static void
check_print(const cJSON *v, const char *want, const char *file, int line)
{
	char  *s;
	size_t len;

	s = json_print(v, &len);
	if (s == NULL || strcmp(s, want) != 0 || len != strlen(s))
		test_fail(file, line, "printed \"%s\" (%zu), expected \"%s\"",
		    s != NULL ? s : "(null)", len, want);
	free(s);
}
#define CHECK_PRINT(v, want) check_print(v, want, __FILE__, __LINE__)

TEST(parse_object_and_getters)
{
	cJSON	 *v;
	long long n;
	double	  d;
	int	  b;

	v = parse("{\"s\":\"x\",\"i\":42,\"f\":1.5,\"b\":true,\"n\":null,"
		  "\"o\":{},\"a\":[1]}");
	CHECK(v != NULL);
	CHECK_STR(json_get_str(v, "s"), "x");
	CHECK_INT(json_get_int(v, "i", &n), 0);
	CHECK_INT(n, 42);
	CHECK_INT(json_get_num(v, "f", &d), 0);
	CHECK(d == 1.5);
	CHECK_INT(json_get_bool(v, "b", &b), 0);
	CHECK_INT(b, 1);
	CHECK(json_is_null(json_get(v, "n")));
	CHECK(json_get_obj(v, "o") != NULL);
	CHECK(json_get_arr(v, "a") != NULL);
	CHECK(json_is_true(json_get(v, "b")));
	CHECK(!json_is_true(json_get(v, "i")));
	json_free(v);
}

TEST(getters_wrong_type_or_missing)
{
	cJSON	 *v;
	long long n = 7;
	double	  d = 7;
	int	  b = 7;

	v = parse("{\"s\":\"x\",\"i\":42,\"b\":false,\"a\":[]}");
	CHECK(json_get_str(v, "i") == NULL);
	CHECK(json_get_str(v, "missing") == NULL);
	CHECK(json_get_obj(v, "a") == NULL);
	CHECK(json_get_arr(v, "s") == NULL);
	CHECK_INT(json_get_int(v, "s", &n), -1);
	CHECK_INT(json_get_num(v, "b", &d), -1);
	CHECK_INT(json_get_bool(v, "i", &b), -1);
	CHECK_INT(n, 7);
	CHECK(d == 7);
	CHECK_INT(b, 7);
	/* Getters on NULL and on non-objects are safe. */
	CHECK(json_get(NULL, "s") == NULL);
	CHECK(json_get_str(NULL, "s") == NULL);
	CHECK(json_get(json_get(v, "a"), "s") == NULL);
	CHECK(json_get(json_get(v, "s"), "s") == NULL);
	CHECK(json_str(json_get(v, "i")) == NULL);
	CHECK(json_num(json_get(v, "s")) == 0);
	CHECK_INT(json_size(json_get(v, "s")), -1);
	CHECK_INT(json_size(NULL), -1);
	json_free(v);
}

TEST(get_int_range)
{
	cJSON	 *v;
	long long n;

	v = parse("{\"max\":9007199254740992,\"min\":-9007199254740992,"
		  "\"over\":9007199254740994,\"frac\":1.5,\"exp\":1e3,"
		  "\"neg\":-3,\"str\":\"1\"}");
	CHECK_INT(json_get_int(v, "max", &n), 0);
	CHECK_INT(n, 9007199254740992LL);
	CHECK_INT(json_get_int(v, "min", &n), 0);
	CHECK_INT(n, -9007199254740992LL);
	CHECK_INT(json_get_int(v, "over", &n), -1);
	CHECK_INT(json_get_int(v, "frac", &n), -1);
	CHECK_INT(json_get_int(v, "exp", &n), 0);
	CHECK_INT(n, 1000);
	CHECK_INT(json_get_int(v, "neg", &n), 0);
	CHECK_INT(n, -3);
	CHECK_INT(json_get_int(v, "str", &n), -1);
	json_free(v);
}

TEST(parse_not_nul_terminated)
{
	static const char *bad[] = { "[1", "\"abc", "tru", "-", "\"\\u12",
		"{\"a\"", "{\"a\":", "[1,", "\"\\", "nul", "1e", "{\"a\":1," };
	const char	  *err;
	size_t		   i;
	cJSON		  *v;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		v = parse_exact(bad[i], strlen(bad[i]), &err);
		if (v != NULL)
			test_fail(
			    __FILE__, __LINE__, "accepted \"%s\"", bad[i]);
		json_free(v);
		CHECK(err != NULL &&
		    strncmp(err, "invalid JSON at byte ", 21) == 0);
	}
	/* Valid values ending exactly at the end of the buffer. */
	v = parse_exact("12", 2, NULL);
	CHECK(v != NULL && json_num(v) == 12);
	json_free(v);
	v = parse_exact("true", 4, NULL);
	CHECK(json_is_true(v));
	json_free(v);
	v = parse_exact("\"ab\"", 4, NULL);
	CHECK_STR(json_str(v), "ab");
	json_free(v);
	/* Only len bytes count, even if more follow. */
	v = json_parse("[1]garbage", 3, NULL);
	CHECK(json_is_arr(v));
	json_free(v);
}

TEST(parse_errors_and_whitespace)
{
	const char *err = NULL;
	cJSON	   *v;

	v = parse_exact(" \t\r\n{\"a\":1}\n ", 13, &err);
	CHECK(json_is_obj(v));
	json_free(v);

	v = parse_exact("{\"a\":1} x", 9, &err);
	CHECK(v == NULL);
	CHECK_STR(err, "invalid JSON at byte 8");

	v = parse_exact("{\"a\":1}{}", 9, &err);
	CHECK(v == NULL);
	CHECK_STR(err, "invalid JSON at byte 7");

	v = parse_exact("{\"a\":\0}", 7, &err);
	CHECK(v == NULL);
	CHECK_STR(err, "invalid JSON at byte 5");

	v = parse_exact("\x01 1", 3, &err);
	CHECK(v == NULL);
	CHECK_STR(err, "invalid JSON at byte 0");

	v = parse_exact("\"a\x1f\"", 4, &err);
	CHECK(v == NULL);
	CHECK_STR(err, "invalid JSON at byte 2");

	v = parse_exact("\xef\xbb\xbf{}", 5, &err);
	CHECK(v == NULL);

	v = parse_exact("", 0, &err);
	CHECK(v == NULL);
	CHECK_STR(err, "invalid JSON at byte 0");

	v = parse_exact("   ", 3, &err);
	CHECK(v == NULL);

	v = parse_exact("{\"a\":}", 6, &err);
	CHECK(v == NULL);
	CHECK_STR(err, "invalid JSON at byte 5");

	/* A lone surrogate escape is not a character. */
	v = parse("\"\\ud800\"");
	CHECK(v == NULL);
	v = parse("\"\\u00e9\\ud83d\\ude00\"");
	CHECK_STR(json_str(v), "\xc3\xa9\xf0\x9f\x98\x80");
	json_free(v);

	/* err may be NULL. */
	CHECK(json_parse("x", 1, NULL) == NULL);
}

TEST(parse_strict_grammar)
{
	static const char *bad[] = { "01", "-01", "00", "1.", "1.e5", "-",
		"--1", "1e", "1e+", "1E-", "0x10", "[01]", "{\"a\":1.}",
		"[1,-]", "+1", ".5", "\"a\tb\"", "\"a\rb\"", "\"\\\t\"", "1 2",
		"[1,]", "Infinity", "NaN" };
	static const char *good[] = { "0", "-0", "0.5", "-0.5e-3", "1E+2", "10",
		"[0,-1.25,3e0]", "{\"k\":\"v\"}\t",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"esc \\\" 01 1.\"",
		"[true,false,null]" };
	const char	  *err;
	size_t		   i;
	cJSON		  *v;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = parse_exact(bad[i], strlen(bad[i]), &err);
		if (v != NULL)
			test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
		json_free(v);
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = parse_exact(good[i], strlen(good[i]), &err);
		if (v == NULL)
			test_fail(
			    __FILE__, __LINE__, "refused %s: %s", good[i], err);
		json_free(v);
	}
	v = parse_exact("[1, 01]", 7, &err);
	CHECK(v == NULL);
	CHECK_STR(err, "invalid JSON at byte 4");
	v = parse("\"a\\u0000b\"");
	CHECK_STR(json_str(v), "a");
	json_free(v);
}

TEST(parse_deep_nesting)
{
	char  *s;
	size_t i, n = 5000;
	cJSON *v;

	s = xmalloc(2 * n);
	for (i = 0; i < n; i++) {
		s[i] = '[';
		s[2 * n - 1 - i] = ']';
	}
	v = json_parse(s, 2 * n, NULL);
	CHECK(v == NULL);
	json_free(v);
	free(s);
}

TEST(print_roundtrip)
{
	cJSON *v;
	char  *s;
	size_t len = 99;

	v = parse("{ \"a\" : [1, 2.5, \"x\\n\\\"y\", true, null], \"b\":{} }");
	CHECK_PRINT(v, "{\"a\":[1,2.5,\"x\\n\\\"y\",true,null],\"b\":{}}");
	json_free(v);
	CHECK(json_print(NULL, &len) == NULL);
	CHECK_INT(len, 0);
	v = json_string("\xc3\xa9/\x01");
	CHECK_PRINT(v, "\"\xc3\xa9/\\u0001\"");
	s = json_print(v, NULL);
	CHECK_STR(s, "\"\xc3\xa9/\\u0001\"");
	free(s);
	json_free(v);
}

TEST(build_and_set)
{
	cJSON *o, *a;

	o = json_object();
	json_set_str(o, "s", "x");
	json_set_int(o, "ms", 1795348800123LL);
	json_set_num(o, "f", 0.25);
	json_set_bool(o, "b", 1);
	json_set(o, "n", json_null());
	a = json_array();
	json_append(a, json_number(1));
	json_append(a, json_bool(0));
	json_append(a, json_stringn("abcdef", 3));
	json_set(o, "a", a);
	CHECK_PRINT(o,
	    "{\"s\":\"x\",\"ms\":1795348800123,\"f\":0.25,"
	    "\"b\":true,\"n\":null,\"a\":[1,false,\"abc\"]}");

	/* Replacing keeps the position and the count. */
	json_set_str(o, "s", "y");
	json_set_int(o, "b", 2);
	CHECK_INT(json_size(o), 6);
	CHECK_STR(json_get_str(o, "s"), "y");
	CHECK_PRINT(o,
	    "{\"s\":\"y\",\"ms\":1795348800123,\"f\":0.25,"
	    "\"b\":2,\"n\":null,\"a\":[1,false,\"abc\"]}");

	/* Keys are case-sensitive. */
	json_set_str(o, "S", "upper");
	CHECK_INT(json_size(o), 7);
	CHECK_STR(json_get_str(o, "s"), "y");
	CHECK_STR(json_get_str(o, "S"), "upper");
	CHECK(json_get(o, "A") == NULL);
	json_free(o);
}

TEST(set_null_and_non_object)
{
	cJSON *o, *a;

	o = json_object();
	json_set(o, "x", NULL);
	json_set_str(o, "y", NULL);
	CHECK_INT(json_size(o), 0);
	json_set_str(o, "x", "1");
	json_set(o, "x", NULL); /* no-op: keeps the old value */
	CHECK_STR(json_get_str(o, "x"), "1");

	/* Ownership passes even when the target is wrong: no leak. */
	a = json_array();
	json_set(a, "k", json_string("v"));
	CHECK_INT(json_size(a), 0);
	json_append(o, json_string("v"));
	CHECK_INT(json_size(o), 1);
	json_set(NULL, "k", json_object());
	json_append(NULL, json_object());
	json_append(a, NULL);
	json_free(a);
	json_free(o);
	json_free(NULL);
	CHECK(json_string(NULL) == NULL);
	CHECK(json_dup(NULL) == NULL);
}

TEST(stringn_binary)
{
	cJSON *v;

	v = json_stringn("ab\"c", 4);
	CHECK_STR(json_str(v), "ab\"c");
	CHECK_PRINT(v, "\"ab\\\"c\"");
	json_free(v);
	v = json_stringn("", 0);
	CHECK_STR(json_str(v), "");
	json_free(v);
	v = json_stringn("xyz", 0);
	CHECK_STR(json_str(v), "");
	json_free(v);
}

TEST(iterate_and_keys)
{
	cJSON	   *v, *el;
	const char *keys[3] = { NULL, NULL, NULL };
	int	    n = 0;

	v = parse("{\"b\":1,\"a\":2,\"c\":[10,20,30]}");
	JSON_FOREACH(el, v) {
		if (n < 3)
			keys[n] = json_key(el);
		n++;
	}
	CHECK_INT(n, 3);
	CHECK_STR(keys[0], "b");
	CHECK_STR(keys[1], "a");
	CHECK_STR(keys[2], "c");
	n = 0;
	JSON_FOREACH(el, json_get(v, "c")) {
		CHECK(json_key(el) == NULL);
		n += (int)json_num(el);
	}
	CHECK_INT(n, 60);
	CHECK_INT(json_size(json_get(v, "c")), 3);
	CHECK(json_num(json_at(json_get(v, "c"), 2)) == 30);
	CHECK(json_at(json_get(v, "c"), 3) == NULL);
	CHECK(json_at(json_get(v, "c"), -1) == NULL);
	CHECK(json_first(json_get(v, "b")) == NULL);
	CHECK(json_first(NULL) == NULL);
	CHECK(json_next(NULL) == NULL);
	json_free(v);
}

TEST(detach_and_dup)
{
	cJSON *a, *b, *x, *d;

	a = parse("{\"x\":{\"y\":[1]},\"z\":1}");
	x = json_detach(a, "x");
	CHECK(x != NULL);
	CHECK(json_get(a, "x") == NULL);
	CHECK(json_detach(a, "x") == NULL);
	b = json_object();
	json_set(b, "moved", x);
	CHECK_PRINT(b, "{\"moved\":{\"y\":[1]}}");
	d = json_dup(b);
	CHECK(json_equal(d, b));
	json_free(b);
	CHECK_PRINT(d, "{\"moved\":{\"y\":[1]}}");
	json_free(d);
	json_free(a);
}

TEST(equal)
{
	cJSON *a, *b, *c, *d;

	a = parse("{\"a\":1,\"b\":[1,\"x\",null]}");
	b = parse("{\"b\":[1,\"x\",null],\"a\":1}");
	c = parse("{\"A\":1,\"b\":[1,\"x\",null]}");
	d = parse("{\"a\":1,\"b\":[1,\"x\"]}");
	CHECK(json_equal(a, b));
	CHECK(!json_equal(a, c));
	CHECK(!json_equal(a, d));
	CHECK(!json_equal(a, NULL));
	json_free(a);
	json_free(b);
	json_free(c);
	json_free(d);
}

TEST(type_predicates)
{
	cJSON *v;

	v = parse("[\"s\",1,true,null,{},[]]");
	CHECK(json_is_str(json_at(v, 0)) && !json_is_str(json_at(v, 1)));
	CHECK(json_is_num(json_at(v, 1)) && !json_is_num(json_at(v, 0)));
	CHECK(json_is_bool(json_at(v, 2)) && !json_is_bool(json_at(v, 3)));
	CHECK(json_is_null(json_at(v, 3)) && !json_is_null(json_at(v, 2)));
	CHECK(json_is_obj(json_at(v, 4)) && !json_is_obj(json_at(v, 5)));
	CHECK(json_is_arr(json_at(v, 5)) && !json_is_arr(json_at(v, 4)));
	CHECK(!json_is_str(NULL) && !json_is_obj(NULL));
	json_free(v);
}

static cJSON *
join_parse(const char *text)
{
	return (json_parse(text, strlen(text), NULL));
}

TEST(join)
{
	cJSON *v;
	char  *s;

	v = join_parse("[\"a\",1,\"\",\"b\",null,\"c\"]");
	s = json_join(v, NULL, ", ");
	CHECK_STR(s, "a, , b, c"); /* an empty string counts, 1 and null not */
	free(s);
	json_free(v);
	v = join_parse("[{\"text\":\"x\"},{\"t\":\"y\"},{\"text\":\"z\"}]");
	s = json_join(v, "text", "");
	CHECK_STR(s, "xz");
	free(s);
	CHECK(json_join(v, "none", ",") == NULL);
	json_free(v);
	CHECK(json_join(NULL, NULL, ",") == NULL);
	/* No separator before the first non-empty string after an empty one. */
	v = join_parse("[\"\",\"q\"]");
	s = json_join(v, NULL, ",");
	CHECK_STR(s, "q");
	free(s);
	json_free(v);
}

/*
 * json_scan_key finds a member's value start without passing over it, so
 * a value that runs to the end of the text (or is cut) is still found, and
 * keys inside earlier values or inside strings are not taken for it.
 */
TEST(scan_key)
{
	static const char s[] =
	    "{\"a\":{\"k\":1},\"s\":\"\\\"k\\\":\", \"k\" : [1,2] }";
	size_t off;

	CHECK_INT(json_scan_key(s, strlen(s), "k", &off), 0);
	CHECK_MEM(s + off, 5, "[1,2]");
	CHECK_INT(json_scan_key(s, strlen(s), "a", &off), 0);
	CHECK_MEM(s + off, 7, "{\"k\":1}");
	CHECK_INT(json_scan_key(s, strlen(s), "z", &off), -1);
	CHECK_INT(json_scan_key("[1]", 3, "k", &off), -1);
	CHECK_INT(json_scan_key("{\"k\":{\"x\":\"}", 12, "k", &off), 0);
	CHECK_INT(off, 5);
}

/*
 * Repair in, want out (NULL: nothing to repair); the result must parse,
 * and a string member "t" must read as text.
 */
static void
check_repair(const char *in, const char *want, const char *text,
    const char *file, int line)
{
	const char *err;
	char	   *copy, *got;
	size_t	    len = strlen(in);
	cJSON	   *v;

	copy = xmalloc(len == 0 ? 1 : len); /* exact size, for ASan */
	memcpy(copy, in, len);
	got = json_scan_repair(copy, len);
	free(copy);
	if (want == NULL) {
		if (got != NULL)
			test_fail(file, line, "repaired %s into %s", in, got);
		free(got);
		return;
	}
	if (got == NULL || strcmp(got, want) != 0) {
		test_fail(file, line, "repaired %s into %s, want %s", in,
		    got != NULL ? got : "(nothing)", want);
		free(got);
		return;
	}
	if ((v = json_parse(got, len, &err)) == NULL)
		test_fail(file, line, "%s does not parse: %s", got, err);
	else if (text != NULL &&
	    (json_get_str(v, "t") == NULL ||
		strcmp(json_get_str(v, "t"), text) != 0))
		test_fail(file, line, "%s reads \"%s\", want \"%s\"", got,
		    json_get_str(v, "t") != NULL ? json_get_str(v, "t") : "",
		    text);
	json_free(v);
	free(got);
}

#define CHECK_REPAIR(in, want, text) \
	check_repair(in, want, text, __FILE__, __LINE__)

TEST(repair_escapes)
{
	const char *err;
	char	   *got;
	size_t	    at;

	/* What Node writes for an emoji cut in two: both halves. */
	CHECK(parse("{\"t\":\"hi \\ud83d\"}") == NULL);
	CHECK_REPAIR("{\"t\":\"hi \\ud83d\"}", "{\"t\":\"hi \\ufffd\"}",
	    "hi \xef\xbf\xbd");
	CHECK_REPAIR("{\"t\":\"\\ude00 there\"}", "{\"t\":\"\\ufffd there\"}",
	    "\xef\xbf\xbd there");
	/* A NUL no longer cuts the string. */
	CHECK_REPAIR("{\"t\":\"a\\u0000b\"}", "{\"t\":\"a\\ufffdb\"}",
	    "a\xef\xbf\xbd"
	    "b");
	/* A pair is kept, in either case of hex; so are other escapes. */
	CHECK_REPAIR("{\"t\":\"\\ud83d\\ude00 \\uD83D\\uDE00\"}", NULL, NULL);
	CHECK_REPAIR("{\"t\":\"\\u00e9\\n\\\"\\u0041\\ufffd\"}", NULL, NULL);
	/* Two high halves, then a pair: only the first is lone. */
	CHECK_REPAIR("{\"t\":\"\\ud83d\\ud83d\\ude00\"}",
	    "{\"t\":\"\\ufffd\\ud83d\\ude00\"}",
	    "\xef\xbf\xbd\xf0\x9f\x98\x80");
	/* Reversed halves are two lone ones. */
	CHECK_REPAIR("{\"t\":\"\\ude00\\ud83d\"}", "{\"t\":\"\\ufffd\\ufffd\"}",
	    "\xef\xbf\xbd\xef\xbf\xbd");
	/* A high half then \u0000: both. */
	CHECK_REPAIR("{\"t\":\"\\ud800\\u0000\"}", "{\"t\":\"\\ufffd\\ufffd\"}",
	    "\xef\xbf\xbd\xef\xbf\xbd");
	/* Escaped backslashes: "\\u0000" and "\\ud83d" are text. */
	CHECK_REPAIR("{\"t\":\"\\\\u0000 \\\\ud83d\"}", NULL, NULL);
	CHECK_REPAIR("{\"t\":\"\\\\\\u0000\"}", "{\"t\":\"\\\\\\ufffd\"}",
	    "\\\xef\xbf\xbd");
	/* A high half whose next "\u" is text, not an escape. */
	CHECK_REPAIR("{\"t\":\"\\ud83d\\\\ude00\"}",
	    "{\"t\":\"\\ufffd\\\\ude00\"}", "\xef\xbf\xbd\\ude00");
	/* Cut short or not hex: left to json_parse, which refuses it. */
	CHECK_REPAIR("{\"t\":\"\\ud83\"}", NULL, NULL);
	CHECK((got = json_scan_repair("\\ud83d", 6)) != NULL &&
	    strcmp(got, "\\ufffd") == 0);
	free(got);
	CHECK(json_scan_repair("\\u000", 5) == NULL);
	CHECK(json_scan_repair("\\uZZZZ", 6) == NULL);
	CHECK(json_scan_repair("", 0) == NULL);
	/* Keys too; and long text on both sides of the SIMD steps. */
	CHECK_REPAIR("{\"\\ud800\":1,\"t\":\"0123456789abcdef0123456789"
		     "abcdef\\ud83d0123456789abcdef\"}",
	    "{\"\\ufffd\":1,\"t\":\"0123456789abcdef0123456789"
	    "abcdef\\ufffd0123456789abcdef\"}",
	    "0123456789abcdef0123456789abcdef\xef\xbf\xbd"
	    "0123456789abcdef");
	/* The kind and offset, for a client's 400. */
	at = 0;
	CHECK_INT(json_scan_bad_escape("{\"a\":\"x\\udc00\"}", 15, &at),
	    JSON_SCAN_ESC_SURROGATE);
	CHECK_INT(at, 7);
	at = 0;
	CHECK_INT(
	    json_scan_bad_escape("\"\\u0000\"", 8, &at), JSON_SCAN_ESC_NUL);
	CHECK_INT(at, 1);
	at = 0;
	CHECK_INT(json_scan_bad_escape("\"\\ud83d\\ude00\"", 14, &at), 0);
	CHECK(parse_exact("\"\\ud83d\"", 8, &err) == NULL);
}

/* memfind2 agrees with a plain search at every offset and length. */
TEST(memfind2_agrees)
{
	char	    buf[80];
	const char *want, *got;
	size_t	    i, start, n, k;
	unsigned    r = 1;
	int	    pairs = 0;

	for (i = 0; i < sizeof buf; i++) {
		r = r * 1103515245 + 12345;
		buf[i] = "ab\\u"[(r >> 16) % 4];
		pairs += i > 0 && buf[i - 1] == '\\' && buf[i] == 'u';
	}
	CHECK(pairs > 3);
	for (start = 0; start < 20; start++) {
		for (n = 0; start + n <= sizeof buf; n++) {
			want = NULL;
			for (k = 0; k + 1 < n; k++) {
				if (buf[start + k] == '\\' &&
				    buf[start + k + 1] == 'u') {
					want = buf + start + k;
					break;
				}
			}
			got = memfind2(buf + start, '\\', 'u', n);
			if (got != want) {
				CHECK(!"memfind2 disagrees");
				return;
			}
		}
	}
}

/*
 * The same in long plain text holding one backslash, with or without its
 * 'u', at every place: within and across memfind2's 64-byte steps and its
 * 16-byte ones, and at the very end.
 */
TEST(memfind2_sparse)
{
	char	    buf[200];
	const char *want, *got;
	size_t	    p, start;
	int	    u;

	for (u = 0; u < 2; u++)
		for (p = 0; p < sizeof buf; p++) {
			memset(buf, 'u', sizeof buf);
			buf[p] = '\\';
			if (!u && p + 1 < sizeof buf)
				buf[p + 1] = 'x';
			for (start = 0; start < 4 && start <= p; start++) {
				want = u && p + 1 < sizeof buf ? buf + p : NULL;
				got = memfind2(
				    buf + start, '\\', 'u', sizeof buf - start);
				if (got != want) {
					CHECK(!"memfind2 disagrees");
					return;
				}
			}
		}
}

TEST_MAIN(TEST_ENTRY(parse_object_and_getters),
    TEST_ENTRY(getters_wrong_type_or_missing), TEST_ENTRY(get_int_range),
    TEST_ENTRY(parse_not_nul_terminated),
    TEST_ENTRY(parse_errors_and_whitespace), TEST_ENTRY(parse_strict_grammar),
    TEST_ENTRY(parse_deep_nesting), TEST_ENTRY(print_roundtrip),
    TEST_ENTRY(build_and_set), TEST_ENTRY(set_null_and_non_object),
    TEST_ENTRY(stringn_binary), TEST_ENTRY(iterate_and_keys),
    TEST_ENTRY(detach_and_dup), TEST_ENTRY(equal), TEST_ENTRY(type_predicates),
    TEST_ENTRY(join), TEST_ENTRY(scan_key), TEST_ENTRY(repair_escapes),
    TEST_ENTRY(memfind2_agrees), TEST_ENTRY(memfind2_sparse))
