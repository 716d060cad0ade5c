/*
 * loop.c: the one event loop. The only file that includes libev.
 *
 * agentd is one thread on libev's default loop (the default loop is the
 * only one that may watch children). libwebsockets runs on it as a foreign
 * loop (server.c gets the pointer from loop_get); child pipes, child exits,
 * timers and signals are wrapped here so that no other file sees an ev_*.
 *
 * Deferred calls (loop_defer) run from a prepare watcher, just before the
 * loop blocks again, after the callback that queued them has returned
 * (redis's beforeSleep). This is where dead objects are freed, so no
 * object is freed inside the callback that found it dead, and where
 * subscribers are woken once per iteration however many events arrived.
 * An idle watcher would not do: it starves while an agent's pipe is
 * always readable.
 */
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include <ev.h>

#include "core.h"

struct loop_io {
	ev_io	   w;
	loop_io_cb cb;
	void	  *arg;
};

struct loop_timer {
	ev_timer      w;
	loop_timer_cb cb;
	void	     *arg;
};

struct loop_child {
	ev_child      w;
	loop_child_cb cb;
	void	     *arg;
};

struct loop_sig {
	ev_signal w;
	void (*cb)(int);
};

struct loop_deferred {
	void (*cb)(void *);
	void *arg;
	TAILQ_ENTRY(loop_deferred) entry;
};
TAILQ_HEAD(loop_deferred_list, loop_deferred);

static struct ev_loop		*loop;
static ev_prepare		 loop_prepare;
static struct loop_deferred_list loop_deferred =
    TAILQ_HEAD_INITIALIZER(loop_deferred);

static void loop_ev_io_cb(struct ev_loop *, ev_io *, int);
static void loop_ev_timer_cb(struct ev_loop *, ev_timer *, int);
static void loop_ev_child_cb(struct ev_loop *, ev_child *, int);
static void loop_signal_cb(struct ev_loop *, ev_signal *, int);
static void loop_prepare_cb(struct ev_loop *, ev_prepare *, int);

/* Create the default loop; returns it for lws's foreign_loops. */
void *
loop_init(void)
{
	loop = ev_default_loop(EVFLAG_AUTO);
	if (loop == NULL)
		fatalx("cannot create the event loop");
	ev_prepare_init(&loop_prepare, loop_prepare_cb);
	ev_prepare_start(loop, &loop_prepare);
	ev_unref(loop); /* it must not keep the loop alive */
	signal(SIGPIPE, SIG_IGN);
	return (loop);
}

void *
loop_get(void)
{
	return (loop);
}

void
loop_run(void)
{
	ev_run(loop, 0);
}

void
loop_break(void)
{
	ev_break(loop, EVBREAK_ALL);
}

/* Monotonic milliseconds, for timeouts and uptime. */
int64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Wall clock milliseconds, for event times. */
int64_t
loop_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
loop_ev_io_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct loop_io *io = w->data;

	io->cb(w->fd, io->arg);
}

/* Watch fd for reading (write == 0) or writing; not started yet. */
struct loop_io *
loop_io_new(int fd, int write, loop_io_cb cb, void *arg)
{
	struct loop_io *io;

	io = xcalloc(1, sizeof *io);
	io->cb = cb;
	io->arg = arg;
	ev_io_init(&io->w, loop_ev_io_cb, fd, write ? EV_WRITE : EV_READ);
	io->w.data = io;
	return (io);
}

/*
 * Run io's callback before those of other watchers ready in the same pass,
 * lws's on the same descriptor among them: libev calls pending watchers
 * by priority. For a watcher that must read a socket before lws does.
 * Only before loop_io_start.
 */
void
loop_io_first(struct loop_io *io)
{
	ev_set_priority(&io->w, EV_MAXPRI);
}

void
loop_io_start(struct loop_io *io)
{
	ev_io_start(loop, &io->w);
}

void
loop_io_stop(struct loop_io *io)
{
	ev_io_stop(loop, &io->w);
}

void
loop_io_free(struct loop_io *io)
{
	if (io == NULL)
		return;
	ev_io_stop(loop, &io->w);
	free(io);
}

static void
loop_ev_timer_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	struct loop_timer *t = w->data;

	t->cb(t->arg);
}

struct loop_timer *
loop_timer_new(loop_timer_cb cb, void *arg)
{
	struct loop_timer *t;

	t = xcalloc(1, sizeof *t);
	t->cb = cb;
	t->arg = arg;
	ev_init(&t->w, loop_ev_timer_cb);
	t->w.data = t;
	return (t);
}

/* (Re)arm a one-shot timer; stopping first, since ev_timer_set on an
 * active watcher is a silent no-op (the bug static-build.md found in lws). */
void
loop_timer_set(struct loop_timer *t, double after)
{
	ev_timer_stop(loop, &t->w);
	ev_timer_set(&t->w, after, 0.);
	ev_timer_start(loop, &t->w);
}

/* 1 while the timer is armed. */
int
loop_timer_pending(struct loop_timer *t)
{
	return (ev_is_active(&t->w));
}

void
loop_timer_stop(struct loop_timer *t)
{
	ev_timer_stop(loop, &t->w);
}

void
loop_timer_free(struct loop_timer *t)
{
	if (t == NULL)
		return;
	ev_timer_stop(loop, &t->w);
	free(t);
}

static void
loop_ev_child_cb(struct ev_loop *l, ev_child *w, int revents)
{
	struct loop_child *c = w->data;

	ev_child_stop(l, w);
	c->cb(w->rpid, w->rstatus, c->arg);
	free(c);
}

/* Report pid's exit once; must be called right after fork (ev.pod). */
void
loop_child_watch(pid_t pid, loop_child_cb cb, void *arg)
{
	struct loop_child *c;

	c = xcalloc(1, sizeof *c);
	c->cb = cb;
	c->arg = arg;
	ev_child_init(&c->w, loop_ev_child_cb, pid, 0);
	c->w.data = c;
	ev_child_start(loop, &c->w);
}

static void
loop_signal_cb(struct ev_loop *l, ev_signal *w, int revents)
{
	struct loop_sig *s = w->data;

	s->cb(w->signum);
}

/* Call cb on signal signo from the loop (never from a handler). */
void
loop_on_signal(int signo, void (*cb)(int))
{
	struct loop_sig *s;

	s = xcalloc(1, sizeof *s);
	s->cb = cb;
	ev_signal_init(&s->w, loop_signal_cb, signo);
	s->w.data = s;
	ev_signal_start(loop, &s->w);
	ev_unref(loop); /* a signal watcher must not keep the loop up */
}

static void
loop_prepare_cb(struct ev_loop *l, ev_prepare *w, int revents)
{
	struct loop_deferred *d;

	/* Calls queued by deferred calls run in this same pass. */
	while ((d = TAILQ_FIRST(&loop_deferred)) != NULL) {
		TAILQ_REMOVE(&loop_deferred, d, entry);
		d->cb(d->arg);
		free(d);
	}
}

/* Run cb(arg) once the current callback has returned. */
void
loop_defer(void (*cb)(void *), void *arg)
{
	struct loop_deferred *d;

	d = xmalloc(sizeof *d);
	d->cb = cb;
	d->arg = arg;
	TAILQ_INSERT_TAIL(&loop_deferred, d, entry);
}
