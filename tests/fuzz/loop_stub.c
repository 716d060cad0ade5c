/*
 * loop_stub.c: the loop.c and journal.c functions server.c links against,
 * for fuzz_ws (which never starts a server: they are never called).
 */
#include "../../supervisor/core/core.h"
#include "fuzz.h"

void *
loop_get(void)
{
	abort();
}

struct loop_timer *
loop_timer_new(loop_timer_cb cb, void *arg)
{
	abort();
}

void
loop_timer_set(struct loop_timer *t, double after)
{
	abort();
}

void
loop_timer_stop(struct loop_timer *t)
{
	abort();
}

void
loop_timer_free(struct loop_timer *t)
{
	abort();
}

void
loop_defer(void (*fn)(void *), void *arg)
{
	abort();
}

struct journal_sub *
journal_subscribe(struct journal *j, journal_wake_cb cb, void *arg)
{
	abort();
}

void
journal_unsubscribe(struct journal_sub *sub)
{
	abort();
}

int
journal_read(struct journal *j, uint64_t after, size_t max, journal_read_cb cb,
    void *arg)
{
	abort();
}

uint64_t
journal_last(struct journal *j)
{
	abort();
}

int
loop_timer_pending(struct loop_timer *t)
{
	abort();
}

struct loop_io *
loop_io_new(int fd, int write, loop_io_cb cb, void *arg)
{
	abort();
}

void
loop_io_first(struct loop_io *io)
{
	abort();
}

void
loop_io_start(struct loop_io *io)
{
	abort();
}

void
loop_io_stop(struct loop_io *io)
{
	abort();
}

void
loop_io_free(struct loop_io *io)
{
	abort();
}
