/*
 * xmalloc.c: allocators that abort cleanly on out-of-memory.
 *
 * A daemon in a sandbox cannot do anything useful without memory; dying
 * with the size that failed is better than hundreds of untested NOMEM
 * branches. Untrusted sizes are capped by their callers before they get
 * here (every buffer has a bound).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

static __dead void
xmalloc_die(const char *what, size_t size)
{
	char buf[128];
	int  n;

	n = snprintf(buf, sizeof buf,
	    "{\"level\":\"fatal\",\"msg\":\"%s: out of "
	    "memory\",\"size\":%zu}\n",
	    what, size);
	if (n > 0)
		(void)write(STDERR_FILENO, buf, (size_t)n);
	abort();
}

void *
xmalloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		xmalloc_die(__func__, size);
	return (p);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		xmalloc_die(__func__, nmemb * size);
	return (p);
}

void *
xrealloc(void *ptr, size_t size)
{
	return (xreallocarray(ptr, 1, size));
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (size != 0 && nmemb > SIZE_MAX / size)
		xmalloc_die(__func__, SIZE_MAX);
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		xmalloc_die(__func__, nmemb * size);
	return (p);
}

char *
xstrdup(const char *s)
{
	return (xmemdup(s, strlen(s) + 1));
}

char *
xstrndup(const char *s, size_t n)
{
	char  *p;
	size_t len;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

void *
xmemdup(const void *s, size_t n)
{
	void *p;

	p = xmalloc(n);
	memcpy(p, s, n);
	return (p);
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int	i;

	va_start(ap, fmt);
	i = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return (i);
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	va_list ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		xmalloc_die(__func__, 0);
	*ret = xmalloc((size_t)n + 1);
	(void)vsnprintf(*ret, (size_t)n + 1, fmt, ap);
	return (n);
}

/* Wipe and free a secret (a token) so it does not linger in freed memory. */
void
xfree_secret(char *s)
{
	volatile char *p = s;

	if (s == NULL)
		return;
	while (*p != '\0')
		*p++ = '\0';
	free(s);
}
