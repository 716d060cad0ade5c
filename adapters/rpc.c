/*
 * rpc.c: what the JSON-RPC adapters (acp.c, codex.c) share.
 *
 * The JSON-RPC peer of protocol/jsonrpc.c on a host: their peer ops name
 * these callbacks, so what the peer sends goes to the agent's stdin, a
 * line that is not a message is agent.unparsed, and an error response to
 * no request of ours is an error event. The peer's arg is the host.
 *
 * And the messages that wait for the agent's session: both open one with
 * a handshake of several requests, and a message the session hands over
 * before it is ready waits, as the one payload its prompt request will
 * carry. The session has started a turn for each, so dropping them (the
 * handshake failed, the user cancelled) ends that turn.
 */
#include <stdio.h>
#include <stdlib.h>

#include "adapters.h"

void
rpc_send_cb(void *arg, cJSON *msg)
{
	host_send_json(arg, msg);
}

void
rpc_invalid_cb(void *arg, const char *name, const cJSON *v, const char *why)
{
	host_unparsed(arg, why, name);
}

void
rpc_stray_cb(void *arg, const struct jsonrpc_msg *msg)
{
	rpc_error(arg, msg, NULL);
}

/* A message waiting for the agent's session. */
struct rpc_waiting {
	cJSON *payload;
	TAILQ_ENTRY(rpc_waiting) entry;
};

/* Queue a message's payload (moved in). */
void
rpc_queue_add(struct rpc_queue *q, cJSON *payload)
{
	struct rpc_waiting *w;

	w = xcalloc(1, sizeof *w);
	w->payload = payload;
	TAILQ_INSERT_TAIL(q, w, entry);
}

/* The first payload (the caller's now), or NULL. */
cJSON *
rpc_queue_take(struct rpc_queue *q)
{
	struct rpc_waiting *w;
	cJSON		   *payload;

	if ((w = TAILQ_FIRST(q)) == NULL)
		return (NULL);
	TAILQ_REMOVE(q, w, entry);
	payload = w->payload;
	free(w);
	return (payload);
}

/*
 * Drop every waiting message; if there was one, end the turn that waited
 * with reason (s NULL: the adapter is freed, there is no turn to end).
 */
void
rpc_queue_drop(struct host *s, struct rpc_queue *q, const char *reason)
{
	cJSON *payload;
	int    any = 0;

	while ((payload = rpc_queue_take(q)) != NULL) {
		json_free(payload);
		any = 1;
	}
	if (any && s != NULL)
		host_turn_end(s, reason, NULL, -1);
}

/* An error response as an error event: "prefix: message", code, data. */
void
rpc_error(struct host *s, const struct jsonrpc_msg *msg, const char *prefix)
{
	const cJSON *data = json_get(msg->error, "data");
	const char  *text = msg->error_message;
	char	     code[32], *full = NULL;

	snprintf(code, sizeof code, "%lld", msg->error_code);
	if (text == NULL)
		text = "agent error";
	if (prefix != NULL)
		xasprintf(&full, "%s: %s", prefix, text);
	host_error(s, full != NULL ? full : text, code,
	    data != NULL ? json_dup(data) : NULL);
	free(full);
}
