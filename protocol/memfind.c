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
 */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "protocol.h"

const char *
memfind(const char *s, int c, size_t n)
{
#if defined(__SSE2__)
	const __m128i needle = _mm_set1_epi8((char)c);
	__m128i	      a, b, d, e;
	size_t	      i = 0;
	int	      mask;

	while (n - i >= 64) {
		a = _mm_cmpeq_epi8(
		    _mm_loadu_si128((const void *)(s + i)), needle);
		b = _mm_cmpeq_epi8(
		    _mm_loadu_si128((const void *)(s + i + 16)), needle);
		d = _mm_cmpeq_epi8(
		    _mm_loadu_si128((const void *)(s + i + 32)), needle);
		e = _mm_cmpeq_epi8(
		    _mm_loadu_si128((const void *)(s + i + 48)), needle);
		if (_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(a, b), _mm_or_si128(d, e))) != 0)
			break;
		i += 64;
	}
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
