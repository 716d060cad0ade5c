/*
 * journal.c: one session's event log, in memory and on disk.
 *
 * Every event goes to the store (events.jsonl) first and then into a
 * bounded ring of recent lines, from which subscribers are served; a
 * subscriber further behind than the ring reads from disk in bounded
 * chunks. The ring holds at most JOURNAL_RING_MAX events and
 * JOURNAL_RING_BYTES bytes and is allocated only once events flow, so an
 * idle session costs a few hundred bytes.
 *
 * Durability (DESIGN.md section 6): each event is written as it happens;
 * fdatasync runs when journal_sync is called (turn ends, permission and
 * question requests) and at most JOURNAL_SYNC_S after any write.
 */
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

#define JOURNAL_RING_MAX   1024
#define JOURNAL_RING_BYTES (1024 * 1024)
#define JOURNAL_SYNC_S	   0.2

struct journal_line {
	uint64_t	seq;
	enum event_type type;
	size_t		len;
	size_t		noraw;
	char	       *line;
};

struct journal {
	struct store	    *store;
	uint64_t	     last; /* last sequence appended */
	struct journal_line *ring;
	size_t		     cap;  /* slots allocated */
	size_t		     head; /* oldest slot */
	size_t		     n;
	size_t		     bytes;
	struct loop_timer   *sync_timer;
	int		     sync_armed;
};

static void journal_sync_cb(void *);

struct journal *
journal_new(struct store *st)
{
	struct journal *j;

	j = xcalloc(1, sizeof *j);
	j->store = st;
	j->last = store_last_seq(st);
	return (j);
}

void
journal_free(struct journal *j)
{
	size_t i;

	if (j == NULL)
		return;
	if (store_dirty(j->store))
		(void)store_sync(j->store);
	for (i = 0; i < j->n; i++)
		free(j->ring[(j->head + i) % j->cap].line);
	free(j->ring);
	loop_timer_free(j->sync_timer);
	store_close(j->store);
	free(j);
}

struct store *
journal_store(struct journal *j)
{
	return (j->store);
}

uint64_t
journal_last(struct journal *j)
{
	return (j->last);
}

/* Drop the oldest ring entry. */
static void
journal_evict(struct journal *j)
{
	struct journal_line *e = &j->ring[j->head];

	j->bytes -= e->len;
	free(e->line);
	e->line = NULL;
	j->head = (j->head + 1) % j->cap;
	j->n--;
}

/* Grow the ring (a power of two up to JOURNAL_RING_MAX), keeping order. */
static void
journal_grow(struct journal *j)
{
	struct journal_line *ring;
	size_t		     cap, i;

	cap = j->cap == 0 ? 16 : j->cap * 2;
	ring = xcalloc(cap, sizeof *ring);
	for (i = 0; i < j->n; i++)
		ring[i] = j->ring[(j->head + i) % j->cap];
	free(j->ring);
	j->ring = ring;
	j->cap = cap;
	j->head = 0;
}

static void
journal_push(struct journal *j, uint64_t seq, enum event_type type,
    const char *line, size_t len, size_t noraw)
{
	struct journal_line *e;

	if (j->n == j->cap && j->cap < JOURNAL_RING_MAX)
		journal_grow(j);
	while (
	    j->n > 0 && (j->n == j->cap || j->bytes + len > JOURNAL_RING_BYTES))
		journal_evict(j);
	if (len > JOURNAL_RING_BYTES)
		return; /* a huge event is served from disk */
	e = &j->ring[(j->head + j->n) % j->cap];
	e->seq = seq;
	e->type = type;
	e->len = len;
	e->noraw = noraw;
	e->line = xmemdup(line, len);
	j->n++;
	j->bytes += len;
}

/*
 * Append one serialised event. On a store failure nothing is kept (the
 * store cut back any partial line) and -1 is returned with *cause.
 */
int
journal_append(struct journal *j, uint64_t seq, enum event_type type,
    const char *line, size_t len, size_t noraw, char **cause)
{
	if (store_append(j->store, seq, line, len, cause) != 0)
		return (-1);
	j->last = seq;
	if (j->n > 0 && j->ring[(j->head + j->n - 1) % j->cap].seq != seq - 1) {
		while (j->n > 0)
			journal_evict(j); /* keep the ring contiguous */
	}
	journal_push(j, seq, type, line, len, noraw);
	if (!j->sync_armed) {
		if (j->sync_timer == NULL)
			j->sync_timer = loop_timer_new(journal_sync_cb, j);
		loop_timer_set(j->sync_timer, JOURNAL_SYNC_S);
		j->sync_armed = 1;
	}
	return (0);
}

static void
journal_sync_cb(void *arg)
{
	struct journal *j = arg;

	j->sync_armed = 0;
	if (store_dirty(j->store) && store_sync(j->store) != 0)
		log_error("fdatasync failed");
}

/* fdatasync now (turn end, permission or question request). */
void
journal_sync(struct journal *j)
{
	if (store_dirty(j->store) && store_sync(j->store) != 0)
		log_error("fdatasync failed");
}

/* Give back the ring's memory (an idle session). */
void
journal_trim(struct journal *j)
{
	while (j->n > 0)
		journal_evict(j);
	free(j->ring);
	j->ring = NULL;
	j->cap = j->head = 0;
}

struct journal_disk {
	session_read_cb cb;
	void	       *arg;
};

static int
journal_disk_cb(void *arg, uint64_t seq, const char *line, size_t len)
{
	struct journal_disk *d = arg;
	enum event_type	     type;
	size_t		     noraw;

	if (event_scan(line, len, &type, &noraw) != 0)
		return (-1);
	return (d->cb(d->arg, seq, type, line, len, noraw));
}

/*
 * Deliver events after sequence `after`, about max bytes of them (at least
 * one), from the ring or else from disk. Returns the count, -1 on error.
 */
int
journal_read(struct journal *j, uint64_t after, size_t max, session_read_cb cb,
    void *arg)
{
	struct journal_disk  d;
	struct journal_line *e;
	size_t		     i, bytes = 0;
	int		     n = 0;

	if (after >= j->last)
		return (0);
	if (j->n == 0 || after + 1 < j->ring[j->head].seq) {
		d.cb = cb;
		d.arg = arg;
		return (
		    store_read(j->store, after + 1, max, journal_disk_cb, &d));
	}
	i = (size_t)(after + 1 - j->ring[j->head].seq);
	for (; i < j->n; i++) {
		e = &j->ring[(j->head + i) % j->cap];
		if (n > 0 && bytes >= max)
			break;
		n++;
		bytes += e->len;
		if (cb(arg, e->seq, e->type, e->line, e->len, e->noraw) != 0)
			break;
	}
	return (n);
}
