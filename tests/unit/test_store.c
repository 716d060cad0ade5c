/*
 * test_store.c: supervisor/core/store.c and journal.c against a scratch
 * data directory.
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
	r = store_append(st, seq, line, strlen(line), NULL, &cause);
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

	if ((st = store_create(STORE_EVENTS, data_dir, id, &cause)) == NULL) {
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
/*
 * A full disk from size bytes on, simulated with RLIMIT_FSIZE (a write
 * past it fails with EFBIG; SIGXFSZ is ignored); the limit before in
 * *old, for disk_free.
 */
static void
disk_full_at(off_t size, struct rlimit *old)
{
	struct rlimit lim;

	signal(SIGXFSZ, SIG_IGN);
	CHECK(getrlimit(RLIMIT_FSIZE, old) == 0);
	lim = *old;
	lim.rlim_cur = (rlim_t)size;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
}

/* The disk takes writes again. */
static void
disk_free(const struct rlimit *old)
{
	CHECK(setrlimit(RLIMIT_FSIZE, old) == 0);
	signal(SIGXFSZ, SIG_DFL);
}

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
collect_cb(void *arg, uint64_t seq, const char *line, size_t len,
    const char *mark, size_t mark_len)
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

	*stp = store_open(STORE_EVENTS, data_dir, id, &last, &cause);
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
	xasprintf(&p, "%s/acp", data_dir); /* made when first used */
	CHECK(stat(p, &sb) == -1 && errno == ENOENT);
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
		st = store_create(STORE_EVENTS, data_dir, bad[i], &cause);
		CHECK(st == NULL);
		CHECK_STR(cause, "invalid session id");
		free(cause);
		cause = NULL;
		CHECK(store_open(STORE_EVENTS, data_dir, bad[i], &last,
			  &cause) == NULL);
		CHECK_STR(cause, "invalid session id");
		free(cause);
	}
	memset(id, 'x', 129);
	id[129] = '\0';
	cause = NULL;
	CHECK(store_create(STORE_EVENTS, data_dir, id, &cause) == NULL);
	free(cause);
	id[128] = '\0';
	st = store_create(STORE_EVENTS, data_dir, id, &cause);
	CHECK(st != NULL);
	if (st != NULL)
		CHECK_INT(store_remove(st), 0);
	store_close(st);
	st = store_create(STORE_EVENTS, data_dir, "Ok-1.2_3", &cause);
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

	CHECK((st = store_create(STORE_EVENTS, data_dir, "long", &cause)) !=
	    NULL);
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
	st = store_open(STORE_EVENTS, data_dir, id, &last, &cause);
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
	CHECK_INT(store_append(st, 4, l, strlen(l), NULL, &cause), -1);
	CHECK_INT(errno, EINVAL);
	CHECK(cause != NULL && strstr(cause, "3 was expected") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(store_append(st, 2, l, strlen(l), NULL, &cause), -1);
	free(cause);
	cause = NULL;
	/* The line must carry the sequence it is appended as. */
	CHECK_INT(store_append(st, 3, l, strlen(l), NULL, &cause), -1);
	free(cause);
	free(l);
	cause = NULL;
	l = xstrdup("{\"event_id\":\"evt_3\",\"sequence\":3,\"x\":\"a\nb\"}");
	CHECK_INT(store_append(st, 3, l, strlen(l), NULL, &cause), -1);
	free(cause);
	free(l);
	cause = NULL;
	l = xstrdup("{\"event_id\":\"evt_3\",\"sequence\":03,\"x\":1}");
	CHECK_INT(store_append(st, 3, l, strlen(l), NULL, &cause), -1);
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
	struct rlimit old;
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
	disk_full_at(before + 100, &old);
	r = store_append(st, 6, l, strlen(l), NULL, &cause);
	err = errno;
	disk_free(&old);
	CHECK_INT(r, -1);
	CHECK_INT(err, EFBIG);
	CHECK(cause != NULL && strstr(cause, strerror(EFBIG)) != NULL);
	CHECK_INT(file_size(path), before);
	CHECK_INT(store_last_seq(st), 5);
	free(cause);
	/* The store goes on once the disk has room again. */
	cause = NULL;
	CHECK_INT(store_append(st, 6, l, strlen(l), NULL, &cause), 0);
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

/*
 * A batch of event lines (store_append_events) is all or nothing: a bad
 * line in it refuses the whole batch before anything is written, a write
 * that fails part way cuts the file back to where the batch began, and a
 * batch longer than one writev's worth of lines reads back whole.
 */
TEST(append_events_batch)
{
	struct store_line lines[700];
	struct store	 *st;
	struct rlimit	  old;
	struct got	  g;
	char		 *cause = NULL, *path, *bad;
	off_t		  before;
	size_t		  i;
	int		  r, err;

	CHECK((st = make_session("batch", 3)) != NULL);
	if (st == NULL)
		return;
	path = events_path("batch");
	before = file_size(path);
	for (i = 0; i < 5; i++) {
		lines[i].data = line_for(4 + i, 0);
		lines[i].len = strlen(lines[i].data);
	}
	/* The fourth carries sequence 9 where 7 belongs. */
	bad = (char *)lines[3].data;
	lines[3].data = line_for(9, 0);
	lines[3].len = strlen(lines[3].data);
	CHECK_INT(store_append_events(st, 4, lines, 5, &cause), -1);
	CHECK_INT(errno, EINVAL);
	CHECK(cause != NULL && strstr(cause, "sequence 7") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(file_size(path), before);
	CHECK_INT(store_last_seq(st), 3);
	free((char *)lines[3].data);
	lines[3].data = bad;
	lines[3].len = strlen(bad);

	/* Room for about one line: the batch fails and leaves nothing. */
	disk_full_at(before + (off_t)lines[0].len + 10, &old);
	r = store_append_events(st, 4, lines, 5, &cause);
	err = errno;
	disk_free(&old);
	CHECK_INT(r, -1);
	CHECK_INT(err, EFBIG);
	free(cause);
	cause = NULL;
	CHECK_INT(file_size(path), before);
	CHECK_INT(store_last_seq(st), 3);
	CHECK_INT(store_append_events(st, 4, lines, 5, &cause), 0);
	for (i = 0; i < 5; i++)
		free((char *)lines[i].data);

	/* More lines than one writev takes. */
	for (i = 0; i < 700; i++) {
		lines[i].data = line_for(9 + i, 0);
		lines[i].len = strlen(lines[i].data);
	}
	CHECK_INT(store_append_events(st, 9, lines, 700, &cause), 0);
	free(cause);
	for (i = 0; i < 700; i++)
		free((char *)lines[i].data);
	CHECK_INT(store_last_seq(st), 708);
	store_close(st);
	CHECK_INT(reopen("batch", &st), 708);
	if (st == NULL)
		return;
	memset(&g, 0, sizeof g);
	CHECK_INT(store_read(st, 1, SIZE_MAX, collect_cb, &g), 708);
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

TEST(rest_and_wake)
{
	struct store *st;
	struct got    g;
	char	     *cause = NULL, *path, *line;
	int	      base, fd;

	base = test_open_fds();
	CHECK((st = make_session("rest", 5)) != NULL);
	if (st == NULL)
		return;
	CHECK_INT(test_open_fds(), base + 2);
	CHECK_INT(store_rest(st), 0);
	CHECK_INT(test_open_fds(), base);
	CHECK_INT(store_rest(st), 0); /* again: nothing to do */
	CHECK_INT(store_dirty(st), 0);
	CHECK_INT(store_sync(st), 0);
	/* A read at rest opens the log for itself only. */
	CHECK_INT(read_all(st, 2, SIZE_MAX, &g), 4);
	CHECK_INT(g.bad, 0);
	CHECK_INT(test_open_fds(), base);
	/* An append opens it again and numbering goes on. */
	CHECK_INT(append_seq(st, 6, 0), 0);
	CHECK_INT(test_open_fds(), base + 2);
	CHECK_INT(store_dirty(st), 1);
	CHECK_INT(store_rest(st), 0); /* synced, then closed */
	CHECK_INT(store_dirty(st), 0);
	CHECK_INT(read_all(st, 1, SIZE_MAX, &g), 6);
	CHECK_INT(g.bad, 0);
	/* A log that changed while closed is not appended to. */
	xasprintf(&path, "%s/sessions/rest/events.jsonl", data_dir);
	CHECK((fd = open(path, O_WRONLY | O_APPEND)) != -1);
	line = line_for(7, 0);
	CHECK((size_t)write(fd, line, strlen(line)) == strlen(line));
	close(fd);
	free(line);
	line = line_for(7, 0);
	CHECK(store_append(st, 7, line, strlen(line), NULL, &cause) != 0);
	CHECK(cause != NULL && strstr(cause, "changed on disk") != NULL);
	free(cause);
	free(line);
	CHECK_INT(test_open_fds(), base);
	store_close(st);
	free(path);
}

/* A store removed at rest still drains to its readers, and never reads
 * a new store's log made under the same id. */
TEST(rest_then_remove)
{
	struct store *st, *again;
	struct got    g;
	int	      base;

	base = test_open_fds();
	CHECK((st = make_session("restrm", 5)) != NULL);
	if (st == NULL)
		return;
	CHECK_INT(store_rest(st), 0);
	CHECK_INT(test_open_fds(), base);
	CHECK_INT(store_remove(st), 0);
	CHECK_INT(read_all(st, 1, SIZE_MAX, &g), 5);
	CHECK_INT(g.bad, 0);
	/* The same id made again, with 2 lines: the old store gives its 5. */
	CHECK((again = make_session("restrm", 2)) != NULL);
	CHECK_INT(read_all(st, 1, SIZE_MAX, &g), 5);
	CHECK_INT(g.bad, 0);
	store_close(st);
	store_close(again);
	CHECK_INT(test_open_fds(), base);
	/* Removed while open, then told to rest (its agent ended after the
	 * DELETE): it keeps what its followers read. */
	CHECK((st = make_session("restrm2", 3)) != NULL);
	if (st == NULL)
		return;
	CHECK_INT(store_remove(st), 0);
	CHECK_INT(store_rest(st), 0);
	CHECK_INT(read_all(st, 1, SIZE_MAX, &g), 3);
	CHECK_INT(g.bad, 0);
	store_close(st);
	CHECK_INT(test_open_fds(), base);
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
	st2 = store_create(STORE_EVENTS, data_dir, "dup", &cause);
	CHECK(st2 == NULL);
	CHECK_STR(cause, "session already exists");
	free(cause);
	store_close(st);
	/* A directory left by a crash before the first meta is reused. */
	xasprintf(&p, "%s/sessions/leftover", data_dir);
	CHECK(mkdir(p, 0700) == 0);
	free(p);
	cause = NULL;
	st = store_create(STORE_EVENTS, data_dir, "leftover", &cause);
	CHECK(st != NULL);
	free(cause);
	store_close(st);
	cause = NULL;
	CHECK(store_open(STORE_EVENTS, data_dir, "nosuch", &last, &cause) ==
	    NULL);
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
	CHECK_INT(store_list(STORE_EVENTS, data_dir, &list, &n), 0);
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
	CHECK_INT(store_list(STORE_EVENTS, data_dir, &list, &n), 0);
	for (i = 0; i < n; i++) {
		CHECK(strcmp(list[i], "lb") != 0);
		free(list[i]);
	}
	free(list);
	CHECK((st = make_session("lb", 1)) != NULL);
	store_close(st);
}

/* Message n of an ACP server's stream; its length varies with n. */
static char *
msg_for(uint64_t n, size_t pad)
{
	char  *s, *fill;
	size_t k = (size_t)(n * 41 % 97) + pad;

	fill = xmalloc(k + 1);
	memset(fill, 'a' + (int)(n % 26), k);
	fill[k] = '\0';
	/* Braces, quotes and an escaped newline inside a string. */
	xasprintf(&s,
	    "{\"jsonrpc\":\"2.0\",\"method\":\"session/update\",\"params\":"
	    "{\"n\":%llu,\"text\":\"%s} {\\\"x\\\\n\",\"list\":[1,{}]}}",
	    (unsigned long long)n, fill);
	free(fill);
	return (s);
}

/* The cursor stored with message n: none for every third. */
static char *
mark_for(uint64_t n)
{
	char *s;

	if (n % 3 == 0)
		return (NULL);
	xasprintf(&s, "{\"session\":\"acp-1\",\"event\":%llu}",
	    (unsigned long long)n * 2);
	return (s);
}

static int
append_msg(struct store *st, uint64_t n, size_t pad)
{
	char *m, *k, *cause = NULL;
	int   r;

	m = msg_for(n, pad);
	k = mark_for(n);
	r = store_append(st, n, m, strlen(m), k, &cause);
	if (r != 0)
		fprintf(stderr, "# append message %llu: %s\n",
		    (unsigned long long)n, cause);
	free(cause);
	free(k);
	free(m);
	return (r);
}

/* A new ACP server store with messages 1..n. */
static struct store *
make_server(const char *id, uint64_t n)
{
	struct store *st;
	char	     *cause = NULL;
	uint64_t      i;

	if ((st = store_create(STORE_MESSAGES, data_dir, id, &cause)) == NULL) {
		fprintf(stderr, "# create %s: %s\n", id, cause);
		free(cause);
		return (NULL);
	}
	for (i = 1; i <= n; i++) {
		if (append_msg(st, i, 0) != 0) {
			store_close(st);
			return (NULL);
		}
	}
	return (st);
}

static char *
messages_path(const char *id)
{
	char *p;

	xasprintf(&p, "%s/acp/%s/messages.jsonl", data_dir, id);
	return (p);
}

/* The whole of a file, NUL-terminated; *len its size. */
static char *
slurp(const char *path, size_t *len)
{
	char *buf;
	off_t size = file_size(path);
	int   fd;

	*len = 0;
	if (size < 0 || (fd = open(path, O_RDONLY)) == -1)
		return (NULL);
	buf = xmalloc((size_t)size + 1);
	if (read(fd, buf, (size_t)size) == size)
		*len = (size_t)size;
	buf[*len] = '\0';
	close(fd);
	return (buf);
}

/* Offset of line n (from 1) of a file, -1 if it has fewer lines. */
static off_t
line_offset(const char *path, uint64_t n)
{
	char	*all, *p;
	size_t	 len;
	off_t	 off = -1;
	uint64_t i;

	if ((all = slurp(path, &len)) == NULL)
		return (-1);
	for (i = 1, p = all; p != NULL && i < n; i++) {
		p = memchr(p, '\n', len - (size_t)(p - all));
		if (p != NULL)
			p++;
	}
	if (p != NULL && p < all + len)
		off = (off_t)(p - all);
	free(all);
	return (off);
}

/* What a store_read of messages delivered; bad counts mismatches. */
static int
collect_msg_cb(void *arg, uint64_t seq, const char *msg, size_t len,
    const char *mark, size_t mark_len)
{
	struct got *g = arg;
	char	   *want, *wmark;

	if (g->n == 0)
		g->first = g->next = seq;
	want = msg_for(seq, g->pad != NULL ? g->pad(seq) : 0);
	wmark = g->stop_after == -1 ? NULL : mark_for(seq);
	if (seq != g->next || len != strlen(want) ||
	    memcmp(msg, want, len) != 0)
		g->bad++;
	if ((wmark == NULL) != (mark == NULL) ||
	    (wmark != NULL &&
		(mark_len != strlen(wmark) ||
		    memcmp(mark, wmark, mark_len) != 0)))
		g->bad++;
	free(want);
	free(wmark);
	g->next = seq + 1;
	g->n++;
	g->bytes += len;
	return (0);
}

static int
read_msgs(struct store *st, uint64_t from, size_t max, struct got *g)
{
	memset(g, 0, sizeof *g);
	return (store_read(st, from, max, collect_msg_cb, g));
}

static long long
reopen_server(const char *id, struct store **stp)
{
	char	*cause = NULL;
	uint64_t last = 12345;

	*stp = store_open(STORE_MESSAGES, data_dir, id, &last, &cause);
	if (*stp == NULL) {
		fprintf(stderr, "# open %s: %s\n", id, cause);
		free(cause);
		return (-1);
	}
	return ((long long)last);
}

/*
 * Messages are numbered by the store, in an envelope, and read back as
 * exactly the message and its cursor, from any sequence, also after a
 * reopen (the sparse index is rebuilt).
 */
TEST(messages_append_read)
{
	static const uint64_t froms[] = { 1, 2, 63, 64, 65, 129, 199, 200 };
	struct store	     *st;
	struct got	      g;
	char		     *path, *all, *want, *m, *k;
	size_t		      len, i;
	uint64_t	      from;

	CHECK((st = make_server("m1", 200)) != NULL);
	if (st == NULL)
		return;
	CHECK_INT(store_kind(st), STORE_MESSAGES);
	{
		struct stat sb;
		char	   *p;

		xasprintf(&p, "%s/acp", data_dir);
		CHECK(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    (sb.st_mode & 077) == 0);
		free(p);
	}
	CHECK_INT(store_last_seq(st), 200);
	for (from = 0; from <= 201; from++) {
		CHECK_INT(read_msgs(st, from, SIZE_MAX, &g),
		    from > 200 ? 0 : (int)(200 - (from == 0 ? 1 : from) + 1));
		CHECK_INT(g.bad, 0);
	}
	/* The line on disk: numbered envelope, the message verbatim. */
	path = messages_path("m1");
	all = slurp(path, &len);
	m = msg_for(1, 0);
	k = mark_for(1);
	xasprintf(
	    &want, "{\"sequence\":1,\"cursor\":%s,\"message\":%s}\n", k, m);
	CHECK(all != NULL && strncmp(all, want, strlen(want)) == 0);
	free(want);
	free(k);
	free(m);
	m = msg_for(3, 0);
	xasprintf(&want, "\n{\"sequence\":3,\"message\":%s}\n", m);
	CHECK(all != NULL && strstr(all, want) != NULL);
	free(want);
	free(m);
	free(all);
	store_close(st);
	CHECK_INT(reopen_server("m1", &st), 200);
	if (st == NULL)
		return;
	for (i = 0; i < nitems(froms); i++) {
		CHECK_INT(read_msgs(st, froms[i], SIZE_MAX, &g),
		    (int)(200 - froms[i] + 1));
		CHECK_INT(g.first, froms[i]);
		CHECK_INT(g.bad, 0);
	}
	CHECK_INT(append_msg(st, 201, 0), 0);
	CHECK_INT(read_msgs(st, 200, SIZE_MAX, &g), 2);
	CHECK_INT(g.bad, 0);
	/* max_bytes counts the messages, not their envelopes. */
	m = msg_for(5, 0);
	CHECK_INT(read_msgs(st, 5, strlen(m), &g), 1);
	free(m);
	store_close(st);
	free(path);
}

TEST(messages_refusals)
{
	static const char *bad[] = { "[1]", "{\"a\":1", "\"x\"", "{\"a\":1,}",
		"{\"a\":\"x\ny\"}", "", "{\"a\":1}}" };
	struct store	  *st, *ev;
	char		  *cause;
	size_t		   i;

	CHECK((st = make_server("mref", 0)) != NULL);
	if (st == NULL)
		return;
	for (i = 0; i < nitems(bad); i++) {
		cause = NULL;
		CHECK_INT(
		    store_append(st, 1, bad[i], strlen(bad[i]), NULL, &cause),
		    -1);
		CHECK_INT(errno, EINVAL);
		CHECK(cause != NULL && strstr(cause, "not a message") != NULL);
		free(cause);
	}
	cause = NULL;
	CHECK_INT(store_append(st, 1, "{}", 2, "{\"a\":\n1}", &cause), -1);
	free(cause);
	cause = NULL;
	CHECK_INT(store_append(st, 2, "{}", 2, NULL, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "1 was expected") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(store_append(st, 1, "{}", 2, NULL, &cause), 0);
	CHECK_INT(store_append(st, 2, "{\"a\":[]}", 8, "7", &cause), 0);
	CHECK_INT(store_last_seq(st), 2);
	store_close(st);
	CHECK_INT(reopen_server("mref", &st), 2);
	store_close(st);
	/* An event log takes no cursor. */
	CHECK((ev = make_session("evmark", 0)) != NULL);
	if (ev == NULL)
		return;
	{
		char *l = line_for(1, 0);

		cause = NULL;
		CHECK_INT(store_append(ev, 1, l, strlen(l), "1", &cause), -1);
		free(cause);
		free(l);
	}
	store_close(ev);
}

/* Torn tails are cut, damage in the middle refused, as for events. */
TEST(messages_torn_and_corrupt)
{
	struct store *st;
	struct got    g;
	char	     *path, *all, *m, *l11, *extra, *cause, want[64];
	size_t	      len, good;
	uint64_t      last;
	off_t	      cut, off5;
	int	      fd;

	CHECK((st = make_server("mt", 10)) != NULL);
	store_close(st);
	path = messages_path("mt");
	all = slurp(path, &len);
	good = len;
	m = msg_for(11, 0);
	xasprintf(&l11, "{\"sequence\":11,\"message\":%s}", m);
	free(m);
	for (cut = 1; cut <= (off_t)strlen(l11); cut++) {
		fd = open(path, O_WRONLY | O_TRUNC);
		CHECK(write(fd, all, good) == (ssize_t)good);
		CHECK(write(fd, l11, (size_t)cut) == cut);
		close(fd);
		CHECK_INT(reopen_server("mt", &st), 10);
		CHECK_INT(file_size(path), good);
		if (st != NULL && cut % 40 == 1) {
			CHECK_INT(append_msg(st, 11, 0), 0);
			CHECK_INT(read_msgs(st, 1, SIZE_MAX, &g), 11);
			CHECK_INT(g.bad, 0);
		}
		store_close(st);
	}
	/* A complete last line whose message is not an object is cut. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, all, good) == (ssize_t)good);
	CHECK(write(fd, "{\"sequence\":11,\"message\":[1]}\n", 30) == 30);
	close(fd);
	CHECK_INT(reopen_server("mt", &st), 10);
	CHECK_INT(file_size(path), good);
	store_close(st);

	/* A flipped byte in line 5's envelope, then in its message. */
	off5 = line_offset(path, 5);
	fd = open(path, O_WRONLY);
	CHECK(pwrite(fd, "x", 1, off5 + 3) == 1);
	close(fd);
	cause = NULL;
	CHECK(
	    store_open(STORE_MESSAGES, data_dir, "mt", &last, &cause) == NULL);
	snprintf(want, sizeof want, "at byte %lld,", (long long)off5);
	CHECK(cause != NULL && strstr(cause, want) != NULL &&
	    strstr(cause, "messages.jsonl") != NULL &&
	    strstr(cause, "truncate -s") != NULL);
	free(cause);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, all, good) == (ssize_t)good);
	/* "list":[1,{}]}} and the envelope's }: a quote for the ]. */
	CHECK(pwrite(fd, "\"", 1, line_offset(path, 6) - 5) == 1);
	close(fd);
	cause = NULL;
	CHECK(
	    store_open(STORE_MESSAGES, data_dir, "mt", &last, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, want) != NULL);
	free(cause);

	/* A repeated line: the sequence says so. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, all, good) == (ssize_t)good);
	xasprintf(&extra, "%s\n%s\n", l11, l11);
	CHECK(write(fd, extra, strlen(extra)) == (ssize_t)strlen(extra));
	close(fd);
	free(extra);
	cause = NULL;
	CHECK(
	    store_open(STORE_MESSAGES, data_dir, "mt", &last, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "sequence 11 where 12") != NULL);
	free(cause);
	free(l11);
	free(all);
	free(path);
}

/* A messages.jsonl from before numbering: line N is message N, bare. */
static void
write_legacy(const char *id, uint64_t n, const char *extra)
{
	char	*dir, *path, *m;
	FILE	*f;
	uint64_t i;

	xasprintf(&dir, "%s/acp/%s", data_dir, id);
	CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
	xasprintf(&path, "%s/server.json", dir);
	f = fopen(path, "w");
	CHECK(f != NULL && fputs("{}", f) >= 0);
	if (f != NULL)
		fclose(f);
	free(path);
	path = messages_path(id);
	f = fopen(path, "w");
	for (i = 1; i <= n && f != NULL; i++) {
		m = msg_for(i, 0);
		fprintf(f, "%s\n", m);
		free(m);
	}
	if (f != NULL) {
		fputs(extra, f);
		fclose(f);
	}
	free(path);
	free(dir);
}

TEST(messages_upgrade)
{
	struct store *st;
	struct got    g;
	char	     *path, *neu, *all, *cause = NULL;
	size_t	      len;
	uint64_t      last;
	off_t	      before, off5;
	int	      fd;

	write_legacy("old", 150, "{\"jsonrpc\":\"2.0\",\"me");
	CHECK_INT(reopen_server("old", &st), 150);
	if (st == NULL)
		return;
	memset(&g, 0, sizeof g);
	g.stop_after = -1; /* no cursors: they were not stored */
	CHECK_INT(store_read(st, 1, SIZE_MAX, collect_msg_cb, &g), 150);
	CHECK_INT(g.bad, 0);
	path = messages_path("old");
	all = slurp(path, &len);
	CHECK(all != NULL &&
	    strncmp(all, "{\"sequence\":1,\"message\":{", 25) == 0);
	CHECK(len > 0 && all[len - 1] == '\n');
	free(all);
	xasprintf(&neu, "%s.new", path);
	CHECK(access(neu, F_OK) == -1 && errno == ENOENT);
	CHECK_INT(append_msg(st, 151, 0), 0);
	store_close(st);
	CHECK_INT(reopen_server("old", &st), 151); /* once, not again */
	store_close(st);

	/* A bad line in the middle: refused, nothing rewritten. */
	write_legacy("old2", 10, "not json\n{\"jsonrpc\":\"2.0\"}\n");
	free(path);
	path = messages_path("old2");
	before = file_size(path);
	off5 = line_offset(path, 11);
	CHECK(store_open(STORE_MESSAGES, data_dir, "old2", &last, &cause) ==
	    NULL);
	CHECK(cause != NULL && strstr(cause, "messages.jsonl") != NULL);
	if (cause != NULL) {
		char want[64];

		snprintf(want, sizeof want, "at byte %lld,", (long long)off5);
		CHECK(strstr(cause, want) != NULL);
	}
	free(cause);
	CHECK_INT(file_size(path), before);
	fd = open(path, O_RDONLY);
	{
		char head[11] = "";

		CHECK(read(fd, head, 10) == 10);
		CHECK_STR(head, "{\"jsonrpc\"");
	}
	close(fd);
	free(neu);
	xasprintf(&neu, "%s.new", path);
	CHECK(access(neu, F_OK) == -1 && errno == ENOENT);
	free(neu);
	free(path);
}

/*
 * The metadata goes out whole and comes back whole at any size it may
 * have (server.json with many sessions is far over 64 KiB), and a size
 * that could not be read back is refused when written.
 */
TEST(meta_any_size)
{
	struct store *st;
	char	     *big, *m, *cause = NULL, **list, *p;
	size_t	      len = 0, n, i, k, found = 0;

	CHECK((st = make_server("bigmeta", 1)) != NULL);
	if (st == NULL)
		return;
	big = xmalloc(300 * 1024 + 64);
	k = (size_t)snprintf(big, 64, "{\"sessions\":[");
	for (i = 0; k < 300 * 1024; i++)
		k += (size_t)snprintf(big + k, 64, "%s{\"id\":\"acp-%06zu\"}",
		    i > 0 ? "," : "", i);
	k += (size_t)snprintf(big + k, 64, "]}");
	CHECK_INT(store_write_meta(st, big, k, &cause), 0);
	free(cause);
	m = store_read_meta(st, &len);
	CHECK_INT(len, k);
	CHECK(m != NULL && memcmp(m, big, k) == 0);
	free(m);
	xasprintf(&p, "%s/acp/bigmeta/server.json", data_dir);
	CHECK_INT(file_size(p), k);
	free(p);
	free(big);
	big = xcalloc(1, 5 * 1024 * 1024);
	cause = NULL;
	CHECK_INT(store_write_meta(st, big, 5 * 1024 * 1024, &cause), -1);
	CHECK_INT(errno, EFBIG);
	free(cause);
	free(big);
	m = store_read_meta(st, &len); /* the old one stays */
	CHECK_INT(len, k);
	free(m);
	store_close(st);
	/* Each kind lists its own. */
	CHECK_INT(store_list(STORE_MESSAGES, data_dir, &list, &n), 0);
	for (i = 0; i < n; i++) {
		found += strcmp(list[i], "bigmeta") == 0;
		CHECK(strcmp(list[i], "la") != 0);
		free(list[i]);
	}
	free(list);
	CHECK_INT(found, 1);
	CHECK_INT(store_list(STORE_EVENTS, data_dir, &list, &n), 0);
	for (i = 0; i < n; i++) {
		CHECK(strcmp(list[i], "bigmeta") != 0);
		free(list[i]);
	}
	free(list);
	CHECK_INT(reopen_server("bigmeta", &st), 1);
	if (st == NULL)
		return;
	CHECK_INT(store_remove(st), 0);
	xasprintf(&p, "%s/acp/bigmeta", data_dir);
	CHECK(access(p, F_OK) == -1 && errno == ENOENT);
	free(p);
	store_close(st);
}

/* The journal over either kind, driven by the real loop. */
static void
spin_cb(void *arg)
{
	loop_break();
}

/* Run the loop for secs: deferred calls (wakes) run once per pass. */
static void
spin(double secs)
{
	struct loop_timer *t;

	t = loop_timer_new(spin_cb, NULL);
	loop_timer_set(t, secs);
	loop_run();
	loop_timer_free(t);
}

static void
count_cb(void *arg)
{
	(*(int *)arg)++;
}

struct jgot {
	int	 n, bad;
	uint64_t first;
	int	 events; /* a journal of events */
};

static int
jread_cb(void *arg, uint64_t seq, enum event_type type, const char *line,
    size_t len, size_t noraw)
{
	struct jgot    *g = arg;
	char	       *want;
	enum event_type wtype = EVENT_TYPE_COUNT;
	size_t		wnoraw;

	if (g->n++ == 0)
		g->first = seq;
	want = g->events ? line_for(seq, 0) : msg_for(seq, 0);
	wnoraw = strlen(want);
	if (g->events && event_scan(want, strlen(want), &wtype, &wnoraw) != 0)
		g->bad++;
	if (len != strlen(want) || memcmp(line, want, len) != 0 ||
	    type != wtype || noraw != wnoraw)
		g->bad++;
	free(want);
	return (0);
}

TEST(journal_messages)
{
	struct journal	   *j;
	struct journal_sub *sub;
	struct store	   *st;
	struct jgot	    g;
	struct got	    gm;
	char		   *m, *k;
	uint64_t	    i, last;
	int		    wakes = 0;

	loop_init();
	CHECK((st = make_server("jm", 0)) != NULL);
	if (st == NULL)
		return;
	j = journal_new(st, "acp jm");
	sub = journal_subscribe(j, count_cb, &wakes);
	spin(0);
	CHECK_INT(wakes, 1); /* a first look */
	for (i = 1; i <= 100; i++) {
		m = msg_for(i, 0);
		k = mark_for(i);
		CHECK_INT(journal_append_message(j, m, strlen(m), k), i);
		free(k);
	}
	CHECK_INT(journal_last(j), 100);
	CHECK_INT(wakes, 1); /* never from inside the append */
	spin(0);
	CHECK_INT(wakes, 2); /* once for the whole pass */
	spin(0);
	CHECK_INT(wakes, 2);
	/* From the ring, then from disk: exactly the message. */
	memset(&g, 0, sizeof g);
	CHECK_INT(journal_read(j, 0, SIZE_MAX, jread_cb, &g), 100);
	CHECK_INT(g.bad, 0);
	journal_trim(j);
	memset(&g, 0, sizeof g);
	CHECK_INT(journal_read(j, 37, SIZE_MAX, jread_cb, &g), 63);
	CHECK_INT(g.first, 38);
	CHECK_INT(g.bad, 0);
	CHECK_INT(read_msgs(journal_store(j), 1, SIZE_MAX, &gm), 100);
	CHECK_INT(gm.bad, 0); /* the cursors went to disk */
	/* Synced at most JOURNAL_SYNC_S (200 ms) after a write. */
	CHECK_INT(store_dirty(journal_store(j)), 1);
	spin(0.3);
	CHECK_INT(store_dirty(journal_store(j)), 0);
	journal_unsubscribe(sub);
	journal_free(j);
	st = store_open(STORE_MESSAGES, data_dir, "jm", &last, &m);
	CHECK(st != NULL);
	CHECK_INT(last, 100);
	store_close(st);

	/* An events journal reads the same from ring and disk. */
	CHECK((st = make_session("je", 0)) != NULL);
	if (st == NULL)
		return;
	j = journal_new(st, "session je");
	for (i = 1; i <= 5; i++) {
		enum event_type t;
		size_t		noraw;

		m = line_for(i, 0);
		CHECK_INT(event_scan(m, strlen(m), &t, &noraw), 0);
		journal_append(j, i, t, m, strlen(m), noraw);
	}
	memset(&g, 0, sizeof g);
	g.events = 1;
	CHECK_INT(journal_read(j, 0, SIZE_MAX, jread_cb, &g), 5);
	CHECK_INT(g.bad, 0);
	journal_trim(j);
	memset(&g, 0, sizeof g);
	g.events = 1;
	CHECK_INT(journal_read(j, 2, SIZE_MAX, jread_cb, &g), 3);
	CHECK_INT(g.bad, 0);
	journal_free(j);
	spin(0);
}

static void
stall_cb(void *arg, int stalled)
{
	int *s = arg;

	s[stalled ? 0 : 1]++;
}

/*
 * A full disk (RLIMIT_FSIZE): the journal holds what the store refuses,
 * in order, tells its owner to stall, and writes it all once the disk
 * takes writes again; no torn line is left.
 */
TEST(journal_full_disk)
{
	struct journal *j;
	struct store   *st;
	struct rlimit	old;
	struct jgot	g;
	char	       *m, *path;
	uint64_t	last;
	off_t		one;
	int		stalls[2] = { 0, 0 };

	CHECK((st = make_server("jfull", 0)) != NULL);
	if (st == NULL)
		return;
	j = journal_new(st, "acp jfull");
	journal_on_stall(j, stall_cb, stalls);
	m = msg_for(1, 0);
	CHECK_INT(journal_append_message(j, m, strlen(m), NULL), 1);
	path = messages_path("jfull");
	one = file_size(path);
	disk_full_at(one + 50, &old);
	m = msg_for(2, 0);
	CHECK_INT(journal_append_message(j, m, strlen(m), NULL), 2);
	m = msg_for(3, 0);
	CHECK_INT(journal_append_message(j, m, strlen(m), NULL), 3);
	disk_free(&old);
	CHECK_INT(stalls[0], 1);
	CHECK_INT(journal_stalled(j), 1);
	CHECK_INT(journal_last(j), 1);
	memset(&g, 0, sizeof g);
	CHECK_INT(journal_read(j, 0, SIZE_MAX, jread_cb, &g), 1);
	CHECK_INT(file_size(path), one); /* cut back */
	spin(1.3);			 /* the retry runs every second */
	CHECK_INT(stalls[1], 1);
	CHECK_INT(journal_stalled(j), 0);
	CHECK_INT(journal_last(j), 3);
	memset(&g, 0, sizeof g);
	CHECK_INT(journal_read(j, 0, SIZE_MAX, jread_cb, &g), 3);
	CHECK_INT(g.bad, 0);
	m = msg_for(4, 0);
	CHECK_INT(journal_append_message(j, m, strlen(m), NULL), 4);
	journal_free(j);
	st = store_open(STORE_MESSAGES, data_dir, "jfull", &last, &m);
	CHECK(st != NULL);
	CHECK_INT(last, 4);
	store_close(st);
	free(path);
}

/*
 * A journal told to rest while a backlog waits for the disk writes the
 * backlog once the disk takes it, and then rests again: no descriptor
 * stays open for a store nothing appends to.
 */
TEST(journal_rest_full_disk)
{
	struct journal *j;
	struct store   *st;
	struct rlimit	old;
	struct jgot	g;
	char	       *m, *path;
	int		base, stalls[2] = { 0, 0 };

	base = test_open_fds();
	CHECK((st = make_server("jrest", 0)) != NULL);
	if (st == NULL)
		return;
	j = journal_new(st, "acp jrest");
	journal_on_stall(j, stall_cb, stalls);
	m = msg_for(1, 0);
	CHECK_INT(journal_append_message(j, m, strlen(m), NULL), 1);
	path = messages_path("jrest");
	disk_full_at(file_size(path) + 50, &old);
	m = msg_for(2, 0);
	CHECK_INT(journal_append_message(j, m, strlen(m), NULL), 2);
	journal_rest(j);
	disk_free(&old);
	CHECK_INT(stalls[0], 1);
	CHECK_INT(test_open_fds(), base);
	spin(1.3); /* the retry runs every second */
	CHECK_INT(stalls[1], 1);
	CHECK_INT(journal_last(j), 2);
	CHECK_INT(test_open_fds(), base);
	memset(&g, 0, sizeof g);
	CHECK_INT(journal_read(j, 0, SIZE_MAX, jread_cb, &g), 2);
	CHECK_INT(g.bad, 0);
	journal_free(j);
	free(path);
}

/*
 * A session's events wait for the end of the loop pass and then go to
 * the store together; a reader (journal_read, journal_last) never sees
 * fewer than were appended. On a full disk the whole batch is held, in
 * order, and written once the disk takes writes again.
 */
TEST(journal_events_batch)
{
	struct journal *j;
	struct store   *st;
	struct rlimit	old;
	struct jgot	g;
	enum event_type t;
	char	       *m, *path;
	uint64_t	i, last;
	off_t		before, room;
	size_t		noraw;
	int		stalls[2] = { 0, 0 };

	CHECK((st = make_session("jbatch", 0)) != NULL);
	if (st == NULL)
		return;
	path = events_path("jbatch");
	before = file_size(path);
	j = journal_new(st, "session jbatch");
	journal_on_stall(j, stall_cb, stalls);
	for (i = 1; i <= 3; i++) {
		m = line_for(i, 0);
		CHECK_INT(event_scan(m, strlen(m), &t, &noraw), 0);
		journal_append(j, i, t, m, strlen(m), noraw);
	}
	CHECK_INT(file_size(path), before); /* not yet: the pass goes on */
	spin(0);
	CHECK(file_size(path) > before);
	CHECK_INT(store_last_seq(st), 3);
	m = line_for(4, 0);
	CHECK_INT(event_scan(m, strlen(m), &t, &noraw), 0);
	journal_append(j, 4, t, m, strlen(m), noraw);
	CHECK_INT(journal_last(j), 4); /* asking writes them */
	CHECK_INT(store_last_seq(st), 4);

	room = file_size(path);
	disk_full_at(room + 50, &old);
	for (i = 5; i <= 8; i++) {
		m = line_for(i, 0);
		CHECK_INT(event_scan(m, strlen(m), &t, &noraw), 0);
		journal_append(j, i, t, m, strlen(m), noraw);
	}
	spin(0);
	disk_free(&old);
	CHECK_INT(stalls[0], 1);
	CHECK_INT(journal_stalled(j), 1);
	CHECK_INT(journal_last(j), 4);
	CHECK_INT(file_size(path), room); /* no part of the batch */
	spin(1.3);			  /* the retry runs every second */
	CHECK_INT(stalls[1], 1);
	CHECK_INT(journal_stalled(j), 0);
	CHECK_INT(journal_last(j), 8);
	memset(&g, 0, sizeof g);
	g.events = 1;
	CHECK_INT(journal_read(j, 0, SIZE_MAX, jread_cb, &g), 8);
	CHECK_INT(g.bad, 0);
	m = line_for(9, 0);
	CHECK_INT(event_scan(m, strlen(m), &t, &noraw), 0);
	journal_append(j, 9, t, m, strlen(m), noraw);
	journal_free(j); /* writes what is batched */
	st = store_open(STORE_EVENTS, data_dir, "jbatch", &last, &m);
	CHECK(st != NULL);
	CHECK_INT(last, 9);
	store_close(st);
	free(path);
}

TEST_MAIN(TEST_ENTRY(init), TEST_ENTRY(id_validation),
    TEST_ENTRY(append_read_every_offset), TEST_ENTRY(read_max_bytes),
    TEST_ENTRY(reopen_index_reads), TEST_ENTRY(long_lines),
    TEST_ENTRY(torn_tail), TEST_ENTRY(corrupt_middle),
    TEST_ENTRY(append_refusals), TEST_ENTRY(write_failure_leaves_no_torn_line),
    TEST_ENTRY(append_events_batch), TEST_ENTRY(sync_and_dirty),
    TEST_ENTRY(rest_and_wake), TEST_ENTRY(rest_then_remove), TEST_ENTRY(meta),
    TEST_ENTRY(create_exists), TEST_ENTRY(list_and_remove),
    TEST_ENTRY(messages_append_read), TEST_ENTRY(messages_refusals),
    TEST_ENTRY(messages_torn_and_corrupt), TEST_ENTRY(messages_upgrade),
    TEST_ENTRY(meta_any_size), TEST_ENTRY(journal_messages),
    TEST_ENTRY(journal_full_disk), TEST_ENTRY(journal_rest_full_disk),
    TEST_ENTRY(journal_events_batch))
