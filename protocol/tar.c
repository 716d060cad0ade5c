/*
 * tar.c: an incremental, capped reader of tar archives (POSIX ustar and
 * pax, GNU long names, old v7 headers), for POST /v1/fs/upload-batch.
 *
 * Bytes go in with tar_feed in pieces of any size; the reader calls back
 * with each entry's header (entry), its data in the pieces it arrived in
 * (data), and the end of its data (end). Nothing but one 512-byte header
 * block and the text of the extended headers that name the next entry
 * (pax 'x', GNU 'L' and 'K') is ever buffered, and that text is capped at
 * TAR_EXT_MAX: a 1 GiB member passes through without being held.
 *
 * Checked: every header's checksum (unsigned, or the signed sum old tars
 * wrote), numbers (octal, or GNU base-256 for sizes over 8 GiB; no
 * overflow), names (no NUL inside, at most TAR_NAME_MAX bytes) and pax
 * records (well-formed lengths). A header that fails is an error: the
 * archive is damaged or not a tar at all, and nothing after it can be
 * trusted. The archive ends at two zero blocks; anything after them is
 * ignored. tar_finish tells an archive cut short from a whole one.
 *
 * The reader does not judge names: whether "../x" or "/etc/x" may be
 * written is the caller's business (session/fs.c refuses both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define TAR_BLOCK    512
#define TAR_EXT_MAX  (64 * 1024) /* pax or GNU long-name text */
#define TAR_NAME_MAX 4095	 /* PATH_MAX less its NUL */

enum tar_state {
	TAR_HEADER, /* collecting a header block */
	TAR_DATA,   /* passing an entry's data on */
	TAR_EXT,    /* collecting an extended header's text */
	TAR_SKIP,   /* skipping data nobody wants (pax 'g') */
	TAR_PAD,    /* skipping to the next block boundary */
	TAR_END,    /* after the two zero blocks */
	TAR_FAILED
};

struct tar {
	const struct tar_cbs *cbs;
	void		     *arg;
	enum tar_state	      state;
	char		      block[TAR_BLOCK];
	size_t		      have;	/* bytes in block */
	uint64_t	      size;	/* of the entry being read */
	uint64_t	      left;	/* of the data or text being read */
	uint64_t	      pad;	/* bytes of padding still to skip */
	int		      zeros;	/* zero blocks in a row */
	char		      ext_type; /* 'x', 'L' or 'K' being collected */
	char		     *ext;
	size_t		      ext_len;

	/* What extended headers said of the next entry. */
	char	*next_name;
	char	*next_link;
	int	 next_has_size;
	uint64_t next_size;
	int	 next_has_mtime;
	int64_t	 next_mtime;

	char error[160];
};

static int tar_fail(struct tar *, const char *, ...) __printflike(2, 3);

struct tar *
tar_new(const struct tar_cbs *cbs, void *arg)
{
	struct tar *t;

	t = xcalloc(1, sizeof *t);
	t->cbs = cbs;
	t->arg = arg;
	return (t);
}

static void
tar_clear_next(struct tar *t)
{
	free(t->next_name);
	free(t->next_link);
	t->next_name = t->next_link = NULL;
	t->next_has_size = t->next_has_mtime = 0;
}

void
tar_free(struct tar *t)
{
	if (t == NULL)
		return;
	tar_clear_next(t);
	free(t->ext);
	free(t);
}

const char *
tar_error(const struct tar *t)
{
	return (t->error[0] != '\0' ? t->error : "no error");
}

static int
tar_fail(struct tar *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(t->error, sizeof t->error, fmt, ap);
	va_end(ap);
	t->state = TAR_FAILED;
	return (-1);
}

/*
 * A numeric field: octal digits, maybe led by spaces and ended by a space
 * or NUL; or, with the top bit of the first byte set, a big-endian
 * base-256 number (GNU, for values that do not fit in octal). -1 if it is
 * neither, or does not fit in 63 bits.
 */
static int
tar_number(const char *field, size_t len, uint64_t *out)
{
	const unsigned char *p = (const unsigned char *)field;
	uint64_t	     v = 0;
	size_t		     i = 0;

	if (len > 0 && (p[0] & 0x80)) {
		if (p[0] != 0x80)
			return (-1); /* negative, or too big */
		for (i = 1; i < len; i++) {
			if (v >> 55)
				return (-1);
			v = (v << 8) | p[i];
		}
		*out = v;
		return (0);
	}
	while (i < len && p[i] == ' ')
		i++;
	for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return (-1);
		v = (v << 3) | (uint64_t)(p[i] - '0');
	}
	for (; i < len; i++) {
		if (p[i] != ' ' && p[i] != '\0')
			return (-1);
	}
	*out = v;
	return (0);
}

/* Is the block's checksum right (unsigned sum, or the old signed one)? */
static int
tar_checksum_ok(const char *b)
{
	const unsigned char *u = (const unsigned char *)b;
	uint64_t	     want;
	long		     usum = 0, ssum = 0;
	size_t		     i;

	if (tar_number(b + 148, 8, &want) != 0)
		return (0);
	for (i = 0; i < TAR_BLOCK; i++) {
		if (i >= 148 && i < 156) {
			usum += ' ';
			ssum += ' ';
		} else {
			usum += u[i];
			ssum += (signed char)u[i];
		}
	}
	return (
	    (uint64_t)usum == want || (ssum >= 0 && (uint64_t)ssum == want));
}

/* A NUL-padded text field as a string (it may fill the field). */
static void
tar_field(const char *field, size_t len, char *out)
{
	size_t n = strnlen(field, len);

	memcpy(out, field, n);
	out[n] = '\0';
}

/*
 * One pax record set: "LEN key=value\n" repeated, LEN counting the whole
 * record. path, linkpath, size and mtime are kept for the next entry;
 * other keys are ignored.
 */
static int
tar_pax(struct tar *t, const char *p, size_t len)
{
	const char *rec, *key, *eq, *val, *end;
	uint64_t    n, v;
	size_t	    klen, vlen, i;

	while (len > 0) {
		n = 0;
		for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
			n = n * 10 + (uint64_t)(p[i] - '0');
			if (n > len)
				return (tar_fail(t, "pax record too long"));
		}
		if (i == 0 || i >= len || p[i] != ' ' || n <= i + 1 ||
		    n > len || p[n - 1] != '\n')
			return (tar_fail(t, "malformed pax record"));
		rec = p;
		key = rec + i + 1;
		end = rec + n - 1;
		if ((eq = memchr(key, '=', (size_t)(end - key))) == NULL)
			return (tar_fail(t, "pax record without '='"));
		klen = (size_t)(eq - key);
		val = eq + 1;
		vlen = (size_t)(end - val);
		if (klen == 4 && memcmp(key, "path", 4) == 0) {
			if (vlen > TAR_NAME_MAX || memchr(val, '\0', vlen))
				return (tar_fail(t, "bad pax path"));
			free(t->next_name);
			t->next_name = xstrndup(val, vlen);
		} else if (klen == 8 && memcmp(key, "linkpath", 8) == 0) {
			if (vlen > TAR_NAME_MAX || memchr(val, '\0', vlen))
				return (tar_fail(t, "bad pax linkpath"));
			free(t->next_link);
			t->next_link = xstrndup(val, vlen);
		} else if (klen == 4 && memcmp(key, "size", 4) == 0) {
			v = 0;
			for (i = 0; i < vlen; i++) {
				if (val[i] < '0' || val[i] > '9' || v >> 59)
					return (tar_fail(t, "bad pax size"));
				v = v * 10 + (uint64_t)(val[i] - '0');
			}
			if (vlen == 0)
				return (tar_fail(t, "bad pax size"));
			t->next_has_size = 1;
			t->next_size = v;
		} else if (klen == 5 && memcmp(key, "mtime", 5) == 0) {
			/* Seconds, maybe with a fraction: keep the seconds. */
			v = 0;
			for (i = 0; i < vlen && val[i] >= '0' && val[i] <= '9';
			     i++) {
				if (v >> 59)
					break;
				v = v * 10 + (uint64_t)(val[i] - '0');
			}
			if (i > 0) {
				t->next_has_mtime = 1;
				t->next_mtime = (int64_t)v;
			}
		}
		p += n;
		len -= n;
	}
	return (0);
}

/* An extended header's text is complete: apply it to the next entry. */
static int
tar_ext_done(struct tar *t)
{
	size_t len;
	char **slot;

	if (t->ext_type == 'x')
		return (tar_pax(t, t->ext, t->ext_len));
	/* GNU 'L' / 'K': the name, usually NUL-terminated. */
	len = strnlen(t->ext, t->ext_len);
	if (len == 0 || len > TAR_NAME_MAX)
		return (tar_fail(t, "bad GNU long name"));
	slot = t->ext_type == 'L' ? &t->next_name : &t->next_link;
	free(*slot);
	*slot = xstrndup(t->ext, len);
	return (0);
}

static void
tar_after_data(struct tar *t, uint64_t size)
{
	t->pad = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
	t->state = t->pad > 0 ? TAR_PAD : TAR_HEADER;
}

/* A complete header block. Returns 0, 1 (a callback stopped) or -1. */
static int
tar_header(struct tar *t)
{
	struct tar_entry e;
	char		 name[TAR_NAME_MAX + 1], link[TAR_NAME_MAX + 1];
	char		 prefix[156], base[101];
	uint64_t	 size, mode, mtime;
	char		 type;
	int		 ustar;
	size_t		 i;

	for (i = 0; i < TAR_BLOCK && t->block[i] == '\0'; i++)
		;
	if (i == TAR_BLOCK) {
		if (++t->zeros == 2)
			t->state = TAR_END;
		return (0);
	}
	if (t->zeros > 0)
		return (tar_fail(t, "a lone zero block inside the archive"));
	if (!tar_checksum_ok(t->block))
		return (tar_fail(t,
		    "header checksum mismatch (not a tar, "
		    "or damaged)"));
	if (tar_number(t->block + 124, 12, &size) != 0 ||
	    tar_number(t->block + 100, 8, &mode) != 0 ||
	    tar_number(t->block + 136, 12, &mtime) != 0)
		return (tar_fail(t, "malformed number in a header"));
	type = t->block[156];
	ustar = memcmp(t->block + 257, "ustar", 5) == 0;

	if (type == 'x' || type == 'L' || type == 'K') {
		if (size > TAR_EXT_MAX)
			return (tar_fail(
			    t, "extended header over %d bytes", TAR_EXT_MAX));
		t->ext_type = type;
		t->ext = xrealloc(t->ext, size + 1);
		t->ext_len = 0;
		t->left = size;
		t->pad = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
		t->state = TAR_EXT;
		if (size == 0) {
			t->ext[0] = '\0';
			if (tar_ext_done(t) != 0)
				return (-1);
			tar_after_data(t, 0);
		}
		return (0);
	}
	if (type == 'g') { /* global pax header: nothing we use */
		t->size = t->left = size;
		t->state = TAR_SKIP;
		if (size == 0)
			tar_after_data(t, 0);
		return (0);
	}

	if (t->next_name != NULL)
		(void)snprintf(name, sizeof name, "%s", t->next_name);
	else {
		tar_field(t->block, 100, base);
		prefix[0] = '\0';
		if (ustar)
			tar_field(t->block + 345, 155, prefix);
		(void)snprintf(name, sizeof name, "%s%s%s", prefix,
		    prefix[0] != '\0' ? "/" : "", base);
	}
	if (name[0] == '\0') {
		tar_clear_next(t);
		return (tar_fail(t, "an entry without a name"));
	}
	/* Copies: what extended headers said is freed below. */
	if (t->next_link != NULL)
		(void)snprintf(link, sizeof link, "%s", t->next_link);
	else
		tar_field(t->block + 157, 100, link);
	if (t->next_has_size)
		size = t->next_size;
	if (t->next_has_mtime)
		mtime = (uint64_t)t->next_mtime;

	memset(&e, 0, sizeof e);
	e.name = name;
	e.link = link;
	e.mode = (unsigned int)(mode & 07777);
	e.mtime = (int64_t)mtime;
	switch (type) {
	case '0':
	case '\0':
	case '7':
		e.type = TAR_FILE;
		/* v7 tars mark directories with a trailing slash. */
		if (name[strlen(name) - 1] == '/')
			e.type = TAR_DIR;
		break;
	case '1':
		e.type = TAR_HARDLINK;
		break;
	case '2':
		e.type = TAR_SYMLINK;
		break;
	case '5':
		e.type = TAR_DIR;
		break;
	default:
		e.type = TAR_OTHER;
		break;
	}
	/* Links and directories carry no data, whatever the size says. */
	if (e.type == TAR_HARDLINK || e.type == TAR_SYMLINK ||
	    e.type == TAR_DIR)
		size = 0;
	e.size = size;
	tar_clear_next(t);
	if ((e.type == TAR_HARDLINK || e.type == TAR_SYMLINK) &&
	    e.link[0] == '\0')
		return (tar_fail(t, "%s: a link without a target", name));

	t->size = t->left = size;
	t->state = TAR_DATA;
	if (t->cbs->entry(t->arg, &e) != 0)
		return (1);
	if (size == 0) {
		tar_after_data(t, 0);
		if (t->cbs->end(t->arg) != 0)
			return (1);
	}
	return (0);
}

/*
 * Feed the next bytes. Returns 0, -1 on a malformed archive (tar_error
 * says why; every later call fails too), or 1 if a callback returned
 * non-zero (the reader stops there; the caller knows why).
 */
int
tar_feed(struct tar *t, const char *buf, size_t len)
{
	size_t n;
	int    r;

	while (len > 0) {
		switch (t->state) {
		case TAR_FAILED:
			return (-1);
		case TAR_END:
			return (0); /* what follows the end is ignored */
		case TAR_HEADER:
			n = TAR_BLOCK - t->have;
			if (n > len)
				n = len;
			memcpy(t->block + t->have, buf, n);
			t->have += n;
			buf += n;
			len -= n;
			if (t->have < TAR_BLOCK)
				break;
			t->have = 0;
			if ((r = tar_header(t)) != 0)
				return (r);
			break;
		case TAR_DATA:
			n = t->left < len ? (size_t)t->left : len;
			t->left -= n;
			if (n > 0 && t->cbs->data(t->arg, buf, n) != 0)
				return (1);
			buf += n;
			len -= n;
			if (t->left == 0) {
				tar_after_data(t, t->size);
				if (t->cbs->end(t->arg) != 0)
					return (1);
			}
			break;
		case TAR_EXT:
			n = t->left < len ? (size_t)t->left : len;
			memcpy(t->ext + t->ext_len, buf, n);
			t->ext_len += n;
			t->left -= n;
			buf += n;
			len -= n;
			if (t->left == 0) {
				t->ext[t->ext_len] = '\0';
				if (tar_ext_done(t) != 0)
					return (-1);
				t->state = t->pad > 0 ? TAR_PAD : TAR_HEADER;
			}
			break;
		case TAR_SKIP:
			n = t->left < len ? (size_t)t->left : len;
			t->left -= n;
			buf += n;
			len -= n;
			if (t->left == 0)
				tar_after_data(t, t->size);
			break;
		case TAR_PAD:
			n = t->pad < len ? (size_t)t->pad : len;
			t->pad -= n;
			buf += n;
			len -= n;
			if (t->pad == 0)
				t->state = TAR_HEADER;
			break;
		}
	}
	return (0);
}

/*
 * The input is over. 0 if the archive ended cleanly: at its end marker,
 * or (as some writers leave it) at a block boundary after a whole entry.
 * -1 if it was cut short or damaged.
 */
int
tar_finish(struct tar *t)
{
	if (t->state == TAR_FAILED)
		return (-1);
	if (t->state == TAR_END ||
	    (t->state == TAR_HEADER && t->have == 0 && t->zeros == 0 &&
		t->next_name == NULL && t->next_link == NULL &&
		!t->next_has_size))
		return (0);
	if (t->state == TAR_HEADER && t->have == 0 && t->zeros == 1)
		return (0); /* one end block of two: GNU tar accepts it */
	return (tar_fail(t, "the archive is cut short"));
}
