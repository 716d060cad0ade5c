/*
 * test_outq.c: supervisor/core/outq.c, the queue for a child's stdin, on
 * real pipes and the real loop: bytes arrive whole and in order, the cap
 * refuses a write whole, the input's end closes the pipe only once the
 * queue is written, a reader that went closes the queue and tells its
 * owner, and a kept descriptor (a terminal's master) is never closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../supervisor/core/core.h"
#include "test.h"

/* What the read end of a pipe gave, until EOF. */
struct reader {
	struct loop_io *io;
	char	       *buf;
	size_t		len;
	int		eof;
};

static void
reader_cb(int fd, void *arg)
{
	struct reader *r = arg;
	char	       buf[65536];
	ssize_t	       n;

	n = read(fd, buf, sizeof buf);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		r->eof = 1;
		loop_io_stop(r->io);
		loop_break();
		return;
	}
	r->buf = xrealloc(r->buf, r->len + (size_t)n);
	memcpy(r->buf + r->len, buf, (size_t)n);
	r->len += (size_t)n;
}

static void
timeout_cb(void *arg)
{
	*(int *)arg = 1;
	loop_break();
}

/* Read fd with the loop until EOF, or fail after 10 s. */
static void
read_to_eof(int fd, struct reader *r)
{
	struct loop_timer *t;
	int		   late = 0;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	r->io = loop_io_new(fd, 0, reader_cb, r);
	loop_io_start(r->io);
	t = loop_timer_new(timeout_cb, &late);
	loop_timer_set(t, 10);
	while (!r->eof && !late)
		loop_run();
	CHECK(!late);
	loop_timer_free(t);
	loop_io_free(r->io);
}

static void
setup(int fds[2])
{
	static int done;

	if (!done) {
		loop_init(); /* and SIGPIPE ignored, as in the daemon */
		done = 1;
	}
	if (pipe2(fds, O_CLOEXEC) != 0)
		abort();
}

static int
is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1);
}

static void
closed_cb(void *arg, int error)
{
	int *got = arg;

	got[0]++;
	got[1] = error;
}

TEST(outq_bytes_in_order)
{
	struct outq  *q;
	struct reader r = { 0 };
	int	      fds[2];

	setup(fds);
	q = outq_new(fds[1], 1024, 0, NULL, NULL);
	CHECK(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
	CHECK_INT(outq_write(q, "hello ", 6), 0);
	CHECK_INT(outq_write(q, "", 0), 0);
	CHECK_INT(outq_write(q, "world", 5), 0);
	outq_end(q);
	CHECK(!is_open(fds[1])); /* nothing was left queued: closed at once */
	CHECK_INT(outq_write(q, "!", 1), -1);
	read_to_eof(fds[0], &r);
	CHECK_MEM(r.buf, r.len, "hello world");
	outq_free(q);
	free(r.buf);
	close(fds[0]);
}

/*
 * A reader that does not read: what the pipe does not take waits, up to
 * the cap and not a byte more; a write past it is refused whole; an end
 * waits for the queue to be written.
 */
TEST(outq_cap_and_end)
{
	struct outq  *q;
	struct reader r = { 0 };
	char	     *a, *b;
	int	      fds[2], size;
	size_t	      i;

	setup(fds);
	size = fcntl(fds[1], F_SETPIPE_SZ, 4096);
	CHECK(size > 0);
	if (size <= 0)
		return;
	a = xmalloc((size_t)size);
	b = xmalloc(2 * (size_t)size);
	memset(a, 'a', (size_t)size);
	for (i = 0; i < 2 * (size_t)size; i++)
		b[i] = (char)('0' + i % 10);
	q = outq_new(fds[1], 2 * (size_t)size, 0, NULL, NULL);
	CHECK_INT(outq_write(q, a, (size_t)size), 0);	  /* fills the pipe */
	CHECK_INT(outq_write(q, b, 2 * (size_t)size), 0); /* queued: the cap */
	CHECK_INT(outq_write(q, "X", 1), -1);		  /* one past it */
	outq_end(q);
	CHECK(is_open(fds[1])); /* the queue is not written yet */
	CHECK_INT(outq_write(q, "", 0), 0);
	read_to_eof(fds[0], &r); /* EOF: the end came after the queue */
	CHECK_INT(r.len, 3 * (size_t)size);
	if (r.len == 3 * (size_t)size) {
		CHECK(memcmp(r.buf, a, (size_t)size) == 0);
		CHECK(memcmp(r.buf + size, b, 2 * (size_t)size) == 0);
	}
	CHECK(!is_open(fds[1]));
	CHECK_INT(outq_write(q, "Y", 1), -1);
	outq_free(q);
	free(a);
	free(b);
	free(r.buf);
	close(fds[0]);
}

/* The reader went: the queue closes, says so once, refuses what follows. */
TEST(outq_reader_gone)
{
	struct outq *q;
	int	     fds[2], got[2] = { 0, 0 };

	setup(fds);
	close(fds[0]);
	q = outq_new(fds[1], 1024, 0, closed_cb, got);
	CHECK_INT(outq_write(q, "lost", 4), 0); /* taken, then the EPIPE */
	CHECK_INT(got[0], 1);
	CHECK_INT(got[1], EPIPE);
	CHECK(!is_open(fds[1]));
	CHECK_INT(outq_write(q, "more", 4), -1);
	outq_end(q);
	CHECK_INT(got[0], 1);
	outq_free(q);
}

/* A terminal's master: its end shows no EOF, and it is never closed. */
TEST(outq_keep_fd)
{
	struct outq *q;
	char	     buf[16];
	int	     fds[2], got[2] = { 0, 0 };

	setup(fds);
	q = outq_new(fds[1], 1024, OUTQ_KEEP_FD, closed_cb, got);
	outq_end(q);
	CHECK(is_open(fds[1]));
	CHECK_INT(outq_write(q, "still", 5), 0);
	CHECK_INT(read(fds[0], buf, sizeof buf), 5);
	outq_free(q);
	CHECK(is_open(fds[1]));

	close(fds[0]); /* the reader goes: the queue lets go, fd stays */
	q = outq_new(fds[1], 1024, OUTQ_KEEP_FD, closed_cb, got);
	CHECK_INT(outq_write(q, "x", 1), 0);
	CHECK_INT(got[0], 1);
	CHECK(is_open(fds[1]));
	CHECK_INT(outq_write(q, "x", 1), -1);
	outq_free(q);
	CHECK(is_open(fds[1]));
	close(fds[1]);
}

/* Freed with bytes queued: they are dropped and the pipe is closed. */
TEST(outq_free_closes)
{
	struct outq  *q;
	struct reader r = { 0 };
	char	     *a;
	int	      fds[2], size;

	setup(fds);
	size = fcntl(fds[1], F_SETPIPE_SZ, 4096);
	CHECK(size > 0);
	if (size <= 0)
		return;
	a = xcalloc(2, (size_t)size);
	q = outq_new(fds[1], 4 * (size_t)size, 0, NULL, NULL);
	CHECK_INT(outq_write(q, a, 2 * (size_t)size), 0);
	outq_free(q);
	CHECK(!is_open(fds[1]));
	read_to_eof(fds[0], &r);
	CHECK_INT(r.len, (size_t)size); /* what the pipe took, no more */
	free(a);
	free(r.buf);
	close(fds[0]);
}

TEST_MAIN(TEST_ENTRY(outq_bytes_in_order), TEST_ENTRY(outq_cap_and_end),
    TEST_ENTRY(outq_reader_gone), TEST_ENTRY(outq_keep_fd),
    TEST_ENTRY(outq_free_closes))
