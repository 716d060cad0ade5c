/*
 * log.c: structured logs, one JSON object per line on stderr.
 *
 * {"time":"…","level":"info","fn":"server_start","msg":"…"}. Messages are
 * escaped here, so a caller may log any text, but must never pass a token
 * or an agent's credential: nothing in this file can tell a secret apart.
 *
 * A line that repeats (a client hammering a refused door, accept failing)
 * is written once, then held back for a window that doubles while it keeps
 * coming (10 s up to 10 min); the next time it is written it says how many
 * were held back. Whatever a client does, the log grows by a few lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define LOG_RECENT	  8
#define LOG_WINDOW_MS	  10000
#define LOG_WINDOW_MAX_MS 600000

/* A line written lately, by the hash of its function and message. */
struct log_recent {
	uint64_t      hash;
	int64_t	      next_ms; /* held back until then */
	int64_t	      window_ms;
	unsigned long held;
};

static enum log_level	 log_level = LOG_INFO;
static const char	*log_names[] = { "debug", "info", "warn", "error" };
static struct log_recent log_recent[LOG_RECENT];
static unsigned int	 log_recent_next;

/*
 * Set the level by name (--log-level); -1, with the reason on stderr for
 * the command line that gave it, if the name is unknown.
 */
int
log_set_level(const char *name)
{
	size_t i;

	for (i = 0; i < nitems(log_names); i++) {
		if (strcmp(name, log_names[i]) == 0) {
			log_level = (enum log_level)i;
			return (0);
		}
	}
	fprintf(stderr,
	    "agentd: unknown log level '%s' (debug, info, warn, error)\n",
	    name);
	return (-1);
}

/* Append s to buf as the inside of a JSON string, truncating at end. */
static size_t
log_escape(char *buf, size_t off, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  c;

	for (; *s != '\0' && off + 7 < size; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[off++] = '\\';
			buf[off++] = (char)c;
		} else if (c == '\n') {
			buf[off++] = '\\';
			buf[off++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(buf + off, "\\u00", 4);
			buf[off + 4] = hex[c >> 4];
			buf[off + 5] = hex[c & 0xf];
			off += 6;
		} else
			buf[off++] = (char)c;
	}
	return (off);
}

static uint64_t
log_hash(const char *fn, const char *msg)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *fn != '\0'; fn++)
		h = (h ^ (unsigned char)*fn) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (; *msg != '\0'; msg++)
		h = (h ^ (unsigned char)*msg) * 1099511628211ULL;
	return (h);
}

/*
 * Should this line be written now? If it was held back before, *held is
 * how many times. The clock is read here, not from loop.c: the loop logs.
 */
static int
log_throttle(const char *fn, const char *msg, unsigned long *held)
{
	struct log_recent *r;
	struct timespec	   ts;
	uint64_t	   h = log_hash(fn, msg);
	int64_t		   now;
	unsigned int	   i;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	*held = 0;
	for (i = 0; i < LOG_RECENT; i++) {
		r = &log_recent[i];
		if (r->hash != h || r->window_ms == 0)
			continue;
		if (now < r->next_ms) {
			r->held++;
			return (0);
		}
		*held = r->held;
		r->held = 0;
		if (*held > 0 && r->window_ms < LOG_WINDOW_MAX_MS)
			r->window_ms *= 2;
		else if (*held == 0)
			r->window_ms = LOG_WINDOW_MS;
		r->next_ms = now + r->window_ms;
		return (1);
	}
	r = &log_recent[log_recent_next++ % LOG_RECENT];
	r->hash = h;
	r->held = 0;
	r->window_ms = LOG_WINDOW_MS;
	r->next_ms = now + LOG_WINDOW_MS;
	return (1);
}

static void
log_vmsg(enum log_level level, const char *fn, const char *fmt, va_list ap)
{
	struct timespec ts;
	char		msg[2048], line[4600], t[32];
	size_t		off, len;
	unsigned long	held;
	int		n;

	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	if (!log_throttle(fn, msg, &held))
		return;
	if (held > 0 && (len = strlen(msg)) < sizeof msg - 64)
		(void)snprintf(msg + len, sizeof msg - len,
		    " (and %lu more like it, held back)", held);
	/* The clock, not loop_wall_ms: the loop logs, so log may not call it. */
	clock_gettime(CLOCK_REALTIME, &ts);
	event_format_time(
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, t, sizeof t);
	n = snprintf(line, sizeof line,
	    "{\"time\":\"%s\",\"level\":\"%s\",\"fn\":\"%s\",\"msg\":\"", t,
	    log_names[level], fn);
	if (n < 0)
		return;
	off = log_escape(line, (size_t)n, sizeof line - 3, msg);
	memcpy(line + off, "\"}\n", 3);
	(void)write(STDERR_FILENO, line, off + 3);
}

void
log_msg(enum log_level level, const char *fn, const char *fmt, ...)
{
	va_list ap;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, fn, fmt, ap);
	va_end(ap);
}

/* Log and exit: for start-up failures the operator must fix. */
__dead void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
