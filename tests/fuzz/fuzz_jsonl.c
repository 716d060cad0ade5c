/*
 * fuzz_jsonl.c: protocol/jsonl.c against a reference splitter.
 *
 * Input: byte 0 picks the line cap (1..255, or 0 for a cap of 64 KiB),
 * bytes 1-2 seed the chunking, the rest is the stream. The stream is fed
 * in random-sized chunks (jsonl_feed, or a read into jsonl_space and
 * jsonl_commit), lines are drained after every feed, then
 * jsonl_finish; the sequence of LINE and TOOLONG results must equal what
 * splitting the whole stream at once gives, and what the framer holds
 * between feeds must stay under the cap.
 */
#include <string.h>

#include "../../protocol/protocol.h"
#include "fuzz.h"

struct ref {
	int	       toolong;
	const uint8_t *p;
	size_t	       len;
};

/* The expected results: split on \n, one \r stripped, empties skipped. */
static size_t
ref_split(const uint8_t *d, size_t n, size_t cap, struct ref *out)
{
	size_t i = 0, start, L, k = 0;

	while (i < n) {
		start = i;
		while (i < n && d[i] != '\n')
			i++;
		L = i - start;
		if (i < n)
			i++; /* the newline */
		if (L > cap) {
			out[k].toolong = 1;
			out[k].p = NULL;
			out[k++].len = L;
			continue;
		}
		if (L > 0 && d[start + L - 1] == '\r')
			L--;
		if (L == 0)
			continue;
		out[k].toolong = 0;
		out[k].p = d + start;
		out[k++].len = L;
	}
	return (k);
}

static void
check(const struct ref *want, size_t nwant, size_t *k, enum jsonl_result r,
    const char *line, size_t len, int may)
{
	size_t i;

	FUZZ_CHECK(*k < nwant, "more results than lines (%zu)", nwant);
	if (want[*k].toolong) {
		FUZZ_CHECK(r == JSONL_TOOLONG, "result %zu: want TOOLONG", *k);
		FUZZ_CHECK(line == NULL, "TOOLONG with a line");
	} else {
		FUZZ_CHECK(r == JSONL_LINE, "result %zu: want LINE", *k);
		FUZZ_CHECK(line[len] == '\0', "line not NUL-terminated");
		FUZZ_CHECK(
		    memcmp(line, want[*k].p, len) == 0, "line %zu differs", *k);
		for (i = 0; (may & MEMFIND_HIGH) == 0 && i < len; i++)
			FUZZ_CHECK((unsigned char)line[i] < 0x80,
			    "line %zu called ASCII holds 0x%02x", *k,
			    (unsigned char)line[i]);
		FUZZ_CHECK((may & MEMFIND_ESC_U) != 0 ||
			memfind2(line, '\\', 'u', len) == NULL,
		    "line %zu said to hold no \\u holds one", *k);
	}
	FUZZ_CHECK(len == want[*k].len, "result %zu: len %zu, want %zu", *k,
	    len, want[*k].len);
	(*k)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonl	 *j;
	struct ref	 *want;
	enum jsonl_result r;
	const char	 *line;
	char		 *p;
	size_t		  cap, nwant, k = 0, off, chunk, len, room;
	uint32_t	  rng;

	if (size < 3)
		return (0);
	cap = data[0] != 0 ? data[0] : 65536;
	rng = (uint32_t)data[1] << 8 | data[2] | 1;
	data += 3;
	size -= 3;

	want = calloc(size + 1, sizeof *want);
	nwant = ref_split(data, size, cap, want);
	j = jsonl_new(cap);
	for (off = 0; off < size; off += chunk) {
		rng = rng * 1103515245 + 12345;
		chunk = 1 + (rng >> 16) % 64;
		if ((rng >> 8 & 7) == 0)
			chunk = size - off; /* sometimes all at once */
		if (chunk > size - off)
			chunk = size - off;
		if ((rng >> 12 & 1) == 0)
			jsonl_feed(j, (const char *)data + off, chunk);
		else {
			/* As proc.c reads: straight into the buffer. */
			p = jsonl_space(j, chunk, &room);
			FUZZ_CHECK(room > 0 && room <= chunk,
			    "room %zu for a read of %zu", room, chunk);
			chunk = room;
			memcpy(p, data + off, chunk);
			jsonl_commit(j, chunk);
		}
		while ((r = jsonl_next(j, &line, &len)) != JSONL_AGAIN)
			check(want, nwant, &k, r, line, len, jsonl_may(j));
		FUZZ_CHECK(jsonl_buffered(j) <= cap + 1,
		    "holds %zu bytes with a cap of %zu", jsonl_buffered(j),
		    cap);
	}
	while ((r = jsonl_finish(j, &line, &len)) != JSONL_AGAIN)
		check(want, nwant, &k, r, line, len, jsonl_may(j));
	FUZZ_CHECK(k == nwant, "%zu results, want %zu", k, nwant);
	jsonl_free(j);
	free(want);
	return (0);
}
