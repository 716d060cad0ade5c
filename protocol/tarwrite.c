/*
 * tarwrite.c: the headers of a POSIX tar archive, for session exports.
 *
 * No I/O: the caller writes tarw_header's bytes, then the member's data,
 * then tarw_pad zero bytes, and at the end tarw_end's two zero blocks, so
 * an archive of any size is made with one header's worth of memory.
 *
 * A name that fits ustar (100 bytes, or a prefix of at most 155 and a
 * name of at most 100 split at a '/') is a plain ustar header; a longer
 * name (up to TARW_NAME_MAX) or a size of 8 GiB or more goes first into a
 * pax extended header ('x'), which every tar since POSIX.1-2001 reads (and
 * protocol/tar.c). Numbers are octal with a NUL; the checksum is the
 * unsigned sum of the header with its own field as spaces.
 */
#include <stdio.h>
#include <string.h>

#include "protocol.h"

#define TARW_NAME_LEN	100
#define TARW_PREFIX_LEN 155
#define TARW_SIZE_MAX	077777777777ULL /* 11 octal digits */

/* Write v in octal into a field of len bytes: len-1 digits and a NUL. */
static void
tarw_octal(char *field, size_t len, uint64_t v)
{
	size_t i = len - 1;

	field[i] = '\0';
	while (i > 0) {
		field[--i] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

/* One 512-byte header block, checksummed. */
static void
tarw_block(char *b, const char *name, const char *prefix, char type,
    uint64_t size, unsigned int mode, int64_t mtime)
{
	unsigned int sum = 0;
	size_t	     i;

	memset(b, 0, TARW_BLOCK);
	memcpy(b, name, strlen(name));
	tarw_octal(b + 100, 8, mode & 07777);
	tarw_octal(b + 108, 8, 0); /* uid */
	tarw_octal(b + 116, 8, 0); /* gid */
	tarw_octal(b + 124, 12, size);
	tarw_octal(b + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
	memset(b + 148, ' ', 8);
	b[156] = type;
	memcpy(b + 257, "ustar", 6); /* magic and its NUL */
	memcpy(b + 263, "00", 2);    /* version */
	memcpy(b + 265, "agentd", 6);
	memcpy(b + 297, "agentd", 6);
	if (prefix != NULL)
		memcpy(b + 345, prefix, strlen(prefix));
	for (i = 0; i < TARW_BLOCK; i++)
		sum += (unsigned char)b[i];
	snprintf(b + 148, 8, "%06o", sum & 0777777);
	b[155] = ' ';
}

/*
 * Split name into a ustar prefix and name at a '/'; 0 if it cannot be.
 * The prefix is written into pre (TARW_PREFIX_LEN + 1 bytes).
 */
static int
tarw_split(const char *name, char *pre, const char **rest)
{
	size_t	    len = strlen(name);
	const char *slash;

	if (len <= TARW_NAME_LEN) {
		*pre = '\0';
		*rest = name;
		return (1);
	}
	for (slash = name + len - 1; slash > name; slash--) {
		if (*slash != '/')
			continue;
		if ((size_t)(slash - name) > TARW_PREFIX_LEN)
			continue;
		if (len - (size_t)(slash - name) - 1 > TARW_NAME_LEN ||
		    slash[1] == '\0')
			return (0);
		memcpy(pre, name, (size_t)(slash - name));
		pre[slash - name] = '\0';
		*rest = slash + 1;
		return (1);
	}
	return (0);
}

/* A pax record "LEN key=value\n", whose LEN counts itself. */
static size_t
tarw_pax_record(char *out, size_t cap, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body, digits;

	/* The length's own digits count: settle on a fixed point. */
	for (;;) {
		digits = (size_t)snprintf(NULL, 0, "%zu", len);
		if (body + digits == len)
			break;
		len = body + digits;
	}
	if (len >= cap)
		return (0);
	snprintf(out, cap, "%zu %s=%s\n", len, key, value);
	return (len);
}

/*
 * The header(s) of one member into out (cap bytes, TARW_HEADER_MAX is
 * always enough): type TARW_FILE or TARW_DIR, size bytes of data to
 * follow (0 for a directory). Returns the bytes written, or 0 if the name
 * is empty, longer than TARW_NAME_MAX or holds a newline, or cap is too
 * small.
 */
size_t
tarw_header(char *out, size_t cap, const char *name, char type, uint64_t size,
    unsigned int mode, int64_t mtime)
{
	char	    pre[TARW_PREFIX_LEN + 1], pax[TARW_HEADER_MAX], num[24];
	const char *rest;
	size_t	    len = strlen(name), plen = 0, n, off = 0;
	int	    need_path, need_size;

	if (len == 0 || len > TARW_NAME_MAX || strchr(name, '\n') != NULL ||
	    cap < TARW_BLOCK)
		return (0);
	need_path = !tarw_split(name, pre, &rest);
	need_size = size > TARW_SIZE_MAX;
	if (need_path || need_size) {
		if (need_path) {
			n = tarw_pax_record(pax, sizeof pax, "path", name);
			if (n == 0)
				return (0);
			plen += n;
		}
		if (need_size) {
			snprintf(
			    num, sizeof num, "%llu", (unsigned long long)size);
			n = tarw_pax_record(
			    pax + plen, sizeof pax - plen, "size", num);
			if (n == 0)
				return (0);
			plen += n;
		}
		n = TARW_BLOCK + plen + tarw_pad(plen) + TARW_BLOCK;
		if (n > cap)
			return (0);
		tarw_block(out, "agentd.pax", NULL, 'x', plen, 0644, mtime);
		memcpy(out + TARW_BLOCK, pax, plen);
		off = TARW_BLOCK + plen;
		memset(out + off, 0, tarw_pad(plen));
		off += tarw_pad(plen);
		if (need_path) { /* the pax record names it */
			pre[0] = '\0';
			rest = "agentd.long-name";
		}
	}
	tarw_block(out + off, rest, pre[0] != '\0' ? pre : NULL, type,
	    need_size ? 0 : size, mode, mtime);
	return (off + TARW_BLOCK);
}

/* The zero bytes that pad size bytes of data to a block. */
size_t
tarw_pad(uint64_t size)
{
	return ((size_t)((TARW_BLOCK - size % TARW_BLOCK) % TARW_BLOCK));
}

/* The end of an archive: two zero blocks into out (2 * TARW_BLOCK). */
size_t
tarw_end(char *out)
{
	memset(out, 0, 2 * TARW_BLOCK);
	return (2 * TARW_BLOCK);
}
