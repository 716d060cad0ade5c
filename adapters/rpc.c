/*
 * rpc.c: the JSON-RPC peer of protocol/jsonrpc.c on a host, for the
 * adapters that speak JSON-RPC (acp.c, codex.c). Their peer ops name
 * these callbacks: what the peer sends goes to the agent's stdin, a line
 * that is not a message is agent.unparsed, and an error response to no
 * request of ours is an error event. The peer's arg is the host.
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
