/*
 * test_utf8.c: protocol/utf8.c, strict validation and U+FFFD repair.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

#define FFFD "\xef\xbf\xbd"

/* Validate s from an exact-size heap copy (ASan catches overreads). */
static int
valid(const char *s, size_t len)
{
	char *copy;
	int   r;

	copy = xmalloc(len == 0 ? 1 : len);
	memcpy(copy, s, len);
	r = utf8_valid(copy, len);
	free(copy);
	return (r);
}
#define VALID(s) valid(s, sizeof s - 1)

/* Repair s and compare with want. */
static void
check_repair(const char *s, size_t len, const char *want, size_t wantlen,
    const char *file, int line)
{
	char  *copy, *out;
	size_t outlen = 12345;

	copy = xmalloc(len == 0 ? 1 : len);
	memcpy(copy, s, len);
	out = utf8_repair(copy, len, &outlen);
	if (outlen != wantlen || memcmp(out, want, wantlen) != 0 ||
	    out[outlen] != '\0')
		test_fail(file, line, "repair gave %zu bytes, expected %zu",
		    outlen, wantlen);
	else if (!utf8_valid(out, outlen))
		test_fail(file, line, "repair output is not valid");
	free(out);
	free(copy);
}
#define CHECK_REPAIR(s, want) \
	check_repair(s, sizeof s - 1, want, sizeof want - 1, __FILE__, __LINE__)

TEST(valid_sequences)
{
	CHECK(VALID(""));
	CHECK(VALID("plain ascii \x7f"));
	CHECK(VALID("\xc2\x80"));	  /* U+0080 */
	CHECK(VALID("\xc3\xa9"));	  /* é */
	CHECK(VALID("\xdf\xbf"));	  /* U+07FF */
	CHECK(VALID("\xe0\xa0\x80"));	  /* U+0800 */
	CHECK(VALID("\xe2\x82\xac"));	  /* € */
	CHECK(VALID("\xed\x9f\xbf"));	  /* U+D7FF */
	CHECK(VALID("\xee\x80\x80"));	  /* U+E000 */
	CHECK(VALID("\xef\xbf\xbf"));	  /* U+FFFF */
	CHECK(VALID("\xf0\x90\x80\x80")); /* U+10000 */
	CHECK(VALID("\xf0\x9f\x98\x80")); /* 😀 */
	CHECK(VALID("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	CHECK(VALID("a\0b"));		  /* NUL is a character */
}

TEST(invalid_sequences)
{
	CHECK(!VALID("\x80")); /* lone continuation */
	CHECK(!VALID("\xbf"));
	CHECK(!VALID("\xc0\x80"));	   /* overlong NUL */
	CHECK(!VALID("\xc1\xbf"));	   /* overlong */
	CHECK(!VALID("\xe0\x80\x80"));	   /* overlong */
	CHECK(!VALID("\xe0\x9f\xbf"));	   /* overlong U+07FF */
	CHECK(!VALID("\xed\xa0\x80"));	   /* U+D800 */
	CHECK(!VALID("\xed\xbf\xbf"));	   /* U+DFFF */
	CHECK(!VALID("\xf0\x80\x80\x80")); /* overlong */
	CHECK(!VALID("\xf0\x8f\xbf\xbf")); /* overlong U+FFFF */
	CHECK(!VALID("\xf4\x90\x80\x80")); /* U+110000 */
	CHECK(!VALID("\xf5\x80\x80\x80"));
	CHECK(!VALID("\xf8\x88\x80\x80\x80")); /* 5-byte form */
	CHECK(!VALID("\xfe"));
	CHECK(!VALID("\xff"));
	CHECK(!VALID("\xc3")); /* truncated at the end */
	CHECK(!VALID("\xe2\x82"));
	CHECK(!VALID("\xf0\x9f\x98"));
	CHECK(!VALID("\xc3x")); /* bad continuation */
	CHECK(!VALID("ok\xe2\x28\xa1"));
	CHECK(!VALID("valid then \xc3\xa9\xff"));
}

TEST(valid_uses_length)
{
	/* The invalid byte lies beyond len. */
	CHECK(utf8_valid("abc\xff", 3));
	CHECK(!utf8_valid("abc\xff", 4));
	/* A sequence cut by len is invalid. */
	CHECK(!utf8_valid("\xc3\xa9", 1));
}

TEST(repair_replaces)
{
	CHECK_REPAIR("a\xff"
		     "b",
	    "a" FFFD "b");
	CHECK_REPAIR("\x80\x80", FFFD FFFD);
	/* A truncated sequence is one maximal subpart: one U+FFFD. */
	CHECK_REPAIR("\xe2\x82"
		     "a",
	    FFFD "a");
	CHECK_REPAIR("\xf0\x9f\x98", FFFD);
	CHECK_REPAIR("x\xf0\x9f\x98"
		     "y",
	    "x" FFFD "y");
	/* Surrogates and overlongs: each byte is its own subpart. */
	CHECK_REPAIR("\xed\xa0\x80", FFFD FFFD FFFD);
	CHECK_REPAIR("\xc0\xaf", FFFD FFFD);
	CHECK_REPAIR("\xe0\x80\xaf", FFFD FFFD FFFD);
	CHECK_REPAIR("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	/* The Unicode 15 example, section 3.9 (table 3-8). */
	CHECK_REPAIR("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
	    "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
}

TEST(repair_keeps_valid)
{
	CHECK_REPAIR("", "");
	CHECK_REPAIR("hello", "hello");
	CHECK_REPAIR(
	    "\xc3\xa9\xf0\x9f\x98\x80" FFFD, "\xc3\xa9\xf0\x9f\x98\x80" FFFD);
	CHECK_REPAIR("a\0b", "a\0b");
}

TEST(repair_null_outlen)
{
	char *s;

	s = utf8_repair("a\xff", 2, NULL);
	CHECK_STR(s, "a" FFFD);
	free(s);
}

TEST(repair_large)
{
	size_t i, n = 1 << 20, outlen;
	char  *in, *out;

	in = xmalloc(n);
	for (i = 0; i < n; i++)
		in[i] = (i % 7 == 0) ? (char)0xff : 'x';
	CHECK(!utf8_valid(in, n));
	out = utf8_repair(in, n, &outlen);
	CHECK_INT(outlen, n + 2 * ((n + 6) / 7));
	CHECK(utf8_valid(out, outlen));
	free(out);
	free(in);
}

/*
 * The fast ASCII steps (64, 32 and 8 bytes) stop at len: a byte past it
 * that would be invalid is never looked at, for every length up to 200.
 */
TEST(ascii_steps_stop_at_len)
{
	char   buf[201];
	size_t n;

	for (n = 0; n <= 200; n++) {
		memset(buf, 'a', n);
		buf[n] = '\xff';
		if (!utf8_valid(buf, n))
			test_fail(__FILE__, __LINE__,
			    "%zu ASCII bytes called invalid", n);
		if (n > 0) {
			buf[n - 1] = '\xff';
			if (utf8_valid(buf, n))
				test_fail(__FILE__, __LINE__,
				    "0xff at %zu of %zu called valid", n - 1,
				    n);
		}
	}
}

TEST_MAIN(TEST_ENTRY(valid_sequences), TEST_ENTRY(invalid_sequences),
    TEST_ENTRY(valid_uses_length), TEST_ENTRY(repair_replaces),
    TEST_ENTRY(repair_keeps_valid), TEST_ENTRY(repair_null_outlen),
    TEST_ENTRY(repair_large), TEST_ENTRY(ascii_steps_stop_at_len))
