/*
 * journal.c: one numbered log, in memory and on disk, with subscribers:
 * a session's universal events, or the messages an ACP server sends
 * (the store's kinds, store.c). The rules below are the same for both.
 *
 * Every line goes to the store first and then into a bounded ring of
 * recent lines, from which subscribers are served; a subscriber further
 * behind than the ring reads from disk in bounded chunks. The ring holds
 * at most JOURNAL_RING_MAX lines and JOURNAL_RING_BYTES bytes and is
 * allocated only once lines flow, so an idle journal costs a few hundred
 * bytes.
 *
 * Readers get (seq, type, data, len, noraw): for an event, data is the
 * event line, type its type and noraw the length of its prefix before
 * "raw"; for a message, data is exactly the message (the store's envelope
 * taken off), type EVENT_TYPE_COUNT and noraw len.
 *
 * Durability (DESIGN.md section 6): the events of a session are written
 * once per loop pass, all that pass produced in one writev (the batch:
 * store_append_events), and earlier whenever someone asks for them
 * (journal_read, journal_last, journal_sync), so no reader can tell:
 * a line gets its sequence from the session, but no reader sees that
 * sequence before the line is in the store. A fast agent then costs a
 * system call per pass, not per event; a kill -9 between an event and
 * the end of its pass loses it as it lost the pipe bytes it came from.
 * Messages and process logs are written as they come. fdatasync runs
 * when journal_sync is called (turn ends, permission and question
 * requests) and at most JOURNAL_SYNC_S after any write.
 *
 * A full or failing disk loses nothing: a line the store refuses waits in
 * a backlog with its sequence, the owner is told to stall its producer
 * (the session pauses the agent's pipe), and a timer retries every
 * second; once the backlog is written the owner is told to go on.
 *
 * Subscribers (the server's SSE and WebSocket clients, agentd run, the ACP
 * facade) are woken once per loop pass however many lines arrived, from a
 * deferred call, never from inside journal_append's caller. They then read
 * from their own cursor. Invariant: a line is on disk (in the store) and
 * in the ring before any subscriber can read it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define JOURNAL_RING_MAX   1024
#define JOURNAL_RING_BYTES (1024 * 1024)
#define JOURNAL_SYNC_S	   0.2
#define JOURNAL_BATCH	   256 /* events written at once, at most */

struct journal_line {
	uint64_t	seq;
	enum event_type type;
	size_t		len;
	size_t		noraw;
	char	       *line;
};

struct journal_sub {
	journal_wake_cb cb; /* NULL: unsubscribed during a wake */
	void	       *arg;
	struct journal *j;
	TAILQ_ENTRY(journal_sub) entry;
};

/* A line on its way to the store; kept while the store refuses it. */
struct journal_held {
	uint64_t	seq;
	enum event_type type;
	char	       *line;
	size_t		len;
	size_t		noraw;
	char	       *mark; /* a message's cursor (store.c), or NULL */
	TAILQ_ENTRY(journal_held) entry;
};

struct journal {
	char		    *name; /* for the log: "session demo" */
	struct store	    *store;
	enum store_kind	     kind;
	uint64_t	     last;     /* last sequence written */
	uint64_t	     appended; /* last one given, held ones too */
	struct journal_line *ring;
	size_t		     ring_max; /* bytes it may hold; 0: no ring */
	size_t		     cap;      /* slots allocated */
	size_t		     head;     /* oldest slot */
	size_t		     n;
	size_t		     bytes;
	struct loop_timer   *sync_timer;
	int		     sync_armed;

	TAILQ_HEAD(, journal_held) held; /* refused by the store, in order */
	struct loop_timer *retry_timer;
	journal_stall_cb   stall_cb;
	void		  *stall_arg;

	struct journal_held *batch; /* events of this pass, not written */
	size_t		     nbatch;
	size_t		     batchcap; /* grows to JOURNAL_BATCH */

	TAILQ_HEAD(, journal_sub) subs;
	int waking;   /* inside journal_wake_cb */
	int wake;     /* subscribers to be woken */
	int deferred; /* journal_pass_cb is queued */
	int freed;    /* journal_free ran while it was queued */
	int resting;  /* journal_rest ran and none was appended since */
};

static void journal_sync_cb(void *);
static void journal_retry_cb(void *);
static void journal_flush(struct journal *);

static void
journal_held_free(struct journal_held *h)
{
	free(h->line);
	free(h->mark);
	free(h);
}

struct journal *
journal_new(struct store *st, const char *name)
{
	struct journal *j;

	j = xcalloc(1, sizeof *j);
	j->name = xstrdup(name);
	j->store = st;
	j->kind = store_kind(st);
	j->last = j->appended = store_last_seq(st);
	j->ring_max = JOURNAL_RING_BYTES;
	TAILQ_INIT(&j->held);
	TAILQ_INIT(&j->subs);
	return (j);
}

/*
 * Close the store and free the journal. Subscribers must have gone; a
 * wake already queued frees the struct itself when it runs.
 */
void
journal_free(struct journal *j)
{
	struct journal_held *h;
	size_t		     i;

	if (j == NULL)
		return;
	j->stall_cb = NULL; /* the owner is going away */
	journal_flush(j);
	free(j->batch);
	if (store_dirty(j->store))
		(void)store_sync(j->store);
	for (i = 0; i < j->n; i++)
		free(j->ring[(j->head + i) % j->cap].line);
	free(j->ring);
	while ((h = TAILQ_FIRST(&j->held)) != NULL) {
		TAILQ_REMOVE(&j->held, h, entry);
		journal_held_free(h);
	}
	loop_timer_free(j->sync_timer);
	loop_timer_free(j->retry_timer);
	store_close(j->store);
	free(j->name);
	if (j->deferred) {
		j->freed = 1;
		return;
	}
	free(j);
}

/* Wake every subscriber once. */
static void
journal_notify(struct journal *j)
{
	struct journal_sub *sub, *next;

	j->wake = 0;
	j->waking = 1;
	TAILQ_FOREACH(sub, &j->subs, entry) {
		if (sub->cb != NULL)
			sub->cb(sub->arg);
	}
	j->waking = 0;
	TAILQ_FOREACH_SAFE(sub, &j->subs, entry, next) {
		if (sub->cb == NULL) {
			TAILQ_REMOVE(&j->subs, sub, entry);
			free(sub);
		}
	}
}

/*
 * Once per loop pass, after the callbacks that produced lines: write the
 * batch, then wake the subscribers.
 */
static void
journal_pass_cb(void *arg)
{
	struct journal *j = arg;

	j->deferred = 0;
	if (j->freed) {
		free(j);
		return;
	}
	journal_flush(j);
	if (j->wake && !TAILQ_EMPTY(&j->subs))
		journal_notify(j);
}

static void
journal_defer(struct journal *j)
{
	if (!j->deferred) {
		j->deferred = 1;
		loop_defer(journal_pass_cb, j);
	}
}

/* Wake every subscriber on this loop pass (new events, or the end). */
void
journal_wake(struct journal *j)
{
	if (TAILQ_EMPTY(&j->subs))
		return;
	j->wake = 1;
	journal_defer(j);
}

struct journal_sub *
journal_subscribe(struct journal *j, journal_wake_cb cb, void *arg)
{
	struct journal_sub *sub;

	sub = xcalloc(1, sizeof *sub);
	sub->cb = cb;
	sub->arg = arg;
	sub->j = j;
	TAILQ_INSERT_TAIL(&j->subs, sub, entry);
	journal_wake(j); /* a first look at what is there already */
	return (sub);
}

void
journal_unsubscribe(struct journal_sub *sub)
{
	struct journal *j;

	if (sub == NULL)
		return;
	j = sub->j;
	if (j->waking) {
		sub->cb = NULL; /* removed once the wake is over */
		return;
	}
	TAILQ_REMOVE(&j->subs, sub, entry);
	free(sub);
}

void
journal_on_stall(struct journal *j, journal_stall_cb cb, void *arg)
{
	j->stall_cb = cb;
	j->stall_arg = arg;
}

/* 1 while events wait for the disk. */
int
journal_stalled(struct journal *j)
{
	return (!TAILQ_EMPTY(&j->held));
}

struct store *
journal_store(struct journal *j)
{
	return (j->store);
}

/* The last sequence readers can have (the batch is written first). */
uint64_t
journal_last(struct journal *j)
{
	journal_flush(j);
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

/*
 * Put a line into the ring. The ring takes *line (set to NULL): a line
 * is copied nowhere between the producer and the readers, which matters
 * for the 350 KB entries of a process that prints fast. A line too big
 * for the ring stays with the caller.
 */
static void
journal_push(struct journal *j, uint64_t seq, enum event_type type, char **line,
    size_t len, size_t noraw)
{
	struct journal_line *e;

	if (j->ring_max == 0)
		return;
	if (j->n == j->cap && j->cap < JOURNAL_RING_MAX)
		journal_grow(j);
	while (j->n > 0 && (j->n == j->cap || j->bytes + len > j->ring_max))
		journal_evict(j);
	if (len > j->ring_max)
		return; /* a huge event is served from disk */
	e = &j->ring[(j->head + j->n) % j->cap];
	e->seq = seq;
	e->type = type;
	e->len = len;
	e->noraw = noraw;
	e->line = *line;
	*line = NULL;
	j->n++;
	j->bytes += len;
}

/* A line is in the store: into the ring, and readers told. */
static void
journal_written(struct journal *j, struct journal_held *h)
{
	j->last = h->seq;
	if (j->n > 0 &&
	    j->ring[(j->head + j->n - 1) % j->cap].seq != h->seq - 1) {
		while (j->n > 0)
			journal_evict(j); /* keep the ring contiguous */
	}
	journal_push(j, h->seq, h->type, &h->line, h->len, h->noraw);
	if (!j->sync_armed) {
		if (j->sync_timer == NULL)
			j->sync_timer = loop_timer_new(journal_sync_cb, j);
		loop_timer_set(j->sync_timer, JOURNAL_SYNC_S);
		j->sync_armed = 1;
	}
	journal_wake(j);
}

/* Write one line to the store and the ring; -1 if the store refused. */
static int
journal_write(struct journal *j, struct journal_held *h)
{
	char *cause;

	if (store_append(j->store, h->seq, h->line, h->len, h->mark, &cause) !=
	    0) {
		if (TAILQ_EMPTY(&j->held))
			log_error("%s: %s", j->name, cause);
		free(cause);
		return (-1);
	}
	journal_written(j, h);
	return (0);
}

/*
 * Keep a line the store refused, after those it refused before: nothing
 * is dropped, see the top. The first one stalls the owner.
 */
static void
journal_hold(struct journal *j, const struct journal_held *rec)
{
	struct journal_held *h = xmemdup(rec, sizeof *rec);
	int		     first = TAILQ_EMPTY(&j->held);

	TAILQ_INSERT_TAIL(&j->held, h, entry);
	if (!first)
		return;
	log_error("%s: cannot write its log; stalled until the disk takes "
		  "writes again",
	    j->name);
	if (j->stall_cb != NULL)
		j->stall_cb(j->stall_arg, 1);
	if (j->retry_timer == NULL)
		j->retry_timer = loop_timer_new(journal_retry_cb, j);
	loop_timer_set(j->retry_timer, 1.0);
}

/*
 * Write the events batched in this pass with one store_append_events;
 * if the store refuses them, all are held, in order.
 */
static void
journal_flush(struct journal *j)
{
	struct store_line lines[JOURNAL_BATCH];
	char		 *cause;
	size_t		  i, n = j->nbatch;

	if (n == 0)
		return;
	j->nbatch = 0;
	for (i = 0; i < n; i++) {
		lines[i].data = j->batch[i].line;
		lines[i].len = j->batch[i].len;
	}
	if (store_append_events(j->store, j->batch[0].seq, lines, n, &cause) !=
	    0) {
		log_error("%s: %s", j->name, cause);
		free(cause);
		for (i = 0; i < n; i++)
			journal_hold(j, &j->batch[i]);
		return;
	}
	for (i = 0; i < n; i++) {
		journal_written(j, &j->batch[i]);
		free(j->batch[i].line); /* NULL if the ring took it */
	}
}

/*
 * Write a line, or hold it (and what follows it) while the store refuses.
 * A session's events wait in the batch for the end of the loop pass.
 * Takes rec's line and mark.
 */
static void
journal_add(struct journal *j, struct journal_held *rec)
{
	j->appended = rec->seq;
	j->resting = 0;
	if (!TAILQ_EMPTY(&j->held)) {
		journal_hold(j, rec);
		return;
	}
	if (j->kind == STORE_EVENTS && rec->mark == NULL) {
		if (j->nbatch == j->batchcap) {
			/* Small for a session that says little. */
			j->batchcap = j->batchcap == 0 ? 8 : j->batchcap * 2;
			j->batch = xreallocarray(
			    j->batch, j->batchcap, sizeof *j->batch);
		}
		j->batch[j->nbatch++] = *rec;
		if (j->nbatch == JOURNAL_BATCH)
			journal_flush(j);
		else
			journal_defer(j);
		return;
	}
	if (journal_write(j, rec) == 0) {
		free(rec->line);
		free(rec->mark);
		return;
	}
	journal_hold(j, rec);
}

/* Append one serialised event with the next sequence; takes line. */
void
journal_append(struct journal *j, uint64_t seq, enum event_type type,
    char *line, size_t len, size_t noraw)
{
	struct journal_held rec;

	memset(&rec, 0, sizeof rec);
	rec.seq = seq;
	rec.type = type;
	rec.line = line;
	rec.len = len;
	rec.noraw = noraw;
	journal_add(j, &rec);
}

/*
 * Append one message (a JSON object, no newline; taken) to a journal of
 * messages, numbered here, with mark (NULL or a JSON value, copied) as its
 * cursor in the store. Returns its sequence.
 */
uint64_t
journal_append_message(
    struct journal *j, char *msg, size_t len, const char *mark)
{
	struct journal_held rec;

	memset(&rec, 0, sizeof rec);
	rec.seq = j->appended + 1;
	rec.type = EVENT_TYPE_COUNT;
	rec.line = msg;
	rec.len = rec.noraw = len;
	rec.mark = mark != NULL ? xstrdup(mark) : NULL;
	journal_add(j, &rec);
	return (rec.seq);
}

/*
 * Append a message the caller keeps (msg is not taken), numbered here.
 * When neither the ring nor a backlog would keep it, it goes to the store
 * as it is and is never copied: a process's log entries, written from one
 * buffer at the speed of its output. Returns its sequence.
 */
uint64_t
journal_append_message_copy(struct journal *j, const char *msg, size_t len)
{
	struct journal_held rec;

	j->resting = 0;
	if (TAILQ_EMPTY(&j->held) && len > j->ring_max) {
		memset(&rec, 0, sizeof rec);
		rec.seq = j->appended + 1;
		rec.type = EVENT_TYPE_COUNT;
		rec.line = (char *)msg; /* too big for the ring: not taken */
		rec.len = rec.noraw = len;
		if (journal_write(j, &rec) == 0) {
			j->appended = rec.seq;
			return (rec.seq);
		}
	}
	return (journal_append_message(j, xmemdup(msg, len), len, NULL));
}

/*
 * Hold at most max bytes of recent lines in memory (JOURNAL_RING_BYTES by
 * default); 0: none, every reader reads the store (its page cache).
 */
void
journal_set_ring(struct journal *j, size_t max)
{
	j->ring_max = max;
	while (j->n > 0 && j->bytes > max)
		journal_evict(j);
	if (max == 0)
		journal_trim(j);
}

static void
journal_retry_cb(void *arg)
{
	struct journal	    *j = arg;
	struct journal_held *h;

	while ((h = TAILQ_FIRST(&j->held)) != NULL) {
		if (journal_write(j, h) != 0) {
			loop_timer_set(j->retry_timer, 1.0);
			return;
		}
		TAILQ_REMOVE(&j->held, h, entry);
		journal_held_free(h);
	}
	log_info("%s: log writable again", j->name);
	/* The writes above opened the store again: it was meant to rest. */
	if (j->resting && store_rest(j->store) != 0)
		log_error("%s: fdatasync: %s", j->name, strerror(errno));
	if (j->stall_cb != NULL)
		j->stall_cb(j->stall_arg, 0);
}

static void
journal_sync_cb(void *arg)
{
	struct journal *j = arg;

	j->sync_armed = 0;
	journal_sync(j);
}

/* fdatasync now (turn end, permission or question request). */
void
journal_sync(struct journal *j)
{
	journal_flush(j);
	if (store_dirty(j->store) && store_sync(j->store) != 0)
		log_error("%s: fdatasync: %s", j->name, strerror(errno));
}

/*
 * Nothing will be appended for a while (the session ended, or was only
 * loaded): write what is batched, sync, and let the store close its
 * descriptors (store_rest). An append later opens them again. A backlog
 * held for a full disk is still written when the disk takes it, and the
 * store rests again after it.
 */
void
journal_rest(struct journal *j)
{
	journal_flush(j);
	j->resting = 1;
	if (store_rest(j->store) != 0)
		log_error("%s: fdatasync: %s", j->name, strerror(errno));
}

/* Give back the ring's and the batch's memory (an idle session). */
void
journal_trim(struct journal *j)
{
	journal_flush(j);
	while (j->n > 0)
		journal_evict(j);
	free(j->ring);
	j->ring = NULL;
	j->cap = j->head = 0;
	free(j->batch);
	j->batch = NULL;
	j->batchcap = 0;
}

struct journal_disk {
	journal_read_cb cb;
	void	       *arg;
	enum store_kind kind;
};

static int
journal_disk_cb(void *arg, uint64_t seq, const char *line, size_t len,
    const char *mark, size_t mark_len)
{
	struct journal_disk *d = arg;
	enum event_type	     type = EVENT_TYPE_COUNT;
	size_t		     noraw = len;

	if (d->kind == STORE_EVENTS &&
	    event_scan(line, len, &type, &noraw) != 0)
		return (-1);
	return (d->cb(d->arg, seq, type, line, len, noraw));
}

/*
 * Deliver lines after sequence `after`, about max bytes of them (at least
 * one), from the ring or else from disk. Returns the count, -1 on error.
 */
int
journal_read(struct journal *j, uint64_t after, size_t max, journal_read_cb cb,
    void *arg)
{
	struct journal_disk  d;
	struct journal_line *e;
	size_t		     i, bytes = 0;
	int		     n = 0;

	journal_flush(j);
	if (after >= j->last)
		return (0);
	if (j->n == 0 || after + 1 < j->ring[j->head].seq) {
		d.cb = cb;
		d.arg = arg;
		d.kind = j->kind;
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
