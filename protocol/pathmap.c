/*
 * pathmap.c: rewrite the paths a moved session's files name.
 *
 * An agent's transcripts and config hold absolute paths: the working
 * directory (Codex's rollouts, Gemini's projects.json, Pi's session
 * header), the agent's HOME (Pi's session path), and forms made from them
 * (Claude's project folder "-tmp-work"). A session imported elsewhere has
 * another cwd and HOME; each pair (from, to) replaces the old text by the
 * new.
 *
 * A match counts only as a whole path: the byte before it and the byte
 * after it must not be a name byte [A-Za-z0-9._-], so "/tmp/w" is rewritten
 * in "/tmp/w/x" and "\"/tmp/w\"" but not in "/tmp/work" or "/a/tmp/w".
 * The longest "from" that matches wins. Text inside JSON strings needs no
 * unescaping: agents write '/' and '-' as they are.
 *
 * The stream form takes the text in pieces of any size and holds back at
 * most the longest "from" plus one byte, so a file of any size is
 * rewritten in bounded memory; the output is exactly what pathmap_apply
 * gives for the whole text.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define PATHMAP_MAX 16 /* pairs */

struct pathmap {
	struct {
		char  *from;
		size_t flen;
		char  *to;
		size_t tlen;
	} pair[PATHMAP_MAX];
	size_t n;
	size_t longest;
};

struct pathmap_stream {
	const struct pathmap *pm;
	pathmap_out_cb	      out;
	void		     *arg;
	char		     *held; /* bytes not yet judged */
	size_t		      nheld;
	char		      prev; /* the byte before held[0], or 0 */
	int		      failed;
};

struct pathmap *
pathmap_new(void)
{
	return (xcalloc(1, sizeof(struct pathmap)));
}

void
pathmap_free(struct pathmap *pm)
{
	size_t i;

	if (pm == NULL)
		return;
	for (i = 0; i < pm->n; i++) {
		free(pm->pair[i].from);
		free(pm->pair[i].to);
	}
	free(pm);
}

/*
 * Add a pair, kept longest "from" first. An empty "from", one equal to its
 * "to", one already there, or a pair past PATHMAP_MAX is ignored.
 */
void
pathmap_add(struct pathmap *pm, const char *from, const char *to)
{
	size_t i, flen = strlen(from);

	if (flen == 0 || strcmp(from, to) == 0 || pm->n == PATHMAP_MAX)
		return;
	for (i = 0; i < pm->n; i++) {
		if (strcmp(pm->pair[i].from, from) == 0)
			return;
	}
	for (i = pm->n; i > 0 && pm->pair[i - 1].flen < flen; i--)
		pm->pair[i] = pm->pair[i - 1];
	pm->pair[i].from = xstrdup(from);
	pm->pair[i].flen = flen;
	pm->pair[i].to = xstrdup(to);
	pm->pair[i].tlen = strlen(to);
	pm->n++;
	if (flen > pm->longest)
		pm->longest = flen;
}

int
pathmap_empty(const struct pathmap *pm)
{
	return (pm == NULL || pm->n == 0);
}

static int
pathmap_namebyte(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
}

/*
 * The pair that matches at p (with before the byte before it), or -1.
 * end is the end of the text known; final says nothing follows it.
 */
static int
pathmap_match(const struct pathmap *pm, const char *p, const char *end,
    char before, int final)
{
	size_t i, left = (size_t)(end - p);

	if (before != 0 && pathmap_namebyte(before))
		return (-1);
	for (i = 0; i < pm->n; i++) {
		if (pm->pair[i].flen > left ||
		    memcmp(p, pm->pair[i].from, pm->pair[i].flen) != 0)
			continue;
		if (pm->pair[i].flen == left) {
			if (final)
				return ((int)i);
			continue;
		}
		if (!pathmap_namebyte(p[pm->pair[i].flen]))
			return ((int)i);
	}
	return (-1);
}

/* The whole of s, rewritten; a new string. */
char *
pathmap_apply(const struct pathmap *pm, const char *s)
{
	struct buf  b;
	const char *p = s, *run = s, *end = s + strlen(s);
	char	    before = 0;
	int	    k;

	buf_init(&b, (size_t)-1);
	while (p < end) {
		if ((k = pathmap_match(pm, p, end, before, 1)) == -1) {
			before = *p++;
			continue;
		}
		(void)buf_add(&b, run, (size_t)(p - run));
		(void)buf_add(&b, pm->pair[k].to, pm->pair[k].tlen);
		p += pm->pair[k].flen;
		before = p[-1];
		run = p;
	}
	(void)buf_add(&b, run, (size_t)(p - run));
	return (b.p != NULL ? buf_take(&b, NULL) : xstrdup(""));
}

struct pathmap_stream *
pathmap_stream_new(const struct pathmap *pm, pathmap_out_cb out, void *arg)
{
	struct pathmap_stream *st;

	st = xcalloc(1, sizeof *st);
	st->pm = pm;
	st->out = out;
	st->arg = arg;
	return (st);
}

void
pathmap_stream_free(struct pathmap_stream *st)
{
	if (st == NULL)
		return;
	free(st->held);
	free(st);
}

/* Emit len bytes; remembers a failure of the output. */
static int
pathmap_emit(struct pathmap_stream *st, const char *p, size_t len)
{
	if (len == 0 || st->failed)
		return (st->failed);
	if (st->out(st->arg, p, len) != 0)
		st->failed = 1;
	return (st->failed);
}

/*
 * Judge text (the held bytes and a new piece, joined): emit what can be
 * decided, hold the rest. Returns non-zero if the output failed.
 */
static int
pathmap_run(struct pathmap_stream *st, const char *text, size_t len, int final)
{
	const struct pathmap *pm = st->pm;
	const char	     *p = text, *run = text, *end = text + len;
	size_t		      keep = final ? 0 : pm->longest + 1;
	char		      before = st->prev;
	int		      k;

	while (p < end && (size_t)(end - p) > keep) {
		if ((k = pathmap_match(pm, p, end, before, final)) == -1) {
			before = *p++;
			continue;
		}
		if (pathmap_emit(st, run, (size_t)(p - run)) ||
		    pathmap_emit(st, pm->pair[k].to, pm->pair[k].tlen))
			return (1);
		p += pm->pair[k].flen;
		before = p[-1];
		run = p;
	}
	if (pathmap_emit(st, run, (size_t)(p - run)))
		return (1);
	st->prev = before;
	/* p may be inside a match that began before it: it did not match
	 * there (it was judged), so holding from p is exact. */
	st->nheld = (size_t)(end - p);
	if (st->nheld > 0) {
		memmove(st->held, p, st->nheld);
	}
	return (0);
}

int
pathmap_stream_feed(struct pathmap_stream *st, const char *p, size_t len)
{
	char  *text;
	size_t n;
	int    rv;

	if (st->failed)
		return (1);
	if (pathmap_empty(st->pm))
		return (pathmap_emit(st, p, len));
	n = st->nheld + len;
	text = xmalloc(n > 0 ? n : 1);
	if (st->nheld > 0)
		memcpy(text, st->held, st->nheld);
	memcpy(text + st->nheld, p, len);
	free(st->held);
	st->held = xmalloc(st->pm->longest + 2);
	st->nheld = 0;
	rv = pathmap_run(st, text, n, 0);
	free(text);
	return (rv);
}

/* The text is complete: judge and emit what was held. */
int
pathmap_stream_finish(struct pathmap_stream *st)
{
	char  *text;
	size_t n = st->nheld;
	int    rv;

	if (st->failed)
		return (1);
	if (n == 0)
		return (0);
	text = xmemdup(st->held, n);
	st->nheld = 0;
	rv = pathmap_run(st, text, n, 1);
	free(text);
	return (rv);
}
