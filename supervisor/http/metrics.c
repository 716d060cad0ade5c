/*
 * metrics.c: GET /v1/metrics, the Prometheus text format (version 0.0.4).
 *
 * What agentd does, for an operator's scraper, behind the token like every
 * route but health: the daemon (RSS, descriptors, clients, bytes sent,
 * store bytes, fdatasync latency), the process budget, and per session
 * its state, events, turns, tokens and cost (summed from turn.ended as
 * the host writes it, kept in session.json across restarts), pending
 * permissions and questions, and the CPU and memory of its processes (its
 * cgroup, or its members in /proc); the same totals by agent, deleted
 * sessions included so that counters never go down.
 *
 * The counters of the HTTP front (clients, requests, bytes) are pushed
 * here by server.c (metrics_* below): this file never calls server.c,
 * which calls api.c, which calls this file.
 *
 * The format: one "# HELP" and one "# TYPE" line per family, every sample
 * of a family together, label values escaped (\\, \", \n). Checked by
 * Debian's `promtool check metrics` in tests/integration/test_ops.py.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

#define METRICS_MAX (64UL * 1024 * 1024) /* a bigger answer is cut */

static struct {
	long long	   clients;
	long long	   streams;
	unsigned long long requests;
	unsigned long long sent;
} metrics_front;

/* server.c: a client connected (1) or left (-1). */
void
metrics_clients(int delta)
{
	metrics_front.clients += delta;
}

/* server.c: an SSE or WebSocket stream began (1) or ended (-1). */
void
metrics_streams(int delta)
{
	metrics_front.streams += delta;
}

/* server.c: a request was answered (or a stream started). */
void
metrics_request(void)
{
	metrics_front.requests++;
}

/* server.c: bytes written to clients. */
void
metrics_sent(size_t n)
{
	metrics_front.sent += n;
}

/* The sessions' figures, taken once per scrape. */
struct metrics_scrape {
	struct session_stats *s;
	size_t		      n;
	size_t		      cap;
};

static void
metrics_take_cb(void *arg, const struct session_stats *st)
{
	struct metrics_scrape *m = arg;

	if (m->n == m->cap) {
		m->cap = m->cap == 0 ? 16 : m->cap * 2;
		m->s = xreallocarray(m->s, m->cap, sizeof *m->s);
	}
	m->s[m->n++] = *st;
}

static void
metrics_family(
    struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the text format wants. */
static void
metrics_label(struct buf *b, const char *name, const char *value)
{
	const char *p;

	buf_printf(b, "%s=\"", name);
	for (p = value; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			buf_str(b, "\\n");
		else
			buf_add(b, p, 1);
	}
	buf_str(b, "\"");
}

/* name{session="…",agent="…"[,k="v"]} */
static void
metrics_session_sample(struct buf *b, const char *name,
    const struct session_stats *st, const char *k, const char *v)
{
	buf_printf(b, "%s{", name);
	metrics_label(b, "session", st->id);
	buf_str(b, ",");
	metrics_label(b, "agent", st->agent);
	if (k != NULL) {
		buf_str(b, ",");
		metrics_label(b, k, v);
	}
	buf_str(b, "} ");
}

static void
metrics_agent_sample(struct buf *b, const char *name, const char *agent,
    const char *k, const char *v)
{
	buf_printf(b, "%s{", name);
	metrics_label(b, "agent", agent);
	if (k != NULL) {
		buf_str(b, ",");
		metrics_label(b, k, v);
	}
	buf_str(b, "} ");
}

/* The daemon's own process: RSS, descriptors, CPU. */
static void
metrics_process(struct buf *b)
{
	char		   buf[1024], *p;
	unsigned long long size, rss, utime = 0, stime = 0;
	struct dirent	  *de;
	DIR		  *d;
	FILE		  *f;
	long page = sysconf(_SC_PAGESIZE), tick = sysconf(_SC_CLK_TCK);
	int  nfd = 0, field;

	rss = 0;
	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%llu %llu", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			nfd += de->d_name[0] != '.';
		closedir(d);
		nfd--; /* the directory's own descriptor */
	}
	if ((f = fopen("/proc/self/stat", "re")) != NULL) {
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL) {
			for (field = 2, p++; *p != '\0' && field < 15;
			     field++) {
				while (*p == ' ')
					p++;
				if (field == 13)
					utime = strtoull(p, NULL, 10);
				else if (field == 14)
					stime = strtoull(p, NULL, 10);
				while (*p != ' ' && *p != '\0')
					p++;
			}
		}
		fclose(f);
	}
	metrics_family(b, "process_resident_memory_bytes", "gauge",
	    "Resident memory of agentd itself.");
	buf_printf(b, "process_resident_memory_bytes %llu\n",
	    rss * (unsigned long long)(page > 0 ? page : 4096));
	metrics_family(
	    b, "process_open_fds", "gauge", "Open file descriptors of agentd.");
	buf_printf(b, "process_open_fds %d\n", nfd);
	metrics_family(b, "process_cpu_seconds_total", "counter",
	    "CPU time agentd itself used (user and system).");
	buf_printf(b, "process_cpu_seconds_total %.2f\n",
	    tick > 0 ? (double)(utime + stime) / tick : 0.0);
}

/* The HTTP front, the store and the process budget. */
static void
metrics_daemon(struct buf *b, const struct metrics_scrape *m)
{
	struct store_stats ss;
	unsigned long long bytes = 0;
	size_t		   i;

	metrics_family(b, "agentd_build_info", "gauge",
	    "agentd's version and containment mode (the value is 1).");
	buf_printf(b,
	    "agentd_build_info{version=\"%s\",containment=\"%s\"} 1\n",
	    AGENTD_VERSION, contain_mode_name());
	metrics_family(b, "agentd_uptime_seconds", "gauge",
	    "Seconds since agentd started.");
	buf_printf(b, "agentd_uptime_seconds %.3f\n",
	    (loop_now_ms() - agentd_start_ms) / 1000.0);
	metrics_process(b);
	metrics_family(b, "agentd_clients", "gauge",
	    "Client connections open (HTTP, SSE and WebSocket).");
	buf_printf(b, "agentd_clients %lld\n", metrics_front.clients);
	metrics_family(
	    b, "agentd_streams", "gauge", "SSE and WebSocket streams open.");
	buf_printf(b, "agentd_streams %lld\n", metrics_front.streams);
	metrics_family(b, "agentd_http_requests_total", "counter",
	    "HTTP requests answered and streams started.");
	buf_printf(
	    b, "agentd_http_requests_total %llu\n", metrics_front.requests);
	metrics_family(b, "agentd_sent_bytes_total", "counter",
	    "Bytes written to clients (headers of lws aside).");
	buf_printf(b, "agentd_sent_bytes_total %llu\n", metrics_front.sent);

	for (i = 0; i < m->n; i++)
		bytes += m->s[i].store_bytes;
	metrics_family(b, "agentd_store_bytes", "gauge",
	    "Bytes of the sessions' event logs on disk.");
	buf_printf(b, "agentd_store_bytes %llu\n", bytes);
	store_get_stats(&ss);
	metrics_family(b, "agentd_store_fdatasync_seconds", "histogram",
	    "Time an fdatasync of an event log took.");
	for (i = 0; i < STORE_SYNC_BUCKETS; i++)
		buf_printf(b,
		    "agentd_store_fdatasync_seconds_bucket{le=\"%g\"} %llu\n",
		    store_sync_bounds[i], (unsigned long long)ss.sync_le[i]);
	buf_printf(b,
	    "agentd_store_fdatasync_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "agentd_store_fdatasync_seconds_sum %.6f\n"
	    "agentd_store_fdatasync_seconds_count %llu\n",
	    (unsigned long long)ss.syncs, ss.sync_seconds,
	    (unsigned long long)ss.syncs);
	metrics_family(b, "agentd_store_fdatasync_errors_total", "counter",
	    "fdatasync calls that failed.");
	buf_printf(b, "agentd_store_fdatasync_errors_total %llu\n",
	    (unsigned long long)ss.sync_errors);

	metrics_family(b, "agentd_processes", "gauge",
	    "Agents and API processes agentd runs (--max-processes counts "
	    "them).");
	buf_printf(b, "agentd_processes %u\n", contain_budget_used());
	if (options.max_processes > 0) {
		metrics_family(
		    b, "agentd_processes_max", "gauge", "--max-processes.");
		buf_printf(
		    b, "agentd_processes_max %u\n", options.max_processes);
	}
	if (options.max_sessions > 0) {
		metrics_family(
		    b, "agentd_sessions_max", "gauge", "--max-sessions.");
		buf_printf(b, "agentd_sessions_max %u\n", options.max_sessions);
	}
}

/* The per-session families. */
static void
metrics_sessions(struct buf *b, const struct metrics_scrape *m)
{
	static const char	   *kinds[] = { "input", "output", "cache_read",
			 "cache_write" };
	const struct session_stats *st;
	unsigned long long	    tokens[4];
	size_t			    i, k;

	metrics_family(b, "agentd_session_state", "gauge",
	    "The session's lifecycle state (the value is 1).");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		metrics_session_sample(
		    b, "agentd_session_state", st, "state", st->state);
		buf_str(b, "1\n");
	}
	metrics_family(b, "agentd_session_events_total", "counter",
	    "Events in the session's log.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		metrics_session_sample(
		    b, "agentd_session_events_total", st, NULL, NULL);
		buf_printf(b, "%llu\n", (unsigned long long)st->events);
	}
	metrics_family(b, "agentd_session_turns_total", "counter",
	    "Turns the session ended (turn.ended).");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		metrics_session_sample(
		    b, "agentd_session_turns_total", st, NULL, NULL);
		buf_printf(b, "%llu\n", (unsigned long long)st->usage.turns);
	}
	metrics_family(b, "agentd_session_tokens_total", "counter",
	    "Tokens the agent reported in turn.ended usage, by type.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		tokens[0] = st->usage.input_tokens;
		tokens[1] = st->usage.output_tokens;
		tokens[2] = st->usage.cache_read_tokens;
		tokens[3] = st->usage.cache_write_tokens;
		for (k = 0; k < nitems(kinds); k++) {
			metrics_session_sample(b, "agentd_session_tokens_total",
			    st, "type", kinds[k]);
			buf_printf(b, "%llu\n", tokens[k]);
		}
	}
	metrics_family(b, "agentd_session_cost_usd_total", "counter",
	    "Cost in US dollars the agent reported in turn.ended.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		metrics_session_sample(
		    b, "agentd_session_cost_usd_total", st, NULL, NULL);
		buf_printf(b, "%.6f\n", st->usage.cost_usd);
	}
	metrics_family(b, "agentd_session_pending_permissions", "gauge",
	    "Permission requests waiting for a reply.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		metrics_session_sample(
		    b, "agentd_session_pending_permissions", st, NULL, NULL);
		buf_printf(b, "%d\n", st->pending_permissions);
	}
	metrics_family(b, "agentd_session_pending_questions", "gauge",
	    "Questions waiting for an answer.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		metrics_session_sample(
		    b, "agentd_session_pending_questions", st, NULL, NULL);
		buf_printf(b, "%d\n", st->pending_questions);
	}
	metrics_family(b, "agentd_session_queued_messages", "gauge",
	    "Messages waiting for the running turn to end.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		metrics_session_sample(
		    b, "agentd_session_queued_messages", st, NULL, NULL);
		buf_printf(b, "%d\n", st->queued);
	}
	metrics_family(b, "agentd_session_store_bytes", "gauge",
	    "Bytes of the session's event log.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL)
			continue;
		metrics_session_sample(
		    b, "agentd_session_store_bytes", st, NULL, NULL);
		buf_printf(b, "%llu\n", st->store_bytes);
	}
	metrics_family(b, "agentd_session_cpu_seconds_total", "counter",
	    "CPU time of the running agent's processes (its cgroup, or its "
	    "members in /proc).");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL || !st->running)
			continue;
		metrics_session_sample(
		    b, "agentd_session_cpu_seconds_total", st, NULL, NULL);
		buf_printf(b, "%.3f\n", st->proc.cpu_seconds);
	}
	metrics_family(b, "agentd_session_memory_bytes", "gauge",
	    "Memory of the running agent's processes.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL || !st->running)
			continue;
		metrics_session_sample(
		    b, "agentd_session_memory_bytes", st, NULL, NULL);
		buf_printf(b, "%llu\n", st->proc.memory_bytes);
	}
	metrics_family(b, "agentd_session_processes", "gauge",
	    "Processes of the running agent (itself included).");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL || !st->running)
			continue;
		metrics_session_sample(
		    b, "agentd_session_processes", st, NULL, NULL);
		buf_printf(b, "%u\n", st->proc.processes);
	}
	metrics_family(b, "agentd_session_webhook_pending_events", "gauge",
	    "Events the session's webhook has not acknowledged yet.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL || !st->webhook)
			continue;
		metrics_session_sample(
		    b, "agentd_session_webhook_pending_events", st, NULL, NULL);
		buf_printf(b, "%llu\n",
		    (unsigned long long)(st->events > st->webhook_acked
			    ? st->events - st->webhook_acked
			    : 0));
	}
	metrics_family(b, "agentd_session_webhook_failures", "gauge",
	    "Failed deliveries in a row to the session's webhook.");
	for (i = 0; i < m->n; i++) {
		if ((st = &m->s[i])->id == NULL || !st->webhook)
			continue;
		metrics_session_sample(
		    b, "agentd_session_webhook_failures", st, NULL, NULL);
		buf_printf(b, "%u\n", st->webhook_failures);
	}
}

/* Totals by agent: sessions, and the counters over every session the
 * agent ever had since agentd started (deleted ones included). */
struct metrics_agent {
	const char	 *agent;
	unsigned int	  open[2]; /* not ended, ended */
	uint64_t	  events;
	struct host_usage usage;
};

static void
metrics_agents(struct buf *b, const struct metrics_scrape *m)
{
	static const char	   *kinds[] = { "input", "output", "cache_read",
			 "cache_write" };
	struct metrics_agent	   *a = NULL;
	const struct session_stats *st;
	unsigned long long	    tokens[4];
	size_t			    na = 0, i, j, k;

	a = xcalloc(m->n + 1, sizeof *a);
	for (i = 0; i < m->n; i++) {
		st = &m->s[i];
		for (j = 0; j < na && strcmp(a[j].agent, st->agent) != 0; j++)
			;
		if (j == na)
			a[na++].agent = st->agent;
		if (st->id != NULL)
			a[j].open[strcmp(st->state, "ended") == 0]++;
		a[j].events += st->events;
		a[j].usage.turns += st->usage.turns;
		a[j].usage.input_tokens += st->usage.input_tokens;
		a[j].usage.output_tokens += st->usage.output_tokens;
		a[j].usage.cache_read_tokens += st->usage.cache_read_tokens;
		a[j].usage.cache_write_tokens += st->usage.cache_write_tokens;
		a[j].usage.cost_usd += st->usage.cost_usd;
	}
	metrics_family(b, "agentd_agent_sessions", "gauge",
	    "Sessions of the agent, open or ended (deleted ones are gone).");
	for (j = 0; j < na; j++) {
		for (k = 0; k < 2; k++) {
			metrics_agent_sample(b, "agentd_agent_sessions",
			    a[j].agent, "ended", k ? "true" : "false");
			buf_printf(b, "%u\n", a[j].open[k]);
		}
	}
	metrics_family(b, "agentd_agent_events_total", "counter",
	    "Events of the agent's sessions.");
	for (j = 0; j < na; j++) {
		metrics_agent_sample(
		    b, "agentd_agent_events_total", a[j].agent, NULL, NULL);
		buf_printf(b, "%llu\n", (unsigned long long)a[j].events);
	}
	metrics_family(b, "agentd_agent_turns_total", "counter",
	    "Turns of the agent's sessions.");
	for (j = 0; j < na; j++) {
		metrics_agent_sample(
		    b, "agentd_agent_turns_total", a[j].agent, NULL, NULL);
		buf_printf(b, "%llu\n", (unsigned long long)a[j].usage.turns);
	}
	metrics_family(b, "agentd_agent_tokens_total", "counter",
	    "Tokens the agent reported, by type.");
	for (j = 0; j < na; j++) {
		tokens[0] = a[j].usage.input_tokens;
		tokens[1] = a[j].usage.output_tokens;
		tokens[2] = a[j].usage.cache_read_tokens;
		tokens[3] = a[j].usage.cache_write_tokens;
		for (k = 0; k < nitems(kinds); k++) {
			metrics_agent_sample(b, "agentd_agent_tokens_total",
			    a[j].agent, "type", kinds[k]);
			buf_printf(b, "%llu\n", tokens[k]);
		}
	}
	metrics_family(b, "agentd_agent_cost_usd_total", "counter",
	    "Cost in US dollars the agent reported.");
	for (j = 0; j < na; j++) {
		metrics_agent_sample(
		    b, "agentd_agent_cost_usd_total", a[j].agent, NULL, NULL);
		buf_printf(b, "%.6f\n", a[j].usage.cost_usd);
	}
	free(a);
}

/* GET /v1/metrics. */
void
metrics_reply(struct api_response *resp)
{
	struct metrics_scrape m;
	struct buf	      b;
	size_t		      len;

	memset(&m, 0, sizeof m);
	session_stats(metrics_take_cb, &m);
	buf_init(&b, METRICS_MAX);
	metrics_daemon(&b, &m);
	metrics_sessions(&b, &m);
	metrics_agents(&b, &m);
	free(m.s);
	if (b.full) {
		buf_free(&b);
		reply_problem(resp, 500, "internal",
		    "the metrics are larger than %lu bytes", METRICS_MAX);
		return;
	}
	resp->kind = API_REPLY;
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = buf_take(&b, &len);
	resp->len = len;
}
