/*
 * fuzz_tar.c: protocol/tar.c, the incremental tar reader.
 *
 * Input: bytes 0-1 seed the chunking, the rest is the archive. It is read
 * twice, once in one piece and once in random-sized pieces; both reads
 * must give the same transcript (entry headers, data bytes, ends) and the
 * same verdict. Within a transcript, every entry's data adds up to the
 * size its header announced before its end is reported, names are
 * NUL-free C strings of at most PATH_MAX - 1 bytes, links and
 * directories carry no data, and entries are never nested.
 */
#include <limits.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "fuzz.h"

struct transcript {
	uint8_t *p; /* a hash would do, but this shows the difference */
	size_t	 len, cap;
	int	 open;	    /* inside an entry */
	uint64_t want;	    /* its announced size */
	uint64_t got;	    /* its data so far */
	size_t	 max_bytes; /* transcript cap: stop recording beyond */
};

static void
record(struct transcript *t, const void *p, size_t len)
{
	if (t->len + len > t->max_bytes)
		return;
	if (t->len + len > t->cap) {
		t->cap = (t->len + len) * 2;
		t->p = realloc(t->p, t->cap);
		FUZZ_CHECK(t->p != NULL, "out of memory");
	}
	memcpy(t->p + t->len, p, len);
	t->len += len;
}

static int
on_entry(void *arg, const struct tar_entry *e)
{
	struct transcript *t = arg;
	size_t		   n = strlen(e->name);

	FUZZ_CHECK(!t->open, "an entry inside an entry");
	FUZZ_CHECK(n > 0 && n < PATH_MAX, "name length %zu", n);
	FUZZ_CHECK(strlen(e->link) < PATH_MAX, "link too long");
	FUZZ_CHECK(e->type >= TAR_FILE && e->type <= TAR_OTHER, "type %d",
	    (int)e->type);
	if (e->type == TAR_DIR || e->type == TAR_SYMLINK ||
	    e->type == TAR_HARDLINK)
		FUZZ_CHECK(e->size == 0, "a link or directory with data");
	if (e->type == TAR_SYMLINK || e->type == TAR_HARDLINK)
		FUZZ_CHECK(e->link[0] != '\0', "a link without a target");
	FUZZ_CHECK(e->mode <= 07777, "mode %o", e->mode);
	t->open = 1;
	t->want = e->size;
	t->got = 0;
	record(t, "E", 1);
	record(t, &e->type, sizeof e->type);
	record(t, e->name, n + 1);
	record(t, e->link, strlen(e->link) + 1);
	record(t, &e->size, sizeof e->size);
	record(t, &e->mode, sizeof e->mode);
	record(t, &e->mtime, sizeof e->mtime);
	return (0);
}

static int
on_data(void *arg, const char *p, size_t len)
{
	struct transcript *t = arg;

	FUZZ_CHECK(t->open, "data outside an entry");
	FUZZ_CHECK(len > 0, "an empty data piece");
	t->got += len;
	FUZZ_CHECK(t->got <= t->want, "more data (%llu) than announced (%llu)",
	    (unsigned long long)t->got, (unsigned long long)t->want);
	record(t, p, len);
	return (0);
}

static int
on_end(void *arg)
{
	struct transcript *t = arg;

	FUZZ_CHECK(t->open, "an end outside an entry");
	FUZZ_CHECK(t->got == t->want, "entry ended at %llu of %llu bytes",
	    (unsigned long long)t->got, (unsigned long long)t->want);
	t->open = 0;
	record(t, "|", 1);
	return (0);
}

static const struct tar_cbs cbs = { on_entry, on_data, on_end };

static int
read_tar(const uint8_t *d, size_t n, uint32_t seed, struct transcript *t)
{
	struct tar *r = tar_new(&cbs, t);
	size_t	    off = 0, chunk;
	int	    rc = 0;

	while (off < n && rc == 0) {
		if (seed == 0)
			chunk = n - off;
		else {
			seed = seed * 1103515245 + 12345;
			chunk = 1 + (seed >> 16) % 1024;
			if (chunk > n - off)
				chunk = n - off;
		}
		rc = tar_feed(r, (const char *)d + off, chunk);
		off += chunk;
	}
	if (rc == 0)
		rc = tar_finish(r);
	if (rc != 0)
		FUZZ_CHECK(
		    strlen(tar_error(r)) > 0, "an error without a cause");
	tar_free(r);
	return (rc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transcript a, b;
	uint32_t	  seed;
	int		  ra, rb;

	if (size < 2)
		return (0);
	seed = (uint32_t)data[0] << 8 | data[1] | 1;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.max_bytes = b.max_bytes = 1 << 20;
	ra = read_tar(data + 2, size - 2, 0, &a);
	rb = read_tar(data + 2, size - 2, seed, &b);
	FUZZ_CHECK(ra == rb, "whole: %d, in pieces: %d", ra, rb);
	FUZZ_CHECK(
	    a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0),
	    "transcripts differ (%zu and %zu bytes)", a.len, b.len);
	free(a.p);
	free(b.p);
	return (0);
}
