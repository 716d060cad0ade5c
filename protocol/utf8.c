/*
 * utf8.c: strict UTF-8 validation and repair.
 *
 * Strict means the well-formed byte sequences of Unicode 15 table 3-7: no
 * overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 * Repair replaces each maximal ill-formed subpart with one U+FFFD, the
 * practice Unicode recommends (and WHATWG's decoder follows), so the
 * output does not depend on where a reader's buffer happened to split.
 */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "protocol.h"

static size_t utf8_check(const unsigned char *, size_t, int *);

/*
 * Look at the sequence at p (n > 0 bytes left). Return its length and set
 * *ok to 1 if it is well formed; otherwise set *ok to 0 and return the
 * length of its maximal ill-formed subpart (at least 1).
 */
static size_t
utf8_check(const unsigned char *p, size_t n, int *ok)
{
	unsigned char lo, hi;
	size_t	      need, i;

	*ok = 0;
	if (p[0] < 0x80) {
		*ok = 1;
		return (1);
	}
	lo = 0x80;
	hi = 0xbf;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return (1);

	for (i = 1; i < need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi)
			return (i);
		lo = 0x80;
		hi = 0xbf;
	}
	*ok = 1;
	return (need);
}

/*
 * Return 1 if buf[0..len) is well-formed UTF-8, else 0. Every agent line
 * passes here, and most of them are ASCII: 32 bytes, then eight, are
 * checked at a time until one has its high bit set.
 */
int
utf8_valid(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t		     i = 0;
	uint64_t	     w, x, y, z;
	int		     ok;

	while (i < len) {
#if defined(__SSE2__)
		/* An agent's long lines are mostly ASCII: 64 bytes a step. */
		if (len - i >= 64 &&
		    _mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_loadu_si128((const void *)(p + i)),
			    _mm_loadu_si128((const void *)(p + i + 16))),
			_mm_or_si128(
			    _mm_loadu_si128((const void *)(p + i + 32)),
			    _mm_loadu_si128((const void *)(p + i + 48))))) ==
			0) {
			i += 64;
			continue;
		}
#endif
		if (len - i >= 32) {
			memcpy(&w, p + i, 8);
			memcpy(&x, p + i + 8, 8);
			memcpy(&y, p + i + 16, 8);
			memcpy(&z, p + i + 24, 8);
			if (((w | x | y | z) & 0x8080808080808080ULL) == 0) {
				i += 32;
				continue;
			}
		}
		if (len - i >= 8) {
			memcpy(&w, p + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		i += utf8_check(p + i, len - i, &ok);
		if (!ok)
			return (0);
	}
	return (1);
}

/*
 * Return a malloc'd, NUL-terminated copy of buf[0..len) with every
 * ill-formed subpart replaced by U+FFFD; its length goes to *outlen (if
 * not NULL). Two passes, so the copy is allocated at its exact size.
 */
char *
utf8_repair(const char *buf, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)buf;
	char		    *out;
	size_t		     i, n, size = 0, o = 0;
	int		     ok;

	for (i = 0; i < len; i += n) {
		n = utf8_check(p + i, len - i, &ok);
		size += ok ? n : 3;
	}
	out = xmalloc(size + 1);
	for (i = 0; i < len; i += n) {
		n = utf8_check(p + i, len - i, &ok);
		if (ok)
			memcpy(out + o, p + i, n);
		else
			memcpy(out + o, "\xef\xbf\xbd", 3);
		o += ok ? n : 3;
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return (out);
}
