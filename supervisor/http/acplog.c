/*
 * acplog.c: the outgoing messages of one ACP server, numbered and durable.
 *
 * DIR/messages.jsonl holds one JSON-RPC message a line; line N is message
 * N, its SSE id. The file is append-only and the byte offset of every line
 * is kept in memory (8 bytes a message), so a reader at any id costs one
 * pread of contiguous lines: an SSE client that reconnects with
 * Last-Event-ID, even after agentd restarted, gets exactly what followed.
 *
 * Durability as for the event logs (DESIGN.md section 6): each message is
 * written as it is made; fdatasync runs at acplog_sync (turn ends,
 * permission and question requests) and at most ACPLOG_SYNC_S after any
 * write. At open, a torn last line (no newline) is cut off.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

#define ACPLOG_SYNC_S 0.2
#define ACPLOG_CHUNK  (64 * 1024)

struct acplog {
	char		  *path;
	int		   fd;
	off_t		  *off; /* off[i]: start of message i+1 */
	uint64_t	   n;
	size_t		   cap;
	off_t		   size;
	int		   dirty;
	int		   armed;
	struct loop_timer *timer;
};

static void acplog_sync_cb(void *);

static void
acplog_index(struct acplog *l, off_t start)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->off = xreallocarray(l->off, l->cap, sizeof *l->off);
	}
	l->off[l->n++] = start;
}

/* Index every complete line; cut a torn tail. */
static int
acplog_scan(struct acplog *l, char **cause)
{
	char   *buf;
	off_t	pos = 0, start = 0;
	ssize_t r;
	ssize_t i;

	buf = xmalloc(ACPLOG_CHUNK);
	while ((r = pread(l->fd, buf, ACPLOG_CHUNK, pos)) > 0) {
		for (i = 0; i < r; i++) {
			if (buf[i] != '\n')
				continue;
			acplog_index(l, start);
			start = pos + i + 1;
		}
		pos += r;
	}
	free(buf);
	if (r == -1) {
		xasprintf(cause, "%s: %s", l->path, strerror(errno));
		return (-1);
	}
	l->size = start;
	if (pos != start &&
	    (ftruncate(l->fd, start) == -1 || fsync(l->fd) == -1)) {
		xasprintf(cause, "%s: cutting the torn last line: %s", l->path,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Open (or create) DIR/messages.jsonl; DIR must exist. */
struct acplog *
acplog_open(const char *dir, char **cause)
{
	struct acplog *l;

	l = xcalloc(1, sizeof *l);
	xasprintf(&l->path, "%s/messages.jsonl", dir);
	l->fd = open(l->path,
	    O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (l->fd == -1) {
		xasprintf(cause, "%s: %s", l->path, strerror(errno));
		acplog_close(l);
		return (NULL);
	}
	if (acplog_scan(l, cause) != 0) {
		acplog_close(l);
		return (NULL);
	}
	return (l);
}

uint64_t
acplog_last(struct acplog *l)
{
	return (l->n);
}

/* Append one message (no newline in it): 0, or -1 on failure. */
int
acplog_append(struct acplog *l, const char *line, size_t len)
{
	char   *buf;
	ssize_t w;

	buf = xmalloc(len + 1);
	memcpy(buf, line, len);
	buf[len] = '\n';
	w = write(l->fd, buf, len + 1);
	free(buf);
	if (w != (ssize_t)len + 1) {
		log_error("%s: %s", l->path,
		    w == -1 ? strerror(errno) : "short write");
		if (w > 0 && ftruncate(l->fd, l->size) == -1)
			log_error("%s: cannot cut a short write", l->path);
		return (-1);
	}
	acplog_index(l, l->size);
	l->size += (off_t)len + 1;
	l->dirty = 1;
	if (!l->armed) {
		if (l->timer == NULL)
			l->timer = loop_timer_new(acplog_sync_cb, l);
		loop_timer_set(l->timer, ACPLOG_SYNC_S);
		l->armed = 1;
	}
	return (0);
}

static void
acplog_sync_cb(void *arg)
{
	struct acplog *l = arg;

	l->armed = 0;
	acplog_sync(l);
}

void
acplog_sync(struct acplog *l)
{
	if (!l->dirty)
		return;
	if (fdatasync(l->fd) == -1)
		log_error("%s: fdatasync: %s", l->path, strerror(errno));
	l->dirty = 0;
}

/*
 * Deliver the messages after id `after`, about max bytes of them (at
 * least one), with one pread. Returns the count, -1 on error.
 */
int
acplog_read(
    struct acplog *l, uint64_t after, size_t max, journal_read_cb cb, void *arg)
{
	uint64_t end;
	off_t	 from, to;
	char	*buf;
	size_t	 len;
	int	 n = 0;

	if (after >= l->n)
		return (0);
	from = l->off[after];
	for (end = after + 1; end < l->n; end++) {
		if ((size_t)(l->off[end] - from) >= max)
			break;
	}
	to = end < l->n ? l->off[end] : l->size;
	buf = xmalloc((size_t)(to - from));
	if (pread(l->fd, buf, (size_t)(to - from), from) != to - from) {
		free(buf);
		return (-1);
	}
	for (; after < end; after++) {
		len =
		    (size_t)((after + 1 < l->n ? l->off[after + 1] : l->size) -
			l->off[after]) -
		    1;
		n++;
		if (cb(arg, after + 1, EVENT_TYPE_COUNT,
			buf + (l->off[after] - from), len, len) != 0)
			break;
	}
	free(buf);
	return (n);
}

void
acplog_close(struct acplog *l)
{
	if (l == NULL)
		return;
	if (l->fd != -1) {
		acplog_sync(l);
		close(l->fd);
	}
	loop_timer_free(l->timer);
	free(l->off);
	free(l->path);
	free(l);
}
