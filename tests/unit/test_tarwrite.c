/*
 * test_tarwrite.c: protocol/tarwrite.c, the headers of session exports.
 * tests/integration/test_archive.py reads whole exports with Python's
 * tarfile and GNU tar.
 */
#include <stdio.h>
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

/* What protocol/tar.c reads back. */
struct got {
	char	 names[8][TARW_NAME_MAX + 1];
	uint64_t sizes[8];
	char	 types[8];
	int	 n;
	size_t	 data;
};

static int
got_entry(void *arg, const struct tar_entry *e)
{
	struct got *g = arg;

	if (g->n == 8)
		return (1);
	snprintf(g->names[g->n], sizeof g->names[g->n], "%s", e->name);
	g->sizes[g->n] = e->size;
	g->types[g->n] = e->type == TAR_DIR ? 'd' : 'f';
	g->n++;
	return (0);
}

static int
got_data(void *arg, const char *p, size_t len)
{
	((struct got *)arg)->data += len;
	return (0);
}

static int
got_end(void *arg)
{
	return (0);
}

/* Headers, data and padding as archive.c writes them, read back whole
 * and in one-byte pieces. */
TEST(round_trip)
{
	static const struct tar_cbs cbs = { got_entry, got_data, got_end };
	const char		   *names[3];
	char			    long_name[400], split[160], *out;
	uint64_t		    sizes[3] = { 5, 700, 0 };
	size_t	    n = 0, i, j, cap = 3 * (TARW_HEADER_MAX + 1024) + 1024;
	struct got  g;
	struct tar *t;
	int	    piece;

	memset(long_name, 'l', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	memcpy(long_name, "home/", 5);
	memset(split, 's', sizeof split - 1);
	split[sizeof split - 1] = '\0';
	memcpy(split, "home/", 5);
	split[60] = '/';
	names[0] = "session.json";
	names[1] = long_name;
	names[2] = split;
	out = calloc(1, cap);
	for (i = 0; i < 3; i++) {
		n += tarw_header(out + n, cap - n, names[i],
		    i == 2 ? TARW_DIR : TARW_FILE, sizes[i], 0600, 0);
		memset(out + n, 'x', sizes[i]);
		n += sizes[i];
		n += tarw_pad(sizes[i]);
	}
	n += tarw_end(out + n);
	for (piece = 0; piece < 2; piece++) {
		memset(&g, 0, sizeof g);
		t = tar_new(&cbs, &g);
		if (piece == 0)
			CHECK_INT(tar_feed(t, out, n), 0);
		else
			for (j = 0; j < n; j++)
				CHECK_INT(tar_feed(t, out + j, 1), 0);
		CHECK_INT(tar_finish(t), 0);
		tar_free(t);
		CHECK_INT(g.n, 3);
		for (i = 0; i < 3 && i < (size_t)g.n; i++) {
			CHECK_STR(g.names[i], names[i]);
			CHECK_INT(g.sizes[i], sizes[i]);
		}
		CHECK(g.types[2] == 'd');
		CHECK_INT(g.data, 705);
	}
	free(out);
}

TEST_MAIN(TEST_ENTRY(short_name), TEST_ENTRY(split_name),
    TEST_ENTRY(pax_long_name), TEST_ENTRY(pax_big_size), TEST_ENTRY(end),
    TEST_ENTRY(round_trip))
