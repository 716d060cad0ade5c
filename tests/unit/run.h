/*
 * run.h: recorded agent lines through one adapter and the real host, over
 * a journal in a scratch data directory as in a session, for the tests
 * that compare an adapter's fast path with the slow path it stands in for
 * (test_acp.c, test_claude.c). A run gathers what came out: the lines
 * sent to the agent, the turn news, and the journal's events without
 * their time; two runs of the same lines must give the same.
 *
 * Include it after test.h, scratch.h and the adapters', core and host
 * headers.
 */
#ifndef RUN_H
#define RUN_H

#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One run of lines through the adapter: its host and what came out. */
struct run {
	const struct adapter *ad;
	struct store	     *st;
	struct journal	     *j;
	struct host	     *h;
	cJSON		     *out; /* "sent …", "turn N", then each event */
};

/*
 * What a test adds: a look at each agent line before the adapter has it
 * (NULL: none), and what to do for each line agentd sent in a fixture
 * (the prompts and cancels that made the agent's answer).
 */
static void (*run_line_hook)(const char *, size_t);
static void (*run_sent_hook)(struct run *, const cJSON *);

static int run_nstores;

static void
run_send_cb(void *arg, const char *line, size_t len)
{
	struct run *r = arg;
	char	   *s;

	xasprintf(&s, "sent %.*s", (int)len, line);
	json_append(r->out, json_string(s));
	free(s);
}

static void
run_turn_cb(void *arg, enum host_turn what)
{
	struct run *r = arg;
	char	   *s;

	xasprintf(&s, "turn %d", (int)what);
	json_append(r->out, json_string(s));
	free(s);
}

static void
run_changed_cb(void *arg)
{
	struct run *r = arg;

	json_append(r->out, json_string("changed"));
}

static const struct host_cbs run_cbs = { run_send_cb, run_turn_cb,
	run_changed_cb };

/* A host for p's adapter on a store of its own, started. */
static int
run_open(struct run *r, const struct agent_profile *p, const char *native_id)
{
	struct host_settings set;
	char		     id[32], *cause = NULL;

	memset(r, 0, sizeof *r);
	if (scratch_setup() != 0) {
		CHECK(!"scratch directory");
		return (-1);
	}
	(void)snprintf(id, sizeof id, "run%d", ++run_nstores);
	if ((r->st = store_create(STORE_EVENTS, scratch_dir, id, &cause)) ==
	    NULL) {
		test_fail(__FILE__, __LINE__, "store %s: %s", id, cause);
		free(cause);
		return (-1);
	}
	r->ad = p->adapter;
	r->j = journal_new(r->st, id);
	r->out = json_array();
	memset(&set, 0, sizeof set);
	set.id = id;
	set.profile = p;
	set.cwd = "/nonexistent/test-run";
	set.permission_mode = "default";
	set.native_id = native_id;
	r->h = host_new(&set, r->j, &run_cbs, r);
	r->ad->on_start(r->h);
	return (0);
}

/* One line of the agent's stdout, as session_line_cb hands it over. */
static void
run_line(struct run *r, const char *line, size_t len)
{
	char *fixed = NULL;

	if (len == 0)
		return;
	if (!utf8_valid(line, len))
		line = fixed = utf8_repair(line, len, &len);
	if (run_line_hook != NULL)
		run_line_hook(line, len);
	if (!host_garbage(r->h, line, len)) {
		host_line_begin(r->h, line, len);
		r->ad->on_line(r->h, line, len);
		host_line_end(r->h);
	}
	free(fixed);
}

/* A user message, as session.c hands it to the host and the adapter. */
static void
run_user(struct run *r, const char *text)
{
	struct user_message um;
	cJSON		   *content;

	memset(&um, 0, sizeof um);
	um.text = text;
	host_turn_start(r->h);
	content = json_array();
	json_append(content, event_part_text(text));
	host_user_message(r->h, content);
	if (r->ad->send_message(r->h, &um) != 0) {
		host_error(r->h, "the agent did not accept the message",
		    "send_failed", NULL);
		host_turn_end(r->h, "error", NULL, -1);
	}
}

static void
run_cancel(struct run *r)
{
	host_pending_cancel(r->h, NULL, NULL);
	(void)r->ad->cancel(r->h);
}

static int
run_read_cb(void *arg, uint64_t seq, enum event_type type, const char *line,
    size_t len, size_t noraw)
{
	struct run *r = arg;
	const char *err;
	cJSON	   *v;
	char	   *s;

	(void)type;
	(void)noraw;
	if ((v = json_parse(line, len, &err)) == NULL) {
		test_fail(__FILE__, __LINE__, "event %llu is not JSON: %s",
		    (unsigned long long)seq, err);
		return (-1);
	}
	/* What differs between two runs: the clock, and the store it is in. */
	json_free(json_detach(v, "time"));
	json_free(json_detach(v, "session_id"));
	s = json_print(v, NULL);
	json_append(r->out, json_string(s));
	free(s);
	json_free(v);
	return (0);
}

/* The agent exits: close as session.c does, then read the journal back. */
static cJSON *
run_close(struct run *r)
{
	cJSON	*out;
	uint64_t after = 0;
	int	 n;

	host_unparsed_flush(r->h);
	host_pending_cancel(r->h, NULL, NULL);
	host_turn_close(r->h, "error", NULL, -1);
	while ((n = journal_read(r->j, after, 1 << 20, run_read_cb, r)) > 0)
		after += (uint64_t)n;
	CHECK(n == 0);
	r->ad->free(r->h);
	host_free(r->h);
	journal_free(r->j);
	out = r->out;
	memset(r, 0, sizeof *r);
	return (out);
}

/* The two outputs must be equal, entry by entry; both are freed. */
static void
run_same(const char *what, cJSON *fast, cJSON *slow)
{
	int i, n = json_size(fast);

	if (json_size(slow) > n)
		n = json_size(slow);
	for (i = 0; i < n; i++) {
		const char *a = json_str(json_at(fast, i));
		const char *b = json_str(json_at(slow, i));

		if (a == NULL || b == NULL || strcmp(a, b) != 0) {
			test_fail(__FILE__, __LINE__,
			    "%s: entry %d differs:\n#  fast %.600s\n#  slow "
			    "%.600s",
			    what, i, a != NULL ? a : "(none)",
			    b != NULL ? b : "(none)");
			break;
		}
	}
	json_free(fast);
	json_free(slow);
}

/*
 * A recorded fixture through one run: the agent's lines ("<"), and for
 * agentd's (">") what run_sent_hook makes of them.
 */
static void
run_fixture(struct run *r, cJSON *entries)
{
	const cJSON *e;
	const char  *l, *d, *err;
	cJSON	    *v;

	JSON_FOREACH(e, entries) {
		if ((d = json_get_str(e, "d")) == NULL ||
		    (l = json_get_str(e, "l")) == NULL)
			continue;
		if (strcmp(d, "<") == 0) {
			run_line(r, l, strlen(l));
			continue;
		}
		if (run_sent_hook == NULL ||
		    (v = json_parse(l, strlen(l), &err)) == NULL)
			continue;
		run_sent_hook(r, v);
		json_free(v);
	}
}

/* A fixture file as an array of its entries; *agent its agent. */
static cJSON *
run_load(const char *path, const char **agent)
{
	static char agent_buf[64];
	FILE	   *f;
	char	   *line = NULL;
	size_t	    size = 0;
	ssize_t	    n;
	const char *err;
	cJSON	   *all, *v;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	all = json_array();
	*agent = NULL;
	while ((n = getline(&line, &size, f)) > 0) {
		if ((v = json_parse(line, (size_t)n, &err)) == NULL) {
			test_fail(__FILE__, __LINE__, "%s: %s", path, err);
			continue;
		}
		if (json_get_str(v, "agent") != NULL &&
		    json_get(v, "fixture") != NULL) {
			(void)snprintf(agent_buf, sizeof agent_buf, "%s",
			    json_get_str(v, "agent"));
			*agent = agent_buf;
		}
		json_append(all, v);
	}
	free(line);
	fclose(f);
	return (all);
}

/*
 * Every recorded fixture (tests/fixtures/) of an agent whose adapter want
 * takes, run twice, with *fast set and with it clear: what came out must
 * be the same. The number of fixtures run.
 */
static int
run_fixtures(int (*want)(const struct adapter *), int *fast)
{
	const struct agent_profile *p;
	struct run		    r;
	char			    pattern[512], src[] = __FILE__;
	const char		   *agent;
	glob_t			    g;
	cJSON			   *entries, *out;
	size_t			    i;
	int			    n = 0;

	(void)snprintf(
	    pattern, sizeof pattern, "%s/../fixtures/*/*.jsonl", dirname(src));
	if (glob(pattern, 0, NULL, &g) != 0) {
		CHECK(!"no fixtures");
		return (0);
	}
	for (i = 0; i < g.gl_pathc; i++) {
		if (strstr(g.gl_pathv[i], ".golden.") != NULL)
			continue;
		if ((entries = run_load(g.gl_pathv[i], &agent)) == NULL)
			continue;
		p = adapter_find_agent(agent);
		if (p != NULL && want(p->adapter)) {
			n++;
			*fast = 1;
			if (run_open(&r, p, NULL) == 0) {
				run_fixture(&r, entries);
				out = run_close(&r);
				*fast = 0;
				if (run_open(&r, p, NULL) == 0) {
					run_fixture(&r, entries);
					run_same(
					    g.gl_pathv[i], out, run_close(&r));
				} else
					json_free(out);
			}
			*fast = 1;
		}
		json_free(entries);
	}
	globfree(&g);
	return (n);
}

#endif /* RUN_H */
