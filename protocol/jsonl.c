/*
 * jsonl.c: incremental, capped line framing for an agent's stdout.
 *
 * Bytes go in with jsonl_feed, whole lines come out with jsonl_next. The
 * buffer holds [pos, tail) = complete lines not yet taken, then [tail, len)
 * = the start of the line still arriving. A line longer than the cap is
 * never buffered: its bytes are counted and thrown away until its newline,
 * and a JSONL_TOOLONG marker takes its place in the stream, so the lines on
 * either side come out intact and in order. Compaction (one memmove of the
 * unconsumed bytes, as redis does with qb_pos) happens at most once per
 * feed; the buffer grows geometrically and shrinks back to JSONL_KEEP once
 * a big line is gone, so an idle stream holds little memory.
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
	size_t	 tail;	/* start of the unterminated line */
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
	if (j->size > JSONL_KEEP && j->len < JSONL_KEEP / 2) {
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
		j->tail -= j->pos;
		j->pos = 0;
	}
	jsonl_shrink(j);
}

/* Append n bytes, keeping one spare byte for a terminating NUL. */
static void
jsonl_append(struct jsonl *j, const char *data, size_t n)
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
	memcpy(j->buf + j->len, data, n);
	j->len += n;
}

/* Queue a TOOLONG marker at the current end of the complete lines. */
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
	j->drops[j->ndrops].at = j->taken + (j->tail - j->pos);
	j->drops[j->ndrops].len = len;
	j->ndrops++;
}

/* Add bytes read from the stream. */
void
jsonl_feed(struct jsonl *j, const char *data, size_t n)
{
	const char *nl;
	size_t	    chunk, have;

	jsonl_compact(j);
	while (n > 0) {
		nl = memchr(data, '\n', n);
		chunk = nl != NULL ? (size_t)(nl - data) : n;
		have = j->len - j->tail;
		if (j->discard)
			j->dropped += chunk;
		else if (have + chunk > j->max) {
			/* Over the cap: forget what we held of this line. */
			j->dropped = have + chunk;
			j->len = j->tail;
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
		} else
			j->tail = j->len;
		data += chunk + 1;
		n -= chunk + 1;
	}
}

/*
 * Take the next complete line: JSONL_LINE with *line and *len, or
 * JSONL_TOOLONG with *line NULL and *len the dropped line's length (newline
 * excluded), or JSONL_AGAIN when no whole line is buffered.
 */
enum jsonl_result
jsonl_next(struct jsonl *j, const char **line, size_t *len)
{
	char  *p, *nl;
	size_t n;

	for (;;) {
		if (j->firstdrop < j->ndrops &&
		    j->drops[j->firstdrop].at == j->taken) {
			*line = NULL;
			*len = j->drops[j->firstdrop++].len;
			return (JSONL_TOOLONG);
		}
		if (j->pos == j->tail)
			break;
		p = j->buf + j->pos;
		nl = memchr(p, '\n', j->tail - j->pos);
		n = (size_t)(nl - p);
		j->pos += n + 1;
		j->taken += n + 1;
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
		j->pos = j->len = j->tail = 0;
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
	j->pos = j->tail = j->len;
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
