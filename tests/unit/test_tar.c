/*
 * test_tar.c: protocol/tar.c, the incremental tar reader, and
 * protocol/base64.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

/* An archive being built, and what the reader said of it. */
struct tbuf {
	char  *p;
	size_t len;
};

static void
put(struct tbuf *b, const void *p, size_t len)
{
	b->p = realloc(b->p, b->len + len);
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* A ustar header; size_field NULL means octal of size. */
static void
header(struct tbuf *b, const char *name, char type, size_t size,
    const char *link, const char *prefix, int bad_sum)
{
	char	     h[512];
	unsigned int sum = 0;
	size_t	     i;

	memset(h, 0, sizeof h);
	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
	snprintf(h + 100, 8, "%07o", 0644);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011zo", size);
	snprintf(h + 136, 12, "%011o", 1700000000);
	h[156] = type;
	if (link != NULL)
		memcpy(h + 157, link, strlen(link));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (prefix != NULL)
		memcpy(h + 345, prefix, strlen(prefix));
	memset(h + 148, ' ', 8);
	for (i = 0; i < sizeof h; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum + (bad_sum ? 1 : 0));
	h[155] = ' ';
	put(b, h, sizeof h);
}

static void
data(struct tbuf *b, const char *p, size_t len)
{
	char zero[512];

	memset(zero, 0, sizeof zero);
	put(b, p, len);
	if (len % 512 != 0)
		put(b, zero, 512 - len % 512);
}

static void
end(struct tbuf *b)
{
	char zero[1024];

	memset(zero, 0, sizeof zero);
	put(b, zero, sizeof zero);
}

/* What the callbacks saw, as text: "F name 3:abc|D dir/|" … */
struct seen {
	char   text[8192];
	size_t len;
	int    stop_at_entry; /* return 1 from the Nth entry (1-based) */
	int    entries;
};

static void say(struct seen *s, const char *fmt, ...)
    __attribute__((__format__(__printf__, 2, 3)));

static void
say(struct seen *s, const char *fmt, ...)
{
	va_list ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(s->text + s->len, sizeof s->text - s->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len += (size_t)n;
	if (s->len >= sizeof s->text)
		abort();
}

static int
on_entry(void *arg, const struct tar_entry *e)
{
	static const char types[] = "FDSHO";
	struct seen	 *s = arg;

	say(s, "%c %s%s%s %llu:", types[e->type], e->name,
	    e->link[0] != '\0' ? ">" : "", e->link,
	    (unsigned long long)e->size);
	return (++s->entries == s->stop_at_entry);
}

static int
on_data(void *arg, const char *p, size_t len)
{
	say(arg, "%.*s", (int)len, p);
	return (0);
}

static int
on_end(void *arg)
{
	say(arg, "|");
	return (0);
}

static const struct tar_cbs cbs = { on_entry, on_data, on_end };

/* Feed b in pieces of step bytes; return tar_feed's last or finish's. */
static int
read_all(
    const struct tbuf *b, size_t step, struct seen *s, char *err, size_t errlen)
{
	struct tar *t = tar_new(&cbs, s);
	size_t	    off, n;
	int	    r = 0;

	for (off = 0; off < b->len && r == 0; off += n) {
		n = b->len - off < step ? b->len - off : step;
		r = tar_feed(t, b->p + off, n);
	}
	if (r == 0)
		r = tar_finish(t);
	snprintf(err, errlen, "%s", tar_error(t));
	tar_free(t);
	return (r);
}

static struct tbuf
sample(void)
{
	struct tbuf b = { NULL, 0 };

	header(&b, "dir/", '5', 0, NULL, NULL, 0);
	header(&b, "dir/a.txt", '0', 3, NULL, NULL, 0);
	data(&b, "abc", 3);
	header(&b, "link", '2', 0, "dir/a.txt", NULL, 0);
	header(&b, "b.bin", '0', 600, NULL, "deep/er", 0);
	{
		char big[600];

		memset(big, 'x', sizeof big);
		big[599] = 'y';
		data(&b, big, sizeof big);
	}
	header(&b, "hard", '1', 0, "dir/a.txt", NULL, 0);
	header(&b, "fifo", '6', 0, NULL, NULL, 0);
	end(&b);
	return (b);
}

TEST(test_entries_in_any_piece_size)
{
	static const size_t steps[] = { 1, 7, 511, 512, 513, 4096, 1 << 20 };
	struct tbuf	    b = sample();
	char		    want[8192], err[160];
	size_t		    i;

	snprintf(want, sizeof want,
	    "D dir/ 0:|F dir/a.txt 3:abc|S link>dir/a.txt 0:|"
	    "F deep/er/b.bin 600:%.*sy|H hard>dir/a.txt 0:|O fifo 0:|",
	    599,
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	for (i = 0; i < nitems(steps); i++) {
		struct seen s;

		memset(&s, 0, sizeof s);
		CHECK_INT(read_all(&b, steps[i], &s, err, sizeof err), 0);
		CHECK_STR(s.text, want);
	}
	free(b.p);
}

TEST(test_pax_and_gnu_names)
{
	struct tbuf b = { NULL, 0 };
	struct seen s;
	char	    rec[512], err[160], longname[300];
	int	    n;

	memset(longname, 'n', sizeof longname);
	longname[sizeof longname - 1] = '\0';
	/* GNU 'L': a 299-byte name, NUL-terminated. */
	header(&b, "././@LongLink", 'L', sizeof longname, NULL, NULL, 0);
	data(&b, longname, sizeof longname);
	header(&b, "short", '0', 2, NULL, NULL, 0);
	data(&b, "hi", 2);
	/* pax: path with spaces and UTF-8, size overriding the header's. */
	n = snprintf(rec, sizeof rec, "%d path=caf\xc3\xa9 au lait.txt\n",
	    (int)strlen(" path=caf\xc3\xa9 au lait.txt\n") + 2);
	n += snprintf(rec + n, sizeof rec - (size_t)n, "10 size=4\n");
	n += snprintf(rec + n, sizeof rec - (size_t)n, "19 comment=ignored\n");
	header(&b, "PaxHeaders/x", 'x', (size_t)n, NULL, NULL, 0);
	data(&b, rec, (size_t)n);
	header(&b, "truncated-name", '0', 99, NULL, NULL, 0);
	data(&b, "abcd", 4);
	/* A global header changes nothing. */
	header(&b, "global", 'g', 10, NULL, NULL, 0);
	data(&b, "9 a=bcde\n\n", 10);
	header(&b, "last", '0', 0, NULL, NULL, 0);
	/* Link targets from a pax linkpath and a GNU 'K'. */
	n = snprintf(rec, sizeof rec, "%d linkpath=%s\n",
	    (int)strlen(" linkpath=\n") + 3 + 150, longname + 149);
	header(&b, "PaxHeaders/y", 'x', (size_t)n, NULL, NULL, 0);
	data(&b, rec, (size_t)n);
	header(&b, "plink", '2', 0, "short-target", NULL, 0);
	header(&b, "././@LongLink", 'K', 7, NULL, NULL, 0);
	data(&b, "k-link", 7);
	header(&b, "klink", '1', 0, "ignored", NULL, 0);
	end(&b);

	memset(&s, 0, sizeof s);
	CHECK_INT(read_all(&b, 3, &s, err, sizeof err), 0);
	{
		char want[1024];

		snprintf(want, sizeof want,
		    "F %s 2:hi|F caf\xc3\xa9 au lait.txt 4:abcd|F last 0:|"
		    "S plink>%s 0:|H klink>k-link 0:|",
		    longname, longname + 149);
		CHECK_STR(s.text, want);
	}
	free(b.p);
}

TEST(test_damage_is_refused)
{
	struct tbuf b = { NULL, 0 };
	struct seen s;
	char	    err[160];

	header(&b, "a", '0', 1, NULL, NULL, 1);
	data(&b, "x", 1);
	end(&b);
	memset(&s, 0, sizeof s);
	CHECK_INT(read_all(&b, 512, &s, err, sizeof err), -1);
	CHECK(strstr(err, "checksum") != NULL);
	CHECK_STR(s.text, "");
	free(b.p);

	/* Text that is no tar at all. */
	b.p = NULL;
	b.len = 0;
	{
		char junk[1024];

		memset(junk, 'A', sizeof junk);
		put(&b, junk, sizeof junk);
	}
	memset(&s, 0, sizeof s);
	CHECK_INT(read_all(&b, 100, &s, err, sizeof err), -1);
	free(b.p);

	/* A malformed pax record. */
	b.p = NULL;
	b.len = 0;
	header(&b, "p", 'x', 10, NULL, NULL, 0);
	data(&b, "99 path=a\n", 10);
	header(&b, "a", '0', 0, NULL, NULL, 0);
	end(&b);
	memset(&s, 0, sizeof s);
	CHECK_INT(read_all(&b, 512, &s, err, sizeof err), -1);
	CHECK(strstr(err, "pax") != NULL);
	free(b.p);

	/* An extended header over the cap is refused before it is read. */
	b.p = NULL;
	b.len = 0;
	header(&b, "p", 'x', 1 << 20, NULL, NULL, 0);
	memset(&s, 0, sizeof s);
	CHECK_INT(read_all(&b, 512, &s, err, sizeof err), -1);
	CHECK(strstr(err, "extended header") != NULL);
	free(b.p);
}

TEST(test_cut_short)
{
	struct tbuf b = sample();
	struct seen s;
	char	    err[160];

	/* Inside b.bin's data. */
	memset(&s, 0, sizeof s);
	CHECK_INT(read_all(&(struct tbuf){ b.p, 2048 + 100 }, 64, &s, err,
		      sizeof err),
	    -1);
	CHECK(strstr(err, "cut short") != NULL);
	/* Inside a header. */
	memset(&s, 0, sizeof s);
	CHECK_INT(
	    read_all(&(struct tbuf){ b.p, 700 }, 64, &s, err, sizeof err), -1);
	/* At a block boundary after a whole entry, without the end marker:
	 * accepted, as GNU tar does. */
	memset(&s, 0, sizeof s);
	CHECK_INT(
	    read_all(&(struct tbuf){ b.p, 1536 }, 64, &s, err, sizeof err), 0);
	CHECK_STR(s.text, "D dir/ 0:|F dir/a.txt 3:abc|");
	free(b.p);
}

TEST(test_callback_stops)
{
	struct tbuf b = sample();
	struct seen s;
	char	    err[160];

	memset(&s, 0, sizeof s);
	s.stop_at_entry = 2;
	CHECK_INT(read_all(&b, 512, &s, err, sizeof err), 1);
	CHECK_STR(s.text, "D dir/ 0:|F dir/a.txt 3:");
	free(b.p);
}

TEST(test_base256_size)
{
	struct tbuf b = { NULL, 0 };
	struct seen s;
	char	    err[160];
	size_t	    i;

	header(&b, "huge", '0', 0, NULL, NULL, 0);
	/* Size 9 GiB in base-256, checksum redone. */
	{
		unsigned char *h = (unsigned char *)b.p;
		unsigned int   sum = 0;
		uint64_t       v = 9ULL << 30;

		memset(h + 124, 0, 12);
		h[124] = 0x80;
		for (i = 0; i < 8; i++)
			h[135 - i] = (unsigned char)(v >> (8 * i));
		memset(h + 148, ' ', 8);
		for (i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
		h[155] = ' ';
	}
	memset(&s, 0, sizeof s);
	s.stop_at_entry = 1;
	CHECK_INT(read_all(&b, 512, &s, err, sizeof err), 1);
	CHECK_STR(s.text, "F huge 9663676416:");
	free(b.p);
}

TEST(test_base64)
{
	static const struct {
		const char *plain, *enc;
	} cases[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
	static const char *bad[] = { "Z",
		"Zm9v=", "Zg=", "Zh==", "Zm9v!A==", "Z m9v", "====" };
	unsigned char	   out[64];
	char		  *e;
	size_t		   i, n;

	for (i = 0; i < nitems(cases); i++) {
		e = base64_encode(cases[i].plain, strlen(cases[i].plain), &n);
		CHECK_STR(e, cases[i].enc);
		CHECK_INT((int)n, (int)strlen(cases[i].enc));
		free(e);
		CHECK_INT(
		    base64_decode(cases[i].enc, strlen(cases[i].enc), out, &n),
		    0);
		out[n] = '\0';
		CHECK_STR((char *)out, cases[i].plain);
	}
	/* Padding may be left out. */
	CHECK_INT(base64_decode("Zm9vYg", 6, out, &n), 0);
	CHECK(n == 4 && memcmp(out, "foob", 4) == 0);
	for (i = 0; i < nitems(bad); i++)
		CHECK_INT(base64_decode(bad[i], strlen(bad[i]), out, &n), -1);
	/* Every byte value round-trips. */
	{
		unsigned char all[256], back[256 + 2];

		for (i = 0; i < 256; i++)
			all[i] = (unsigned char)i;
		e = base64_encode(all, sizeof all, &n);
		CHECK_INT(base64_decode(e, n, back, &n), 0);
		CHECK_INT((int)n, 256);
		CHECK(memcmp(back, all, 256) == 0);
		free(e);
	}
}

TEST_MAIN(TEST_ENTRY(test_entries_in_any_piece_size),
    TEST_ENTRY(test_pax_and_gnu_names), TEST_ENTRY(test_damage_is_refused),
    TEST_ENTRY(test_cut_short), TEST_ENTRY(test_callback_stops),
    TEST_ENTRY(test_base256_size), TEST_ENTRY(test_base64))
