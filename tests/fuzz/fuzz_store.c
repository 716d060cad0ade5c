/*
 * fuzz_store.c: supervisor/core/store.c recovery from arbitrary bytes.
 *
 * The input is written as <tmp>/sessions/f/events.jsonl and as
 * <tmp>/acp/f/messages.jsonl, and each store kind opens its own: store_open
 * must either refuse it with a cause or open it (a messages log that is
 * not numbered is rewritten numbered first), and then store_read from
 * every sequence must deliver exactly the lines 1..last_seq in order:
 * events that event_scan accepts (the journal hands every stored event to
 * event_scan before a subscriber sees it), or messages that are one JSON
 * object each; and a reopen after the recovery cut must give the same
 * last sequence. No crash, no leak.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "../../supervisor/core/core.h"
#include "fuzz.h"

static char fuzz_dir[PATH_MAX];

static const struct {
	enum store_kind kind;
	const char     *log; /* under fuzz_dir */
	const char     *meta;
	const char     *dir;
} fuzz_kinds[] = {
	{ STORE_EVENTS, "sessions/f/events.jsonl", "sessions/f/session.json",
	    "sessions/f" },
	{ STORE_MESSAGES, "acp/f/messages.jsonl", "acp/f/server.json",
	    "acp/f" },
};

struct readback {
	enum store_kind kind;
	uint64_t	next;
	uint64_t	n;
	int		stop_after;
};

static int
member_cb(
    void *arg, const char *key, size_t klen, size_t off, size_t len, size_t sep)
{
	return (0);
}

static int
readback_cb(void *arg, uint64_t seq, const char *line, size_t len,
    const char *mark, size_t mark_len)
{
	struct readback *r = arg;
	enum event_type	 type;
	size_t		 noraw;

	FUZZ_CHECK(seq == r->next, "read seq %llu, want %llu",
	    (unsigned long long)seq, (unsigned long long)r->next);
	FUZZ_CHECK(len > 0 && line[len - 1] == '}', "line without '}'");
	FUZZ_CHECK(memchr(line, '\n', len) == NULL, "line with a newline");
	if (r->kind == STORE_EVENTS) {
		FUZZ_CHECK(mark == NULL, "an event with a cursor");
		FUZZ_CHECK(event_scan(line, len, &type, &noraw) == 0,
		    "store delivered event %llu that event_scan refuses: %.*s",
		    (unsigned long long)seq, (int)(len < 300 ? len : 300),
		    line);
	} else {
		FUZZ_CHECK(line[0] == '{' &&
			json_scan_members(line, len, member_cb, NULL) == 0,
		    "store delivered message %llu that is no object: %.*s",
		    (unsigned long long)seq, (int)(len < 300 ? len : 300),
		    line);
		FUZZ_CHECK(mark == NULL ||
			(mark_len > 0 && memchr(mark, '\n', mark_len) == NULL),
		    "a bad cursor");
	}
	r->next++;
	r->n++;
	return (r->stop_after != 0 && (int)r->n >= r->stop_after);
}

int LLVMFuzzerInitialize(int *, char ***);

static void
fuzz_cleanup(void)
{
	char   path[PATH_MAX + 64];
	size_t i;

	for (i = 0; i < nitems(fuzz_kinds); i++) {
		snprintf(
		    path, sizeof path, "%s/%s", fuzz_dir, fuzz_kinds[i].log);
		unlink(path);
		snprintf(path, sizeof path, "%s/%s.new", fuzz_dir,
		    fuzz_kinds[i].log);
		unlink(path);
		snprintf(
		    path, sizeof path, "%s/%s", fuzz_dir, fuzz_kinds[i].meta);
		unlink(path);
		snprintf(
		    path, sizeof path, "%s/%s", fuzz_dir, fuzz_kinds[i].dir);
		rmdir(path);
	}
	snprintf(path, sizeof path, "%s/sessions", fuzz_dir);
	rmdir(path);
	snprintf(path, sizeof path, "%s/acp", fuzz_dir);
	rmdir(path);
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char   path[PATH_MAX + 32];
	char  *cause = NULL;
	size_t i;

	snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/agentd-fuzz-store-%d",
	    (int)getpid());
	if (store_init(fuzz_dir, &cause) != 0) {
		fprintf(stderr, "store_init: %s\n", cause);
		exit(1);
	}
	snprintf(path, sizeof path, "%s/acp", fuzz_dir); /* store_create's */
	(void)mkdir(path, 0700);
	for (i = 0; i < nitems(fuzz_kinds); i++) {
		snprintf(
		    path, sizeof path, "%s/%s", fuzz_dir, fuzz_kinds[i].dir);
		(void)mkdir(path, 0700);
	}
	atexit(fuzz_cleanup);
	return (0);
}

/* Open the input as one kind's log, read it back, reopen it. */
static void
fuzz_one(size_t k, const uint8_t *data, size_t size)
{
	enum store_kind kind = fuzz_kinds[k].kind;
	struct store   *st;
	struct readback r;
	char		path[PATH_MAX + 32], *cause = NULL;
	uint64_t	last, last2, from;
	int		fd, n;

	snprintf(path, sizeof path, "%s/%s", fuzz_dir, fuzz_kinds[k].log);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_CHECK(fd != -1, "%s: %s", path, strerror(errno));
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "short write");
	close(fd);
	snprintf(path, sizeof path, "%s/%s", fuzz_dir, fuzz_kinds[k].meta);
	unlink(path);

	if ((st = store_open(kind, fuzz_dir, "f", &last, &cause)) == NULL) {
		FUZZ_CHECK(cause != NULL, "refused without a cause");
		free(cause);
		return;
	}
	FUZZ_CHECK(store_last_seq(st) == last, "last_seq mismatch");
	memset(&r, 0, sizeof r);
	r.kind = kind;
	r.next = 1;
	n = store_read(st, 0, SIZE_MAX, readback_cb, &r);
	FUZZ_CHECK(n >= 0 && (uint64_t)n == last && r.n == last,
	    "read %d lines of %llu", n, (unsigned long long)last);
	/* From a few other points, in bounded chunks. */
	for (from = 2; from <= last + 1 && from < 200; from += 1 + from / 3) {
		memset(&r, 0, sizeof r);
		r.kind = kind;
		r.next = from;
		r.stop_after = 3;
		n = store_read(st, from, 64, readback_cb, &r);
		FUZZ_CHECK(n >= 0, "store_read from %llu failed",
		    (unsigned long long)from);
		if (from <= last)
			FUZZ_CHECK(n >= 1, "nothing read from %llu",
			    (unsigned long long)from);
	}
	store_close(st);

	st = store_open(kind, fuzz_dir, "f", &last2, &cause);
	FUZZ_CHECK(st != NULL, "reopen after recovery failed: %s", cause);
	FUZZ_CHECK(last2 == last, "reopen: %llu lines, first open %llu",
	    (unsigned long long)last2, (unsigned long long)last);
	store_close(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t k;

	for (k = 0; k < nitems(fuzz_kinds); k++)
		fuzz_one(k, data, size);
	return (0);
}
