/*
 * replay.c: `agentd replay-agent FIXTURE`, a recorded agent played back.
 *
 * It writes the fixture's "<" lines to stdout and, at each ">" entry,
 * waits for one line on stdin (what agentd sends at that point of the
 * conversation) before going on, so the adapter under test sees the real
 * CLI's output in the real order. At "!" it exits with the recorded
 * status; after the last entry it waits for stdin to close. A line that
 * differs from the recording in its "type" or "method" is reported on
 * stderr, which ends up in session.ended and helps re-recording.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"

#define REPLAY_WAIT_MS 60000

struct replay {
	struct jsonl *in; /* agentd → us */
	int	      eof;
};

/* Read one line from stdin; -1 at EOF or after REPLAY_WAIT_MS. */
static int
replay_read(struct replay *r, char **out)
{
	enum jsonl_result res;
	const char	 *line;
	size_t		  len;
	struct pollfd	  pfd = { STDIN_FILENO, POLLIN, 0 };
	char		  buf[65536];
	ssize_t		  n;

	for (;;) {
		res = r->eof ? jsonl_finish(r->in, &line, &len)
			     : jsonl_next(r->in, &line, &len);
		if (res == JSONL_LINE) {
			*out = xstrndup(line, len);
			return (0);
		}
		if (r->eof)
			return (-1);
		if (poll(&pfd, 1, REPLAY_WAIT_MS) <= 0)
			return (-1);
		n = read(STDIN_FILENO, buf, sizeof buf);
		if (n <= 0)
			r->eof = 1;
		else
			jsonl_feed(r->in, buf, (size_t)n);
	}
}

/* Warn when a line agentd sent differs in kind from the recorded one. */
static void
replay_compare(const char *want, const char *got)
{
	static const char *const keys[] = { "type", "method" };
	const char		*err, *a, *b;
	cJSON			*w, *g;
	size_t			 i;

	w = json_parse(want, strlen(want), &err);
	g = json_parse(got, strlen(got), &err);
	for (i = 0; i < nitems(keys); i++) {
		a = json_get_str(w, keys[i]);
		b = json_get_str(g, keys[i]);
		if ((a == NULL) != (b == NULL) ||
		    (a != NULL && strcmp(a, b) != 0))
			fprintf(stderr, "replay: expected %s %s, got %s\n",
			    keys[i], a != NULL ? a : "(none)",
			    b != NULL ? b : "(none)");
	}
	json_free(w);
	json_free(g);
}

static int
replay_write(const char *line)
{
	return (compat_writeline(STDOUT_FILENO, line, strlen(line)));
}

/* Play one fixture entry; returns 1 to stop with *code. */
static int
replay_entry(struct replay *r, const cJSON *e, int *code)
{
	const char *d = json_get_str(e, "d"), *l = json_get_str(e, "l");
	long long   v;
	char	   *got;

	if (d == NULL)
		return (0);
	if (strcmp(d, "<") == 0 && l != NULL) {
		if (replay_write(l) != 0) {
			*code = 0;
			return (1);
		}
	} else if (strcmp(d, ">") == 0 && l != NULL) {
		if (replay_read(r, &got) != 0) {
			*code = 0;
			return (1);
		}
		replay_compare(l, got);
		free(got);
	} else if (strcmp(d, "!") == 0) {
		*code = json_get_int(e, "exit", &v) == 0 ? (int)v : 0;
		return (1);
	}
	return (0);
}

int
replay_main(int argc, char **argv)
{
	struct replay r;
	struct jsonl *f;
	const char   *line, *err;
	size_t	      len;
	char	      buf[65536], *got;
	ssize_t	      n;
	cJSON	     *e;
	int	      fd, code = 0, stop = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: agentd replay-agent FIXTURE\n");
		return (2);
	}
	if ((fd = open(argv[1], O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", argv[1], strerror(errno));
		return (1);
	}
	f = jsonl_new(0);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		jsonl_feed(f, buf, (size_t)n);
	close(fd);
	memset(&r, 0, sizeof r);
	r.in = jsonl_new(0);
	while (!stop && jsonl_finish(f, &line, &len) == JSONL_LINE) {
		if ((e = json_parse(line, len, &err)) == NULL) {
			fprintf(stderr, "replay: %s: %s\n", argv[1], err);
			return (1);
		}
		stop = replay_entry(&r, e, &code);
		json_free(e);
	}
	/* Like the real agent: stay until agentd closes our stdin. */
	while (!stop && replay_read(&r, &got) == 0)
		free(got);
	jsonl_free(f);
	jsonl_free(r.in);
	return (code);
}
