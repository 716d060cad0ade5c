/*
 * test_inflate.c: protocol/inflate.c against what gzip(1) writes, at every
 * level, and against broken streams (an error, never a crash or an
 * overrun: run under make test SAN=1 as well).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../protocol/protocol.h"
#include "test.h"

/* gzip -N of data, through a temp file; malloc'd. */
static unsigned char *
gzip_of(const unsigned char *data, size_t len, int level, size_t *outlen)
{
	char	       path[] = "/tmp/test_inflate.XXXXXX", cmd[128];
	unsigned char *out;
	FILE	      *f;
	int	       fd;
	size_t	       cap = len + 1024, n;

	if ((fd = mkstemp(path)) < 0)
		return (NULL);
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return (NULL);
	}
	close(fd);
	snprintf(cmd, sizeof cmd, "gzip -%d -n -c %s", level, path);
	if ((f = popen(cmd, "r")) == NULL)
		return (NULL);
	out = xmalloc(cap);
	n = fread(out, 1, cap, f);
	pclose(f);
	unlink(path);
	*outlen = n;
	return (out);
}

/* Text that repeats (long matches) with noise (literals). */
static unsigned char *
sample(size_t len, unsigned int seed)
{
	static const char words[] = "agentd journal host session item delta ";
	unsigned char	 *b = xmalloc(len);
	size_t		  i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		b[i] = (seed >> 16) % 7 == 0 ? (unsigned char)(seed >> 8)
					     : (unsigned char)words[i % 39];
	}
	return (b);
}

TEST(round_trips_every_level)
{
	static const size_t sizes[] = { 0, 1, 100, 70000, 300000 };
	unsigned char	   *data, *gz, *out;
	size_t		    i, gzlen, outlen;
	int		    level;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		data = sample(sizes[i], (unsigned int)i);
		for (level = 1; level <= 9; level += 4) {
			gz = gzip_of(data, sizes[i], level, &gzlen);
			CHECK(gz != NULL);
			out = inflate_gzip(gz, gzlen, 1 << 20, &outlen);
			CHECK(out != NULL);
			if (out != NULL) {
				CHECK_INT(outlen, sizes[i]);
				CHECK(memcmp(out, data, sizes[i]) == 0);
			}
			free(out);
			free(gz);
		}
		free(data);
	}
}

TEST(stored_blocks)
{
	unsigned char *data, *gz, *out;
	size_t	       gzlen, outlen, i;

	/* Random bytes do not compress: gzip stores them. */
	data = xmalloc(100000);
	for (i = 0; i < 100000; i++)
		data[i] = (unsigned char)(random() >> 7);
	gz = gzip_of(data, 100000, 6, &gzlen);
	out = inflate_gzip(gz, gzlen, 1 << 20, &outlen);
	CHECK(
	    out != NULL && outlen == 100000 && memcmp(out, data, 100000) == 0);
	free(out);
	free(gz);
	free(data);
}

TEST(refuses_what_is_broken)
{
	unsigned char *data, *gz, *bad, *out;
	size_t	       gzlen, outlen, cut, i;

	data = sample(20000, 7);
	gz = gzip_of(data, 20000, 9, &gzlen);
	/* Over the cap. */
	CHECK(inflate_gzip(gz, gzlen, 19999, &outlen) == NULL);
	/* Every truncation. */
	for (cut = 0; cut < gzlen; cut += 97)
		CHECK(inflate_gzip(gz, cut, 1 << 20, &outlen) == NULL);
	/* Flipped bits: an error or a stream of the announced size. */
	bad = xmalloc(gzlen);
	for (i = 10; i < gzlen - 8; i += 13) {
		memcpy(bad, gz, gzlen);
		bad[i] ^= 0x5a;
		out = inflate_gzip(bad, gzlen, 1 << 20, &outlen);
		if (out != NULL)
			CHECK_INT(outlen, 20000);
		free(out);
	}
	/* Not gzip at all. */
	CHECK(inflate_gzip(data, 20000, 1 << 20, &outlen) == NULL);
	free(bad);
	free(gz);
	free(data);
}

TEST_MAIN(TEST_ENTRY(round_trips_every_level), TEST_ENTRY(stored_blocks),
    TEST_ENTRY(refuses_what_is_broken))
