/*
 * store.c: each session's event log and metadata, durably on disk.
 *
 * Layout: <data_dir>/sessions/<id>/events.jsonl (append-only, one event per
 * line) and <data_dir>/sessions/<id>/session.json (replaced whole).
 *
 * Invariants:
 * - events.jsonl up to st->size holds complete lines only. Line N (from 1)
 *   is the event whose sequence is N; it starts with
 *   {"event_id":"evt_N","sequence":N,  (protocol/event.c writes that order)
 *   and ends with '}' and '\n'. store_append refuses anything else, so
 *   store_open can check every line with a cheap scan of its first bytes.
 * - One event is one writev(2) on an O_APPEND descriptor. If it fails or
 *   comes up short, the file is cut back to st->size so no torn line stays
 *   (redis flushAppendOnlyFile). If even that cut fails, the store refuses
 *   every later append: a line appended after a torn one would turn a
 *   recoverable tail into corruption in the middle.
 * - Readers stop at st->size, so they never see a line being written.
 * - Durability: store_append only writes. The session calls store_sync
 *   (fdatasync) at turn ends, permission and question requests and at
 *   least every 200 ms while events flow (DESIGN.md section 6). The
 *   metadata is written to session.json.new, fsynced, renamed over
 *   session.json, and the directory fsynced, so a crash leaves the old
 *   file or the new one, never a mix.
 *
 * Recovery (store_open), after redis' aof-load-truncated:
 * - A last line without its '\n', or a last line that is not a well-formed
 *   event, is what a crash in the middle of an append leaves: it is cut
 *   off with ftruncate, silently, and the events before it are kept.
 * - Anything else is corruption in the middle: a bad line followed by more
 *   bytes, a sequence that is not the previous one plus one, a line longer
 *   than STORE_LINE_MAX. The store refuses to open and the cause names the
 *   file, the byte offset and the truncate(1) command that keeps the good
 *   events before it. Nothing is deleted without an operator.
 *
 * Memory: an open session costs this struct, its directory path and a
 * sparse index of one offset per STORE_STRIDE events (8 bytes per 64
 * events), so reading from any sequence costs one pread at an indexed
 * offset plus at most STORE_STRIDE - 1 skipped lines. Read buffers live
 * only for the duration of a call; they start at STORE_BUF and grow only to
 * hold a line longer than that, up to STORE_LINE_MAX.
 *
 * Session ids are validated by the caller and again here, so no id can
 * name a path outside <data_dir>/sessions.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define STORE_ID_MAX   128
#define STORE_STRIDE   64		     /* events per index entry */
#define STORE_BUF      (64UL * 1024)	     /* first read buffer */
#define STORE_LINE_MAX (256UL * 1024 * 1024) /* longest event line */
#define STORE_META_MAX (4UL * 1024 * 1024)   /* largest session.json */

struct store {
	char *dir; /* <data_dir>/sessions/<id> */
	int   wfd; /* events.jsonl, O_APPEND */
	int   rfd; /* events.jsonl, for pread */
	int   flags;
#define STORE_DIRTY   0x1 /* written since the last sync */
#define STORE_BROKEN  0x2 /* a torn line may remain: no appends */
#define STORE_REMOVED 0x4

	uint64_t last_seq;
	off_t	 size; /* end of the last complete line */

	off_t *index; /* index[i]: offset of seq i*STRIDE+1 */
	size_t nindex;
	size_t cindex;
};

/* A bounded line reader over [offset, limit) of a file. */
struct store_cursor {
	int    fd;
	char  *buf;
	size_t cap;
	size_t pos;   /* first unconsumed byte in buf */
	size_t end;   /* end of the bytes read into buf */
	off_t  base;  /* file offset of buf[0] */
	off_t  limit; /* read nothing at or after this */
};

/* fdatasync latency of every store, for the metrics (a histogram). */
const double store_sync_bounds[STORE_SYNC_BUCKETS] = { 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1 };
static struct store_stats store_stats;

enum store_next {
	STORE_LINE, /* a line, without its '\n' */
	STORE_END,  /* nothing left before the limit */
	STORE_TORN, /* bytes without a '\n' before the limit */
	STORE_LONG, /* a line longer than STORE_LINE_MAX */
	STORE_ERROR /* pread failed, errno set */
};

static int	     store_id_valid(const char *);
static int	     store_digits(const char **, const char *, uint64_t *);
static int	     store_match(const char **, const char *, const char *);
static int	     store_line_seq(const char *, size_t, uint64_t *);
static int	     store_mkdirs(const char *);
static int	     store_fsync_dir(const char *);
static int	     store_fsync_parent(const char *);
static int	     store_write_all(int, const char *, size_t);
static int	     store_writev_line(int, const char *, size_t);
static struct store *store_new(const char *, const char *, char **);
static int	     store_stale(const char *);
static int	     store_open_fds(struct store *, int, char **);
static void	     store_index_add(struct store *, uint64_t, off_t);
static void store_cursor_init(struct store_cursor *, int, off_t, off_t);
static void store_cursor_done(struct store_cursor *);
static int  store_cursor_fill(struct store_cursor *);
static enum store_next
store_cursor_next(struct store_cursor *, int, const char **, size_t *, off_t *);
static void store_corrupt(struct store *, off_t, const char *, char **);
static int
store_scan_line(struct store *, const char *, size_t, off_t, char **);
static int store_scan(struct store *, off_t *, char **);
static int store_cut(struct store *, off_t, char **);
static int store_list_cmp(const void *, const void *);

/* Check a session id: [A-Za-z0-9._-]{1,128}, not starting with '.'. */
static int
store_id_valid(const char *id)
{
	size_t i;
	char   c;

	if (id == NULL || id[0] == '\0' || id[0] == '.')
		return (0);
	for (i = 0; id[i] != '\0'; i++) {
		if (i == STORE_ID_MAX)
			return (0);
		c = id[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			continue;
		return (0);
	}
	return (1);
}

/* Parse a decimal number: no sign, no leading zero, no overflow. */
static int
store_digits(const char **pp, const char *end, uint64_t *out)
{
	const char  *p = *pp;
	uint64_t     v = 0;
	unsigned int d;

	if (p == end || *p < '0' || *p > '9' ||
	    (*p == '0' && p + 1 != end && p[1] >= '0' && p[1] <= '9'))
		return (0);
	for (; p != end && *p >= '0' && *p <= '9'; p++) {
		d = (unsigned int)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return (0);
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return (1);
}

/* Consume a literal. */
static int
store_match(const char **pp, const char *end, const char *lit)
{
	size_t len = strlen(lit);

	if ((size_t)(end - *pp) < len || memcmp(*pp, lit, len) != 0)
		return (0);
	*pp += len;
	return (1);
}

/*
 * Get the sequence of an event line, 0 if it is one; -1 if the line does
 * not start {"event_id":"evt_N","sequence":N, with the same N > 0 twice,
 * or does not end with '}'. Strict on purpose: event.c writes exactly this,
 * so any difference means the bytes are not what we wrote.
 */
static int
store_line_seq(const char *line, size_t len, uint64_t *seq)
{
	const char *p = line, *end = line + len;
	uint64_t    a, b;

	if (len == 0 || line[len - 1] != '}')
		return (-1);
	if (!store_match(&p, end, "{\"event_id\":\"evt_") ||
	    !store_digits(&p, end, &a) ||
	    !store_match(&p, end, "\",\"sequence\":") ||
	    !store_digits(&p, end, &b) || !store_match(&p, end, ","))
		return (-1);
	if (a != b || a == 0)
		return (-1);
	*seq = a;
	return (0);
}

/* mkdir -p with mode 0700 for the parts it creates. */
static int
store_mkdirs(const char *path)
{
	struct stat sb;
	char	   *copy, *p;
	int	    saved;

	copy = xstrdup(path);
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) == -1 && errno != EEXIST) {
			saved = errno;
			free(copy);
			errno = saved;
			return (-1);
		}
		*p = '/';
	}
	free(copy);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return (-1);
	if (stat(path, &sb) == -1)
		return (-1);
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return (-1);
	}
	return (0);
}

/*
 * fsync a directory, so that an entry created, renamed or removed in it
 * survives a crash (fsync on the file covers its data, not its name).
 */
static int
store_fsync_dir(const char *path)
{
	int fd, r, saved;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	r = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return (r);
}

/* fsync the directory that holds path. */
static int
store_fsync_parent(const char *path)
{
	const char *slash;
	char	   *parent;
	int	    r;

	if ((slash = strrchr(path, '/')) == NULL)
		return (store_fsync_dir("."));
	parent = xstrndup(path, (size_t)(slash - path) + (slash == path));
	r = store_fsync_dir(parent);
	free(parent);
	return (r);
}

/* write(2) all of buf, through short writes and EINTR. */
static int
store_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = EIO;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/*
 * Append line and '\n' with one writev(2). On a regular file that is
 * complete unless the disk is full, a limit is hit or a signal lands; then
 * the rest goes out in further calls, still at the end of the file since
 * the descriptor is O_APPEND and we are its only writer.
 */
static int
store_writev_line(int fd, const char *line, size_t len)
{
	struct iovec iov[2], *v = iov;
	int	     cnt = 2;
	ssize_t	     n;
	size_t	     done;

	iov[0].iov_base = (void *)line;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)"\n";
	iov[1].iov_len = 1;
	while (cnt > 0) {
		if ((n = writev(fd, v, cnt)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0) {
			errno = EIO;
			return (-1);
		}
		for (done = (size_t)n; cnt > 0 && done >= v->iov_len;
		     v++, cnt--)
			done -= v->iov_len;
		if (cnt > 0) {
			v->iov_base = (char *)v->iov_base + done;
			v->iov_len -= done;
		}
	}
	return (0);
}

/* Allocate a closed store for a valid id. */
static struct store *
store_new(const char *data_dir, const char *id, char **cause)
{
	struct store *st;

	if (!store_id_valid(id)) {
		xasprintf(cause, "invalid session id");
		errno = EINVAL;
		return (NULL);
	}
	st = xcalloc(1, sizeof *st);
	xasprintf(&st->dir, "%s/sessions/%s", data_dir, id);
	st->wfd = st->rfd = -1;
	return (st);
}

/*
 * 1 if an existing session directory holds nothing: no session.json and
 * an empty or missing events.jsonl. That is what a crash between
 * store_create and the first store_write_meta leaves; such a directory
 * would otherwise block its id forever while store_list never shows it.
 */
static int
store_stale(const char *dir)
{
	struct stat sb;
	char	   *path;
	int	    stale;

	xasprintf(&path, "%s/session.json", dir);
	stale = lstat(path, &sb) == -1 && errno == ENOENT;
	free(path);
	if (!stale)
		return (0);
	xasprintf(&path, "%s/events.jsonl", dir);
	if (lstat(path, &sb) == 0)
		stale = S_ISREG(sb.st_mode) && sb.st_size == 0;
	else
		stale = errno == ENOENT;
	free(path);
	return (stale);
}

/* Open events.jsonl for appending and for reading. */
static int
store_open_fds(struct store *st, int create, char **cause)
{
	char *path;
	int   flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC;

	if (create)
		flags |= O_CREAT | O_TRUNC;
	xasprintf(&path, "%s/events.jsonl", st->dir);
	if ((st->wfd = open(path, flags, 0600)) == -1 ||
	    (st->rfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (!create && errno == ENOENT)
			xasprintf(cause, "session not found");
		else
			xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	free(path);
	return (0);
}

/* Remember where seq starts if it opens a stride. */
static void
store_index_add(struct store *st, uint64_t seq, off_t off)
{
	if ((seq - 1) % STORE_STRIDE != 0)
		return;
	if (st->nindex == st->cindex) {
		st->cindex = st->cindex == 0 ? 8 : st->cindex * 2;
		st->index =
		    xreallocarray(st->index, st->cindex, sizeof *st->index);
	}
	st->index[st->nindex++] = off;
}

/*
 * One read buffer of STORE_BUF bytes is kept between calls: subscribers
 * behind the memory ring read the log in a loop, and allocating (with
 * musl, mapping) a fresh buffer each time cost more than the read itself.
 * Single-threaded; a nested cursor gets a buffer of its own.
 */
static char *store_spare;

/* Start reading lines at off; stop at limit. */
static void
store_cursor_init(struct store_cursor *c, int fd, off_t off, off_t limit)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->base = off;
	c->limit = limit;
	c->cap = STORE_BUF;
	if (store_spare != NULL) {
		c->buf = store_spare;
		store_spare = NULL;
	} else
		c->buf = xmalloc(c->cap);
}

/* Done with a cursor: keep its buffer if it did not grow. */
static void
store_cursor_done(struct store_cursor *c)
{
	if (c->cap == STORE_BUF && store_spare == NULL)
		store_spare = c->buf;
	else
		free(c->buf);
	c->buf = NULL;
}

/*
 * Read more of the file into the buffer: 1 if something came, 0 at the
 * limit or at end of file, -1 on error. Consumed bytes are dropped first;
 * the buffer grows only when a single pending line fills it, and never
 * beyond the bytes left before the limit or STORE_LINE_MAX + 1.
 */
static int
store_cursor_fill(struct store_cursor *c)
{
	off_t	left;
	size_t	want;
	ssize_t n;

	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->end - c->pos);
		c->base += (off_t)c->pos;
		c->end -= c->pos;
		c->pos = 0;
	}
	left = c->limit - c->base - (off_t)c->end;
	if (left <= 0)
		return (0);
	if (c->end == c->cap) {
		want = c->cap * 2;
		if (want > STORE_LINE_MAX + 1)
			want = STORE_LINE_MAX + 1;
		if ((off_t)(want - c->end) > left)
			want = c->end + (size_t)left;
		c->buf = xrealloc(c->buf, want);
		c->cap = want;
	}
	want = c->cap - c->end;
	if ((off_t)want > left)
		want = (size_t)left;
	do
		n = pread(
		    c->fd, c->buf + c->end, want, c->base + (off_t)c->end);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-1);
	if (n == 0) {
		c->limit = c->base + (off_t)c->end; /* file shrank */
		return (0);
	}
	c->end += (size_t)n;
	return (1);
}

/*
 * Get the next line and its offset. With keep 0 the caller only wants to
 * skip the line: its bytes are dropped as they are read, so skipping a
 * long line needs no large buffer, and *line is not the whole line.
 */
static enum store_next
store_cursor_next(struct store_cursor *c, int keep, const char **line,
    size_t *len, off_t *off)
{
	char  *nl;
	size_t pending;

	*off = c->base + (off_t)c->pos;
	for (;;) {
		pending = c->end - c->pos;
		if ((nl = memchr(c->buf + c->pos, '\n', pending)) != NULL) {
			*line = c->buf + c->pos;
			*len = (size_t)(nl - *line);
			c->pos = (size_t)(nl - c->buf) + 1;
			return (STORE_LINE);
		}
		if (keep && pending > STORE_LINE_MAX)
			return (STORE_LONG);
		if (!keep) {
			c->base += (off_t)c->end;
			c->pos = c->end = 0;
		}
		switch (store_cursor_fill(c)) {
		case -1:
			return (STORE_ERROR);
		case 0:
			return (c->pos == c->end ? STORE_END : STORE_TORN);
		}
	}
}

/* Build the cause for corruption at off, with the repair to run. */
static void
store_corrupt(struct store *st, off_t off, const char *what, char **cause)
{
	xasprintf(cause,
	    "%s/events.jsonl: %s at byte %lld, after %llu good "
	    "events; to keep those and drop the rest, stop agentd and run: "
	    "truncate -s %lld '%s/events.jsonl'",
	    st->dir, what, (long long)off, (unsigned long long)st->last_seq,
	    (long long)off, st->dir);
}

/*
 * Take one line during recovery: 0 if it is the next event, 1 if it is not
 * an event at all, -1 (with *cause) if it is an event out of sequence.
 */
static int
store_scan_line(
    struct store *st, const char *line, size_t len, off_t off, char **cause)
{
	uint64_t	seq;
	char	       *what;
	enum event_type type;
	size_t		noraw;

	/* Readers hand every line to event_scan: it must take it too. */
	if (store_line_seq(line, len, &seq) != 0 ||
	    event_scan(line, len, &type, &noraw) != 0)
		return (1);
	if (seq != st->last_seq + 1) {
		xasprintf(&what, "sequence %llu where %llu was expected",
		    (unsigned long long)seq,
		    (unsigned long long)st->last_seq + 1);
		store_corrupt(st, off, what, cause);
		free(what);
		return (-1);
	}
	store_index_add(st, seq, off);
	st->last_seq = seq;
	st->size = off + (off_t)len + 1;
	return (0);
}

/*
 * Check every line of events.jsonl and build the index. On success *cut
 * is where the good lines end (the file size if nothing is torn). A bad
 * line is forgiven only if nothing follows it.
 */
static int
store_scan(struct store *st, off_t *cut, char **cause)
{
	struct store_cursor c;
	struct stat	    sb;
	const char	   *line, *what = NULL;
	size_t		    len;
	off_t		    off, bad = -1;
	enum store_next	    r;
	int		    rv = -1;

	if (fstat(st->rfd, &sb) == -1) {
		xasprintf(
		    cause, "%s/events.jsonl: %s", st->dir, strerror(errno));
		return (-1);
	}
	store_cursor_init(&c, st->rfd, 0, sb.st_size);
	while (
	    (r = store_cursor_next(&c, 1, &line, &len, &off)) == STORE_LINE) {
		if (bad != -1) {
			what = "a line that is not an event, followed by more";
			break;
		}
		switch (store_scan_line(st, line, len, off, cause)) {
		case -1:
			goto out;
		case 1:
			bad = off;
			break;
		}
	}
	if (r == STORE_ERROR)
		xasprintf(
		    cause, "%s/events.jsonl: %s", st->dir, strerror(errno));
	else if (r == STORE_LONG)
		store_corrupt(st, off, "a line too long to be an event", cause);
	else if (r == STORE_TORN && bad != -1)
		what = "a line that is not an event, followed by more";
	if (what != NULL)
		store_corrupt(st, bad, what, cause);
	else if (r == STORE_END || r == STORE_TORN) {
		*cut = st->size;
		rv = 0;
	}
out:
	store_cursor_done(&c);
	return (rv);
}

/* Cut a torn tail off at size, if there is one, and make the cut durable. */
static int
store_cut(struct store *st, off_t size, char **cause)
{
	struct stat sb;

	if (fstat(st->rfd, &sb) == 0 && sb.st_size == size)
		return (0);
	if (ftruncate(st->wfd, size) == -1 || fsync(st->wfd) == -1) {
		xasprintf(cause,
		    "%s/events.jsonl: cutting the torn last line "
		    "at byte %lld: %s",
		    st->dir, (long long)size, strerror(errno));
		return (-1);
	}
	return (0);
}

/* Create data_dir/sessions (and data_dir) if missing. */
int
store_init(const char *data_dir, char **cause)
{
	char *path;

	xasprintf(&path, "%s/sessions", data_dir);
	if (store_mkdirs(path) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	free(path);
	return (0);
}

/* qsort comparator for session ids. */
static int
store_list_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * 1 if dir (an fd-relative name under the sessions directory) holds a
 * session: a session.json, or events in events.jsonl (a session.json lost
 * to a full disk or a crash is rebuilt from them: the session layer).
 */
static int
store_list_has(int dfd, const char *name)
{
	struct stat sb;
	char	   *path;
	int	    has;

	xasprintf(&path, "%s/session.json", name);
	has = fstatat(dfd, path, &sb, 0) == 0 && S_ISREG(sb.st_mode);
	free(path);
	if (has)
		return (1);
	xasprintf(&path, "%s/events.jsonl", name);
	has = fstatat(dfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode) && sb.st_size > 0;
	free(path);
	return (has);
}

/*
 * List the sessions: directories with a valid id that hold a session.json
 * or events (store_list_has). *ids is a sorted malloc'd array of malloc'd
 * names (NULL when empty).
 */
int
store_list(const char *data_dir, char ***ids, size_t *n)
{
	struct dirent *de;
	DIR	      *d;
	char	      *path;
	size_t	       cap = 0;
	int	       saved;

	*ids = NULL;
	*n = 0;
	xasprintf(&path, "%s/sessions", data_dir);
	if ((d = opendir(path)) == NULL) {
		saved = errno;
		free(path);
		errno = saved;
		return (-1);
	}
	free(path);
	while ((de = readdir(d)) != NULL) {
		if (!store_id_valid(de->d_name) ||
		    !store_list_has(dirfd(d), de->d_name))
			continue;
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			*ids = xreallocarray(*ids, cap, sizeof **ids);
		}
		(*ids)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(*ids, *n, sizeof **ids, store_list_cmp);
	return (0);
}

/*
 * Remove the session directories that hold nothing (store_stale: no
 * session.json, no events), what a crash or a failed create between
 * store_create and the first metadata write leaves. One that holds
 * anything else is kept. *ids gets the names removed, for the caller to
 * log, as store_list gives them (NULL when none).
 */
void
store_sweep(const char *data_dir, char ***ids, size_t *n)
{
	static const char *names[] = { "events.jsonl", "session.json.new" };
	struct dirent	  *de;
	DIR		  *d;
	char		  *dir, *path;
	size_t		   i, cap = 0;

	*ids = NULL;
	*n = 0;
	xasprintf(&dir, "%s/sessions", data_dir);
	d = opendir(dir);
	free(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!store_id_valid(de->d_name))
			continue;
		xasprintf(&dir, "%s/sessions/%s", data_dir, de->d_name);
		if (store_stale(dir)) {
			for (i = 0; i < nitems(names); i++) {
				xasprintf(&path, "%s/%s", dir, names[i]);
				(void)unlink(path);
				free(path);
			}
			if (rmdir(dir) == 0) {
				if (*n == cap) {
					cap = cap == 0 ? 8 : cap * 2;
					*ids = xreallocarray(
					    *ids, cap, sizeof **ids);
				}
				(*ids)[(*n)++] = xstrdup(de->d_name);
			}
		}
		free(dir);
	}
	closedir(d);
	if (*n > 0) {
		xasprintf(&dir, "%s/sessions/.", data_dir);
		(void)store_fsync_parent(dir);
		free(dir);
	}
}

/*
 * Take <data_dir>/lock, an exclusive flock(2) held for the life of the
 * process (the descriptor is returned and must stay open; close-on-exec,
 * so no agent inherits it and outlives us holding it). A second agentd on
 * the same data dir would interleave its writes with ours: it is refused,
 * and the cause names the holder's pid, which the file holds.
 */
int
store_lock(const char *data_dir, char **cause)
{
	char   *path, pid[32];
	ssize_t n;
	int	fd, saved;

	xasprintf(&path, "%s/lock", data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		if (saved == EWOULDBLOCK) {
			n = pread(fd, pid, sizeof pid - 1, 0);
			pid[n > 0 ? n : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			xasprintf(cause,
			    "data dir %s is in use by another agentd (pid %s, "
			    "holding %s): stop it first, or give this one "
			    "another --data-dir",
			    data_dir, *pid != '\0' ? pid : "unknown", path);
		} else
			xasprintf(
			    cause, "%s: flock: %s", path, strerror(saved));
		close(fd);
		free(path);
		return (-1);
	}
	free(path);
	/* The pid is for the message above only: a full disk that refuses
	 * it does not weaken the lock. */
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0)
		(void)pwrite(fd, pid, (size_t)n, 0);
	return (fd);
}

/*
 * Create a new session: its directory and an empty events.jsonl, both
 * made durable. NULL with "session already exists" if the id is taken.
 */
struct store *
store_create(const char *data_dir, const char *id, char **cause)
{
	struct store *st;

	if ((st = store_new(data_dir, id, cause)) == NULL)
		return (NULL);
	if (mkdir(st->dir, 0700) == -1) {
		if (errno != EEXIST) {
			xasprintf(cause, "%s: %s", st->dir, strerror(errno));
			goto fail;
		}
		if (!store_stale(st->dir)) {
			xasprintf(cause, "session already exists");
			errno = EEXIST;
			goto fail;
		}
	}
	if (store_open_fds(st, 1, cause) == -1)
		goto fail;
	if (store_fsync_dir(st->dir) == -1 ||
	    store_fsync_parent(st->dir) == -1) {
		xasprintf(cause, "%s: fsync: %s", st->dir, strerror(errno));
		store_remove(st);
		goto fail;
	}
	return (st);

fail:
	store_close(st);
	return (NULL);
}

/*
 * Open an existing session and recover its log (see the top of this
 * file). *last_seq is the sequence of the last good event, 0 if none.
 */
struct store *
store_open(
    const char *data_dir, const char *id, uint64_t *last_seq, char **cause)
{
	struct store *st;
	off_t	      cut;

	if ((st = store_new(data_dir, id, cause)) == NULL)
		return (NULL);
	if (store_open_fds(st, 0, cause) == -1 ||
	    store_scan(st, &cut, cause) == -1 ||
	    store_cut(st, cut, cause) == -1) {
		store_close(st);
		return (NULL);
	}
	*last_seq = st->last_seq;
	return (st);
}

/*
 * Append one event line (without its '\n'); seq must follow the last one
 * and the line must carry it. On failure nothing of the line stays in the
 * file, errno says why and the session must stop feeding the store.
 */
int
store_append(
    struct store *st, uint64_t seq, const char *line, size_t len, char **cause)
{
	uint64_t got;
	int	 saved;

	if (st->flags & (STORE_BROKEN | STORE_REMOVED)) {
		xasprintf(cause, "%s/events.jsonl: %s", st->dir,
		    (st->flags & STORE_REMOVED)
			? "session removed"
			: "store failed earlier, not writable");
		errno = EIO;
		return (-1);
	}
	if (seq != st->last_seq + 1) {
		xasprintf(cause, "sequence %llu where %llu was expected",
		    (unsigned long long)seq,
		    (unsigned long long)st->last_seq + 1);
		errno = EINVAL;
		return (-1);
	}
	if (len > STORE_LINE_MAX || store_line_seq(line, len, &got) != 0 ||
	    got != seq || memchr(line, '\n', len) != NULL) {
		xasprintf(cause, "not an event line for sequence %llu",
		    (unsigned long long)seq);
		errno = EINVAL;
		return (-1);
	}
	if (store_writev_line(st->wfd, line, len) == -1) {
		saved = errno;
		if (ftruncate(st->wfd, st->size) == -1) {
			st->flags |= STORE_BROKEN;
			xasprintf(cause,
			    "%s/events.jsonl: write: %s; cutting "
			    "back: %s",
			    st->dir, strerror(saved), strerror(errno));
		} else
			xasprintf(cause, "%s/events.jsonl: write: %s", st->dir,
			    strerror(saved));
		errno = saved;
		return (-1);
	}
	store_index_add(st, seq, st->size);
	st->size += (off_t)len + 1;
	st->last_seq = seq;
	st->flags |= STORE_DIRTY;
	return (0);
}

/*
 * fdatasync the log if anything was appended since the last sync. On
 * failure the store stays dirty, but beware: Linux may already have
 * dropped the pages that failed, so a later successful sync proves
 * nothing about them; the caller should treat -1 as a store failure.
 */
int
store_sync(struct store *st)
{
	struct timespec a, b;
	double		took;
	size_t		i;
	int		rv;

	if (!(st->flags & STORE_DIRTY) || (st->flags & STORE_REMOVED)) {
		st->flags &= ~STORE_DIRTY;
		return (0);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	rv = fdatasync(st->wfd);
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	store_stats.syncs++;
	store_stats.sync_seconds += took;
	for (i = 0; i < STORE_SYNC_BUCKETS; i++) {
		if (took <= store_sync_bounds[i])
			store_stats.sync_le[i]++;
	}
	if (rv == -1) {
		store_stats.sync_errors++;
		return (-1);
	}
	st->flags &= ~STORE_DIRTY;
	return (0);
}

/* The fdatasync counts and times so far. */
void
store_get_stats(struct store_stats *out)
{
	*out = store_stats;
}

/* Bytes of complete events in the log. */
unsigned long long
store_bytes(const struct store *st)
{
	return ((unsigned long long)st->size);
}

/* 1 if events were appended since the last store_sync. */
int
store_dirty(const struct store *st)
{
	return ((st->flags & STORE_DIRTY) != 0);
}

/* Replace session.json atomically: .new, fsync, rename, fsync the dir. */
int
store_write_meta(struct store *st, const char *json, size_t len, char **cause)
{
	char	   *tmp, *path;
	const char *what = "unlink", *name;
	int	    fd = -1, saved;

	xasprintf(&tmp, "%s/session.json.new", st->dir);
	xasprintf(&path, "%s/session.json", st->dir);
	name = tmp;
	if (unlink(tmp) == -1 && errno != ENOENT)
		goto fail;
	what = "open";
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1)
		goto fail;
	what = "write";
	if (store_write_all(fd, json, len) == -1)
		goto fail;
	what = "fsync";
	if (fsync(fd) == -1)
		goto fail;
	what = "close";
	saved = close(fd);
	fd = -1;
	if (saved == -1)
		goto fail;
	what = "rename";
	if (rename(tmp, path) == -1)
		goto fail;
	what = "fsync";
	name = st->dir;
	if (store_fsync_dir(st->dir) == -1)
		goto fail;
	free(tmp);
	free(path);
	return (0);

fail:
	saved = errno;
	xasprintf(cause, "%s: %s: %s", name, what, strerror(saved));
	if (fd != -1)
		close(fd);
	if (name == tmp && strcmp(what, "unlink") != 0)
		unlink(tmp); /* leave no stale .new behind */
	free(tmp);
	free(path);
	errno = saved;
	return (-1);
}

/* Read session.json whole, NUL-terminated; NULL if missing or unreadable. */
char *
store_read_meta(struct store *st, size_t *lenp)
{
	struct stat sb;
	char	   *path, *buf = NULL;
	size_t	    len = 0;
	ssize_t	    n;
	int	    fd;

	xasprintf(&path, "%s/session.json", st->dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return (NULL);
	if (fstat(fd, &sb) == -1)
		goto out;
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > STORE_META_MAX) {
		errno = S_ISREG(sb.st_mode) ? EFBIG : EINVAL;
		goto out;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size) {
		n = read(fd, buf + len, (size_t)sb.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			buf = NULL;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
out:
	close(fd);
	return (buf);
}

/*
 * Call cb(arg, seq, line, len) for each event from from_seq on, in order,
 * until cb returns non-zero, the lines given reach max_bytes (the first
 * line is given even if longer) or the end of what has been appended.
 * Returns the number of lines given, -1 on error (errno set).
 */
int
store_read(struct store *st, uint64_t from_seq, size_t max_bytes,
    store_read_cb cb, void *arg)
{
	struct store_cursor c;
	const char	   *line;
	size_t		    len, total = 0;
	uint64_t	    seq, got;
	off_t		    off;
	enum store_next	    r;
	int		    n = 0;

	if (from_seq == 0)
		from_seq = 1;
	if (from_seq > st->last_seq)
		return (0);
	seq = (from_seq - 1) / STORE_STRIDE;
	store_cursor_init(&c, st->rfd, st->index[seq], st->size);
	for (seq = seq * STORE_STRIDE + 1; n < INT_MAX; seq++) {
		r = store_cursor_next(&c, seq >= from_seq, &line, &len, &off);
		if (r != STORE_LINE) {
			if (r != STORE_END) {
				if (r != STORE_ERROR)
					errno = EIO;
				n = -1;
			}
			break;
		}
		if (seq < from_seq)
			continue;
		if (store_line_seq(line, len, &got) != 0 || got != seq) {
			errno = EIO; /* changed behind our back */
			n = -1;
			break;
		}
		if (n > 0 && len > max_bytes - total)
			break;
		n++;
		total += len;
		if (cb(arg, seq, line, len) != 0 || total >= max_bytes)
			break;
	}
	store_cursor_done(&c);
	return (n);
}

/* The sequence of the last event appended, 0 if none. */
uint64_t
store_last_seq(const struct store *st)
{
	return (st->last_seq);
}

/*
 * Delete the session's files and directory. The store stays readable
 * through its open descriptors and must still be given to store_close;
 * appends are refused from now on.
 */
int
store_remove(struct store *st)
{
	static const char *names[] = { "events.jsonl", "session.json",
		"session.json.new" };
	char		  *path;
	size_t		   i;
	int		   rv = 0, saved = 0;

	st->flags |= STORE_REMOVED;
	for (i = 0; i < nitems(names); i++) {
		xasprintf(&path, "%s/%s", st->dir, names[i]);
		if (unlink(path) == -1 && errno != ENOENT) {
			saved = errno;
			rv = -1;
		}
		free(path);
	}
	if (rmdir(st->dir) == -1 || store_fsync_parent(st->dir) == -1) {
		saved = errno;
		rv = -1;
	}
	errno = saved;
	return (rv);
}

/* Close and free; NULL is allowed. */
void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->wfd != -1)
		close(st->wfd);
	if (st->rfd != -1)
		close(st->rfd);
	free(st->index);
	free(st->dir);
	free(st);
}
