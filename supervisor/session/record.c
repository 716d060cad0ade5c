/*
 * record.c: `agentd serve --record DIR` keeps every agent's stdio as a
 * fixture, DIR/<session>.jsonl (docs/internals.md, "Fixtures").
 *
 * This is how the fixtures under tests/fixtures/ are made from the real
 * CLIs: the transcript is exactly what agentd wrote and read, in the order
 * it did, so the replay agent can play it back to the same adapter. A
 * recording is a test tool: its writes are plain blocking appends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

struct record {
	int fd;
};

/* Write one JSON object as a line; takes o. */
static void
record_put(struct record *r, cJSON *o)
{
	char  *text;
	size_t len;

	text = json_print_line(o, &len);
	if (write(r->fd, text, len) != (ssize_t)len)
		log_warn("recording: %s", strerror(errno));
	free(text);
}

/* Start a recording of session id running argv; NULL if not recording. */
struct record *
record_open(const char *id, const char *agent, char **argv)
{
	struct record *r;
	char	      *path;
	cJSON	      *o, *a;
	int	       fd, i;

	if (options.record_dir == NULL)
		return (NULL);
	xasprintf(&path, "%s/%s.jsonl", options.record_dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_error("recording %s: %s", path, strerror(errno));
		free(path);
		return (NULL);
	}
	free(path);
	r = xcalloc(1, sizeof *r);
	r->fd = fd;
	o = json_object();
	json_set_int(o, "fixture", 1);
	json_set_str(o, "agent", agent);
	json_set(o, "scenario", json_null());
	a = json_array();
	for (i = 0; argv[i] != NULL; i++)
		json_append(a, json_string(argv[i]));
	json_set(o, "argv", a);
	record_put(r, o);
	return (r);
}

/* One line: dir '>' to the agent, '<' from it. */
void
record_line(struct record *r, char dir, const char *line, size_t len)
{
	cJSON *o;
	char   d[2] = { dir, '\0' };

	if (r == NULL)
		return;
	o = json_object();
	json_set_str(o, "d", d);
	json_set(o, "l", json_stringn(line, len));
	record_put(r, o);
}

void
record_exit(struct record *r, int code)
{
	cJSON *o;

	if (r == NULL)
		return;
	o = json_object();
	json_set_str(o, "d", "!");
	json_set_int(o, "exit", code);
	record_put(r, o);
}

void
record_close(struct record *r)
{
	if (r == NULL)
		return;
	close(r->fd);
	free(r);
}
