/*
 * outq.c: the bytes waiting for a child's stdin (an agent's, a command's or
 * a terminal's), written as the descriptor takes them.
 *
 * A child that never reads must neither block the loop nor make agentd
 * hold without bound what is sent to it: the descriptor is non-blocking,
 * what it does not take at once waits here up to a cap its owner chooses
 * (a write past the cap is refused whole, never cut), and the rest is
 * written when the loop says the descriptor is writable. Nothing here
 * logs: the bytes are the client's, and the owner knows the child's name.
 *
 * The descriptor is closed here, and the queue then refuses every write:
 * when the reader has gone (EPIPE; the owner is told, and what was queued
 * is lost), when the owner ended the input and all of it is written (the
 * reader sees EOF), and when the queue is freed. A terminal's master is
 * its output too (OUTQ_KEEP_FD): the queue lets go of it but never closes
 * it, and cannot show the reader an end. The owner opened the descriptor
 * close-on-exec; no descriptor is made here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

struct outq {
	int		fd; /* -1 once closed */
	size_t		max;
	struct loop_io *io;
	outq_closed_cb	closed;
	void	       *arg;

	char  *buf; /* queued, not yet written: buf[off] to buf[len] */
	size_t len;
	size_t off;

	int flags;	 /* OUTQ_KEEP_FD, OUTQ_ENDED */
#define OUTQ_ENDED 0x100 /* close once the queue is written */
};

static void outq_io_cb(int, void *);

/*
 * Queue for fd (a pipe's write end, or a terminal's master with
 * OUTQ_KEEP_FD), holding at most max bytes not yet written. closed, if not
 * NULL, is told with the error when the reader goes; it must not free the
 * queue.
 */
struct outq *
outq_new(int fd, size_t max, int flags, outq_closed_cb closed, void *arg)
{
	struct outq *q;

	q = xcalloc(1, sizeof *q);
	q->fd = fd;
	q->flags = flags & OUTQ_KEEP_FD;
	q->max = max;
	q->closed = closed;
	q->arg = arg;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	q->io = loop_io_new(fd, 1, outq_io_cb, q);
	return (q);
}

/* Stop for good: drop what is queued, close the descriptor unless kept. */
static void
outq_close(struct outq *q)
{
	if (q->fd == -1)
		return;
	loop_io_free(q->io);
	q->io = NULL;
	if (!(q->flags & OUTQ_KEEP_FD))
		close(q->fd);
	q->fd = -1;
	free(q->buf);
	q->buf = NULL;
	q->len = q->off = 0;
}

/* Write what the descriptor takes; watch it only while bytes wait. */
static void
outq_flush(struct outq *q)
{
	ssize_t n;
	int	error;

	while (q->off < q->len) {
		n = write(q->fd, q->buf + q->off, q->len - q->off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			loop_io_start(q->io);
			return;
		}
		if (n <= 0) { /* EPIPE (EIO on a terminal): the reader went */
			error = errno;
			outq_close(q);
			if (q->closed != NULL)
				q->closed(q->arg, error);
			return;
		}
		q->off += (size_t)n;
	}
	q->off = q->len = 0;
	loop_io_stop(q->io);
	if (q->flags & OUTQ_ENDED)
		outq_close(q);
}

static void
outq_io_cb(int fd, void *arg)
{
	outq_flush(arg);
}

/*
 * Queue len bytes of buf and write what the descriptor takes now. -1 if
 * the queue is closed, or if the reader has not taken so much already
 * that these would put it past its cap (the caller says so; nothing of
 * them is queued).
 */
int
outq_write(struct outq *q, const char *buf, size_t len)
{
	if (q->fd == -1)
		return (-1);
	if (len > q->max - (q->len - q->off))
		return (-1);
	if (q->off > 0) {
		memmove(q->buf, q->buf + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
	}
	if (len == 0)
		return (0);
	q->buf = xrealloc(q->buf, q->len + len);
	memcpy(q->buf + q->len, buf, len);
	q->len += len;
	outq_flush(q);
	return (0);
}

/*
 * The input is over: close the descriptor once what is queued is written,
 * so that a pipe's reader sees EOF. Writes until then are still taken. A
 * kept descriptor stays open and takes writes as before.
 */
void
outq_end(struct outq *q)
{
	if (q->flags & OUTQ_KEEP_FD)
		return;
	q->flags |= OUTQ_ENDED;
	if (q->off == q->len)
		outq_close(q);
}

/* Close at once, dropping what is queued, and free. */
void
outq_free(struct outq *q)
{
	if (q == NULL)
		return;
	outq_close(q);
	free(q);
}
