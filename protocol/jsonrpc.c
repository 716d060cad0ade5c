/*
 * jsonrpc.c: JSON-RPC 2.0 messages, with or without the "jsonrpc" member,
 * and the one peer that speaks them.
 *
 * Codex's app-server speaks JSON-RPC but omits "jsonrpc":"2.0"; ACP agents
 * send it. jsonrpc_parse accepts both and says which it saw; a "jsonrpc"
 * member with any other value is invalid. Ids are strings or integers
 * (within +-2^53); null is accepted only on an error response, where the
 * peer could not read our id. The pending table hands out our own request
 * ids (1, 2, ...) and matches responses back to what asked.
 *
 * A peer is one side of a conversation, as every JSON-RPC user here has
 * it: its protocol's tables (requests and notifications by method, our
 * requests' responses by the tag we sent them with), our requests waiting
 * for an answer, and the other side's requests waiting for ours ("asks",
 * by their id as text). Dispatch of one message: a response goes to the
 * handler of its request's tag, or, an error to no request of ours, to
 * the stray handler; a request to its method's handler, or -32601; a
 * notification to its method's handler, or nowhere. The peer does no I/O:
 * what it sends, and what it cannot read, go to the ops' callbacks. It
 * touches nothing of itself after a handler returns, so a handler may
 * free it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define JSONRPC_MAX_INT 9007199254740992.0 /* 2^53 */

struct jsonrpc_entry {
	long long id;
	int	  tag;
	void	 *ptr;
};

struct jsonrpc_pending {
	struct jsonrpc_entry *entries;
	size_t		      n;
	size_t		      size;
	long long	      next;
};

struct jsonrpc_peer {
	const struct jsonrpc_peer_ops *ops;
	void			      *arg;
	struct jsonrpc_pending	      *pending;
	TAILQ_HEAD(, jsonrpc_ask) asks;
};

static int    jsonrpc_int(const cJSON *, long long *);
static int    jsonrpc_id_valid(const cJSON *);
static cJSON *jsonrpc_new(int, cJSON *);
static cJSON *jsonrpc_call(int, cJSON *, const char *, cJSON *);
static int    jsonrpc_id_number(const cJSON *, long long *);
static const struct jsonrpc_method *
jsonrpc_method_find(const struct jsonrpc_method *, size_t, const char *);

/* v as an integer: an integral number within +-2^53. */
static int
jsonrpc_int(const cJSON *v, long long *out)
{
	double d;

	if (!json_is_num(v))
		return (-1);
	d = json_num(v);
	if (!isfinite(d) || d != floor(d) || fabs(d) > JSONRPC_MAX_INT)
		return (-1);
	if (out != NULL)
		*out = (long long)d;
	return (0);
}

/* An id is a string or an integer number. */
static int
jsonrpc_id_valid(const cJSON *id)
{
	return (json_is_str(id) || jsonrpc_int(id, NULL) == 0);
}

/*
 * Classify root into msg (pointers borrowed from root). Return 0, or -1
 * with msg->kind JSONRPC_INVALID and *err (if not NULL) a static reason.
 */
int
jsonrpc_parse(const cJSON *root, struct jsonrpc_msg *msg, const char **err)
{
	const cJSON *v, *id;
	const char  *why;

	memset(msg, 0, sizeof *msg);
	msg->kind = JSONRPC_INVALID;
	if (!json_is_obj(root)) {
		why = "not an object";
		goto fail;
	}
	if ((v = json_get(root, "jsonrpc")) != NULL) {
		if (json_str(v) == NULL || strcmp(json_str(v), "2.0") != 0) {
			why = "jsonrpc: not \"2.0\"";
			goto fail;
		}
		msg->has_version = 1;
	}
	id = json_get(root, "id");
	if (id != NULL && !json_is_null(id) && !jsonrpc_id_valid(id)) {
		why = "id: not a string or an integer";
		goto fail;
	}
	msg->id = id;

	if ((v = json_get(root, "method")) != NULL) {
		if ((msg->method = json_str(v)) == NULL) {
			why = "method: not a string";
			goto fail;
		}
		v = json_get(root, "params");
		if (v != NULL && !json_is_obj(v) && !json_is_arr(v)) {
			why = "params: not an object or an array";
			goto fail;
		}
		msg->params = v;
		if (id == NULL) {
			msg->kind = JSONRPC_NOTIFICATION;
			return (0);
		}
		if (json_is_null(id)) {
			why = "id: null in a request";
			goto fail;
		}
		msg->kind = JSONRPC_REQUEST;
		return (0);
	}

	if (id == NULL) {
		why = "neither method nor id";
		goto fail;
	}
	msg->result = json_get(root, "result");
	msg->error = json_get(root, "error");
	if (msg->result != NULL && msg->error != NULL) {
		why = "both result and error";
		goto fail;
	}
	if (msg->error != NULL) {
		if (!json_is_obj(msg->error)) {
			why = "error: not an object";
			goto fail;
		}
		if (json_get_int(msg->error, "code", &msg->error_code) != 0) {
			why = "error.code: not an integer";
			goto fail;
		}
		msg->error_message = json_get_str(msg->error, "message");
		if (msg->error_message == NULL) {
			why = "error.message: not a string";
			goto fail;
		}
		msg->kind = JSONRPC_ERROR;
		return (0);
	}
	if (msg->result == NULL) {
		why = "neither result nor error";
		goto fail;
	}
	if (json_is_null(id)) {
		why = "id: null in a response";
		goto fail;
	}
	msg->kind = JSONRPC_RESPONSE;
	return (0);

fail:
	msg->kind = JSONRPC_INVALID;
	if (err != NULL)
		*err = why;
	return (-1);
}

/*
 * A new message: "jsonrpc":"2.0" first if asked, then the id (moved in;
 * NULL: none).
 */
static cJSON *
jsonrpc_new(int with_version, cJSON *id)
{
	cJSON *o;

	o = json_object();
	if (with_version)
		json_set_str(o, "jsonrpc", "2.0");
	json_set(o, "id", id);
	return (o);
}

/* A request with our integer id; params (owned, may be NULL) is moved in. */
cJSON *
jsonrpc_request(
    int with_version, long long id, const char *method, cJSON *params)
{
	return (jsonrpc_call(
	    with_version, json_number((double)id), method, params));
}

/* A notification; params (owned, may be NULL) is moved in. */
cJSON *
jsonrpc_notification(int with_version, const char *method, cJSON *params)
{
	return (jsonrpc_call(with_version, NULL, method, params));
}

/* A request (id moved in) or, id NULL, a notification. */
static cJSON *
jsonrpc_call(int with_version, cJSON *id, const char *method, cJSON *params)
{
	cJSON *o;

	o = jsonrpc_new(with_version, id);
	json_set_str(o, "method", method);
	json_set(o, "params", params);
	return (o);
}

/* A response to the peer's id (copied); result is moved in, NULL is {}. */
cJSON *
jsonrpc_result(int with_version, const cJSON *id, cJSON *result)
{
	cJSON *o;

	o = jsonrpc_new(with_version, id != NULL ? json_dup(id) : json_null());
	json_set(o, "result", result != NULL ? result : json_object());
	return (o);
}

/* An error response; id NULL gives null, data (owned, may be NULL). */
cJSON *
jsonrpc_error(int with_version, const cJSON *id, int code, const char *message,
    cJSON *data)
{
	cJSON *o, *e;

	o = jsonrpc_new(with_version, id != NULL ? json_dup(id) : json_null());
	e = json_object();
	json_set_int(e, "code", code);
	json_set_str(e, "message", message != NULL ? message : "");
	json_set(e, "data", data);
	json_set(o, "error", e);
	return (o);
}

struct jsonrpc_pending *
jsonrpc_pending_new(void)
{
	struct jsonrpc_pending *p;

	p = xcalloc(1, sizeof *p);
	p->next = 1;
	return (p);
}

void
jsonrpc_pending_free(struct jsonrpc_pending *p)
{
	if (p == NULL)
		return;
	free(p->entries);
	free(p);
}

/* Remember (tag, ptr) under a fresh request id, which is returned. */
long long
jsonrpc_pending_add(struct jsonrpc_pending *p, int tag, void *ptr)
{
	struct jsonrpc_entry *e;

	if (p->n == p->size) {
		p->size = p->size == 0 ? 8 : p->size * 2;
		p->entries =
		    xreallocarray(p->entries, p->size, sizeof *p->entries);
	}
	e = &p->entries[p->n++];
	e->id = p->next++;
	e->tag = tag;
	e->ptr = ptr;
	return (e->id);
}

/* A response id as our integer: a number, or a string of decimal digits. */
static int
jsonrpc_id_number(const cJSON *id, long long *out)
{
	const char *s;
	char	   *end;

	if ((s = json_str(id)) != NULL) {
		if (*s < '0' || *s > '9')
			return (-1);
		errno = 0;
		*out = strtoll(s, &end, 10);
		if (errno != 0 || *end != '\0')
			return (-1);
		return (0);
	}
	return (jsonrpc_int(id, out));
}

/*
 * Find the request a response id answers, remove it and give back its tag
 * and ptr (either out pointer may be NULL). Return 0, or -1 if unknown.
 */
int
jsonrpc_pending_take(
    struct jsonrpc_pending *p, const cJSON *id, int *tag, void **ptr)
{
	long long n;
	size_t	  i;

	if (jsonrpc_id_number(id, &n) != 0)
		return (-1);
	for (i = 0; i < p->n; i++) {
		if (p->entries[i].id != n)
			continue;
		if (tag != NULL)
			*tag = p->entries[i].tag;
		if (ptr != NULL)
			*ptr = p->entries[i].ptr;
		memmove(&p->entries[i], &p->entries[i + 1],
		    (p->n - i - 1) * sizeof *p->entries);
		p->n--;
		if (p->n == 0 && p->size > 64) {
			free(p->entries);
			p->entries = NULL;
			p->size = 0;
		}
		return (0);
	}
	return (-1);
}

size_t
jsonrpc_pending_count(const struct jsonrpc_pending *p)
{
	return (p->n);
}

/* An id of either JSON type as text: the key the asks are kept by. */
char *
jsonrpc_id_text(const cJSON *id)
{
	char *text;

	if (json_str(id) != NULL)
		return (xstrdup(json_str(id)));
	if (json_is_num(id) &&
	    json_num(id) == (double)(long long)json_num(id)) {
		xasprintf(&text, "%lld", (long long)json_num(id));
		return (text);
	}
	return (json_print(id, NULL));
}

struct jsonrpc_peer *
jsonrpc_peer_new(const struct jsonrpc_peer_ops *ops, void *arg)
{
	struct jsonrpc_peer *p;

	p = xcalloc(1, sizeof *p);
	p->ops = ops;
	p->arg = arg;
	p->pending = jsonrpc_pending_new();
	TAILQ_INIT(&p->asks);
	return (p);
}

/* Forget the peer; its unanswered asks are dropped unanswered. */
void
jsonrpc_peer_free(struct jsonrpc_peer *p)
{
	struct jsonrpc_ask *k;

	if (p == NULL)
		return;
	while ((k = TAILQ_FIRST(&p->asks)) != NULL) {
		TAILQ_REMOVE(&p->asks, k, entry);
		jsonrpc_ask_free(k);
	}
	jsonrpc_pending_free(p->pending);
	free(p);
}

static const struct jsonrpc_method *
jsonrpc_method_find(
    const struct jsonrpc_method *table, size_t n, const char *method)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(table[i].method, method) == 0)
			return (&table[i]);
	}
	return (NULL);
}

/* One line from the other side: parse it and dispatch it. */
void
jsonrpc_peer_line(struct jsonrpc_peer *p, const char *line, size_t len)
{
	const char *err;
	cJSON	   *v;

	if ((v = json_parse(line, len, &err)) == NULL) {
		p->ops->invalid(p->arg, p->ops->name, NULL, err);
		return;
	}
	jsonrpc_peer_dispatch(p, v);
	json_free(v);
}

/* One message from the other side, parsed; v stays the caller's. */
void
jsonrpc_peer_dispatch(struct jsonrpc_peer *p, const cJSON *v)
{
	const struct jsonrpc_peer_ops *ops = p->ops;
	const struct jsonrpc_method   *m;
	struct jsonrpc_msg	       msg;
	const char		      *err;
	int			       tag;

	if (jsonrpc_parse(v, &msg, &err) != 0) {
		ops->invalid(p->arg, ops->name, v, err);
		return;
	}
	switch (msg.kind) {
	case JSONRPC_RESPONSE:
	case JSONRPC_ERROR:
		if (jsonrpc_pending_take(p->pending, msg.id, &tag, NULL) == 0 &&
		    tag >= 0 && (size_t)tag < ops->nresponses &&
		    ops->responses[tag] != NULL)
			ops->responses[tag](p->arg, &msg);
		else if (msg.kind == JSONRPC_ERROR && ops->stray != NULL)
			ops->stray(p->arg, &msg);
		break;
	case JSONRPC_REQUEST:
		m = jsonrpc_method_find(
		    ops->requests, ops->nrequests, msg.method);
		if (m != NULL)
			m->fn(p->arg, &msg);
		else
			jsonrpc_peer_error(p, msg.id, JSONRPC_METHOD_NOT_FOUND,
			    "method not found");
		break;
	case JSONRPC_NOTIFICATION:
		m = jsonrpc_method_find(
		    ops->notifications, ops->nnotifications, msg.method);
		if (m != NULL)
			m->fn(p->arg, &msg);
		break;
	default:
		ops->invalid(p->arg, ops->name, v, "not a JSON-RPC message");
		break;
	}
}

/* Send a request of ours, remembered by tag; returns its id. */
long long
jsonrpc_peer_request(
    struct jsonrpc_peer *p, int tag, const char *method, cJSON *params)
{
	long long id;

	id = jsonrpc_pending_add(p->pending, tag, NULL);
	p->ops->send(
	    p->arg, jsonrpc_request(p->ops->with_version, id, method, params));
	return (id);
}

void
jsonrpc_peer_notify(struct jsonrpc_peer *p, const char *method, cJSON *params)
{
	p->ops->send(
	    p->arg, jsonrpc_notification(p->ops->with_version, method, params));
}

/* Answer the other side's request id with result (moved in). */
void
jsonrpc_peer_reply(struct jsonrpc_peer *p, const cJSON *id, cJSON *result)
{
	p->ops->send(p->arg, jsonrpc_result(p->ops->with_version, id, result));
}

void
jsonrpc_peer_error(
    struct jsonrpc_peer *p, const cJSON *id, int code, const char *message)
{
	p->ops->send(p->arg,
	    jsonrpc_error(p->ops->with_version, id, code, message, NULL));
}

/*
 * Keep a request of the other side's (a permission, a question) until we
 * answer it; data (owned) is what the answer will need.
 */
struct jsonrpc_ask *
jsonrpc_peer_ask(struct jsonrpc_peer *p, const cJSON *id, cJSON *data)
{
	struct jsonrpc_ask *k;

	k = xcalloc(1, sizeof *k);
	k->native_id = jsonrpc_id_text(id);
	k->rpc_id = json_dup(id);
	k->data = data;
	TAILQ_INSERT_TAIL(&p->asks, k, entry);
	return (k);
}

/* Take a kept request out by its id as text; NULL if there is none. */
struct jsonrpc_ask *
jsonrpc_peer_take(struct jsonrpc_peer *p, const char *native_id)
{
	struct jsonrpc_ask *k;

	TAILQ_FOREACH(k, &p->asks, entry) {
		if (strcmp(k->native_id, native_id) == 0) {
			TAILQ_REMOVE(&p->asks, k, entry);
			return (k);
		}
	}
	return (NULL);
}

/* Answer a taken ask with result (moved in) and forget it. */
void
jsonrpc_peer_answer(
    struct jsonrpc_peer *p, struct jsonrpc_ask *k, cJSON *result)
{
	jsonrpc_peer_reply(p, k->rpc_id, result);
	jsonrpc_ask_free(k);
}

void
jsonrpc_ask_free(struct jsonrpc_ask *k)
{
	free(k->native_id);
	json_free(k->rpc_id);
	json_free(k->data);
	free(k);
}
