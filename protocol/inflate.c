/*
 * inflate.c: gzip (RFC 1952) around deflate (RFC 1951), decoded whole.
 *
 * The inspector's files are built into agentd gzipped; a client that does
 * not accept gzip gets them decoded here. Pure and bounded: the output
 * never exceeds the caller's cap, every read is checked against the
 * input's end, and a malformed stream is an error, never a crash. No
 * third-party library: agentd links only lws, libev and cJSON.
 *
 * Huffman codes are canonical (RFC 1951 3.2.2); they are decoded one bit
 * at a time against counts per length, as zlib's contrib/puff does: slow
 * next to zlib, ample for a few hundred KiB served now and then.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define INFLATE_MAXBITS 15
#define INFLATE_NLEN	286 /* literal/length codes a block may define */
#define INFLATE_NFIXED	288 /* the fixed code has two more, never used */
#define INFLATE_NDIST	30

struct inflate_state {
	const unsigned char *in;
	size_t		     inlen;
	size_t		     inpos;
	unsigned int	     bitbuf;
	int		     bitcnt;
	unsigned char	    *out;
	size_t		     outlen;
	size_t		     outcap;
};

struct inflate_huff {
	short count[INFLATE_MAXBITS + 1]; /* codes of each length */
	short symbol[INFLATE_NFIXED];	  /* symbols by code order */
};

/* Take n bits (LSB first); -1 past the end of the input. */
static int
inflate_bits(struct inflate_state *s, int n)
{
	long v = s->bitbuf;

	while (s->bitcnt < n) {
		if (s->inpos == s->inlen)
			return (-1);
		v |= (long)s->in[s->inpos++] << s->bitcnt;
		s->bitcnt += 8;
	}
	s->bitbuf = (unsigned int)(v >> n);
	s->bitcnt -= n;
	return ((int)(v & ((1L << n) - 1)));
}

static int
inflate_put(struct inflate_state *s, unsigned char c)
{
	if (s->outlen == s->outcap)
		return (-1);
	s->out[s->outlen++] = c;
	return (0);
}

/* A stored block: LEN, NLEN, then LEN bytes as they are. */
static int
inflate_stored(struct inflate_state *s)
{
	unsigned int len;

	s->bitbuf = 0;
	s->bitcnt = 0;
	if (s->inlen - s->inpos < 4)
		return (-1);
	len = s->in[s->inpos] | (unsigned int)s->in[s->inpos + 1] << 8;
	if ((~len & 0xffff) !=
	    (s->in[s->inpos + 2] | (unsigned int)s->in[s->inpos + 3] << 8))
		return (-1);
	s->inpos += 4;
	if (s->inlen - s->inpos < len || s->outcap - s->outlen < len)
		return (-1);
	memcpy(s->out + s->outlen, s->in + s->inpos, len);
	s->inpos += len;
	s->outlen += len;
	return (0);
}

/* Build a decoding table from code lengths; -1 if over-subscribed. */
static int
inflate_build(struct inflate_huff *h, const short *length, int n)
{
	short offs[INFLATE_MAXBITS + 1];
	int   sym, len, left;

	memset(h->count, 0, sizeof h->count);
	for (sym = 0; sym < n; sym++)
		h->count[length[sym]]++;
	if (h->count[0] == n)
		return (0); /* no codes: a complete, empty table */
	left = 1;
	for (len = 1; len <= INFLATE_MAXBITS; len++) {
		left <<= 1;
		left -= h->count[len];
		if (left < 0)
			return (-1);
	}
	offs[1] = 0;
	for (len = 1; len < INFLATE_MAXBITS; len++)
		offs[len + 1] = (short)(offs[len] + h->count[len]);
	for (sym = 0; sym < n; sym++) {
		if (length[sym] != 0)
			h->symbol[offs[length[sym]]++] = (short)sym;
	}
	return (left);
}

/* Decode one symbol, a bit at a time; -1 on bad input. */
static int
inflate_decode(struct inflate_state *s, const struct inflate_huff *h)
{
	int code = 0, first = 0, index = 0, len, count, bit;

	for (len = 1; len <= INFLATE_MAXBITS; len++) {
		if ((bit = inflate_bits(s, 1)) < 0)
			return (-1);
		code |= bit;
		count = h->count[len];
		if (code - count < first)
			return (h->symbol[index + (code - first)]);
		index += count;
		first += count;
		first <<= 1;
		code <<= 1;
	}
	return (-1);
}

/* Literals and length/distance pairs until end-of-block (256). */
static int
inflate_codes(struct inflate_state *s, const struct inflate_huff *lencode,
    const struct inflate_huff *distcode)
{
	static const short lbase[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15,
		17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
		195, 227, 258 };
	static const short lext[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2,
		2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
	static const short dbase[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33,
		49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
		3073, 4097, 6145, 8193, 12289, 16385, 24577 };
	static const short dext[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5,
		5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
	int		   sym, e;
	size_t		   len, dist;

	for (;;) {
		if ((sym = inflate_decode(s, lencode)) < 0)
			return (-1);
		if (sym < 256) {
			if (inflate_put(s, (unsigned char)sym) != 0)
				return (-1);
			continue;
		}
		if (sym == 256)
			return (0);
		sym -= 257;
		if (sym >= 29 || (e = inflate_bits(s, lext[sym])) < 0)
			return (-1);
		len = (size_t)lbase[sym] + (size_t)e;
		if ((sym = inflate_decode(s, distcode)) < 0 || sym >= 30 ||
		    (e = inflate_bits(s, dext[sym])) < 0)
			return (-1);
		dist = (size_t)dbase[sym] + (size_t)e;
		if (dist > s->outlen || s->outcap - s->outlen < len)
			return (-1);
		for (; len > 0; len--, s->outlen++)
			s->out[s->outlen] = s->out[s->outlen - dist];
	}
}

static int
inflate_fixed(struct inflate_state *s)
{
	struct inflate_huff lencode, distcode;
	short		    lengths[INFLATE_NFIXED];
	int		    sym;

	/*
	 * All 288 symbols take part: 286 and 287 never occur, but their
	 * 8-bit codes come before the 9-bit ones in canonical order.
	 */
	for (sym = 0; sym < 144; sym++)
		lengths[sym] = 8;
	for (; sym < 256; sym++)
		lengths[sym] = 9;
	for (; sym < 280; sym++)
		lengths[sym] = 7;
	for (; sym < INFLATE_NFIXED; sym++)
		lengths[sym] = 8;
	(void)inflate_build(&lencode, lengths, INFLATE_NFIXED);
	for (sym = 0; sym < INFLATE_NDIST; sym++)
		lengths[sym] = 5;
	(void)inflate_build(&distcode, lengths, INFLATE_NDIST);
	return (inflate_codes(s, &lencode, &distcode));
}

/* Code lengths, themselves Huffman coded (RFC 1951 3.2.7). */
static int
inflate_dynamic(struct inflate_state *s)
{
	static const short  order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11,
		 4, 12, 3, 13, 2, 14, 1, 15 };
	struct inflate_huff lencode, distcode;
	short		    lengths[INFLATE_NLEN + INFLATE_NDIST];
	int		    nlen, ndist, ncode, index, sym, len, rep;

	if ((nlen = inflate_bits(s, 5)) < 0 ||
	    (ndist = inflate_bits(s, 5)) < 0 ||
	    (ncode = inflate_bits(s, 4)) < 0)
		return (-1);
	nlen += 257;
	ndist += 1;
	ncode += 4;
	if (nlen > INFLATE_NLEN || ndist > INFLATE_NDIST)
		return (-1);
	memset(lengths, 0, sizeof lengths);
	for (index = 0; index < ncode; index++) {
		if ((len = inflate_bits(s, 3)) < 0)
			return (-1);
		lengths[order[index]] = (short)len;
	}
	if (inflate_build(&lencode, lengths, 19) != 0)
		return (-1); /* the code-length code must be complete */
	for (index = 0; index < nlen + ndist;) {
		if ((sym = inflate_decode(s, &lencode)) < 0)
			return (-1);
		if (sym < 16) {
			lengths[index++] = (short)sym;
			continue;
		}
		len = 0;
		if (sym == 16) {
			if (index == 0 || (rep = inflate_bits(s, 2)) < 0)
				return (-1);
			len = lengths[index - 1];
			rep += 3;
		} else if (sym == 17) {
			if ((rep = inflate_bits(s, 3)) < 0)
				return (-1);
			rep += 3;
		} else {
			if ((rep = inflate_bits(s, 7)) < 0)
				return (-1);
			rep += 11;
		}
		if (index + rep > nlen + ndist)
			return (-1);
		while (rep-- > 0)
			lengths[index++] = (short)len;
	}
	if (lengths[256] == 0)
		return (-1); /* no end-of-block code */
	if (inflate_build(&lencode, lengths, nlen) < 0 ||
	    inflate_build(&distcode, lengths + nlen, ndist) < 0)
		return (-1);
	return (inflate_codes(s, &lencode, &distcode));
}

/*
 * Decode a gzip member (one, as gzip -n writes) of at most max bytes.
 * Returns the malloc'd bytes and their length in *outlen, or NULL.
 */
unsigned char *
inflate_gzip(const unsigned char *in, size_t len, size_t max, size_t *outlen)
{
	struct inflate_state s;
	size_t		     pos = 10, isize;
	int		     flg, last, type, rv = 0;

	if (len < 18 || in[0] != 0x1f || in[1] != 0x8b || in[2] != 8)
		return (NULL);
	flg = in[3];
	if (flg & 0xe0)
		return (NULL); /* reserved flags */
	if (flg & 0x04) {      /* FEXTRA */
		if (len - pos < 2)
			return (NULL);
		pos += 2 + (in[pos] | (size_t)in[pos + 1] << 8);
	}
	if (flg & 0x08) /* FNAME */
		while (pos < len && in[pos++] != 0)
			;
	if (flg & 0x10) /* FCOMMENT */
		while (pos < len && in[pos++] != 0)
			;
	if (flg & 0x02) /* FHCRC */
		pos += 2;
	if (pos >= len - 8)
		return (NULL);
	isize = in[len - 4] | (size_t)in[len - 3] << 8 |
	    (size_t)in[len - 2] << 16 | (size_t)in[len - 1] << 24;
	if (isize > max)
		return (NULL);
	memset(&s, 0, sizeof s);
	s.in = in + pos;
	s.inlen = len - 8 - pos;
	s.outcap = isize;
	s.out = xmalloc(isize + 1);
	do {
		/* Block type 3 is reserved: a malformed stream. */
		if ((last = inflate_bits(&s, 1)) < 0 ||
		    (type = inflate_bits(&s, 2)) < 0 || type == 3)
			rv = -1;
		else if (type == 0)
			rv = inflate_stored(&s);
		else if (type == 1)
			rv = inflate_fixed(&s);
		else
			rv = inflate_dynamic(&s);
	} while (rv == 0 && !last);
	if (rv != 0 || s.outlen != isize) {
		free(s.out);
		return (NULL);
	}
	*outlen = s.outlen;
	return (s.out);
}
