/*
 * buf.c: a growing NUL-terminated string with a cap.
 *
 * A writer appends freely and looks once at the end: an append that would
 * take len past max is refused whole (nothing of it goes in) and marks the
 * buffer full, so a diff or a joined text is either complete or known to be
 * cut. Appends that still fit after a refusal go in. p stays NULL until the
 * first append that goes in (even of nothing), so p == NULL means "never
 * added to". Storage grows by doubling from 256 bytes, never past max + 1.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#define BUF_FIRST 256

/* An empty buffer that will hold at most max bytes (SIZE_MAX / 2 at most). */
void
buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max < SIZE_MAX / 2 ? max : SIZE_MAX / 2;
}

/*
 * Make room for n more bytes and the NUL, doubling or (exact) just that;
 * the caller checked that len + n <= max.
 */
static void
buf_grow(struct buf *b, size_t n, int exact)
{
	size_t want = b->len + n + 1, size;

	if (b->p != NULL && want <= b->size)
		return;
	size = b->size < BUF_FIRST ? BUF_FIRST : b->size;
	while (!exact && size < want)
		size *= 2;
	if (exact || size > b->max + 1)
		size = exact ? want : b->max + 1; /* >= want */
	b->p = xrealloc(b->p, size);
	b->size = size;
}

/* Room for n more bytes at once, when the caller knows the size ahead. */
void
buf_reserve(struct buf *b, size_t n)
{
	if (n <= b->max - b->len)
		buf_grow(b, n, 1);
}

/* buf_add when the bytes may not fit in the storage there is. */
int
buf_add_grow(struct buf *b, const void *p, size_t n)
{
	if (n > b->max - b->len) {
		b->full = 1;
		return (-1);
	}
	buf_grow(b, n, 0);
	buf_copy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return (0);
}

int
buf_str(struct buf *b, const char *s)
{
	return (buf_add(b, s, strlen(s)));
}

/* Append a formatted string, whole or not at all. */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char	small[256], *big;
	int	n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return (-1);
	if ((size_t)n < sizeof small)
		return (buf_add(b, small, (size_t)n));
	va_start(ap, fmt);
	n = xvasprintf(&big, fmt, ap);
	va_end(ap);
	r = buf_add(b, big, (size_t)n);
	free(big);
	return (r);
}

/*
 * The string (malloc'd, "" when nothing was added; its length in *len if
 * len is not NULL); the buffer is empty again, with the same cap.
 */
char *
buf_take(struct buf *b, size_t *len)
{
	char *p = b->p != NULL ? b->p : xstrdup("");

	if (len != NULL)
		*len = b->len;
	buf_init(b, b->max);
	return (p);
}

void
buf_free(struct buf *b)
{
	free(b->p);
	buf_init(b, b->max);
}
