/*
 * test_pathmap.c: protocol/pathmap.c, path rewriting for moved sessions.
 */
#include <stdlib.h>
#include <string.h>

#include "../../protocol/protocol.h"
#include "test.h"

#define CHECK_BYTES(a, alen, b, blen)                                    \
	do {                                                             \
		if ((alen) != (blen) || memcmp((a), (b), (alen)) != 0)   \
			test_fail(__FILE__, __LINE__, "%s differs", #a); \
	} while (0)

static struct pathmap *
map(void)
{
	struct pathmap *pm = pathmap_new();

	pathmap_add(pm, "/tmp/a/work", "/srv/b/workspace");
	pathmap_add(pm, "/tmp/a", "/srv/b");
	pathmap_add(pm, "-tmp-a-work", "-srv-b-workspace");
	return (pm);
}

static void
check_apply(const char *in, const char *want, const char *file, int line)
{
	struct pathmap *pm = map();
	char	       *got = pathmap_apply(pm, in);

	if (strcmp(got, want) != 0)
		test_fail(file, line, "apply(%s) = %s, want %s", in, got, want);
	free(got);
	pathmap_free(pm);
}
#define CHECK_APPLY(in, want) check_apply(in, want, __FILE__, __LINE__)

TEST(whole_paths_only)
{
	CHECK_APPLY(
	    "{\"cwd\":\"/tmp/a/work\"}", "{\"cwd\":\"/srv/b/workspace\"}");
	CHECK_APPLY("/tmp/a/work/x.txt", "/srv/b/workspace/x.txt");
	CHECK_APPLY("/tmp/a/.codex/s", "/srv/b/.codex/s");
	CHECK_APPLY("/tmp/a", "/srv/b");
	/* Not a whole path: a longer name, or inside another path. */
	CHECK_APPLY("/tmp/a/workshop", "/srv/b/workshop");
	CHECK_APPLY("/tmp/abc", "/tmp/abc");
	CHECK_APPLY("/x/tmp/a/work", "/x/tmp/a/work");
	CHECK_APPLY("projects/-tmp-a-work/1.jsonl",
	    "projects/-srv-b-workspace/1.jsonl");
	CHECK_APPLY("--tmp-a-work--", "--tmp-a-work--");
	CHECK_APPLY("", "");
	CHECK_APPLY(
	    "/tmp/a /tmp/a/work\n/tmp/a", "/srv/b /srv/b/workspace\n/srv/b");
}

static int
collect_cb(void *arg, const char *p, size_t len)
{
	(void)buf_add(arg, p, len);
	return (0);
}

/* Every split of the text in pieces gives what apply gives. */
TEST(stream_equals_apply)
{
	const char *texts[] = {
		"{\"cwd\":\"/tmp/a/work\",\"home\":\"/tmp/a\"}\n",
		"/tmp/a/work/tmp/a/tmp/a/work-/tmp/a.",
		"xx/tmp/a/workxx /tmp/a/work",
		"-tmp-a-work",
		"/tmp/a",
	};
	struct pathmap	      *pm = map();
	struct pathmap_stream *st;
	struct buf	       b;
	size_t		       i, cut, cut2, len;
	char		      *want;

	for (i = 0; i < nitems(texts); i++) {
		want = pathmap_apply(pm, texts[i]);
		len = strlen(texts[i]);
		for (cut = 0; cut <= len; cut++) {
			for (cut2 = cut; cut2 <= len; cut2++) {
				buf_init(&b, 1 << 20);
				st = pathmap_stream_new(pm, collect_cb, &b);
				CHECK(pathmap_stream_feed(st, texts[i], cut) ==
				    0);
				CHECK(pathmap_stream_feed(
					  st, texts[i] + cut, cut2 - cut) == 0);
				CHECK(pathmap_stream_feed(st, texts[i] + cut2,
					  len - cut2) == 0);
				CHECK(pathmap_stream_finish(st) == 0);
				CHECK_BYTES(b.p != NULL ? b.p : "", b.len, want,
				    strlen(want));
				pathmap_stream_free(st);
				buf_free(&b);
			}
		}
		free(want);
	}
	pathmap_free(pm);
}

TEST(empty_map_copies)
{
	struct pathmap	      *pm = pathmap_new();
	struct pathmap_stream *st;
	struct buf	       b;

	buf_init(&b, 1024);
	pathmap_add(pm, "", "/x");
	pathmap_add(pm, "/same", "/same");
	CHECK(pathmap_empty(pm));
	st = pathmap_stream_new(pm, collect_cb, &b);
	CHECK(pathmap_stream_feed(st, "/same/x", 7) == 0);
	CHECK(pathmap_stream_finish(st) == 0);
	CHECK_BYTES(b.p, b.len, "/same/x", 7);
	pathmap_stream_free(st);
	buf_free(&b);
	pathmap_free(pm);
}

static int
fail_cb(void *arg, const char *p, size_t len)
{
	return (1);
}

TEST(output_failure_stops)
{
	struct pathmap	      *pm = map();
	struct pathmap_stream *st = pathmap_stream_new(pm, fail_cb, NULL);
	char		       big[4096];

	memset(big, 'x', sizeof big);
	CHECK(pathmap_stream_feed(st, big, sizeof big) != 0);
	CHECK(pathmap_stream_feed(st, big, sizeof big) != 0);
	pathmap_stream_free(st);
	pathmap_free(pm);
}

TEST_MAIN(TEST_ENTRY(whole_paths_only), TEST_ENTRY(stream_equals_apply),
    TEST_ENTRY(empty_map_copies), TEST_ENTRY(output_failure_stops))
