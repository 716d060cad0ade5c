/*
 * memfind.c: find a byte in a long buffer, 64 bytes a step.
 *
 * The agent's stdout is searched for newlines (jsonl.c) and a long line's
 * strings for their closing quote (json-scan.c); pi repeats its whole reply
 * on every line, so these two searches are most of agentd's work per byte
 * of a long reply. musl's memchr looks at one 8-byte word a step; with SSE2
 * (every x86-64) four 16-byte compares are or-ed and tested at once, about
 * a fifth of the instructions per byte. Elsewhere, and for the last bytes,
 * it is memchr. Same contract as memchr: the first c in s[0..n), or NULL.
 *
 * memfind_ascii also tells whether the bytes it looked at may hold one
 * with the high bit set (*high becomes 1; it is never cleared), so that a
 * line found all ASCII by the newline search need not be looked at again
 * to check its UTF-8. It may say 1 for bytes past the one found (in the
 * same 64 bytes), or always where there is no SSE2: a false 1 only costs
 * the check.
 *
 * memfind2 finds a pair of bytes, with the same contract.
 */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "protocol.h"

#if defined(__SSE2__)
/* Non-zero if one of the 64 bytes at s is the needle's byte. */
static inline __attribute__((__always_inline__)) int
memfind_any64(const char *s, __m128i needle)
{
	__m128i a, b, d, e;

	a = _mm_cmpeq_epi8(_mm_loadu_si128((const void *)s), needle);
	b = _mm_cmpeq_epi8(_mm_loadu_si128((const void *)(s + 16)), needle);
	d = _mm_cmpeq_epi8(_mm_loadu_si128((const void *)(s + 32)), needle);
	e = _mm_cmpeq_epi8(_mm_loadu_si128((const void *)(s + 48)), needle);
	return (_mm_movemask_epi8(
	    _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(d, e))));
}

/* Bit k set if s[k] is a's byte and s[k + 1] b's, k < 16. */
static inline __attribute__((__always_inline__)) int
memfind_pair16(const char *s, __m128i na, __m128i nb)
{
	return (_mm_movemask_epi8(
	    _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const void *)s), na),
		_mm_cmpeq_epi8(_mm_loadu_si128((const void *)(s + 1)), nb))));
}
#endif

const char *
memfind(const char *s, int c, size_t n)
{
#if defined(__SSE2__)
	const __m128i needle = _mm_set1_epi8((char)c);
	size_t	      i = 0;
	int	      mask;

	while (n - i >= 64 && !memfind_any64(s + i, needle))
		i += 64;
	while (n - i >= 16) {
		mask = _mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const void *)(s + i)), needle));
		if (mask != 0)
			return (s + i + __builtin_ctz((unsigned)mask));
		i += 16;
	}
	return (memchr(s + i, c, n - i));
#else
	return (memchr(s, c, n));
#endif
}

/*
 * The first a followed by b in s[0..n), or NULL: json-scan.c looks for
 * "\u" in every line of an agent's stdout, and a text escapes newlines
 * and quotes far more often than it writes \u, so the pair is tested at
 * once (16 bytes and the same 16 one byte on) instead of stopping at
 * every backslash.
 */
const char *
memfind2(const char *s, int a, int b, size_t n)
{
	const char *q;
	size_t	    i = 0;
#if defined(__SSE2__)
	const __m128i na = _mm_set1_epi8((char)a), nb = _mm_set1_epi8((char)b);
	size_t	      k;
	int	      mask;

	/*
	 * 64 bytes a step: the pair is looked for (16 bytes at a time) only
	 * in the 64 that hold an a, and a long text has few.
	 */
	while (n - i >= 65) {
		if (!memfind_any64(s + i, na)) {
			i += 64;
			continue;
		}
		for (k = 0; k < 64; k += 16) {
			if ((mask = memfind_pair16(s + i + k, na, nb)) != 0)
				return (
				    s + i + k + __builtin_ctz((unsigned)mask));
		}
		i += 64;
	}
	while (n - i >= 17) {
		if ((mask = memfind_pair16(s + i, na, nb)) != 0)
			return (s + i + __builtin_ctz((unsigned)mask));
		i += 16;
	}
#endif
	while (n - i >= 2 && (q = memchr(s + i, a, n - i - 1)) != NULL) {
		if (q[1] == (char)b)
			return (q);
		i = (size_t)(q - s) + 1;
	}
	return (NULL);
}

const char *
memfind_ascii(const char *s, int c, size_t n, int *high)
{
#if defined(__SSE2__)
	const __m128i needle = _mm_set1_epi8((char)c);
	__m128i	      a, b, d, e, any = _mm_setzero_si128();
	const char   *q;
	size_t	      i = 0;
	int	      mask;

	while (n - i >= 64) {
		a = _mm_loadu_si128((const void *)(s + i));
		b = _mm_loadu_si128((const void *)(s + i + 16));
		d = _mm_loadu_si128((const void *)(s + i + 32));
		e = _mm_loadu_si128((const void *)(s + i + 48));
		any = _mm_or_si128(
		    any, _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(d, e)));
		if (_mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, needle),
					 _mm_cmpeq_epi8(b, needle)),
			    _mm_or_si128(_mm_cmpeq_epi8(d, needle),
				_mm_cmpeq_epi8(e, needle)))) != 0)
			break;
		i += 64;
	}
	while (n - i >= 16) {
		a = _mm_loadu_si128((const void *)(s + i));
		any = _mm_or_si128(any, a);
		mask = _mm_movemask_epi8(_mm_cmpeq_epi8(a, needle));
		if (mask != 0) {
			if (_mm_movemask_epi8(any) != 0)
				*high = 1;
			return (s + i + __builtin_ctz((unsigned)mask));
		}
		i += 16;
	}
	if (_mm_movemask_epi8(any) != 0)
		*high = 1;
	q = memchr(s + i, c, n - i);
	for (; i < n && s + i != q; i++)
		if ((unsigned char)s[i] >= 0x80)
			*high = 1;
	return (q);
#else
	*high = 1;
	return (memchr(s, c, n));
#endif
}
