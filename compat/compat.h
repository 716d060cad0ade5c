/*
 * compat.h: what musl lacks and every folder needs.
 *
 * closefrom(3) and <sys/queue.h> are missing from musl 1.2.3, and
 * compat_writeall is the write(2) loop every writer needs; the x*
 * allocators die cleanly on out-of-memory so no caller carries a NOMEM
 * branch (a sandbox helper cannot recover from it anyway); buf is the one
 * growing string, with the cap every buffer must have.
 */
#ifndef COMPAT_H
#define COMPAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "queue.h"

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif
#ifndef __printflike
#define __printflike(a, b) __attribute__((__format__(__printf__, a, b)))
#endif

#define nitems(a) (sizeof(a) / sizeof(a)[0])

/* buf.c */
struct buf {
	char  *p; /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t size;
	size_t max;  /* len never passes it */
	int    full; /* an append was refused */
};
void  buf_init(struct buf *, size_t);
void  buf_reserve(struct buf *, size_t);
int   buf_add_grow(struct buf *, const void *, size_t);
int   buf_str(struct buf *, const char *);
int   buf_printf(struct buf *, const char *, ...) __printflike(2, 3);
char *buf_take(struct buf *, size_t *);
void  buf_free(struct buf *);
/*
 * Copy n bytes (d and s apart), for copies that are mostly short: gcc at
 * -Os makes a memcpy of unknown size a rep movsb, whose start-up costs
 * tens of cycles whatever n is, and most appends (an event's literals, a
 * number, a short string) and decoded JSON strings are a few bytes. Up to
 * 64 bytes go as 8-byte loads and stores, the last of which may overlap
 * the one before, and three bytes or fewer one by one. Inline, as it
 * runs for every append and every decoded string.
 */
static inline __attribute__((__always_inline__)) void
buf_copy(char *d, const char *s, size_t n)
{
	uint64_t w;
	uint32_t h;
	size_t	 i;

	if (n > 64)
		memcpy(d, s, n);
	else if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, 8);
			memcpy(d + i, &w, 8);
		}
		/* 8 <= n <= 64, s has n bytes; cppcheck takes 64 for any s */
		/* cppcheck-suppress pointerOutOfBoundsCond */
		memcpy(&w, s + n - 8, 8);
		memcpy(d + n - 8, &w, 8);
	} else if (n >= 4) {
		memcpy(&h, s, 4);
		memcpy(d, &h, 4);
		memcpy(&h, s + n - 4, 4);
		memcpy(d + n - 4, &h, 4);
	} else if (n > 0) {
		/* 0, n / 2 and n - 1 are every index of n <= 3 */
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		/* cppcheck-suppress arrayIndexOutOfBoundsCond */
		d[n - 1] = s[n - 1];
	}
}

/*
 * 1 if the n bytes at a and b are the same: eight bytes a step, the last
 * eight (overlapping) where they end, as buf_copy reads. musl's memcmp
 * goes a byte a step, and the ACP scanner compares a chunk's envelope,
 * some 150 bytes, on every line.
 */
static inline int
buf_same(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	size_t	 i;

	if (n < 8) {
		for (i = 0; i < n; i++) {
			if (a[i] != b[i])
				return (0);
		}
		return (1);
	}
	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return (0);
	}
	/* n >= 8, a and b have n bytes; cppcheck takes any n for them */
	/* cppcheck-suppress pointerOutOfBoundsCond */
	memcpy(&x, a + n - 8, 8);
	/* cppcheck-suppress pointerOutOfBoundsCond */
	memcpy(&y, b + n - 8, 8);
	return (x == y);
}

/*
 * Append n bytes; 0, or -1 (nothing added, b->full set) over the cap.
 * Inline where they fit (an event is some forty appends to a buffer its
 * serialiser sized first), buf_add_grow where they may not: size never
 * passes max + 1, so what fits before size is under the cap.
 */
static inline __attribute__((__always_inline__)) int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->p == NULL || n >= b->size - b->len)
		return (buf_add_grow(b, p, n));
	buf_copy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return (0);
}

/* A string literal, without buf_str's strlen (hot serialisers). */
#define buf_lit(b, s) buf_add((b), "" s, sizeof(s) - 1)

/* closefrom.c */
void compat_closefrom(int);

/* writeall.c */
struct iovec;
int compat_writeall(int, const void *, size_t);
int compat_writeline(int, const char *, size_t);
int compat_writevall(int, struct iovec *, int);

/* xmalloc.c */
void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
void *xmemdup(const void *, size_t);
int   xasprintf(char **, const char *, ...) __printflike(2, 3);
int   xvasprintf(char **, const char *, va_list);
void  xfree_secret(char *);

#endif /* COMPAT_H */
