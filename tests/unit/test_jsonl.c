/*
 * test_jsonl.c: protocol/jsonl.c, capped incremental line framing.
 */
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
/* From <sanitizer/allocator_interface.h>, which may not be installed. */
size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

#include "../../protocol/protocol.h"
#include "test.h"

/* Bytes the process holds on its heap right now. */
static size_t
heap_used(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return (__sanitizer_get_current_allocated_bytes());
#else
	struct mallinfo2 mi = mallinfo2();

	return (mi.uordblks + mi.hblkhd);
#endif
}

/*
 * Drain j into out as text: each line followed by "|", each TOOLONG as
 * "<TOOLONG n>|". With finish, use jsonl_finish. Lines must be
 * NUL-terminated in place.
 */
static void
drain(struct jsonl *j, char *out, size_t size, int finish)
{
	enum jsonl_result r;
	const char	 *line;
	size_t		  len, o = strlen(out);
	int		  n;

	for (;;) {
		if (finish)
			r = jsonl_finish(j, &line, &len);
		else
			r = jsonl_next(j, &line, &len);
		if (r == JSONL_AGAIN)
			break;
		if (r == JSONL_TOOLONG)
			n = snprintf(out + o, size - o, "<TOOLONG %zu>|", len);
		else {
			if (line[len] != '\0')
				test_fail(__FILE__, __LINE__, "not terminated");
			n = snprintf(
			    out + o, size - o, "%.*s|", (int)len, line);
		}
		if (n < 0 || (size_t)n >= size - o)
			abort();
		o += (size_t)n;
	}
}

/* Feed s in pieces of step bytes, draining after each; return the text. */
static char *
run(size_t max, const char *s, size_t step, int finish)
{
	struct jsonl *j;
	char	     *out;
	size_t	      i, n, len = strlen(s);

	out = xcalloc(1, 4 * len + 256);
	j = jsonl_new(max);
	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		jsonl_feed(j, s + i, n);
		drain(j, out, 4 * len + 256, 0);
	}
	if (finish)
		drain(j, out, 4 * len + 256, 1);
	jsonl_free(j);
	return (out);
}

static void
check_run(size_t max, const char *s, int finish, const char *want,
    const char *file, int line)
{
	size_t steps[] = { 1, 2, 3, 7, 64, 100000 };
	size_t i;
	char  *out;

	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		out = run(max, s, steps[i], finish);
		if (strcmp(out, want) != 0)
			test_fail(file, line,
			    "step %zu: \"%s\", expected "
			    "\"%s\"",
			    steps[i], out, want);
		free(out);
	}
}
#define CHECK_RUN(max, s, finish, want) \
	check_run(max, s, finish, want, __FILE__, __LINE__)

TEST(lines_any_chunking)
{
	CHECK_RUN(0, "a\nbb\n{\"x\":1}\n", 0, "a|bb|{\"x\":1}|");
	CHECK_RUN(0, "a\nbb\nccc", 0, "a|bb|");
	CHECK_RUN(0, "", 0, "");
	CHECK_RUN(0, "no newline", 0, "");
}

TEST(crlf_and_empty_lines)
{
	CHECK_RUN(0, "x\r\ny\r\n", 0, "x|y|");
	CHECK_RUN(0, "a\rb\n", 0, "a\rb|");
	CHECK_RUN(0, "a\r\r\n", 0, "a\r|");
	CHECK_RUN(0, "\n\r\n\na\n\n", 0, "a|");
	CHECK_RUN(0, "\rz\n", 0, "\rz|");
}

TEST(cap_drops_line_keeps_neighbours)
{
	/* Exactly at the cap is fine; one more byte is too long. */
	CHECK_RUN(10, "0123456789\n", 0, "0123456789|");
	CHECK_RUN(10, "0123456789A\nok\n", 0, "<TOOLONG 11>|ok|");
	CHECK_RUN(8, "a\nxxxxxxxxxxxxxxxxxxxx\nb\n", 0, "a|<TOOLONG 20>|b|");
	CHECK_RUN(8, "xxxxxxxxxx\nyyyyyyyyyyyy\nzz\n", 0,
	    "<TOOLONG 10>|<TOOLONG 12>|zz|");
	/* The \r counts towards the dropped line's length. */
	CHECK_RUN(10, "xxxxxxxxxxxx\r\nok\r\n", 0, "<TOOLONG 13>|ok|");
	/* A cap of 1: single bytes pass, pairs do not. */
	CHECK_RUN(1, "a\nbc\nd\n", 0, "a|<TOOLONG 2>|d|");
}

TEST(finish)
{
	CHECK_RUN(0, "a\nlast", 1, "a|last|");
	CHECK_RUN(0, "a\nlast\r", 1, "a|last|");
	CHECK_RUN(0, "a\n", 1, "a|");
	CHECK_RUN(0, "a\n\r", 1, "a|");
	CHECK_RUN(0, "", 1, "");
	CHECK_RUN(4, "ok\nxxxxxxxx", 1, "ok|<TOOLONG 8>|");
}

TEST(finish_returns_buffered_lines_first)
{
	struct jsonl *j;
	const char   *line;
	size_t	      len;

	j = jsonl_new(0);
	jsonl_feed(j, "one\ntwo\nthree", 13);
	CHECK_INT(jsonl_finish(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "one");
	CHECK_INT(jsonl_finish(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "two");
	CHECK_INT(jsonl_finish(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "three");
	CHECK_INT(jsonl_finish(j, &line, &len), JSONL_AGAIN);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_AGAIN);
	CHECK_INT(jsonl_buffered(j), 0);
	/* The stream can go on after finish. */
	jsonl_feed(j, "four\n", 5);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "four");
	jsonl_free(j);
}

TEST(feed_without_draining)
{
	struct jsonl *j;
	const char   *line;
	size_t	      len;

	j = jsonl_new(0);
	jsonl_feed(j, "a\n", 2);
	jsonl_feed(j, "b\nc", 3);
	CHECK_INT(jsonl_buffered(j), 5);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "a");
	jsonl_feed(j, "\nd\n", 3);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "b");
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "c");
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "d");
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_AGAIN);
	CHECK_INT(jsonl_buffered(j), 0);
	jsonl_free(j);
}

TEST(toolong_not_buffered)
{
	struct jsonl *j;
	const char   *line;
	size_t	      len, i;
	char	      chunk[4096];

	memset(chunk, 'x', sizeof chunk);
	j = jsonl_new(10000);
	jsonl_feed(j, "before\n", 7);
	for (i = 0; i < 100; i++) {
		jsonl_feed(j, chunk, sizeof chunk);
		/* Only "before\n" and at most the cap are ever held. */
		CHECK(jsonl_buffered(j) <= 7 + 10000);
	}
	CHECK_INT(jsonl_buffered(j), 7);
	jsonl_feed(j, "\nafter\n", 7);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "before");
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_TOOLONG);
	CHECK(line == NULL);
	CHECK_INT(len, 100 * sizeof chunk);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "after");
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_AGAIN);
	jsonl_free(j);
}

TEST(memory_shrinks_after_big_line)
{
	struct jsonl *j;
	const char   *line;
	size_t	      len, i, before, peak, n = 4u << 20;
	char	     *chunk;

	chunk = xmalloc(65536);
	memset(chunk, 'y', 65536);
	j = jsonl_new(0);
	jsonl_feed(j, "{}\n", 3);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_AGAIN);
	before = heap_used();
	for (i = 0; i < n; i += 65536)
		jsonl_feed(j, chunk, 65536);
	jsonl_feed(j, "\n", 1);
	peak = heap_used();
	CHECK(peak >= before + n);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_INT(len, n);
	CHECK(line[0] == 'y' && line[n - 1] == 'y');
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_AGAIN);
	CHECK_INT(jsonl_buffered(j), 0);
	CHECK(heap_used() <= before + 65536);
	/* Small lines afterwards still work. */
	jsonl_feed(j, "z\n", 2);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_MEM(line, len, "z");
	jsonl_free(j);
	free(chunk);
}

TEST(memory_shrinks_after_dropped_line)
{
	struct jsonl *j;
	const char   *line;
	size_t	      len, i, before;
	char	     *chunk;

	chunk = xmalloc(65536);
	memset(chunk, 'w', 65536);
	j = jsonl_new(1u << 20);
	before = heap_used();
	/* 1 MiB is buffered, then dropped once the cap is passed. */
	for (i = 0; i < 32; i++)
		jsonl_feed(j, chunk, 65536);
	CHECK_INT(jsonl_buffered(j), 0);
	CHECK(heap_used() <= before + 65536 + 4096);
	jsonl_feed(j, "\n", 1);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_TOOLONG);
	CHECK_INT(len, 32 * 65536);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_AGAIN);
	jsonl_free(j);
	free(chunk);
}

TEST(cap_zero_means_default)
{
	struct jsonl *j;
	const char   *line;
	size_t	      len, n = 2u << 20;
	char	     *big;

	big = xmalloc(n + 1);
	memset(big, 'q', n);
	big[n] = '\n';
	j = jsonl_new(0);
	jsonl_feed(j, big, n + 1);
	CHECK_INT(jsonl_next(j, &line, &len), JSONL_LINE);
	CHECK_INT(len, n);
	jsonl_free(j);
	free(big);
	jsonl_free(NULL);
}

/* A stream of random lines, some over the cap, split at random points. */
TEST(random_chunking)
{
	unsigned long seed = 12345;
	char	     *stream, *want, *got, *p;
	size_t	      slen = 0, wlen = 0, i, k, n, room, cap = 50;
	struct jsonl *j;
	int	      round;

#define RND()                                                         \
	(seed = seed * 6364136223846793005UL + 1442695040888963407UL, \
	    (size_t)(seed >> 33))
	stream = xmalloc(1 << 20);
	want = xcalloc(1, 1 << 20);
	got = xcalloc(1, 1 << 20);
	for (i = 0; i < 2000; i++) {
		n = RND() % 80;
		for (k = 0; k < n; k++)
			stream[slen + k] = (char)('a' + RND() % 26);
		slen += n;
		if (RND() % 4 == 0) {
			stream[slen++] = '\r';
			n++;
		}
		stream[slen++] = '\n';
		if (n > cap)
			wlen +=
			    (size_t)sprintf(want + wlen, "<TOOLONG %zu>|", n);
		else if (n > 0 && !(n == 1 && stream[slen - 2] == '\r')) {
			k = stream[slen - 2] == '\r' ? n - 1 : n;
			memcpy(want + wlen, stream + slen - 1 - n, k);
			wlen += k;
			want[wlen++] = '|';
		}
	}
	for (round = 0; round < 20; round++) {
		got[0] = '\0';
		j = jsonl_new(cap);
		for (i = 0; i < slen; i += n) {
			n = 1 + RND() % 200;
			if (n > slen - i)
				n = slen - i;
			if (round % 2 == 0)
				jsonl_feed(j, stream + i, n);
			else {
				/* As proc.c reads: into the buffer. */
				p = jsonl_space(j, n, &room);
				if (room == 0 || room > n)
					CHECK(!"jsonl_space room");
				n = room;
				memcpy(p, stream + i, n);
				jsonl_commit(j, n);
			}
			if (RND() % 3 != 0)
				drain(j, got, 1 << 20, 0);
		}
		drain(j, got, 1 << 20, 1);
		jsonl_free(j);
		if (strcmp(got, want) != 0) {
			test_fail(
			    __FILE__, __LINE__, "round %d differs", round);
			break;
		}
	}
	free(stream);
	free(want);
	free(got);
#undef RND
}

/*
 * memfind, which jsonl_next uses to find newlines, agrees with memchr for
 * every length, alignment and position of the byte (none, first, last, in
 * each 16-byte lane and each 64-byte step, and with more than one).
 */
TEST(memfind_agrees_with_memchr)
{
	char   buf[300];
	size_t start, n, at, at2;

	for (start = 0; start < 16; start++)
		for (n = 0; n + start <= 200; n++)
			for (at = 0; at <= n; at++) {
				memset(buf, 'x', sizeof buf);
				buf[start + n] = '\n'; /* just past the end */
				if (at < n)
					buf[start + at] = '\n';
				at2 = (at + 37) % (n + 1);
				if (at2 < n && at % 3 == 0)
					buf[start + at2] = '\n';
				if (memfind(buf + start, '\n', n) !=
				    memchr(buf + start, '\n', n))
					CHECK(!"memfind != memchr");
			}
}

/*
 * jsonl_may's MEMFIND_HIGH: clear for a line of ASCII only, set for a line
 * with a byte >= 0x80 anywhere (first, last, past 64 bytes, in a piece fed
 * before), however the stream is cut, and the next line starts afresh.
 */
TEST(ascii_flag)
{
	char		  s[400];
	const char	 *line;
	size_t		  len, step, at;
	struct jsonl	 *j;
	enum jsonl_result r;

	for (at = 0; at < 150; at += 7)
		for (step = 1; step < 160; step += 13) {
			/* line 1: 150 bytes, one of them \xc3; line 2: ASCII */
			memset(s, 'a', 150);
			s[at] = '\xc3';
			s[150] = '\n';
			memset(s + 151, 'b', 100);
			s[251] = '\n';
			j = jsonl_new(0);
			for (len = 0; len < 252; len += step)
				jsonl_feed(j, s + len,
				    252 - len < step ? 252 - len : step);
			r = jsonl_next(j, &line, &len);
			CHECK(r == JSONL_LINE && len == 150);
			CHECK((jsonl_may(j) & MEMFIND_HIGH) != 0);
			r = jsonl_next(j, &line, &len);
			CHECK(r == JSONL_LINE && len == 100);
			CHECK((jsonl_may(j) & MEMFIND_HIGH) == 0);
			jsonl_free(j);
		}
}

/*
 * jsonl_may's MEMFIND_ESC_U: set for a line holding a backslash and a 'u'
 * at any offset (across a 16- and 64-byte step, as the last two bytes,
 * split between two pieces, in the line's last or only short piece), for
 * the line that holds it and not for the next. A line of backslashes
 * followed by other bytes, fed whole, is found to need no repair: that
 * is the pass it saves.
 */
TEST(esc_u_flag)
{
	char		  s[400];
	const char	 *line;
	size_t		  len, step, at, n;
	struct jsonl	 *j;
	enum jsonl_result r;

	for (n = 1; n <= 200; n += n < 70 ? 1 : 9)
		for (at = 0; at + 1 < n; at++)
			for (step = 1; step <= 258; step += step < 9 ? 4 : 83) {
				/* line 1: n bytes, "\u" at at; line 2 */
				memset(s, 'a', n);
				s[at] = '\\';
				s[at + 1] = 'u';
				s[n] = '\n';
				memset(s + n + 1, 'b', 90);
				s[n + 46] = '\\';
				s[n + 91] = '\n';
				j = jsonl_new(0);
				for (len = 0; len < n + 92; len += step)
					jsonl_feed(j, s + len,
					    n + 92 - len < step ? n + 92 - len
								: step);
				r = jsonl_next(j, &line, &len);
				CHECK(r == JSONL_LINE && len == n);
				CHECK((jsonl_may(j) & MEMFIND_ESC_U) != 0);
				r = jsonl_next(j, &line, &len);
				CHECK(r == JSONL_LINE && len == 90);
				if (step > n + 92)
					CHECK((jsonl_may(j) & MEMFIND_ESC_U) ==
					    0);
				jsonl_free(j);
			}
	/* Escapes that are not "\u", whole: no repair needed. */
	for (n = 2; n <= 300; n++) {
		for (at = 0; at < n; at++)
			s[at] = at % 5 == 0 ? '\\' : "nt\"/x"[at % 5 - 1];
		s[n] = '\n';
		j = jsonl_new(0);
		jsonl_feed(j, s, n + 1);
		r = jsonl_next(j, &line, &len);
		CHECK(r == JSONL_LINE && len == n);
		CHECK((jsonl_may(j) & MEMFIND_ESC_U) == 0);
		jsonl_free(j);
	}
	/* At the end of the stream, a last backslash is not a "\u". */
	j = jsonl_new(0);
	jsonl_feed(j, "ab\\", 3);
	CHECK(jsonl_next(j, &line, &len) == JSONL_AGAIN);
	jsonl_feed(j, "u", 1);
	CHECK(jsonl_finish(j, &line, &len) == JSONL_LINE && len == 4);
	CHECK((jsonl_may(j) & MEMFIND_ESC_U) != 0);
	jsonl_free(j);
}

TEST_MAIN(TEST_ENTRY(lines_any_chunking), TEST_ENTRY(crlf_and_empty_lines),
    TEST_ENTRY(cap_drops_line_keeps_neighbours), TEST_ENTRY(finish),
    TEST_ENTRY(finish_returns_buffered_lines_first),
    TEST_ENTRY(feed_without_draining), TEST_ENTRY(toolong_not_buffered),
    TEST_ENTRY(memory_shrinks_after_big_line),
    TEST_ENTRY(memory_shrinks_after_dropped_line),
    TEST_ENTRY(cap_zero_means_default), TEST_ENTRY(random_chunking),
    TEST_ENTRY(memfind_agrees_with_memchr), TEST_ENTRY(ascii_flag),
    TEST_ENTRY(esc_u_flag))
