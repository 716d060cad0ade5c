/*
 * jsonl.c: incremental, capped line framing for an agent's stdout.
 *
 * Bytes go in with jsonl_feed (or are read straight into the buffer:
 * jsonl_space, then jsonl_commit), whole lines come out with jsonl_next. The
 * buffer holds [pos, len) = the bytes not yet taken: complete lines, then
 * the start of the line still arriving. Each byte is looked at once: feed
 * copies the bytes in without scanning them, and next searches for the
 * newline from where its last search stopped (scan), so a line arriving
 * in many reads is not searched again with each read, and a read of many
 * lines is searched once (agents such as pi repeat a whole partial message
 * on every line: a second pass would be a second pass over all of it).
 *
 * A line longer than the cap is never buffered: its bytes are counted and
 * thrown away until its newline, and a JSONL_TOOLONG marker takes its
 * place in the stream, so the lines on either side come out intact and in
 * order. Only a feed that could make the line still arriving longer than
 * the cap ((len - pos) + n > max) looks at the new bytes itself, to find
 * where that line ends; with the default 64 MiB cap that is rare.
 *
 * Compaction (one memmove of the unconsumed bytes, as redis does with
 * qb_pos) happens at most once per feed; the buffer grows geometrically
 * and shrinks back to JSONL_KEEP once a line bigger than a few reads is
 * gone (not after every read: reads of JSONL_KEEP would otherwise free
 * and map the buffer again each time), so an idle stream holds little.
 *
 * Lines are split on \n only; one trailing \r is stripped; empty lines
 * (after that) are skipped, as NDJSON readers may. A returned line is
 * NUL-terminated in place (it may also contain NULs) and stays valid until
 * the next jsonl_* call on the same stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define JSONL_KEEP (64UL * 1024) /* size kept after a big line */
#define JSONL_MIN  4096UL	 /* first allocation */

struct jsonl_drop {
	uint64_t at;  /* stream offset of the line that follows */
	size_t	 len; /* bytes dropped, newline excluded */
};

struct jsonl {
	char	*buf;
	size_t	 size;	/* allocated */
	size_t	 len;	/* bytes held */
	size_t	 pos;	/* first byte not taken */
	size_t	 scan;	/* [pos, scan) holds no newline */
	int	 held;	/* what [pos, scan) may hold: MEMFIND_* bits */
	int	 may;	/* what the line last returned may hold */
	size_t	 max;	/* line cap, newline excluded */
	uint64_t taken; /* stream offset of buf[pos] */

	int    discard; /* inside a line over the cap */
	size_t dropped; /* its bytes so far */

	struct jsonl_drop *drops; /* TOOLONG markers not yet returned */
	size_t		   ndrops;
	size_t		   firstdrop;
	size_t		   dropsize;
};

static void jsonl_shrink(struct jsonl *);
static void jsonl_compact(struct jsonl *);
static void jsonl_append(struct jsonl *, const char *, size_t);
static void jsonl_drop(struct jsonl *, size_t);

/* A new stream with a line cap of max bytes (0: JSONL_MAX_LINE_DEFAULT). */
struct jsonl *
jsonl_new(size_t max)
{
	struct jsonl *j;

	j = xcalloc(1, sizeof *j);
	j->max = max != 0 ? max : JSONL_MAX_LINE_DEFAULT;
	return (j);
}

void
jsonl_free(struct jsonl *j)
{
	if (j == NULL)
		return;
	free(j->buf);
	free(j->drops);
	free(j);
}

/* Give back memory held for a big line once it is gone. */
static void
jsonl_shrink(struct jsonl *j)
{
	if (j->size > 4 * JSONL_KEEP && j->len < JSONL_KEEP / 2) {
		j->buf = xrealloc(j->buf, JSONL_KEEP);
		j->size = JSONL_KEEP;
	}
}

/* Move the bytes not yet taken to the front of the buffer. */
static void
jsonl_compact(struct jsonl *j)
{
	size_t left;

	if (j->pos > 0) {
		left = j->len - j->pos;
		if (left > 0)
			memmove(j->buf, j->buf + j->pos, left);
		j->len = left;
		j->scan -= j->pos;
		j->pos = 0;
	}
	jsonl_shrink(j);
}

/* Room for n more bytes and a terminating NUL. */
static void
jsonl_reserve(struct jsonl *j, size_t n)
{
	size_t need, size;

	need = j->len + n + 1;
	if (need > j->size) {
		size = j->size < JSONL_MIN ? JSONL_MIN : j->size;
		while (size < need)
			size *= 2;
		j->buf = xrealloc(j->buf, size);
		j->size = size;
	}
}

/* Append n bytes, keeping one spare byte for a terminating NUL. */
static void
jsonl_append(struct jsonl *j, const char *data, size_t n)
{
	jsonl_reserve(j, n);
	memcpy(j->buf + j->len, data, n);
	j->len += n;
}

/* Queue a TOOLONG marker after the complete lines, which end at len. */
static void
jsonl_drop(struct jsonl *j, size_t len)
{
	if (j->firstdrop == j->ndrops)
		j->firstdrop = j->ndrops = 0;
	if (j->ndrops == j->dropsize) {
		j->dropsize = j->dropsize == 0 ? 4 : j->dropsize * 2;
		j->drops =
		    xreallocarray(j->drops, j->dropsize, sizeof *j->drops);
	}
	j->drops[j->ndrops].at = j->taken + (j->len - j->pos);
	j->drops[j->ndrops].len = len;
	j->ndrops++;
}

/*
 * The start of the line still arriving: after the last newline held. Only
 * [scan, len) can hold one (see struct jsonl).
 */
static size_t
jsonl_tail(const struct jsonl *j)
{
	const char *nl;

	if (j->scan >= j->len)
		return (j->pos);
	nl = memrchr(j->buf + j->scan, '\n', j->len - j->scan);
	return (nl != NULL ? (size_t)(nl - j->buf) + 1 : j->pos);
}

/* Add bytes read from the stream. */
void
jsonl_feed(struct jsonl *j, const char *data, size_t n)
{
	const char *nl;
	size_t	    chunk, tail;

	jsonl_compact(j);
	/* No line can pass the cap in this feed: copy, next finds lines. */
	if (!j->discard && j->len - j->pos + n <= j->max) {
		jsonl_append(j, data, n);
		return;
	}
	tail = jsonl_tail(j);
	while (n > 0) {
		nl = memfind(data, '\n', n);
		chunk = nl != NULL ? (size_t)(nl - data) : n;
		if (j->discard)
			j->dropped += chunk;
		else if (j->len - tail + chunk > j->max) {
			/* Over the cap: forget what we held of this line. */
			j->dropped = j->len - tail + chunk;
			j->len = tail;
			if (j->scan > j->len)
				j->scan = j->len;
			j->discard = 1;
			jsonl_shrink(j);
		} else
			jsonl_append(j, data, nl != NULL ? chunk + 1 : chunk);
		if (nl == NULL)
			return;
		if (j->discard) {
			jsonl_drop(j, j->dropped);
			j->discard = 0;
			j->dropped = 0;
		}
		tail = j->len;
		data += chunk + 1;
		n -= chunk + 1;
	}
}

/*
 * Where the next read may go, so its bytes land in the buffer and are not
 * copied again: *n bytes, at most max, then jsonl_commit with the count
 * read. The room is at least JSONL_MIN and at least what the line still
 * arriving holds (a long line comes in few reads, and an idle stream keeps
 * a small buffer).
 */
char *
jsonl_space(struct jsonl *j, size_t max, size_t *n)
{
	size_t want;

	jsonl_compact(j);
	want = j->len - j->pos;
	if (want < JSONL_MIN)
		want = JSONL_MIN;
	if (want > max)
		want = max;
	jsonl_reserve(j, want);
	*n = j->size - j->len - 1;
	if (*n > max)
		*n = max;
	return (j->buf + j->len);
}

/*
 * n bytes were read where jsonl_space said. Unless they could take the
 * line still arriving past the cap, they only need counting; otherwise
 * jsonl_feed sorts them out from a copy (rare with the default cap).
 */
void
jsonl_commit(struct jsonl *j, size_t n)
{
	char *copy;

	if (!j->discard && j->len - j->pos + n <= j->max) {
		j->len += n;
		return;
	}
	copy = xmalloc(n != 0 ? n : 1);
	memcpy(copy, j->buf + j->len, n);
	jsonl_feed(j, copy, n);
	free(copy);
}

/*
 * Take the next complete line: JSONL_LINE with *line and *len, or
 * JSONL_TOOLONG with *line NULL and *len the dropped line's length (newline
 * excluded), or JSONL_AGAIN when no whole line is buffered.
 */
enum jsonl_result
jsonl_next(struct jsonl *j, const char **line, size_t *len)
{
	const char *nl;
	char	   *p;
	size_t	    n, from;

	for (;;) {
		if (j->firstdrop < j->ndrops &&
		    j->drops[j->firstdrop].at == j->taken) {
			*line = NULL;
			*len = j->drops[j->firstdrop++].len;
			return (JSONL_TOOLONG);
		}
		from = j->scan > j->pos ? j->scan : j->pos;
		if (from == j->len ||
		    (nl = memfind_line(j->buf + from, '\n', j->len - from,
			 &j->held)) == NULL) {
			j->scan = j->len;
			break;
		}
		p = j->buf + j->pos;
		n = (size_t)(nl - p);
		j->pos += n + 1;
		j->scan = j->pos;
		j->taken += n + 1;
		j->may = j->held;
		j->held = 0; /* [pos, scan) is empty again */
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		p[n] = '\0';
		*line = p;
		*len = n;
		return (JSONL_LINE);
	}
	if (j->pos == j->len) {
		j->held = 0;
		j->pos = j->len = j->scan = 0;
		jsonl_shrink(j);
	}
	return (JSONL_AGAIN);
}

/*
 * At end of file: like jsonl_next, then the last line if it had no
 * newline (or TOOLONG if it was over the cap). Call until JSONL_AGAIN.
 */
enum jsonl_result
jsonl_finish(struct jsonl *j, const char **line, size_t *len)
{
	enum jsonl_result r;
	char		 *p;
	size_t		  n;

	if ((r = jsonl_next(j, line, len)) != JSONL_AGAIN)
		return (r);
	if (j->discard) {
		*line = NULL;
		*len = j->dropped;
		j->discard = 0;
		j->dropped = 0;
		return (JSONL_TOOLONG);
	}
	if (j->len == j->pos)
		return (JSONL_AGAIN);
	p = j->buf + j->pos;
	n = j->len - j->pos;
	j->taken += n;
	j->pos = j->scan = j->len;
	j->may = j->held; /* jsonl_next scanned it all */
	j->held = 0;
	if (p[n - 1] == '\r')
		n--;
	if (n == 0)
		return (JSONL_AGAIN);
	p[n] = '\0'; /* jsonl_append kept a spare byte */
	*line = p;
	*len = n;
	return (JSONL_LINE);
}

/* Bytes held in the buffer (lines not yet taken and the partial line). */
size_t
jsonl_buffered(const struct jsonl *j)
{
	return (j->len - j->pos);
}

/*
 * What the line jsonl_next or jsonl_finish last returned may hold, found
 * by the newline search as it went (memfind_line): MEMFIND_HIGH unless it
 * is all ASCII, MEMFIND_ESC_U unless it holds no backslash followed by a
 * 'u'. A caller that checks UTF-8 or repairs \u escapes can skip the
 * lines that cannot need it without another pass over them.
 */
int
jsonl_may(const struct jsonl *j)
{
	return (j->may);
}
