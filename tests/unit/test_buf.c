/*
 * test_buf.c: compat/buf.c, the growing string with a cap.
 */
#include <stdlib.h>
#include <string.h>

#include "../../compat/compat.h"
#include "test.h"

TEST(empty)
{
	struct buf b;
	char	  *s;
	size_t	   len = 99;

	buf_init(&b, 16);
	CHECK(b.p == NULL);
	CHECK_INT(b.full, 0);
	s = buf_take(&b, &len);
	CHECK_STR(s, "");
	CHECK_INT(len, 0);
	free(s);
	/* An append of nothing still marks the buffer as added to. */
	CHECK_INT(buf_add(&b, "", 0), 0);
	CHECK(b.p != NULL);
	CHECK_STR(b.p, "");
	buf_free(&b);
	CHECK(b.p == NULL);
	CHECK_INT(b.max, 16);
}

TEST(append_and_grow)
{
	struct buf b;
	char	  *s;
	size_t	   i, len;

	buf_init(&b, 100000);
	for (i = 0; i < 1000; i++)
		CHECK_INT(buf_str(&b, "0123456789"), 0);
	CHECK_INT(b.len, 10000);
	CHECK_INT(strlen(b.p), 10000);
	CHECK(b.size > b.len);
	CHECK_INT(buf_printf(&b, "<%d:%s>", 42, "x"), 0);
	CHECK_STR(b.p + 10000, "<42:x>");
	s = buf_take(&b, &len);
	CHECK_INT(len, 10006);
	CHECK(memcmp(s, "0123456789", 10) == 0);
	free(s);
	CHECK(b.p == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.max, 100000);
}

TEST(cap_refuses_whole)
{
	struct buf b;

	buf_init(&b, 8);
	CHECK_INT(buf_str(&b, "abcde"), 0);
	CHECK_INT(buf_str(&b, "fghi"), -1); /* 9 > 8: nothing of it goes in */
	CHECK_INT(b.full, 1);
	CHECK_STR(b.p, "abcde");
	CHECK_INT(buf_str(&b, "fgh"), 0); /* still fits: it goes in */
	CHECK_STR(b.p, "abcdefgh");
	CHECK_INT(b.len, 8);
	CHECK(b.size <= 9); /* never more than max + 1 */
	CHECK_INT(buf_add(&b, "x", 1), -1);
	CHECK_INT(buf_add(&b, "", 0), 0);
	CHECK_INT(b.full, 1);
	buf_free(&b);
	CHECK_INT(b.full, 0);
}

TEST(printf_long)
{
	struct buf b;
	char	   big[1000];

	memset(big, 'y', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	buf_init(&b, 1500);
	CHECK_INT(buf_printf(&b, "[%s]", big), 0);
	CHECK_INT(b.len, 1001);
	CHECK(b.p[0] == '[' && b.p[1000] == ']');
	CHECK_INT(buf_printf(&b, "%s", big), -1);
	CHECK_INT(b.len, 1001);
	buf_free(&b);
}

TEST(reserve_exact)
{
	struct buf b;

	buf_init(&b, 1000);
	buf_reserve(&b, 700);
	CHECK_INT(b.size, 701);
	CHECK_INT(buf_str(&b, "abc"), 0);
	CHECK_INT(b.size, 701);
	buf_reserve(&b, 5000); /* past the cap: no effect */
	CHECK_INT(b.size, 701);
	buf_free(&b);
}

/*
 * Appends of every length up to past the widest short copy, at every
 * alignment: the bytes go in exactly, the NUL after them, and nothing
 * before them moves.
 */
TEST(every_length)
{
	struct buf b;
	char	   src[160], dots[160]; /* gcc -Warray-bounds: both long */
	size_t	   n, o, i;

	for (i = 0; i < sizeof src; i++)
		src[i] = (char)('A' + i % 50);
	memset(dots, '.', sizeof dots);
	for (o = 0; o < 9; o++)
		for (n = 0; n < sizeof src; n++) {
			buf_init(&b, 1024);
			CHECK_INT(buf_add(&b, dots, o), 0);
			CHECK_INT(buf_add(&b, src, n), 0);
			CHECK_INT(b.len, o + n);
			CHECK(memcmp(b.p, dots, o) == 0);
			CHECK(memcmp(b.p + o, src, n) == 0);
			CHECK_INT(b.p[o + n], 0);
			buf_free(&b);
		}
}

TEST_MAIN(TEST_ENTRY(empty), TEST_ENTRY(append_and_grow),
    TEST_ENTRY(cap_refuses_whole), TEST_ENTRY(printf_long),
    TEST_ENTRY(reserve_exact), TEST_ENTRY(every_length))
