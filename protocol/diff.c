/*
 * diff.c: unified diffs, as file_ref parts carry them (DESIGN.md section 3).
 *
 * Agents report an edit in three ways: whole old and new texts (ACP), a
 * file added or deleted whole (Codex, Claude's Write), or hunks they made
 * themselves (Claude's structuredPatch, a Codex update). All come out in
 * one format: "--- from" and "+++ to", /dev/null standing for no file,
 * then the hunks. A diff is written into a buffer capped at DIFF_MAX; one
 * that would pass the cap is not given at all (NULL), since a cut diff
 * would misstate the edit.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define DIFF_CONTEXT 3 /* lines kept around a change */

/* One line of a text, with its newline if it has one. */
struct diff_line {
	const char *p;
	size_t	    len;
};

static size_t diff_split(const char *, struct diff_line **);
static void
diff_mark(struct buf *, char, const struct diff_line *, size_t, size_t);
static int diff_same(const struct diff_line *, const struct diff_line *);

/* Start a diff of from to to (NULL: /dev/null) in b. */
void
diff_begin(struct buf *b, const char *from, const char *to)
{
	buf_init(b, DIFF_MAX);
	(void)buf_printf(b, "--- %s\n+++ %s\n",
	    from != NULL ? from : "/dev/null", to != NULL ? to : "/dev/null");
}

/* A hunk header; its lines follow as the caller appends them. */
void
diff_hunk(struct buf *b, long long old_start, long long old_lines,
    long long new_start, long long new_lines)
{
	(void)buf_printf(b, "@@ -%lld,%lld +%lld,%lld @@\n", old_start,
	    old_lines, new_start, new_lines);
}

/* The diff written in b (malloc'd), or NULL if it passed the cap. */
char *
diff_end(struct buf *b)
{
	if (b->full) {
		buf_free(b);
		return (NULL);
	}
	return (buf_take(b, NULL));
}

/* Split text into lines, each keeping its newline; returns the count. */
static size_t
diff_split(const char *text, struct diff_line **lines)
{
	const char *p, *nl;
	size_t	    n = 0, size = 0;

	*lines = NULL;
	for (p = text; *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		if (n == size) {
			size = size == 0 ? 64 : size * 2;
			*lines = xreallocarray(*lines, size, sizeof **lines);
		}
		(*lines)[n].p = p;
		(*lines)[n++].len = (size_t)(nl - p);
	}
	return (n);
}

/* Lines [from, to) with a mark, flagging a last line without newline. */
static void
diff_mark(
    struct buf *b, char mark, const struct diff_line *l, size_t from, size_t to)
{
	static const char nonl[] = "\n\\ No newline at end of file\n";
	size_t		  i;

	for (i = from; i < to; i++) {
		(void)buf_add(b, &mark, 1);
		(void)buf_add(b, l[i].p, l[i].len);
		if (l[i].p[l[i].len - 1] != '\n')
			(void)buf_add(b, nonl, sizeof nonl - 1);
	}
}

static int
diff_same(const struct diff_line *a, const struct diff_line *b)
{
	return (a->len == b->len && memcmp(a->p, b->p, a->len) == 0);
}

/*
 * The diff from old (at from) to new (at to), whole texts; NULL for old or
 * new is no file (created or deleted). One hunk: the common leading and
 * trailing lines are cut to DIFF_CONTEXT lines of context. Not minimal,
 * but exact, and what a client needs to render the edit. Equal texts give
 * the headers alone.
 */
char *
diff_texts(const char *from, const char *old, const char *to, const char *new)
{
	struct diff_line *ol, *nl;
	struct buf	  b;
	size_t		  no, nn, pre = 0, suf = 0, first, tail, oc, nc;

	no = diff_split(old != NULL ? old : "", &ol);
	nn = diff_split(new != NULL ? new : "", &nl);
	while (pre < no && pre < nn && diff_same(&ol[pre], &nl[pre]))
		pre++;
	while (suf < no - pre && suf < nn - pre &&
	    diff_same(&ol[no - 1 - suf], &nl[nn - 1 - suf]))
		suf++;
	first = pre - (pre < DIFF_CONTEXT ? pre : DIFF_CONTEXT);
	tail = suf < DIFF_CONTEXT ? suf : DIFF_CONTEXT;
	oc = no - suf + tail - first;
	nc = nn - suf + tail - first;

	diff_begin(&b, old != NULL ? from : NULL, new != NULL ? to : NULL);
	if (pre != no || pre != nn) {
		/* An empty side starts at line 0, as diff(1) says it. */
		diff_hunk(&b, (long long)(oc == 0 ? first : first + 1),
		    (long long)oc, (long long)(nc == 0 ? first : first + 1),
		    (long long)nc);
		diff_mark(&b, ' ', ol, first, pre);
		diff_mark(&b, '-', ol, pre, no - suf);
		diff_mark(&b, '+', nl, pre, nn - suf);
		diff_mark(&b, ' ', ol, no - suf, no - suf + tail);
	}
	free(ol);
	free(nl);
	return (diff_end(&b));
}
