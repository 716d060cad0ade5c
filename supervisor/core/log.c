/*
 * log.c: structured logs, one JSON object per line on stderr.
 *
 * {"time":"…","level":"info","fn":"server_start","msg":"…"}. Messages are
 * escaped here, so a caller may log any text, but must never pass a token
 * or an agent's credential: nothing in this file can tell a secret apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static enum log_level log_level = LOG_INFO;
static const char    *log_names[] = { "debug", "info", "warn", "error" };

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

static void
log_vmsg(enum log_level level, const char *fn, const char *fmt, va_list ap)
{
	struct timespec ts;
	char		msg[2048], line[4600], t[32];
	size_t		off;
	int		n;

	/* The clock, not loop_wall_ms: the loop logs, so log may not call it. */
	clock_gettime(CLOCK_REALTIME, &ts);
	event_format_time(
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, t, sizeof t);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
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
