/*
 * tsagent.c: a minimal ACP agent for the latency benchmark.
 *
 * It answers initialize, session/new, session/load and any other request
 * with an empty result, and a session/prompt whose text reads "ts R N"
 * with N agent_message_chunk updates at R per second (absolute deadlines
 * on CLOCK_MONOTONIC, so the rate does not drift), each chunk's text being
 * "@ts:<CLOCK_MONOTONIC ns>" taken just before its line is written; then
 * the prompt's result {"stopReason":"end_turn"}. A prompt without "ts"
 * gets one chunk. The load generator, on the same machine, subtracts the
 * stamp from its own clock when the chunk reaches it.
 *
 * Built static against the bench's cJSON; blocking I/O; EOF ends it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

static void
put(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(1, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			exit(0);
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void
reply(const cJSON *id, cJSON *result)
{
	cJSON *o = cJSON_CreateObject();
	char  *s;

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1));
	cJSON_AddItemToObject(o, "result", result);
	s = cJSON_PrintUnformatted(o);
	put(s, strlen(s));
	put("\n", 1);
	free(s);
	cJSON_Delete(o);
}

static unsigned long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((unsigned long long)ts.tv_sec * 1000000000ULL +
	    (unsigned long long)ts.tv_nsec);
}

static void
chunk(const char *sid)
{
	char line[512];
	int  n;

	n = snprintf(line, sizeof line,
	    "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"session/update\",\"params\":{\"sessionId\":\"%s\",\"update\":"
	    "{\"sessionUpdate\":\"agent_message_chunk\",\"content\":"
	    "{\"type\":\"text\",\"text\":\"@ts:%llu\"}}}}\n",
	    sid, now_ns());
	put(line, (size_t)n);
}

static void
prompt(const cJSON *id, const cJSON *params)
{
	const cJSON	  *p, *el;
	const char	  *text = "", *sid;
	struct timespec	   at;
	long		   rate = 1000, count = 1, i;
	unsigned long long step, t0;

	sid = cJSON_GetStringValue(cJSON_GetObjectItem(params, "sessionId"));
	if (sid == NULL || strlen(sid) > 100)
		sid = "ts-1";
	p = cJSON_GetObjectItem(params, "prompt");
	cJSON_ArrayForEach(el, p)
	{
		const char *t =
		    cJSON_GetStringValue(cJSON_GetObjectItem(el, "text"));
		if (t != NULL) {
			text = t;
			break;
		}
	}
	if ((text = strstr(text, "ts ")) != NULL &&
	    sscanf(text, "ts %ld %ld", &rate, &count) != 2) {
		rate = 1000;
		count = 1;
	}
	if (rate < 1)
		rate = 1;
	step = 1000000000ULL / (unsigned long long)rate;
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		unsigned long long due = t0 + step * (unsigned long long)i;

		at.tv_sec = (time_t)(due / 1000000000ULL);
		at.tv_nsec = (long)(due % 1000000000ULL);
		while (clock_nanosleep(
			   CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
			;
		chunk(sid);
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject((cJSON *)p, "stopReason", "end_turn");
	reply(id, (cJSON *)p);
}

static void
handle(const char *line)
{
	cJSON	    *v, *r;
	const cJSON *id, *params;
	const char  *method;

	if ((v = cJSON_Parse(line)) == NULL)
		return;
	id = cJSON_GetObjectItem(v, "id");
	method = cJSON_GetStringValue(cJSON_GetObjectItem(v, "method"));
	params = cJSON_GetObjectItem(v, "params");
	if (id == NULL || method == NULL) {
		cJSON_Delete(v);
		return; /* notifications, responses */
	}
	r = cJSON_CreateObject();
	if (strcmp(method, "initialize") == 0) {
		cJSON *caps = cJSON_CreateObject(), *info;

		cJSON_AddNumberToObject(r, "protocolVersion", 1);
		cJSON_AddBoolToObject(caps, "loadSession", 1);
		cJSON_AddItemToObject(r, "agentCapabilities", caps);
		info = cJSON_CreateObject();
		cJSON_AddStringToObject(info, "name", "tsagent");
		cJSON_AddStringToObject(info, "version", "1");
		cJSON_AddItemToObject(r, "agentInfo", info);
		cJSON_AddItemToObject(r, "authMethods", cJSON_CreateArray());
	} else if (strcmp(method, "session/new") == 0)
		cJSON_AddStringToObject(r, "sessionId", "ts-1");
	else if (strcmp(method, "session/prompt") == 0) {
		cJSON_Delete(r);
		prompt(id, params);
		cJSON_Delete(v);
		return;
	}
	reply(id, r);
	cJSON_Delete(v);
}

int
main(void)
{
	static char buf[1 << 20];
	size_t	    len = 0;
	ssize_t	    n;
	char	   *nl, *p;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		if (len == sizeof buf - 1)
			len = 0; /* absurd line: drop it */
		if ((n = read(0, buf + len, sizeof buf - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			return (1);
		}
		if (n == 0)
			return (0);
		len += (size_t)n;
		buf[len] = '\0';
		p = buf;
		while ((nl = strchr(p, '\n')) != NULL) {
			*nl = '\0';
			handle(p);
			p = nl + 1;
		}
		len -= (size_t)(p - buf);
		memmove(buf, p, len);
	}
}
