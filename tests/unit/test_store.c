/*
 * test_store.c: supervisor/store.c against a scratch data directory.
 *
 * Logs are generated here rather than kept as fixtures: every test needs
 * the byte offsets of its lines, and line sizes vary with the sequence so
 * that no offset is a round number. Damage (torn tails, bad lines, gaps)
 * is done to the file between store_close and store_open, as a crash or a
 * bad disk would.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../supervisor/core/core.h"
#include "test.h"

static char data_dir_top[] = "/tmp/test_store.XXXXXX";
static char data_dir[64];

/* Event line for seq; its length varies with seq and with pad. */
static char *
line_for(uint64_t seq, size_t pad)
{
	char  *s, *fill;
	size_t n = (size_t)(seq * 37 % 101) + pad;

	fill = xmalloc(n + 1);
	memset(fill, 'a' + (int)(seq % 26), n);
	fill[n] = '\0';
	xasprintf(&s,
	    "{\"event_id\":\"evt_%llu\",\"sequence\":%llu,"
	    "\"type\":\"item.delta\",\"data\":{\"delta\":\"%s\"}}",
	    (unsigned long long)seq, (unsigned long long)seq, fill);
	free(fill);
	return (s);
}

static int
append_seq(struct store *st, uint64_t seq, size_t pad)
{
	char *line, *cause = NULL;
	int   r;

	line = line_for(seq, pad);
	r = store_append(st, seq, line, strlen(line), &cause);
	if (r != 0)
		fprintf(stderr, "# append %llu: %s\n", (unsigned long long)seq,
		    cause);
	free(cause);
	free(line);
	return (r);
}

/* A new session with events 1..n. */
static struct store *
make_session(const char *id, uint64_t n)
{
	struct store *st;
	char	     *cause = NULL;
	uint64_t      seq;

	if ((st = store_create(data_dir, id, &cause)) == NULL) {
		fprintf(stderr, "# create %s: %s\n", id, cause);
		free(cause);
		return (NULL);
	}
	for (seq = 1; seq <= n; seq++) {
		if (append_seq(st, seq, 0) != 0) {
			store_close(st);
			return (NULL);
		}
	}
	return (st);
}

static int
write_meta(struct store *st, const char *json)
{
	char *cause = NULL;
	int   r;

	r = store_write_meta(st, json, strlen(json), &cause);
	if (r != 0)
		fprintf(stderr, "# write_meta: %s\n", cause);
	free(cause);
	return (r);
}

static char *
events_path(const char *id)
{
	char *p;

	xasprintf(&p, "%s/sessions/%s/events.jsonl", data_dir, id);
	return (p);
}

static off_t
file_size(const char *path)
{
	struct stat sb;

	return (stat(path, &sb) == 0 ? sb.st_size : -1);
}

/* Offset of the line for seq in a file written by make_session. */
static off_t
offset_of(uint64_t seq)
{
	off_t	 off = 0;
	uint64_t i;
	char	*l;

	for (i = 1; i < seq; i++) {
		l = line_for(i, 0);
		off += (off_t)strlen(l) + 1;
		free(l);
	}
	return (off);
}

/* What a store_read delivered. */
struct got {
	uint64_t first, next; /* next: the sequence expected next */
	int	 n, bad, stop_after;
	size_t	 bytes;
	size_t (*pad)(uint64_t); /* as appended; NULL: none */
};

static int
collect_cb(void *arg, uint64_t seq, const char *line, size_t len)
{
	struct got *g = arg;
	char	   *want;

	if (g->n == 0)
		g->first = g->next = seq;
	want = line_for(seq, g->pad != NULL ? g->pad(seq) : 0);
	if (seq != g->next || len != strlen(want) ||
	    memcmp(line, want, len) != 0)
		g->bad++;
	free(want);
	g->next = seq + 1;
	g->n++;
	g->bytes += len;
	return (g->stop_after != 0 && g->n >= g->stop_after);
}

static int
read_all(struct store *st, uint64_t from, size_t max, struct got *g)
{
	memset(g, 0, sizeof *g);
	return (store_read(st, from, max, collect_cb, g));
}

/* Open id, expecting success; returns last_seq or -1. */
static long long
reopen(const char *id, struct store **stp)
{
	char	*cause = NULL;
	uint64_t last = 12345;

	*stp = store_open(data_dir, id, &last, &cause);
	if (*stp == NULL) {
		fprintf(stderr, "# open %s: %s\n", id, cause);
		free(cause);
		return (-1);
	}
	return ((long long)last);
}

static int
rm_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	return (remove(path));
}

static void
cleanup(void)
{
	nftw(data_dir_top, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes the scratch data dir, nested, for every later test. */
TEST(init)
{
	struct stat sb;
	char	   *cause = NULL, *p;

	if (mkdtemp(data_dir_top) == NULL) {
		CHECK(0);
		return;
	}
	atexit(cleanup);
	snprintf(data_dir, sizeof data_dir, "%s/a/b", data_dir_top);
	CHECK_INT(store_init(data_dir, &cause), 0);
	CHECK_STR(cause, NULL);
	CHECK_INT(store_init(data_dir, &cause), 0); /* idempotent */
	xasprintf(&p, "%s/sessions", data_dir);
	CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    (sb.st_mode & 077) == 0);
	free(p);
	xasprintf(&p, "%s/file", data_dir_top);
	CHECK(close(open(p, O_WRONLY | O_CREAT, 0600)) == 0);
	CHECK_INT(store_init(p, &cause), -1); /* not a directory */
	CHECK(cause != NULL);
	free(cause);
	free(p);
}

TEST(id_validation)
{
	static const char *bad[] = { "../x", "", ".hidden", "a/b", "..", ".",
		"a b", "a\\b", "x\n" };
	struct store	  *st;
	char		  *cause, id[130];
	uint64_t	   last;
	size_t		   i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		st = store_create(data_dir, bad[i], &cause);
		CHECK(st == NULL);
		CHECK_STR(cause, "invalid session id");
		free(cause);
		cause = NULL;
		CHECK(store_open(data_dir, bad[i], &last, &cause) == NULL);
		CHECK_STR(cause, "invalid session id");
		free(cause);
	}
	memset(id, 'x', 129);
	id[129] = '\0';
	cause = NULL;
	CHECK(store_create(data_dir, id, &cause) == NULL);
	free(cause);
	id[128] = '\0';
	st = store_create(data_dir, id, &cause);
	CHECK(st != NULL);
	if (st != NULL)
		CHECK_INT(store_remove(st), 0);
	store_close(st);
	st = store_create(data_dir, "Ok-1.2_3", &cause);
	CHECK(st != NULL);
	store_close(st);
}

TEST(append_read_every_offset)
{
	struct store *st;
	struct got    g;
	uint64_t      from, n = 200;

	CHECK((st = make_session("every", n)) != NULL);
	if (st == NULL)
		return;
	CHECK_INT(store_last_seq(st), n);
	for (from = 0; from <= n + 1; from++) {
		CHECK_INT(read_all(st, from, SIZE_MAX, &g),
		    from > n ? 0 : (int)(n - (from == 0 ? 1 : from) + 1));
		CHECK_INT(g.bad, 0);
		if (from >= 1 && from <= n)
			CHECK_INT(g.first, from);
	}
	store_close(st);
}

TEST(read_max_bytes)
{
	struct store *st;
	struct got    g;
	char	     *l1, *l2;
	size_t	      n1, n2;

	CHECK((st = make_session("maxb", 10)) != NULL);
	if (st == NULL)
		return;
	l1 = line_for(1, 0);
	l2 = line_for(2, 0);
	n1 = strlen(l1);
	n2 = strlen(l2);
	CHECK_INT(read_all(st, 1, 0, &g), 1); /* always one line */
	CHECK_INT(read_all(st, 1, 1, &g), 1);
	CHECK_INT(read_all(st, 1, n1, &g), 1);
	CHECK_INT(read_all(st, 1, n1 + n2 - 1, &g), 1);
	CHECK_INT(read_all(st, 1, n1 + n2, &g), 2);
	CHECK_INT(g.bytes, n1 + n2);
	CHECK_INT(read_all(st, 1, n1 + n2 + 1, &g), 2);
	CHECK_INT(read_all(st, 2, n2, &g), 1);
	CHECK_INT(g.first, 2);
	memset(&g, 0, sizeof g);
	g.stop_after = 3;
	CHECK_INT(store_read(st, 4, SIZE_MAX, collect_cb, &g), 3);
	CHECK_INT(g.first, 4);
	CHECK_INT(g.bad, 0);
	free(l1);
	free(l2);
	store_close(st);
}

TEST(reopen_index_reads)
{
	static const uint64_t froms[] = { 1, 63, 64, 65, 128, 129, 999, 1000 };
	struct store	     *st;
	struct got	      g;
	size_t		      i;

	CHECK((st = make_session("idx", 1000)) != NULL);
	store_close(st);
	CHECK_INT(reopen("idx", &st), 1000);
	if (st == NULL)
		return;
	for (i = 0; i < sizeof froms / sizeof froms[0]; i++) {
		CHECK_INT(read_all(st, froms[i], SIZE_MAX, &g),
		    (int)(1000 - froms[i] + 1));
		CHECK_INT(g.first, froms[i]);
		CHECK_INT(g.bad, 0);
	}
	CHECK_INT(read_all(st, 1001, SIZE_MAX, &g), 0);
	/* The index keeps growing across a reopen. */
	CHECK_INT(append_seq(st, 1001, 0), 0);
	CHECK_INT(append_seq(st, 1002, 0), 0);
	CHECK_INT(read_all(st, 1001, SIZE_MAX, &g), 2);
	CHECK_INT(g.bad, 0);
	store_close(st);
	CHECK_INT(reopen("idx", &st), 1002);
	if (st == NULL)
		return;
	CHECK_INT(read_all(st, 960, SIZE_MAX, &g), 43);
	CHECK_INT(g.bad, 0);
	store_close(st);
}

static size_t
long_pad(uint64_t seq)
{
	return (seq % 7 == 3 ? 300000 : 0);
}

/* Lines longer than the first read buffer, read and skipped. */
TEST(long_lines)
{
	struct store *st;
	struct got    g;
	char	     *cause = NULL;
	uint64_t      seq;

	CHECK((st = store_create(data_dir, "long", &cause)) != NULL);
	free(cause);
	if (st == NULL)
		return;
	for (seq = 1; seq <= 70; seq++)
		CHECK_INT(append_seq(st, seq, long_pad(seq)), 0);
	store_close(st);
	CHECK_INT(reopen("long", &st), 70);
	if (st == NULL)
		return;
	for (seq = 1; seq <= 71; seq++) {
		memset(&g, 0, sizeof g);
		g.pad = long_pad;
		CHECK_INT(store_read(st, seq, 1, collect_cb, &g), seq <= 70);
		CHECK_INT(g.bad, 0);
		memset(&g, 0, sizeof g);
		g.pad = long_pad;
		CHECK_INT(
		    store_read(st, seq, SIZE_MAX, collect_cb, &g), 71 - seq);
		CHECK_INT(g.bad, 0);
	}
	store_close(st);
}

/* Rewrite a session's log as 10 events, then damage it. */
static void
write_log(const char *id, const char *extra, size_t extralen)
{
	char *path, *l;
	FILE *f;
	int   i;

	path = events_path(id);
	f = fopen(path, "w");
	for (i = 1; i <= 10 && f != NULL; i++) {
		l = line_for((uint64_t)i, 0);
		fprintf(f, "%s\n", l);
		free(l);
	}
	if (f != NULL) {
		fwrite(extra, 1, extralen, f);
		fclose(f);
	}
	free(path);
}

TEST(torn_tail)
{
	struct store *st;
	struct got    g;
	char	     *path, *l11;
	off_t	      good, cut;
	size_t	      len;

	CHECK((st = make_session("torn", 10)) != NULL);
	store_close(st);
	path = events_path("torn");
	good = offset_of(11);
	l11 = line_for(11, 0);
	len = strlen(l11);
	/* Every cut inside line 11, and line 11 without its newline. */
	for (cut = 1; cut <= (off_t)len; cut++) {
		write_log("torn", l11, (size_t)cut);
		CHECK_INT(file_size(path), good + cut);
		CHECK_INT(reopen("torn", &st), 10);
		if (st == NULL)
			return;
		CHECK_INT(file_size(path), good);
		if (st != NULL && cut % 16 == 1) {
			CHECK_INT(append_seq(st, 11, 0), 0);
			CHECK_INT(read_all(st, 1, SIZE_MAX, &g), 11);
			CHECK_INT(g.bad, 0);
		}
		store_close(st);
	}
	/* A complete but invalid last line, and a zero-filled tail. */
	write_log("torn", "{\"event_id\":\"evt_11\"}\n", 22);
	CHECK_INT(reopen("torn", &st), 10);
	if (st == NULL)
		return;
	CHECK_INT(file_size(path), good);
	store_close(st);
	write_log("torn", "\0\0\0\0\0\0\0\0", 8);
	CHECK_INT(reopen("torn", &st), 10);
	if (st == NULL)
		return;
	CHECK_INT(file_size(path), good);
	store_close(st);
	/* An empty log is an empty session. */
	CHECK(truncate(path, 0) == 0);
	CHECK_INT(reopen("torn", &st), 0);
	if (st == NULL)
		return;
	CHECK_INT(read_all(st, 1, SIZE_MAX, &g), 0);
	store_close(st);
	free(l11);
	free(path);
}

/* Expect store_open to refuse, naming offset off; the file is untouched. */
static void
expect_corrupt(const char *id, off_t off)
{
	struct store *st;
	char	     *cause = NULL, *path, want[64];
	uint64_t      last;
	off_t	      before;

	path = events_path(id);
	before = file_size(path);
	st = store_open(data_dir, id, &last, &cause);
	CHECK(st == NULL);
	CHECK(cause != NULL);
	if (cause != NULL) {
		snprintf(want, sizeof want, "at byte %lld,", (long long)off);
		CHECK(strstr(cause, want) != NULL);
		snprintf(
		    want, sizeof want, "truncate -s %lld ", (long long)off);
		CHECK(strstr(cause, want) != NULL);
		CHECK(strstr(cause, "events.jsonl") != NULL);
	}
	CHECK_INT(file_size(path), before);
	free(cause);
	store_close(st);
	free(path);
}

/* Rewrite the log without line seq (1 <= seq < 10). */
static void
drop_line(const char *id, uint64_t seq)
{
	char *path, *all;
	off_t size, from = offset_of(seq), to = offset_of(seq + 1);
	int   fd;

	write_log(id, "", 0);
	path = events_path(id);
	size = file_size(path);
	all = xmalloc((size_t)size);
	fd = open(path, O_RDWR);
	CHECK(pread(fd, all, (size_t)size, 0) == size);
	CHECK(ftruncate(fd, from) == 0);
	CHECK(pwrite(fd, all + to, (size_t)(size - to), from) == size - to);
	close(fd);
	free(all);
	free(path);
}

TEST(corrupt_middle)
{
	struct store *st;
	char	     *path, *l11, *l12, *extra;
	int	      fd;

	CHECK((st = make_session("bad", 10)) != NULL);
	store_close(st);
	path = events_path("bad");
	l11 = line_for(11, 0);
	l12 = line_for(12, 0);

	/* A flipped byte in line 5. */
	fd = open(path, O_WRONLY);
	CHECK(pwrite(fd, "x", 1, offset_of(5) + 3) == 1);
	close(fd);
	expect_corrupt("bad", offset_of(5));

	/* A gap: line 5 removed; the line found there is the culprit. */
	drop_line("bad", 5);
	expect_corrupt("bad", offset_of(5));

	/* A bad line followed by a good one, or by a torn one. */
	xasprintf(&extra, "garbage\n%s\n", l12);
	write_log("bad", extra, strlen(extra));
	expect_corrupt("bad", offset_of(11));
	free(extra);
	xasprintf(&extra, "garbage\n%.20s", l12);
	write_log("bad", extra, strlen(extra));
	expect_corrupt("bad", offset_of(11));
	free(extra);

	/* A repeated sequence. */
	xasprintf(&extra, "%s\n%s\n", l11, l11);
	write_log("bad", extra, strlen(extra));
	expect_corrupt("bad", offset_of(12));
	free(extra);

	/* The advice in the cause works. */
	CHECK(truncate(path, offset_of(12)) == 0);
	CHECK_INT(reopen("bad", &st), 11);
	store_close(st);
	free(l11);
	free(l12);
	free(path);
}

TEST(append_refusals)
{
	struct store *st;
	char	     *cause = NULL, *l;

	CHECK((st = make_session("refuse", 2)) != NULL);
	if (st == NULL)
		return;
	l = line_for(4, 0);
	CHECK_INT(store_append(st, 4, l, strlen(l), &cause), -1);
	CHECK_INT(errno, EINVAL);
	CHECK(cause != NULL && strstr(cause, "3 was expected") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(store_append(st, 2, l, strlen(l), &cause), -1);
	free(cause);
	cause = NULL;
	/* The line must carry the sequence it is appended as. */
	CHECK_INT(store_append(st, 3, l, strlen(l), &cause), -1);
	free(cause);
	free(l);
	cause = NULL;
	l = xstrdup("{\"event_id\":\"evt_3\",\"sequence\":3,\"x\":\"a\nb\"}");
	CHECK_INT(store_append(st, 3, l, strlen(l), &cause), -1);
	free(cause);
	free(l);
	cause = NULL;
	l = xstrdup("{\"event_id\":\"evt_3\",\"sequence\":03,\"x\":1}");
	CHECK_INT(store_append(st, 3, l, strlen(l), &cause), -1);
	free(cause);
	free(l);
	CHECK_INT(store_last_seq(st), 2);
	CHECK_INT(append_seq(st, 3, 0), 0);
	CHECK_INT(store_last_seq(st), 3);
	store_close(st);
	CHECK_INT(reopen("refuse", &st), 3);
	store_close(st);
}

static size_t
efbig_pad(uint64_t seq)
{
	return (seq == 6 ? 5000 : 0);
}

/*
 * A full disk, simulated with RLIMIT_FSIZE: the write comes up short, the
 * next one fails with EFBIG, and the store must cut the partial line off.
 */
TEST(write_failure_leaves_no_torn_line)
{
	struct store *st;
	struct rlimit old, lim;
	struct got    g;
	char	     *cause = NULL, *path, *l;
	off_t	      before;
	int	      r, err;

	CHECK((st = make_session("efbig", 5)) != NULL);
	if (st == NULL)
		return;
	path = events_path("efbig");
	before = file_size(path);
	l = line_for(6, efbig_pad(6));
	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = (rlim_t)before + 100;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	r = store_append(st, 6, l, strlen(l), &cause);
	err = errno;
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_INT(r, -1);
	CHECK_INT(err, EFBIG);
	CHECK(cause != NULL && strstr(cause, strerror(EFBIG)) != NULL);
	CHECK_INT(file_size(path), before);
	CHECK_INT(store_last_seq(st), 5);
	free(cause);
	/* The store goes on once the disk has room again. */
	cause = NULL;
	CHECK_INT(store_append(st, 6, l, strlen(l), &cause), 0);
	free(cause);
	free(l);
	store_close(st);
	CHECK_INT(reopen("efbig", &st), 6);
	if (st == NULL)
		return;
	memset(&g, 0, sizeof g);
	g.pad = efbig_pad;
	CHECK_INT(store_read(st, 1, SIZE_MAX, collect_cb, &g), 6);
	CHECK_INT(g.bad, 0);
	store_close(st);
	free(path);
}

TEST(sync_and_dirty)
{
	struct store *st;

	CHECK((st = make_session("sync", 0)) != NULL);
	if (st == NULL)
		return;
	CHECK_INT(store_dirty(st), 0);
	CHECK_INT(store_sync(st), 0);
	CHECK_INT(append_seq(st, 1, 0), 0);
	CHECK_INT(store_dirty(st), 1);
	CHECK_INT(store_sync(st), 0);
	CHECK_INT(store_dirty(st), 0);
	store_close(st);
}

TEST(meta)
{
	struct store *st;
	char	     *m, *p;
	size_t	      len = 0;
	int	      fd;

	CHECK((st = make_session("meta", 1)) != NULL);
	if (st == NULL)
		return;
	CHECK(store_read_meta(st, &len) == NULL);
	CHECK_INT(write_meta(st, "{\"a\":1}"), 0);
	m = store_read_meta(st, &len);
	CHECK_STR(m, "{\"a\":1}");
	CHECK_INT(len, 7);
	free(m);
	/* A stale .new from a crash is replaced, and none is left. */
	xasprintf(&p, "%s/sessions/meta/session.json.new", data_dir);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	CHECK(fd != -1 && write(fd, "junkjunkjunk", 12) == 12);
	close(fd);
	CHECK_INT(write_meta(st, "{}"), 0);
	CHECK(access(p, F_OK) == -1 && errno == ENOENT);
	m = store_read_meta(st, NULL);
	CHECK_STR(m, "{}");
	free(m);
	free(p);
	store_close(st);
	CHECK_INT(reopen("meta", &st), 1);
	if (st == NULL)
		return;
	m = store_read_meta(st, &len);
	CHECK_STR(m, "{}");
	CHECK_INT(len, 2);
	free(m);
	store_close(st);
}

TEST(create_exists)
{
	struct store *st, *st2;
	char	     *cause = NULL, *p;
	uint64_t      last;

	CHECK((st = make_session("dup", 1)) != NULL);
	if (st == NULL)
		return;
	CHECK_INT(write_meta(st, "{}"), 0);
	st2 = store_create(data_dir, "dup", &cause);
	CHECK(st2 == NULL);
	CHECK_STR(cause, "session already exists");
	free(cause);
	store_close(st);
	/* A directory left by a crash before the first meta is reused. */
	xasprintf(&p, "%s/sessions/leftover", data_dir);
	CHECK(mkdir(p, 0700) == 0);
	free(p);
	cause = NULL;
	st = store_create(data_dir, "leftover", &cause);
	CHECK(st != NULL);
	free(cause);
	store_close(st);
	cause = NULL;
	CHECK(store_open(data_dir, "nosuch", &last, &cause) == NULL);
	CHECK_STR(cause, "session not found");
	free(cause);
}

TEST(list_and_remove)
{
	static const char *ids[] = { "lc", "la", "lb" };
	struct store	  *st;
	char		 **list, *p;
	size_t		   i, n, found;

	for (i = 0; i < 3; i++) {
		CHECK((st = make_session(ids[i], 1)) != NULL);
		if (st == NULL)
			return;
		CHECK_INT(write_meta(st, "{}"), 0);
		store_close(st);
	}
	CHECK((st = make_session("ld", 0)) != NULL); /* no meta */
	store_close(st);
	xasprintf(&p, "%s/sessions/.hidden", data_dir);
	CHECK(mkdir(p, 0700) == 0);
	free(p);
	CHECK_INT(store_list(data_dir, &list, &n), 0);
	for (i = 0, found = 0; i < n; i++) {
		if (strncmp(list[i], "l", 1) == 0 && strlen(list[i]) == 2)
			found++;
		CHECK(strcmp(list[i], "ld") != 0);
		CHECK(list[i][0] != '.');
		if (i > 0)
			CHECK(strcmp(list[i - 1], list[i]) < 0);
	}
	CHECK_INT(found, 3);
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);

	CHECK_INT(reopen("lb", &st), 1);
	if (st == NULL)
		return;
	CHECK_INT(store_remove(st), 0);
	xasprintf(&p, "%s/sessions/lb", data_dir);
	CHECK(access(p, F_OK) == -1 && errno == ENOENT);
	free(p);
	CHECK_INT(append_seq(st, 2, 0), -1);
	store_close(st);
	CHECK_INT(store_list(data_dir, &list, &n), 0);
	for (i = 0; i < n; i++) {
		CHECK(strcmp(list[i], "lb") != 0);
		free(list[i]);
	}
	free(list);
	CHECK((st = make_session("lb", 1)) != NULL);
	store_close(st);
}

TEST_MAIN(TEST_ENTRY(init), TEST_ENTRY(id_validation),
    TEST_ENTRY(append_read_every_offset), TEST_ENTRY(read_max_bytes),
    TEST_ENTRY(reopen_index_reads), TEST_ENTRY(long_lines),
    TEST_ENTRY(torn_tail), TEST_ENTRY(corrupt_middle),
    TEST_ENTRY(append_refusals), TEST_ENTRY(write_failure_leaves_no_torn_line),
    TEST_ENTRY(sync_and_dirty), TEST_ENTRY(meta), TEST_ENTRY(create_exists),
    TEST_ENTRY(list_and_remove))
