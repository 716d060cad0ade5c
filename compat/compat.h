/*
 * compat.h: what musl lacks and every folder needs.
 *
 * closefrom(3) and <sys/queue.h> are missing from musl 1.2.3; the x*
 * allocators die cleanly on out-of-memory so no caller carries a NOMEM
 * branch (a sandbox helper cannot recover from it anyway); buf is the one
 * growing string, with the cap every buffer must have.
 */
#ifndef COMPAT_H
#define COMPAT_H

#include <stdarg.h>
#include <stddef.h>

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
int   buf_add(struct buf *, const void *, size_t);
int   buf_str(struct buf *, const char *);
int   buf_printf(struct buf *, const char *, ...) __printflike(2, 3);
char *buf_take(struct buf *, size_t *);
void  buf_free(struct buf *);
/* A string literal, without buf_str's strlen (hot serialisers). */
#define buf_lit(b, s) buf_add((b), "" s, sizeof(s) - 1)

/* closefrom.c */
void compat_closefrom(int);

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
