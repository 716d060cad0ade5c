/*
 * store.c: a numbered, append-only log and its metadata, durably on disk.
 * Three kinds share every rule below and differ only in names and in what
 * a line holds (store_kinds[]):
 *
 *   STORE_EVENTS	<data_dir>/sessions/<id>/events.jsonl, session.json:
 *			a session's universal events.
 *   STORE_MESSAGES	<data_dir>/acp/<id>/messages.jsonl, server.json:
 *			the JSON-RPC messages an ACP server sends its client.
 *   STORE_LOGS		<data_dir>/processes/<id>/log.jsonl, process.json:
 *			a process's output (session/procs.c), lines as for
 *			messages; bounded (below).
 *
 * Invariants:
 * - The log up to st->size holds complete lines only. Line N (from 1)
 *   carries N, in a fixed prefix checked with a cheap scan of its first
 *   bytes, and ends with '}' and '\n':
 *     events	{"event_id":"evt_N","sequence":N,...}
 *		(protocol/event.c writes that order; the line is the event)
 *     messages	{"sequence":N,"cursor":C,"message":M}
 *		(store.c writes it around M, the message, a JSON object;
 *		C, optional, is any JSON value the owner gives with the
 *		message: how far it had read its own inputs, so that it can
 *		go on from there after a crash)
 *   store_append refuses anything else, so store_open can check every
 *   line, and readers get back exactly the event, or exactly M.
 * - One line, or one batch of event lines (store_append_events), is one
 *   writev(2) on an O_APPEND descriptor. If it fails or comes up short,
 *   the file is cut back to st->size so no torn line stays
 *   (redis flushAppendOnlyFile). If even that cut fails, the store refuses
 *   every later append: a line appended after a torn one would turn a
 *   recoverable tail into corruption in the middle.
 * - Readers stop at st->size, so they never see a line being written.
 * - Durability: store_append only writes. The owner calls store_sync
 *   (fdatasync) at turn ends, permission and question requests and at
 *   least every 200 ms while lines flow (journal.c, DESIGN.md section 6).
 *   The metadata is written to <meta>.new in full, fsynced, renamed over
 *   <meta>, and the directory fsynced, so a crash leaves the old file or
 *   the new one, never a mix; it is read back whole.
 *
 * Recovery (store_open), after redis' aof-load-truncated:
 * - A last line without its '\n', or a last line that is not well formed,
 *   is what a crash in the middle of an append leaves: it is cut off with
 *   ftruncate, silently, and the lines before it are kept.
 * - Anything else is corruption in the middle: a bad line followed by more
 *   bytes, a sequence that is not the previous one plus one, a line longer
 *   than STORE_LINE_MAX. The store refuses to open and the cause names the
 *   file, the byte offset and the truncate(1) command that keeps the good
 *   lines before it. Nothing is deleted without an operator.
 * - A messages.jsonl from before lines were numbered (line N was message
 *   N as is) is rewritten once in the numbered form (store_upgrade), by
 *   the same rules: its torn tail is dropped, a bad line in its middle
 *   refuses the open.
 *
 * Memory: an open store costs this struct, its directory path and a
 * sparse index of one offset per STORE_STRIDE lines (8 bytes per 64
 * lines), so reading from any sequence costs one pread at an indexed
 * offset plus at most STORE_STRIDE - 1 skipped lines. Read buffers live
 * only for the duration of a call; they start at STORE_BUF and grow only to
 * hold a line longer than that, up to STORE_LINE_MAX.
 *
 * Descriptors: an open store holds two (wfd, rfd) while its owner
 * appends; store_rest closes them while it does not (a session with no
 * agent), so that stored sessions cost none. The next append reopens
 * them; a read at rest opens the log for that read only.
 *
 * Bounded logs (store_set_cap, for STORE_LOGS): once the log passes half
 * the cap it is renamed log.1.jsonl (replacing the one before) and a new
 * log.jsonl goes on with the next sequence, so the disk holds the last
 * cap bytes or so (two halves, each over by one line at most) and line
 * numbers never restart. A log may then start at any sequence; reading
 * from a sequence that was dropped starts at the oldest one kept. At
 * open, log.1.jsonl is read first if it is there; the log must follow it
 * (else it is dropped: it is only history).
 *
 * Ids are validated by the caller and again here, so no id can name a
 * path outside <data_dir>/sessions, <data_dir>/acp or
 * <data_dir>/processes.
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
#define STORE_STRIDE   64		     /* lines per index entry */
#define STORE_BUF      (64UL * 1024)	     /* first read buffer */
#define STORE_LINE_MAX (256UL * 1024 * 1024) /* longest line */
#define STORE_META_MAX (4UL * 1024 * 1024)   /* largest metadata file */
#define STORE_BATCH    512 /* lines per writev: 2 iovecs each, IOV_MAX 1024 */

/* What differs between the kinds: names, and what a line holds. */
static const struct store_kind_info {
	const char *top;      /* folder of the data dir holding the ids */
	const char *log;      /* the numbered log */
	const char *meta;     /* the metadata, replaced whole */
	const char *meta_new; /* meta being written */
	const char *noun;     /* for causes: "session" */
	const char *one;      /* what a line holds: "an event" */
	const char *many;     /* "events" */
} store_kinds[] = {
	[STORE_EVENTS] = { "sessions", "events.jsonl", "session.json",
	    "session.json.new", "session", "an event", "events" },
	[STORE_MESSAGES] = { "acp", "messages.jsonl", "server.json",
	    "server.json.new", "ACP server", "a message", "messages" },
	[STORE_LOGS] = { "processes", "log.jsonl", "process.json",
	    "process.json.new", "process", "a log entry", "log entries" },
};

/*
 * The previous half of a bounded log (log.1.jsonl), read-only. There is
 * one if last is not 0; its rfd is -1 at rest (store_rest) as the log's.
 */
#define STORE_OLD_LOG "log.1.jsonl"
struct store_old {
	int	 rfd;
	uint64_t first;
	uint64_t last;
	off_t	 size;
	off_t	*index;
	size_t	 nindex;
};

struct store {
	const struct store_kind_info *k;
	enum store_kind		      kind;
	char			     *dir; /* <data_dir>/<top>/<id> */
	int			      wfd; /* the log, O_APPEND */
	int			      rfd; /* the log, for pread */
	int			      flags;
#define STORE_DIRTY   0x1 /* written since the last sync */
#define STORE_BROKEN  0x2 /* a torn line may remain: no appends */
#define STORE_REMOVED 0x4

	uint64_t last_seq;
	uint64_t first_seq; /* of the log's first line: 1 unless rotated */
	off_t	 size;	    /* end of the last complete line */

	off_t *index; /* index[i]: offset of seq first_seq + i*STRIDE */
	size_t nindex;
	size_t cindex;

	uint64_t	 cap; /* STORE_LOGS: bytes kept; 0 for no bound */
	struct store_old old;
};

/* One line taken apart: what readers are given. */
struct store_rec {
	uint64_t    seq;
	const char *data; /* the event, or the message */
	size_t	    len;
	const char *mark; /* the message's cursor, or NULL */
	size_t	    mark_len;
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

/* Check one line at offset: 0 good, 1 not a line, -1 with a cause. */
typedef int (*store_line_fn)(
    struct store *, const char *, size_t, off_t, void *, char **);

enum store_next {
	STORE_LINE, /* a line, without its '\n' */
	STORE_END,  /* nothing left before the limit */
	STORE_TORN, /* bytes without a '\n' before the limit */
	STORE_LONG, /* a line longer than STORE_LINE_MAX */
	STORE_ERROR /* pread failed, errno set */
};

static int store_id_valid(const char *);
static int store_digits(const char **, const char *, uint64_t *);
static int store_match(const char **, const char *, const char *, size_t);
/* A literal, its length taken at compile time (a line's hot path). */
#define store_lit(pp, end, s) store_match((pp), (end), "" s, sizeof(s) - 1)
static int store_parse_event(const char *, size_t, struct store_rec *);
static int store_parse_message(const char *, size_t, struct store_rec *);
static int store_object_valid(const char *, size_t);
static int
store_parse(const struct store *, const char *, size_t, struct store_rec *);
static char *
store_message_line(uint64_t, const char *, const char *, size_t, size_t *);
static int store_fsync_dir(const char *);
static int store_fsync_parent(const char *);
static struct store		*
store_new(enum store_kind, const char *, const char *, char **);
static int  store_stale(const struct store_kind_info *, const char *);
static int  store_upgrade(struct store *, char **);
static int  store_open_fds(struct store *, int, char **);
static void store_index_add(struct store *, uint64_t, off_t);
static void store_cursor_init(struct store_cursor *, int, off_t, off_t);
static void store_cursor_done(struct store_cursor *);
static int  store_cursor_fill(struct store_cursor *);
static enum store_next
store_cursor_next(struct store_cursor *, int, const char **, size_t *, off_t *);
static void store_corrupt(struct store *, off_t, const char *, char **);
static int
store_scan_line(struct store *, const char *, size_t, off_t, void *, char **);
static int
store_scan(struct store *, int, store_line_fn, void *, off_t *, char **);
static int  store_cut(struct store *, off_t, char **);
static void store_drop_old(struct store *);
static int  store_log_missing(const struct store *);
static void store_open_old(struct store *);
static void store_rotate(struct store *);
static int  store_list_cmp(const void *, const void *);

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
		/* v * 10 + d <= UINT64_MAX, without a division per digit. */
		if (v > UINT64_MAX / 10 ||
		    (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return (0);
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return (1);
}

/* Consume len bytes of lit. */
static int
store_match(const char **pp, const char *end, const char *lit, size_t len)
{
	if ((size_t)(end - *pp) < len || !buf_same(*pp, lit, len))
		return (0);
	*pp += len;
	return (1);
}

/*
 * Take an event line apart: 0 if it starts {"event_id":"evt_N",
 * "sequence":N, with the same N > 0 twice and ends with '}'. Strict on
 * purpose: event.c writes exactly this, so any difference means the
 * bytes are not what we wrote.
 */
static int
store_parse_event(const char *line, size_t len, struct store_rec *r)
{
	const char *p = line, *end = line + len;
	uint64_t    a, b;

	if (len == 0 || line[len - 1] != '}')
		return (-1);
	if (!store_lit(&p, end, "{\"event_id\":\"evt_") ||
	    !store_digits(&p, end, &a) ||
	    !store_lit(&p, end, "\",\"sequence\":") ||
	    !store_digits(&p, end, &b) || !store_lit(&p, end, ","))
		return (-1);
	if (a != b || a == 0)
		return (-1);
	r->seq = a;
	r->data = line;
	r->len = len;
	r->mark = NULL;
	r->mark_len = 0;
	return (0);
}

/* Where the members of a message line are (after "sequence"). */
struct store_members {
	int	    n; /* members seen */
	const char *line;
	size_t	    mark, mark_len;
	size_t	    msg, msg_len;
	int	    bad;
};

static int
store_members_cb(
    void *arg, const char *key, size_t klen, size_t off, size_t len, size_t sep)
{
	struct store_members *m = arg;

	m->n++;
	if (m->n == 1)
		return (0); /* "sequence", matched already */
	if (m->n == 2 && klen == 8 && memcmp(key, "\"cursor\"", 8) == 0 &&
	    len > 0) {
		m->mark = off;
		m->mark_len = len;
		return (0);
	}
	if (m->msg == 0 && klen == 9 && memcmp(key, "\"message\"", 9) == 0) {
		m->msg = off;
		m->msg_len = len;
		return (0);
	}
	m->bad = 1; /* anything else, or anything after "message" */
	return (1);
}

static int
store_object_end_cb(
    void *arg, const char *key, size_t klen, size_t off, size_t len, size_t sep)
{
	*(size_t *)arg = off + len;
	return (0);
}

/*
 * 1 if s is one JSON object as cJSON prints it: braces, members the scan
 * can walk, and nothing between the last value and the closing brace.
 * Not a full parse (json-scan.c does not validate), but enough to tell a
 * message from a torn or overwritten one.
 */
static int
store_object_valid(const char *s, size_t len)
{
	size_t end = 1;

	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return (0);
	if (json_scan_members(s, len, store_object_end_cb, &end) != 0)
		return (0);
	return (end == len - 1);
}

/*
 * Take a message line apart: 0 if it is {"sequence":N,"message":M} or
 * {"sequence":N,"cursor":C,"message":M}, N > 0, M an object.
 */
static int
store_parse_message(const char *line, size_t len, struct store_rec *r)
{
	struct store_members m;
	const char	    *p = line, *end = line + len;
	uint64_t	     seq;

	if (len == 0 || line[len - 1] != '}')
		return (-1);
	if (!store_lit(&p, end, "{\"sequence\":") ||
	    !store_digits(&p, end, &seq) || seq == 0 ||
	    !store_lit(&p, end, ","))
		return (-1);
	memset(&m, 0, sizeof m);
	if (json_scan_members(line, len, store_members_cb, &m) != 0 || m.bad ||
	    m.msg == 0 || m.msg + m.msg_len != len - 1 ||
	    !store_object_valid(line + m.msg, m.msg_len))
		return (-1);
	r->seq = seq;
	r->data = line + m.msg;
	r->len = m.msg_len;
	r->mark = m.mark != 0 ? line + m.mark : NULL;
	r->mark_len = m.mark_len;
	return (0);
}

/* Take a line of st's kind apart; -1 if it is not one. */
static int
store_parse(
    const struct store *st, const char *line, size_t len, struct store_rec *r)
{
	if (st->kind != STORE_EVENTS)
		return (store_parse_message(line, len, r));
	return (store_parse_event(line, len, r));
}

/* The line that holds message seq: malloc'd, without its '\n'. */
static char *
store_message_line(
    uint64_t seq, const char *mark, const char *msg, size_t len, size_t *outlen)
{
	char  *line, head[64];
	size_t hlen, mlen = mark != NULL ? strlen(mark) : 0;

	hlen = (size_t)snprintf(
	    head, sizeof head, "{\"sequence\":%llu,", (unsigned long long)seq);
	*outlen = hlen + (mark != NULL ? 9 + mlen + 1 : 0) + 10 + len + 1;
	line = xmalloc(*outlen);
	memcpy(line, head, hlen);
	if (mark != NULL) {
		memcpy(line + hlen, "\"cursor\":", 9);
		memcpy(line + hlen + 9, mark, mlen);
		line[hlen + 9 + mlen] = ',';
		hlen += 9 + mlen + 1;
	}
	memcpy(line + hlen, "\"message\":", 10);
	memcpy(line + hlen + 10, msg, len);
	line[*outlen - 1] = '}';
	return (line);
}

/*
 * mkdir -p with mode 0700 for the parts it creates; the last part must be
 * a directory (a symlink to one is taken: a data dir may be one). 0, or -1
 * with errno. Also for what the session layer keeps under the data dir
 * (homes, credentials, archives' staging).
 */
int
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

/* Allocate a closed store of a kind for a valid id. */
static struct store *
store_new(
    enum store_kind kind, const char *data_dir, const char *id, char **cause)
{
	const struct store_kind_info *k = &store_kinds[kind];
	struct store		     *st;

	if (!store_id_valid(id)) {
		xasprintf(cause, "invalid %s id", k->noun);
		errno = EINVAL;
		return (NULL);
	}
	st = xcalloc(1, sizeof *st);
	st->kind = kind;
	st->k = k;
	xasprintf(&st->dir, "%s/%s/%s", data_dir, k->top, id);
	st->wfd = st->rfd = st->old.rfd = -1;
	st->first_seq = 1;
	return (st);
}

/*
 * 1 if an existing directory of kind k holds nothing: no metadata and an
 * empty or missing log. That is what a crash between store_create and the
 * first store_write_meta leaves; such a directory would otherwise block
 * its id forever while store_list never shows it.
 */
static int
store_stale(const struct store_kind_info *k, const char *dir)
{
	struct stat sb;
	char	   *path;
	int	    stale;

	xasprintf(&path, "%s/%s", dir, k->meta);
	stale = lstat(path, &sb) == -1 && errno == ENOENT;
	free(path);
	if (!stale)
		return (0);
	xasprintf(&path, "%s/%s", dir, k->log);
	if (lstat(path, &sb) == 0)
		stale = S_ISREG(sb.st_mode) && sb.st_size == 0;
	else
		stale = errno == ENOENT;
	free(path);
	return (stale);
}

/* Open the log for appending and for reading. */
static int
store_open_fds(struct store *st, int create, char **cause)
{
	char *path;
	int   flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC;

	if (create)
		flags |= O_CREAT | O_TRUNC;
	xasprintf(&path, "%s/%s", st->dir, st->k->log);
	if ((st->wfd = open(path, flags, 0600)) == -1 ||
	    (st->rfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		/* Both or neither: an append checks wfd alone. */
		if (st->wfd != -1) {
			close(st->wfd);
			st->wfd = -1;
		}
		if (!create && errno == ENOENT)
			xasprintf(cause, "%s not found", st->k->noun);
		else
			xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	free(path);
	return (0);
}

/* A log file opened for reading by its name (log.jsonl or log.1.jsonl). */
static int
store_open_read(struct store *st, const char *name)
{
	char *path;
	int   fd;

	xasprintf(&path, "%s/%s", st->dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	return (fd);
}

/*
 * Open the log again after store_rest, for an append. The file must be
 * as the store left it: a log that grew or shrank meanwhile is not ours
 * to number on.
 */
static int
store_wake(struct store *st, char **cause)
{
	struct stat sb;

	if (store_open_fds(st, 0, cause) != 0)
		return (-1);
	if (fstat(st->rfd, &sb) == -1 || sb.st_size != st->size) {
		xasprintf(cause, "%s/%s: changed on disk while closed", st->dir,
		    st->k->log);
		store_rest(st);
		errno = EIO;
		return (-1);
	}
	return (0);
}

/* Remember where seq starts if it opens a stride. */
static void
store_index_add(struct store *st, uint64_t seq, off_t off)
{
	if ((seq - st->first_seq) % STORE_STRIDE != 0)
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
	const char *nl;
	size_t	    pending;

	*off = c->base + (off_t)c->pos;
	for (;;) {
		pending = c->end - c->pos;
		if ((nl = memfind(c->buf + c->pos, '\n', pending)) != NULL) {
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
	    "%s/%s: %s at byte %lld, after %llu good %s; to keep those and "
	    "drop the rest, stop agentd and run: truncate -s %lld '%s/%s'",
	    st->dir, st->k->log, what, (long long)off,
	    (unsigned long long)st->last_seq, st->k->many, (long long)off,
	    st->dir, st->k->log);
}

/*
 * Take one line during recovery: 0 if it is the next line, 1 if it is not
 * a line of this kind at all, -1 (with *cause) if it is one out of
 * sequence.
 */
static int
store_scan_line(struct store *st, const char *line, size_t len, off_t off,
    void *arg, char **cause)
{
	struct store_rec r;
	char		*what;
	enum event_type	 type;
	size_t		 noraw;

	if (store_parse(st, line, len, &r) != 0)
		return (1);
	/* Readers hand every event to event_scan: it must take it too. */
	if (st->kind == STORE_EVENTS &&
	    event_scan(line, len, &type, &noraw) != 0)
		return (1);
	/* A bounded log that rotated starts further on (see the top). */
	if (st->kind == STORE_LOGS && off == 0 && st->last_seq == 0 &&
	    r.seq > 1) {
		st->first_seq = r.seq;
		st->last_seq = r.seq - 1;
	}
	if (r.seq != st->last_seq + 1) {
		xasprintf(&what, "sequence %llu where %llu was expected",
		    (unsigned long long)r.seq,
		    (unsigned long long)st->last_seq + 1);
		store_corrupt(st, off, what, cause);
		free(what);
		return (-1);
	}
	store_index_add(st, r.seq, off);
	st->last_seq = r.seq;
	st->size = off + (off_t)len + 1;
	return (0);
}

/*
 * Check every line of the log open on fd with fn and build the index. On
 * success *cut is where the good lines end (the file size if nothing is
 * torn). A bad line is forgiven only if nothing follows it.
 */
static int
store_scan(struct store *st, int fd, store_line_fn fn, void *arg, off_t *cut,
    char **cause)
{
	struct store_cursor c;
	struct stat	    sb;
	const char	   *line;
	char		   *what = NULL;
	size_t		    len;
	off_t		    off, bad = -1;
	enum store_next	    r;
	int		    rv = -1;

	if (fstat(fd, &sb) == -1) {
		xasprintf(
		    cause, "%s/%s: %s", st->dir, st->k->log, strerror(errno));
		return (-1);
	}
	store_cursor_init(&c, fd, 0, sb.st_size);
	while (
	    (r = store_cursor_next(&c, 1, &line, &len, &off)) == STORE_LINE) {
		if (bad != -1)
			break;
		switch (fn(st, line, len, off, arg, cause)) {
		case -1:
			goto out;
		case 1:
			bad = off;
			break;
		}
	}
	if (r == STORE_ERROR)
		xasprintf(
		    cause, "%s/%s: %s", st->dir, st->k->log, strerror(errno));
	else if (r == STORE_LONG) {
		xasprintf(&what, "a line too long to be %s", st->k->one);
		store_corrupt(st, off, what, cause);
	} else if (bad != -1 && (r == STORE_LINE || r == STORE_TORN)) {
		xasprintf(&what, "a line that is not %s, followed by more",
		    st->k->one);
		store_corrupt(st, bad, what, cause);
	} else {
		*cut = st->size;
		rv = 0;
	}
out:
	free(what);
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
		    "%s/%s: cutting the torn last line at byte "
		    "%lld: %s",
		    st->dir, st->k->log, (long long)size, strerror(errno));
		return (-1);
	}
	return (0);
}

/* messages.jsonl.new, being written from an unnumbered messages.jsonl. */
struct store_upgrade {
	int   fd;
	char *path;
};

/* Take one bare message of an old log: write it numbered. */
static int
store_upgrade_line(struct store *st, const char *line, size_t len, off_t off,
    void *arg, char **cause)
{
	struct store_upgrade *u = arg;
	char		     *out;
	size_t		      outlen;
	int		      r;

	if (!store_object_valid(line, len))
		return (1);
	out = store_message_line(st->last_seq + 1, NULL, line, len, &outlen);
	r = outlen > STORE_LINE_MAX ? 1 : 0;
	if (r == 0 && compat_writeline(u->fd, out, outlen) == -1) {
		xasprintf(cause, "%s: write: %s", u->path, strerror(errno));
		r = -1;
	}
	free(out);
	if (r != 0)
		return (r);
	st->last_seq++;
	st->size = off + (off_t)len + 1;
	return (0);
}

/*
 * Rewrite a messages.jsonl written before its lines were numbered (agentd
 * 0.1.0: line N was message N, bare) in the numbered form: every line is
 * checked as store_open checks a log and written numbered to
 * messages.jsonl.new, which is fsynced and renamed over the old file, and
 * the directory fsynced. A crash at any point leaves the old file whole.
 * Numbered, empty and missing logs are left alone: an unnumbered log is
 * told apart by its first bytes, which cannot start {"sequence": since
 * what it holds are JSON-RPC messages, {"jsonrpc":...
 */
static int
store_upgrade(struct store *st, char **cause)
{
	static const char    numbered[] = "{\"sequence\":";
	struct store_upgrade u;
	char		     head[sizeof numbered - 1], *path;
	const char	    *what = "open";
	ssize_t		     n;
	off_t		     cut;
	int		     fd, rv = -1;

	xasprintf(&path, "%s/%s", st->dir, st->k->log);
	xasprintf(&u.path, "%s/%s.new", st->dir, st->k->log);
	u.fd = -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			rv = 0;
		goto fail;
	}
	do
		n = pread(fd, head, sizeof head, 0);
	while (n == -1 && errno == EINTR);
	what = "read";
	if (n == -1)
		goto fail;
	if (memcmp(head, numbered, (size_t)n) == 0) {
		rv = 0; /* numbered, empty, or a torn first line of one */
		goto out;
	}
	what = "open";
	if ((u.fd = open(u.path,
		 O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		 0600)) == -1) {
		free(path);
		path = xstrdup(u.path);
		goto fail;
	}
	if (store_scan(st, fd, store_upgrade_line, &u, &cut, cause) == -1)
		goto out;
	what = "fsync";
	if (fsync(u.fd) == -1)
		goto fail;
	what = "rename";
	if (rename(u.path, path) == -1)
		goto fail;
	what = "fsync";
	if (store_fsync_dir(st->dir) == -1)
		goto fail;
	st->last_seq = 0; /* store_open scans the new file */
	st->size = 0;
	rv = 0;
	goto out;

fail:
	if (rv == -1)
		xasprintf(cause, "%s: %s: %s", path, what, strerror(errno));
out:
	if (fd != -1)
		close(fd);
	if (u.fd != -1) {
		close(u.fd);
		if (rv == -1)
			unlink(u.path);
	}
	free(u.path);
	free(path);
	return (rv);
}

/*
 * Create data_dir and its sessions folder if missing. The folder of
 * another kind is made by its first store_create, so that a data dir
 * holds only what was used (agentd run removes its temporary one).
 */
int
store_init(const char *data_dir, char **cause)
{
	char *path;

	xasprintf(&path, "%s/%s", data_dir, store_kinds[STORE_EVENTS].top);
	if (store_mkdirs(path) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	free(path);
	return (0);
}

/*
 * Make the folder of st's kind if missing, durably: its name is in the
 * data dir, which is fsynced.
 */
static int
store_mktop(const struct store *st, char **cause)
{
	const char *slash = strrchr(st->dir, '/');
	char	   *top;
	int	    rv = 0;

	top = xstrndup(st->dir, (size_t)(slash - st->dir));
	if (mkdir(top, 0700) == 0) {
		if (store_fsync_parent(top) == -1)
			rv = -1;
	} else if (errno != EEXIST)
		rv = -1;
	if (rv == -1)
		xasprintf(cause, "%s: %s", top, strerror(errno));
	free(top);
	return (rv);
}

/* qsort comparator for ids. */
static int
store_list_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * 1 if name (relative to dfd, the folder of kind k) holds a store: its
 * metadata, or lines in its log (a session.json lost to a full disk or a
 * crash is rebuilt from them: the session layer).
 */
static int
store_list_has(const struct store_kind_info *k, int dfd, const char *name)
{
	struct stat sb;
	char	   *path;
	int	    has;

	xasprintf(&path, "%s/%s", name, k->meta);
	has = fstatat(dfd, path, &sb, 0) == 0 && S_ISREG(sb.st_mode);
	free(path);
	if (has)
		return (1);
	xasprintf(&path, "%s/%s", name, k->log);
	has = fstatat(dfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode) && sb.st_size > 0;
	free(path);
	return (has);
}

/*
 * List the stores of a kind: directories with a valid id that hold their
 * metadata or lines (store_list_has). *ids is a sorted malloc'd array of
 * malloc'd names (NULL when empty).
 */
int
store_list(enum store_kind kind, const char *data_dir, char ***ids, size_t *n)
{
	const struct store_kind_info *k = &store_kinds[kind];
	struct dirent		     *de;
	DIR			     *d;
	char			     *path;
	size_t			      cap = 0;
	int			      saved;

	*ids = NULL;
	*n = 0;
	xasprintf(&path, "%s/%s", data_dir, k->top);
	if ((d = opendir(path)) == NULL) {
		saved = errno;
		free(path);
		errno = saved;
		return (-1);
	}
	free(path);
	while ((de = readdir(d)) != NULL) {
		if (!store_id_valid(de->d_name) ||
		    !store_list_has(k, dirfd(d), de->d_name))
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
	const struct store_kind_info *k = &store_kinds[STORE_EVENTS];
	const char		     *names[] = { k->log, k->meta_new };
	struct dirent		     *de;
	DIR			     *d;
	char			     *dir, *path;
	size_t			      i, cap = 0;

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
		if (store_stale(k, dir)) {
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
 * Create a new store: its directory and an empty log, both made durable.
 * NULL with "session already exists" (or "ACP server ...") and errno
 * EEXIST if the id is taken.
 */
struct store *
store_create(
    enum store_kind kind, const char *data_dir, const char *id, char **cause)
{
	struct store *st;

	if ((st = store_new(kind, data_dir, id, cause)) == NULL)
		return (NULL);
	if (store_mktop(st, cause) == -1)
		goto fail;
	if (mkdir(st->dir, 0700) == -1) {
		if (errno != EEXIST) {
			xasprintf(cause, "%s: %s", st->dir, strerror(errno));
			goto fail;
		}
		if (!store_stale(st->k, st->dir)) {
			xasprintf(cause, "%s already exists", st->k->noun);
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
 * Open an existing store and recover its log (see the top of this file).
 * *last_seq is the sequence of the last good line, 0 if none.
 */
struct store *
store_open(enum store_kind kind, const char *data_dir, const char *id,
    uint64_t *last_seq, char **cause)
{
	struct store *st;
	off_t	      cut;

	if ((st = store_new(kind, data_dir, id, cause)) == NULL)
		return (NULL);
	if (kind == STORE_LOGS)
		store_open_old(st);
	if ((kind == STORE_MESSAGES && store_upgrade(st, cause) == -1) ||
	    store_open_fds(
		st, st->old.last != 0 && store_log_missing(st), cause) == -1) {
		store_close(st);
		return (NULL);
	}
	if (store_scan(st, st->rfd, store_scan_line, NULL, &cut, cause) == -1) {
		if (st->old.last == 0) {
			store_close(st);
			return (NULL);
		}
		/* The log does not follow log.1.jsonl: drop that history. */
		free(*cause);
		*cause = NULL;
		store_drop_old(st);
		st->last_seq = 0;
		st->size = 0;
		st->first_seq = 1;
		free(st->index);
		st->index = NULL;
		st->nindex = st->cindex = 0;
		if (store_scan(st, st->rfd, store_scan_line, NULL, &cut,
			cause) == -1) {
			store_close(st);
			return (NULL);
		}
	}
	if (store_cut(st, cut, cause) == -1) {
		store_close(st);
		return (NULL);
	}
	*last_seq = st->last_seq;
	return (st);
}

/* Forget log.1.jsonl (closed, not removed). */
static void
store_drop_old(struct store *st)
{
	if (st->old.rfd != -1)
		close(st->old.rfd);
	free(st->old.index);
	st->old = (struct store_old){ .rfd = -1 };
}

/* 1 if the log file is missing (a bounded log can lose it mid-rotation). */
static int
store_log_missing(const struct store *st)
{
	struct stat sb;
	char	   *path;
	int	    missing;

	xasprintf(&path, "%s/%s", st->dir, st->k->log);
	missing = lstat(path, &sb) == -1 && errno == ENOENT;
	free(path);
	return (missing);
}

/*
 * Read log.1.jsonl of a bounded log, if there is a good one, into
 * st->old; the log proper must then go on from its last sequence.
 */
static void
store_open_old(struct store *st)
{
	char *cause = NULL;
	off_t cut;
	int   fd;

	if ((fd = store_open_read(st, STORE_OLD_LOG)) == -1)
		return;
	if (store_scan(st, fd, store_scan_line, NULL, &cut, &cause) == -1 ||
	    st->last_seq == 0) {
		free(cause);
		close(fd);
	} else {
		st->old.rfd = fd;
		st->old.first = st->first_seq;
		st->old.last = st->last_seq;
		st->old.size = cut;
		st->old.index = st->index;
		st->old.nindex = st->nindex;
	}
	if (st->old.rfd == -1)
		free(st->index);
	st->index = NULL;
	st->nindex = st->cindex = 0;
	st->size = 0;
	if (st->old.rfd == -1)
		st->last_seq = 0;
	st->first_seq = st->last_seq + 1;
}

/* Keep about cap bytes of a STORE_LOGS log on disk (0: all of it). */
void
store_set_cap(struct store *st, uint64_t cap)
{
	if (st->kind == STORE_LOGS)
		st->cap = cap;
}

/*
 * The log passed half its cap: it becomes log.1.jsonl (the one before
 * goes) and a new log.jsonl goes on from the next sequence. The half that
 * leaves is synced first. If the new file cannot be made, the rename is
 * undone and appends go on in the old file (over the cap: nothing is
 * lost, the next append tries again).
 */
static void
store_rotate(struct store *st)
{
	char *cur, *old;
	int   wfd = -1, rfd = -1;

	xasprintf(&cur, "%s/%s", st->dir, st->k->log);
	xasprintf(&old, "%s/%s", st->dir, STORE_OLD_LOG);
	if (fdatasync(st->wfd) == -1 || rename(cur, old) == -1)
		goto out;
	wfd = open(cur,
	    O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (wfd != -1)
		rfd = open(cur, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (wfd == -1 || rfd == -1) {
		if (wfd != -1) {
			close(wfd);
			unlink(cur);
		}
		(void)rename(old, cur);
		goto out;
	}
	(void)store_fsync_dir(st->dir);
	store_drop_old(st);
	st->old.rfd = st->rfd;
	st->old.first = st->first_seq;
	st->old.last = st->last_seq;
	st->old.size = st->size;
	st->old.index = st->index;
	st->old.nindex = st->nindex;
	close(st->wfd);
	st->wfd = wfd;
	st->rfd = rfd;
	st->index = NULL;
	st->nindex = st->cindex = 0;
	st->size = 0;
	st->first_seq = st->last_seq + 1;
	st->flags &= ~STORE_DIRTY;
out:
	free(cur);
	free(old);
}

/* The kind the store was created or opened as. */
enum store_kind
store_kind(const struct store *st)
{
	return (st->kind);
}

/*
 * Refuse an append of line seq to a store that failed or was removed, or
 * where seq does not follow the last line.
 */
static int
store_appendable(struct store *st, uint64_t seq, char **cause)
{
	if (st->flags & (STORE_BROKEN | STORE_REMOVED)) {
		xasprintf(cause, "%s/%s: %s", st->dir, st->k->log,
		    (st->flags & STORE_REMOVED)
			? "removed"
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
	if (st->wfd == -1 && store_wake(st, cause) != 0)
		return (-1);
	return (0);
}

/*
 * A write of lines starting at st->size failed with errno saved: cut the
 * file back so that no part of them stays, or, if even that fails, refuse
 * every later append (see the top).
 */
static void
store_write_failed(struct store *st, int saved, char **cause)
{
	if (ftruncate(st->wfd, st->size) == -1) {
		st->flags |= STORE_BROKEN;
		xasprintf(cause, "%s/%s: write: %s; cutting back: %s", st->dir,
		    st->k->log, strerror(saved), strerror(errno));
	} else
		xasprintf(cause, "%s/%s: write: %s", st->dir, st->k->log,
		    strerror(saved));
	errno = saved;
}

/* Line seq, len bytes without its '\n', is in the file now. */
static void
store_added(struct store *st, uint64_t seq, size_t len)
{
	store_index_add(st, seq, st->size);
	st->size += (off_t)len + 1;
	st->last_seq = seq;
	st->flags |= STORE_DIRTY;
	if (st->cap > 0 && (uint64_t)st->size > st->cap / 2)
		store_rotate(st);
}

/*
 * Append n event lines (each without its '\n'), sequences first,
 * first + 1, ...; first must follow the last one. Every line is checked
 * before any is written, and they go out with one writev(2) for each
 * STORE_BATCH of them: a session's journal hands over what one loop pass
 * produced, so a fast agent costs a system call per pass, not per event.
 * All or nothing: on failure no line of them stays in the file, errno
 * says why and the owner must stop feeding the store.
 */
int
store_append_events(struct store *st, uint64_t first,
    const struct store_line *lines, size_t n, char **cause)
{
	struct store_rec r;
	struct iovec	 iov[2 * STORE_BATCH];
	size_t		 i, k;

	if (store_appendable(st, first, cause) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (st->kind != STORE_EVENTS || lines[i].len > STORE_LINE_MAX ||
		    memfind(lines[i].data, '\n', lines[i].len) != NULL ||
		    store_parse(st, lines[i].data, lines[i].len, &r) != 0 ||
		    r.seq != first + i) {
			xasprintf(cause, "not %s line for sequence %llu",
			    st->k->one, (unsigned long long)first + i);
			errno = EINVAL;
			return (-1);
		}
	}
	for (i = 0; i < n; i += k) {
		for (k = 0; k < STORE_BATCH && i + k < n; k++) {
			iov[2 * k].iov_base = (void *)lines[i + k].data;
			iov[2 * k].iov_len = lines[i + k].len;
			iov[2 * k + 1].iov_base = (void *)"\n";
			iov[2 * k + 1].iov_len = 1;
		}
		if (compat_writevall(st->wfd, iov, (int)(2 * k)) == -1) {
			store_write_failed(st, errno, cause);
			return (-1);
		}
	}
	/* Only now: st->size must not move until every line is in. */
	for (i = 0; i < n; i++)
		store_added(st, first + i, lines[i].len);
	return (0);
}

/*
 * Append line seq (data without '\n'); seq must follow the last one. For
 * events, data is the event line and must carry seq, and mark is NULL;
 * for messages, data is one JSON object and mark NULL or a JSON value,
 * and the store numbers the line. On failure nothing of the line stays in
 * the file, errno says why and the owner must stop feeding the store.
 */
int
store_append(struct store *st, uint64_t seq, const char *data, size_t len,
    const char *mark, char **cause)
{
	struct store_line one;
	struct store_rec  r;
	struct iovec	  iov[3];
	const char	 *line = data;
	char		 *built = NULL, head[64];
	size_t		  hlen;
	int		  rv = -1, w;

	if (st->kind == STORE_EVENTS && mark == NULL) {
		one.data = data;
		one.len = len;
		return (store_append_events(st, seq, &one, 1, cause));
	}
	if (store_appendable(st, seq, cause) != 0)
		return (-1);
	if (mark == NULL) {
		/*
		 * A message without a cursor is written around the message,
		 * not copied into a line first: {"sequence":N,"message":M}.
		 * What store_parse would check of the line is checked of M.
		 */
		hlen = (size_t)snprintf(head, sizeof head,
		    "{\"sequence\":%llu,\"message\":", (unsigned long long)seq);
		if (len > STORE_LINE_MAX - hlen - 1 ||
		    memfind(data, '\n', len) != NULL ||
		    !store_object_valid(data, len)) {
			xasprintf(cause, "not %s line for sequence %llu",
			    st->k->one, (unsigned long long)seq);
			errno = EINVAL;
			goto out;
		}
		iov[0].iov_base = head;
		iov[0].iov_len = hlen;
		iov[1].iov_base = (void *)data;
		iov[1].iov_len = len;
		iov[2].iov_base = (void *)"}\n";
		iov[2].iov_len = 2;
		len += hlen + 1;
		w = compat_writevall(st->wfd, iov, 3);
	} else {
		if (st->kind != STORE_EVENTS && len <= STORE_LINE_MAX) {
			built = store_message_line(seq, mark, data, len, &len);
			line = built;
		}
		if (len > STORE_LINE_MAX || built == NULL ||
		    memfind(line, '\n', len) != NULL ||
		    store_parse(st, line, len, &r) != 0 || r.seq != seq) {
			xasprintf(cause, "not %s line for sequence %llu",
			    st->k->one, (unsigned long long)seq);
			errno = EINVAL;
			goto out;
		}
		/*
		 * One writev(2) on a regular file unless the disk is full,
		 * a limit is hit or a signal lands; the rest then goes out
		 * in further calls, still at the end of the file since the
		 * descriptor is O_APPEND and we are its only writer.
		 */
		w = compat_writeline(st->wfd, line, len);
	}
	if (w == -1) {
		store_write_failed(st, errno, cause);
		goto out;
	}
	store_added(st, seq, len);
	rv = 0;
out:
	free(built);
	return (rv);
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

/*
 * Replace the file dir/name atomically: all of it to dir/name.new, fsync,
 * rename, fsync the directory, so that a crash leaves the old file or the
 * new one, never a part. Refuses more than max bytes (what the reader
 * takes back). Also for what the session layer keeps under the data dir
 * (the directories' MCP and skills config).
 */
int
store_write_file(const char *dir, const char *name, const char *data,
    size_t len, size_t max, char **cause)
{
	char	   *tmp, *path;
	const char *what = "unlink", *shown;
	int	    fd = -1, saved;

	if (len > max) {
		xasprintf(cause, "%s/%s: %zu bytes, more than %zu", dir, name,
		    len, max);
		errno = EFBIG;
		return (-1);
	}
	xasprintf(&tmp, "%s/%s.new", dir, name);
	xasprintf(&path, "%s/%s", dir, name);
	shown = tmp;
	if (unlink(tmp) == -1 && errno != ENOENT)
		goto fail;
	what = "open";
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1)
		goto fail;
	what = "write";
	if (compat_writeall(fd, data, len) == -1)
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
	shown = dir;
	if (store_fsync_dir(dir) == -1)
		goto fail;
	free(tmp);
	free(path);
	return (0);

fail:
	saved = errno;
	xasprintf(cause, "%s: %s: %s", shown, what, strerror(saved));
	if (fd != -1)
		close(fd);
	if (shown == tmp && strcmp(what, "unlink") != 0)
		unlink(tmp); /* leave no stale .new behind */
	free(tmp);
	free(path);
	errno = saved;
	return (-1);
}

/*
 * Read the file dir/name whole, up to max bytes, NUL-terminated; NULL
 * (errno set: ENOENT, EFBIG, ...) if missing, not a regular file or
 * unreadable. A symbolic link is not followed.
 */
char *
store_read_file(const char *dir, const char *name, size_t max, size_t *lenp)
{
	struct stat sb;
	char	   *path, *buf = NULL;
	size_t	    len = 0;
	ssize_t	    n;
	int	    fd, saved;

	xasprintf(&path, "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return (NULL);
	if (fstat(fd, &sb) == -1)
		goto out;
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
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
	saved = errno;
	close(fd);
	errno = saved;
	return (buf);
}

/* Replace the metadata (session.json, server.json) atomically. */
int
store_write_meta(struct store *st, const char *json, size_t len, char **cause)
{
	return (store_write_file(
	    st->dir, st->k->meta, json, len, STORE_META_MAX, cause));
}

/*
 * Read the metadata whole, whatever its size up to STORE_META_MAX,
 * NUL-terminated; NULL (errno set: ENOENT, EFBIG, ...) if missing or
 * unreadable.
 */
char *
store_read_meta(struct store *st, size_t *lenp)
{
	return (store_read_file(st->dir, st->k->meta, STORE_META_MAX, lenp));
}

/*
 * Call cb(arg, seq, data, len, mark, mark_len) for each line from from_seq
 * on, in order, until cb returns non-zero, the data given reach max_bytes
 * (the first line is given even if longer) or the end of what has been
 * appended. data is the event line, or the message; mark is the message's
 * cursor (NULL if none, always for events). Returns the number of lines
 * given, -1 on error (errno set).
 */
/* store_read in one file: the log, or log.1.jsonl. */
static int
store_read_in(struct store *st, int fd, const off_t *index, uint64_t first,
    uint64_t last, off_t size, uint64_t from_seq, size_t max_bytes,
    store_read_cb cb, void *arg)
{
	struct store_cursor c;
	struct store_rec    rec;
	const char	   *line;
	size_t		    len, total = 0;
	uint64_t	    seq;
	off_t		    off;
	enum store_next	    r;
	int		    n = 0;

	if (from_seq < first)
		from_seq = first;
	if (from_seq > last)
		return (0);
	seq = (from_seq - first) / STORE_STRIDE;
	store_cursor_init(&c, fd, index[seq], size);
	for (seq = seq * STORE_STRIDE + first; n < INT_MAX; seq++) {
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
		if (store_parse(st, line, len, &rec) != 0 || rec.seq != seq) {
			errno = EIO; /* changed behind our back */
			n = -1;
			break;
		}
		if (n > 0 && rec.len > max_bytes - total)
			break;
		n++;
		total += rec.len;
		if (cb(arg, seq, rec.data, rec.len, rec.mark, rec.mark_len) !=
			0 ||
		    total >= max_bytes)
			break;
	}
	store_cursor_done(&c);
	return (n);
}

/*
 * Call cb(arg, seq, data, len, mark, mark_len) for each line from from_seq
 * on, in order, until cb returns non-zero, the data given reach max_bytes
 * (the first line is given even if longer) or the end of what has been
 * appended. data is the event line, or the message; mark is the message's
 * cursor (NULL if none, always for events). A bounded log gives what it
 * kept: from its oldest line if from_seq is older, and from log.1.jsonl
 * up to its end only (the next call goes on in the log). Returns the
 * number of lines given, -1 on error (errno set).
 */
int
store_read(struct store *st, uint64_t from_seq, size_t max_bytes,
    store_read_cb cb, void *arg)
{
	struct store_old  log;
	struct store_old *part; /* log.1.jsonl, or the log */
	const char	 *name;
	int		  fd, rv, saved;

	if (from_seq == 0)
		from_seq = 1;
	if (st->old.last != 0 && from_seq < st->first_seq) {
		part = &st->old;
		name = STORE_OLD_LOG;
	} else {
		log = (struct store_old){ .rfd = st->rfd,
			.first = st->first_seq,
			.last = st->last_seq,
			.size = st->size,
			.index = st->index };
		part = &log;
		name = st->k->log;
	}
	if (part->rfd != -1)
		return (store_read_in(st, part->rfd, part->index, part->first,
		    part->last, part->size, from_seq, max_bytes, cb, arg));
	/*
	 * At rest: a descriptor for this read only (see store_rest). Never
	 * once removed: the id may name a new store's log by now.
	 */
	if (st->flags & STORE_REMOVED) {
		errno = ENOENT;
		return (-1);
	}
	if ((fd = store_open_read(st, name)) == -1)
		return (-1);
	rv = store_read_in(st, fd, part->index, part->first, part->last,
	    part->size, from_seq, max_bytes, cb, arg);
	saved = errno;
	close(fd);
	errno = saved;
	return (rv);
}

/* The sequence of the last line appended, 0 if none. */
uint64_t
store_last_seq(const struct store *st)
{
	return (st->last_seq);
}

/*
 * Delete the store's files and directory. The store stays readable
 * through its open descriptors (one is opened first for a store at rest,
 * so that its followers drain what it held) and must still be given to
 * store_close; appends are refused from now on.
 */
int
store_remove(struct store *st)
{
	const char *names[] = { st->k->log, st->k->meta, st->k->meta_new,
		STORE_OLD_LOG };
	char	   *path;
	size_t	    i;
	int	    rv = 0, saved = 0;

	if (!(st->flags & STORE_REMOVED)) {
		if (st->rfd == -1)
			st->rfd = store_open_read(st, st->k->log);
		if (st->old.last != 0 && st->old.rfd == -1)
			st->old.rfd = store_open_read(st, STORE_OLD_LOG);
	}
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

/*
 * Close the log's descriptors while nothing is appended (a session that
 * ended, or one loaded from disk that nobody has spoken to): a data dir
 * of thousands of sessions must not hold two descriptors each, nor an
 * ended process three. Synced first if dirty. The next append opens the
 * log again (store_wake) and a read opens the file it reads for that read
 * alone. A removed store keeps its descriptors until store_close: they
 * are all its followers can still read. 0, or -1 if the sync failed
 * (still closed: what the sync could not make durable it never will, as
 * for store_close).
 */
int
store_rest(struct store *st)
{
	int rv = 0;

	if (st->wfd == -1 || (st->flags & STORE_REMOVED))
		return (0);
	if (st->old.rfd != -1) {
		close(st->old.rfd);
		st->old.rfd = -1;
	}
	if (store_dirty(st))
		rv = store_sync(st);
	close(st->wfd);
	if (st->rfd != -1)
		close(st->rfd);
	st->wfd = st->rfd = -1;
	st->flags &= ~STORE_DIRTY;
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
	store_drop_old(st);
	free(st->index);
	free(st->dir);
	free(st);
}
