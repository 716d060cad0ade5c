/*
 * test_logs.c: supervisor/core/store.c's bounded logs (STORE_LOGS, a
 * process's output): rotation keeps about the cap on disk, numbers never
 * restart, readers get what is kept in order, and all of it survives a
 * reopen.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../supervisor/core/core.h"
#include "test.h"

static char top[] = "/tmp/test_logs.XXXXXX";

static off_t
size_of(const char *id, const char *name)
{
	struct stat sb;
	char	    path[256];

	snprintf(path, sizeof path, "%s/processes/%s/%s", top, id, name);
	return (stat(path, &sb) == 0 ? sb.st_size : -1);
}

/* A log entry of about 500 bytes for sequence seq. */
static char *
entry(uint64_t seq, size_t *len)
{
	char *s;

	xasprintf(&s, "{\"sequence\":%llu,\"data\":\"%0480llu\"}",
	    (unsigned long long)seq, (unsigned long long)seq);
	*len = strlen(s);
	return (s);
}

/* Append entry(seq); store_append's result (its cause is dropped). */
static int
append_entry(struct store *st, uint64_t seq)
{
	char  *e, *cause = NULL;
	size_t len;
	int    rv;

	e = entry(seq, &len);
	rv = store_append(st, seq, e, len, NULL, &cause);
	free(e);
	free(cause);
	return (rv);
}

struct got {
	uint64_t first, last;
	int	 n, bad;
};

static int
got_cb(void *arg, uint64_t seq, const char *data, size_t len, const char *mark,
    size_t mlen)
{
	struct got *g = arg;
	char	   *want;
	size_t	    wlen;

	want = entry(seq, &wlen);
	if (len != wlen || memcmp(data, want, len) != 0 ||
	    (g->n > 0 && seq != g->last + 1))
		g->bad++;
	free(want);
	if (g->n++ == 0)
		g->first = seq;
	g->last = seq;
	return (0);
}

/* Read everything from `from` on, as subscribers do: call by call. */
static struct got
read_from(struct store *st, uint64_t from)
{
	struct got g;
	int	   n;

	memset(&g, 0, sizeof g);
	for (;;) {
		n = store_read(st, from, 4096, got_cb, &g);
		if (n <= 0)
			break;
		from = g.last + 1;
	}
	return (g);
}

TEST(test_rotation_keeps_the_cap)
{
	struct store *st;
	struct got    g;
	char	     *cause = NULL;
	uint64_t      seq, last;
	off_t	      disk;

	st = store_create(STORE_LOGS, top, "p1", &cause);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	store_set_cap(st, 20000);
	for (seq = 1; seq <= 1000; seq++) {
		CHECK_INT(append_entry(st, seq), 0);
		disk = size_of("p1", "log.jsonl") +
		    (size_of("p1", "log.1.jsonl") > 0
			    ? size_of("p1", "log.1.jsonl")
			    : 0);
		if (disk > 20000 + 2 * 600)
			break;
	}
	CHECK_INT(seq, 1001);
	CHECK_INT(store_last_seq(st), 1000);
	CHECK(size_of("p1", "log.1.jsonl") > 0);
	/* From the start: the oldest kept on, contiguous, to 1000. */
	g = read_from(st, 1);
	CHECK_INT(g.bad, 0);
	CHECK_INT(g.last, 1000);
	CHECK(g.first > 900 && g.n == (int)(1000 - g.first + 1));
	/* From the middle of what is kept, and from inside log.1.jsonl. */
	g = read_from(st, 990);
	CHECK_INT(g.first, 990);
	CHECK_INT(g.n, 11);
	CHECK_INT(store_sync(st), 0);
	store_close(st);

	/* Reopened: the same lines, and appends go on. */
	st = store_open(STORE_LOGS, top, "p1", &last, &cause);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	CHECK_INT(last, 1000);
	g = read_from(st, 0);
	CHECK_INT(g.bad, 0);
	CHECK_INT(g.last, 1000);
	CHECK(g.first > 900);
	store_set_cap(st, 20000);
	CHECK_INT(append_entry(st, 1001), 0);
	CHECK_INT(store_append(st, 1003, "{}", 2, NULL, &cause), -1);
	free(cause);
	CHECK_INT(store_remove(st), 0);
	store_close(st);
	CHECK_INT(size_of("p1", "log.1.jsonl"), -1);
}

TEST(test_a_log_that_does_not_follow_drops_the_old_half)
{
	struct store *st;
	struct got    g;
	char	     *cause = NULL, *e, path[256];
	uint64_t      seq, last;
	size_t	      len;
	int	      fd;

	st = store_create(STORE_LOGS, top, "p2", &cause);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	store_set_cap(st, 4000);
	for (seq = 1; seq <= 40; seq++)
		CHECK_INT(append_entry(st, seq), 0);
	store_close(st);
	/* log.jsonl replaced by one starting at 100: history is dropped,
	 * the log itself is kept. */
	snprintf(path, sizeof path, "%s/processes/p2/log.jsonl", top);
	fd = open(path, O_WRONLY | O_TRUNC);
	e = entry(100, &len);
	dprintf(fd, "{\"sequence\":100,\"message\":%s}\n", e);
	free(e);
	close(fd);
	st = store_open(STORE_LOGS, top, "p2", &last, &cause);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	CHECK_INT(last, 100);
	g = read_from(st, 1);
	CHECK_INT(g.first, 100);
	CHECK_INT(g.n, 1);
	CHECK_INT(g.bad, 0);
	store_close(st);
}

TEST(test_an_unbounded_log_does_not_rotate)
{
	struct store *st;
	char	     *cause = NULL;
	uint64_t      seq;

	st = store_create(STORE_LOGS, top, "p3", &cause);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	for (seq = 1; seq <= 100; seq++)
		CHECK_INT(append_entry(st, seq), 0);
	CHECK_INT(size_of("p3", "log.1.jsonl"), -1);
	CHECK(size_of("p3", "log.jsonl") > 100 * 500);
	store_close(st);
}

/*
 * A rotated log at rest (an ended process) holds no descriptors, not
 * even log.1.jsonl's; both halves read back, appends wake it, and a
 * removal at rest still drains both halves to a reader.
 */
TEST(test_a_rotated_log_rests)
{
	struct store *st;
	struct got    g;
	char	     *cause = NULL;
	uint64_t      seq;
	int	      base;

	base = test_open_fds();
	st = store_create(STORE_LOGS, top, "p4", &cause);
	CHECK(st != NULL);
	if (st == NULL)
		return;
	store_set_cap(st, 8000);
	for (seq = 1; seq <= 20; seq++)
		CHECK_INT(append_entry(st, seq), 0);
	CHECK(size_of("p4", "log.1.jsonl") > 0);
	CHECK_INT(test_open_fds(), base + 3);
	CHECK_INT(store_rest(st), 0);
	CHECK_INT(test_open_fds(), base);
	g = read_from(st, 1);
	CHECK_INT(g.bad, 0);
	CHECK_INT(g.last, 20);
	CHECK(g.first > 1 && g.first < 12);
	CHECK_INT(test_open_fds(), base);
	CHECK_INT(append_entry(st, 21), 0);
	CHECK_INT(store_rest(st), 0);
	CHECK_INT(test_open_fds(), base);
	CHECK_INT(store_remove(st), 0);
	g = read_from(st, 1);
	CHECK_INT(g.bad, 0);
	CHECK_INT(g.last, 21);
	CHECK(g.first > 1 && g.first < 12);
	store_close(st);
	CHECK_INT(test_open_fds(), base);
}

static int
run(void)
{
	static const struct test tests[] = {
		TEST_ENTRY(test_rotation_keeps_the_cap),
		TEST_ENTRY(test_a_log_that_does_not_follow_drops_the_old_half),
		TEST_ENTRY(test_an_unbounded_log_does_not_rotate),
		TEST_ENTRY(test_a_rotated_log_rests),
	};
	char cmd[64];
	int  rc;

	if (mkdtemp(top) == NULL)
		return (1);
	rc = test_run(tests, nitems(tests));
	snprintf(cmd, sizeof cmd, "rm -rf %s", top);
	(void)!system(cmd);
	return (rc);
}

int
main(void)
{
	return (run());
}
