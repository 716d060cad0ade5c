/*
 * base64.c: RFC 4648 base64 (the standard alphabet, with padding), for
 * process output in log entries and the input clients send to a process.
 *
 * Decoding is strict: only the alphabet, '=' only at the end and only as
 * much as the length calls for; a missing padding is accepted (clients
 * often strip it). Whitespace is not: nothing sends it.
 */
#include <string.h>

#include "protocol.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Length of the encoding of n bytes, without its NUL. */
size_t
base64_encoded_len(size_t n)
{
	return ((n + 2) / 3 * 4);
}

/*
 * Two output characters for every 12 bits, built on first use: a process
 * that prints at disk speed has every byte of its output encoded, and a
 * pair at a time is about twice as fast as one.
 */
static uint16_t base64_pairs[4096];

static void
base64_pairs_init(void)
{
	unsigned int i;

	for (i = 0; i < 4096; i++)
		memcpy(&base64_pairs[i],
		    (const char[2]){
			base64_alphabet[i >> 6], base64_alphabet[i & 63] },
		    2);
}

/* Encode into out (base64_encoded_len(n) bytes, no NUL); its length. */
size_t
base64_encode_to(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	char		    *o = out;
	uint32_t	     v;
	size_t		     i;

	if (base64_pairs[0] == 0)
		base64_pairs_init();
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		memcpy(o, &base64_pairs[v >> 12], 2);
		memcpy(o + 2, &base64_pairs[v & 0xfff], 2);
		o += 4;
	}
	if (i < n) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		*o++ = base64_alphabet[v >> 18];
		*o++ = base64_alphabet[(v >> 12) & 63];
		*o++ = i + 1 < n ? base64_alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	return ((size_t)(o - out));
}

/* Encode; the result is NUL-terminated and malloc'd, *outlen its length. */
char *
base64_encode(const void *in, size_t n, size_t *outlen)
{
	char  *out;
	size_t len;

	out = xmalloc(base64_encoded_len(n) + 1);
	len = base64_encode_to(in, n, out);
	out[len] = '\0';
	if (outlen != NULL)
		*outlen = len;
	return (out);
}

static int
base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

/*
 * Decode len characters into out, which has room for len / 4 * 3 + 2
 * bytes; *outlen is the count. -1 if the text is not base64.
 */
int
base64_decode(const char *in, size_t len, unsigned char *out, size_t *outlen)
{
	uint32_t v = 0;
	size_t	 i, n = 0, bits = 0, pad = 0;
	int	 d;

	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if ((len + pad) % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
		return (-1);
	for (i = 0; i < len; i++) {
		if ((d = base64_value(in[i])) < 0)
			return (-1);
		v = v << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(v >> bits);
			v &= (1U << bits) - 1;
		}
	}
	if (v != 0)
		return (-1); /* bits left over that a writer would not set */
	*outlen = n;
	return (0);
}
