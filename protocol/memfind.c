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
 * memfind_line also tells what the bytes before the one it finds may
 * hold, as bits or-ed into *may (never cleared): MEMFIND_HIGH, a byte with
 * the high bit set, and MEMFIND_ESC_U, a backslash followed by a 'u' (or
 * by a byte not given yet: the last of s[0..n) when c is not found). The
 * newline search of an agent's line so tells, from the same loads, that
 * the line needs neither the UTF-8 check nor json_scan_repair's search
 * for "\u", which would be two more passes over every byte of it. A bit
 * may be set for bytes past the one found (in the same 64), or always
 * where there is no SSE2: a false bit only costs the pass it would save;
 * a bit is never missing.
 *
 * memfind2 finds a pair of bytes, with the same contract as memchr.
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

#if defined(__SSE2__)
/*
 * Non-zero if the 64 bytes at s may hold a backslash followed by a 'u':
 * one inside them, or a last byte that is a backslash and the byte after
 * it (s[64], when left, the bytes from s on, is more than 64) a 'u' or
 * not given.
 */
static inline __attribute__((__always_inline__)) int
memfind_esc_u64(const char *s, size_t left)
{
	const __m128i bs = _mm_set1_epi8('\\'), u = _mm_set1_epi8('u');
	__m128i	      x;
	uint64_t      b = 0, v = 0;
	int	      k;

	for (k = 0; k < 64; k += 16) {
		x = _mm_loadu_si128((const void *)(s + k));
		b |=
		    (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, bs))
		    << k;
		v |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, u))
		    << k;
	}
	if ((b & (v >> 1)) != 0)
		return (1);
	return ((b >> 63) != 0 && (left == 64 || s[64] == 'u'));
}

/*
 * Whether s[0..n), the bytes memfind_line looked at 16 at a time, may
 * hold a backslash followed by a 'u'; open: s[n] is not given yet.
 */
static int
memfind_esc_u(const char *s, size_t n, int open)
{
	if (memfind2(s, '\\', 'u', n) != NULL)
		return (1);
	return (open && n > 0 && s[n - 1] == '\\');
}
#endif

const char *
memfind_line(const char *s, int c, size_t n, int *may)
{
#if defined(__SSE2__)
	const __m128i needle = _mm_set1_epi8((char)c);
	const __m128i bs = _mm_set1_epi8('\\');
	__m128i	      a, b, d, e, hit, esc, any = _mm_setzero_si128();
	const char   *q = NULL;
	size_t	      i = 0, tail;
	int	      mask;

	while (n - i >= 64) {
		a = _mm_loadu_si128((const void *)(s + i));
		b = _mm_loadu_si128((const void *)(s + i + 16));
		d = _mm_loadu_si128((const void *)(s + i + 32));
		e = _mm_loadu_si128((const void *)(s + i + 48));
		any = _mm_or_si128(
		    any, _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(d, e)));
		hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, needle),
				       _mm_cmpeq_epi8(b, needle)),
		    _mm_or_si128(
			_mm_cmpeq_epi8(d, needle), _mm_cmpeq_epi8(e, needle)));
		esc = _mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(a, bs), _mm_cmpeq_epi8(b, bs)),
		    _mm_or_si128(_mm_cmpeq_epi8(d, bs), _mm_cmpeq_epi8(e, bs)));
		/* Both are rare in a long text: one test for the two. */
		if (_mm_movemask_epi8(_mm_or_si128(hit, esc)) != 0) {
			if ((*may & MEMFIND_ESC_U) == 0 &&
			    _mm_movemask_epi8(esc) != 0 &&
			    memfind_esc_u64(s + i, n - i))
				*may |= MEMFIND_ESC_U;
			if (_mm_movemask_epi8(hit) != 0)
				break;
		}
		i += 64;
	}
	/* Past the 64-byte steps, or inside the one holding c. */
	tail = n - i >= 64 ? n : i;
	while (n - i >= 16) {
		a = _mm_loadu_si128((const void *)(s + i));
		any = _mm_or_si128(any, a);
		mask = _mm_movemask_epi8(_mm_cmpeq_epi8(a, needle));
		if (mask != 0) {
			q = s + i + __builtin_ctz((unsigned)mask);
			break;
		}
		i += 16;
	}
	if (_mm_movemask_epi8(any) != 0)
		*may |= MEMFIND_HIGH;
	if (q == NULL) {
		q = memchr(s + i, c, n - i);
		for (; i < n && s + i != q; i++)
			if ((unsigned char)s[i] >= 0x80)
				*may |= MEMFIND_HIGH;
	}
	if (tail < n && (*may & MEMFIND_ESC_U) == 0 &&
	    memfind_esc_u(
		s + tail, (q != NULL ? (size_t)(q - s) : n) - tail, q == NULL))
		*may |= MEMFIND_ESC_U;
	return (q);
#else
	*may |= MEMFIND_HIGH | MEMFIND_ESC_U;
	return (memchr(s, c, n));
#endif
}
