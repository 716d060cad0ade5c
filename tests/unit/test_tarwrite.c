/*
 * test_tarwrite.c: protocol/tarwrite.c, the headers of session exports.
 * tests/integration/test_archive.py reads whole exports with Python's
 * tarfile and GNU tar.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

#define CHECK_BYTES(a, alen, b, blen)                                    \
	do {                                                             \
		if ((alen) != (blen) || memcmp((a), (b), (alen)) != 0)   \
			test_fail(__FILE__, __LINE__, "%s differs", #a); \
	} while (0)

/* The unsigned checksum of a header block, its own field as spaces. */
static unsigned int
block_sum(const char *b)
{
	unsigned int sum = 0;
	size_t	     i;

	for (i = 0; i < TARW_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)b[i];
	return (sum);
}

static unsigned long long
octal(const char *p, size_t len)
{
	unsigned long long v = 0;
	size_t		   i;

	for (i = 0; i < len && p[i] >= '0' && p[i] <= '7'; i++)
		v = v * 8 + (unsigned long long)(p[i] - '0');
	return (v);
}

static void
check_block(const char *b, const char *file, int line)
{
	if (octal(b + 148, 8) != block_sum(b))
		test_fail(file, line, "checksum %llo, want %o",
		    octal(b + 148, 8), block_sum(b));
	if (memcmp(b + 257,
		"ustar\0"
		"00",
		8) != 0)
		test_fail(file, line, "no ustar magic");
}
#define CHECK_BLOCK(b) check_block(b, __FILE__, __LINE__)

TEST(short_name)
{
	char   out[TARW_HEADER_MAX];
	size_t n;

	n = tarw_header(
	    out, sizeof out, "events.jsonl", TARW_FILE, 1234, 0600, 1700000000);
	CHECK_INT(n, TARW_BLOCK);
	CHECK_BLOCK(out);
	CHECK_STR(out, "events.jsonl");
	CHECK_INT(octal(out + 124, 12), 1234);
	CHECK_INT(octal(out + 100, 8), 0600);
	CHECK_INT(octal(out + 136, 12), 1700000000);
	CHECK(out[156] == '0');
	CHECK_INT(tarw_pad(1234), 512 - 1234 % 512);
	CHECK_INT(tarw_pad(1024), 0);
	CHECK_INT(tarw_pad(0), 0);
}

TEST(split_name)
{
	char   out[TARW_HEADER_MAX], name[200];
	size_t n;

	/* 150 bytes: "home/" + 94 x "d" + "/" + 50 x "f" */
	memset(name, 0, sizeof name);
	memcpy(name, "home/", 5);
	memset(name + 5, 'd', 94);
	name[99] = '/';
	memset(name + 100, 'f', 50);
	n = tarw_header(out, sizeof out, name, TARW_FILE, 0, 0644, 0);
	CHECK_INT(n, TARW_BLOCK);
	CHECK_BLOCK(out);
	CHECK_BYTES(out, 50, name + 100, 50);
	CHECK(out[50] == '\0');
	CHECK_BYTES(out + 345, 99, name, 99);
	CHECK(out[345 + 99] == '\0');
}

TEST(pax_long_name)
{
	char	    out[TARW_HEADER_MAX], name[TARW_NAME_MAX + 2], want[64];
	const char *rec;
	size_t	    n, plen;

	memset(name, 'x', 300);
	name[300] = '\0';
	n = tarw_header(out, sizeof out, name, TARW_DIR, 0, 0700, 0);
	plen = octal(out + 124, 12);
	CHECK_BLOCK(out);
	CHECK(out[156] == 'x');
	CHECK_INT(n, TARW_BLOCK + plen + tarw_pad(plen) + TARW_BLOCK);
	rec = out + TARW_BLOCK;
	/* "NNN path=<300 x>\n", NNN counting itself: 3 + 1 + 5 + 300 + 1. */
	snprintf(want, sizeof want, "%zu path=", plen);
	CHECK_INT(plen, 310);
	CHECK_BYTES(rec, strlen(want), want, strlen(want));
	CHECK(rec[plen - 1] == '\n');
	CHECK_BLOCK(out + n - TARW_BLOCK);
	CHECK(out[n - TARW_BLOCK + 156] == '5');
	/* Too long, empty, or with a newline: refused. */
	memset(name, 'x', TARW_NAME_MAX + 1);
	name[TARW_NAME_MAX + 1] = '\0';
	CHECK_INT(tarw_header(out, sizeof out, name, TARW_FILE, 0, 0, 0), 0);
	CHECK_INT(tarw_header(out, sizeof out, "", TARW_FILE, 0, 0, 0), 0);
	CHECK_INT(tarw_header(out, sizeof out, "a\nb", TARW_FILE, 0, 0, 0), 0);
	CHECK_INT(tarw_header(out, 100, "a", TARW_FILE, 0, 0, 0), 0);
	/* The longest name fits TARW_HEADER_MAX. */
	name[TARW_NAME_MAX] = '\0';
	CHECK(tarw_header(out, sizeof out, name, TARW_FILE, 0, 0, 0) > 0);
}

TEST(pax_big_size)
{
	char		   out[TARW_HEADER_MAX];
	unsigned long long big = 9ULL * 1024 * 1024 * 1024;
	size_t		   n, plen;

	n = tarw_header(out, sizeof out, "big", TARW_FILE, big, 0600, 0);
	plen = octal(out + 124, 12);
	CHECK(out[156] == 'x');
	CHECK(strstr(out + TARW_BLOCK, " size=9663676416\n") != NULL);
	CHECK_STR(out + n - TARW_BLOCK, "big");
	CHECK_INT(octal(out + n - TARW_BLOCK + 124, 12), 0);
	CHECK_INT(plen, strlen(out + TARW_BLOCK));
}

TEST(end)
{
	char   out[2 * TARW_BLOCK];
	size_t i;

	memset(out, 'x', sizeof out);
	CHECK_INT(tarw_end(out), 2 * TARW_BLOCK);
	for (i = 0; i < sizeof out; i++)
		CHECK(out[i] == 0);
}

TEST_MAIN(TEST_ENTRY(short_name), TEST_ENTRY(split_name),
    TEST_ENTRY(pax_long_name), TEST_ENTRY(pax_big_size), TEST_ENTRY(end))
