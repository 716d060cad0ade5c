/*
 * host_stub.c: the host functions of adapters/adapters.h for fuzzing an
 * adapter without a daemon.
 *
 * A tiny model of supervisor/session.c: it keeps the open items and the
 * pending requests, and turns every host call into the event session.c
 * would emit, built with protocol/event.c, serialised with the current
 * native line as raw, parsed back and run through event_validate and
 * event_scan. Arguments are checked as the contracts of adapters.h and
 * docs/internals.md state them (non-NULL ids, owned JSON of the right
 * type, valid UTF-8 everywhere); a violation aborts, as a finding. The
 * lines sent to the agent must be JSON-RPC. Nothing is written anywhere.
 */
#include <string.h>

#include "../../adapters/adapters.h"
#include "fuzz.h"
#include "host_stub.h"

struct stub_item {
	char	      *native_id;
	char	       item_id[24];
	enum item_kind kind;
	enum item_role role;
	char	      *text;
	int	       deltas;
	LIST_ENTRY(stub_item) entry;
};

struct stub_pending {
	char *native_id;
	int   question;
	LIST_ENTRY(stub_pending) entry;
};

struct session {
	const struct agent_profile *profile;
	cJSON			   *agent_command;
	char			   *native_id;
	char			   *agent_version;
	void			   *adapter_data;
	const char		   *raw;
	size_t			    rawlen;
	int			    unparsed;
	uint64_t		    seq;
	uint64_t		    nitems;
	int			    in_turn;
	uint64_t		    nturns;
	LIST_HEAD(, stub_item) items;
	LIST_HEAD(, stub_pending) pending;
	size_t sent; /* lines to the agent */
};

static void
stub_str(const char *s, const char *what)
{
	FUZZ_CHECK(s != NULL, "%s is NULL", what);
	FUZZ_CHECK(utf8_valid(s, strlen(s)), "%s is not UTF-8", what);
}

/* Serialise, reparse and validate one event; takes data. */
static void
stub_emit(struct session *s, enum event_type type, cJSON *data)
{
	struct event	ev;
	enum event_type st;
	const char     *err;
	char	       *line, *quoted = NULL, *cause = NULL;
	size_t		len, noraw, snoraw;
	cJSON	       *v, *str;

	memset(&ev, 0, sizeof ev);
	ev.sequence = ++s->seq;
	ev.time_ms = 1700000000000LL + (int64_t)s->seq;
	ev.session_id = "fuzz";
	ev.native_session_id = s->native_id;
	ev.daemon = s->raw == NULL;
	ev.type = type;
	ev.data = data;
	if (s->raw != NULL && s->unparsed) {
		str = json_stringn(s->raw, s->rawlen);
		quoted = json_print(str, &ev.rawlen);
		json_free(str);
		ev.raw = quoted;
	} else if (s->raw != NULL) {
		ev.raw = s->raw;
		ev.rawlen = s->rawlen;
	}
	line = event_serialize(&ev, &len, &noraw);
	FUZZ_CHECK(utf8_valid(line, len), "event is not UTF-8: %.300s", line);
	v = json_parse(line, len, &err);
	FUZZ_CHECK(v != NULL, "event is not JSON (%s): %.300s", err, line);
	FUZZ_CHECK(event_validate(v, &cause) == 0,
	    "invalid %s event: %s: "
	    "%.300s",
	    event_type_name(type), cause, line);
	json_free(v);
	FUZZ_CHECK(event_scan(line, len, &st, &snoraw) == 0 && st == type &&
		snoraw == noraw,
	    "event_scan disagrees with event_serialize: %.300s", line);
	free(line);
	free(quoted);
	json_free(data);
}

static struct stub_item *
stub_item_find(struct session *s, const char *native_id)
{
	struct stub_item *it;

	LIST_FOREACH(it, &s->items, entry) {
		if (strcmp(it->native_id, native_id) == 0)
			return (it);
	}
	return (NULL);
}

static struct stub_item *
stub_item_new(struct session *s, const struct item_spec *spec)
{
	struct stub_item *it, *parent = NULL;
	cJSON		 *data;

	it = xcalloc(1, sizeof *it);
	it->native_id = xstrdup(spec->native_id);
	it->kind = spec->kind;
	it->role = spec->role;
	snprintf(it->item_id, sizeof it->item_id, "itm_%llu",
	    (unsigned long long)++s->nitems);
	LIST_INSERT_HEAD(&s->items, it, entry);
	if (spec->parent_native_id != NULL)
		parent = stub_item_find(s, spec->parent_native_id);
	data = json_object();
	json_set(data, "item",
	    event_item(it->item_id, spec->native_id,
		parent != NULL ? parent->item_id : NULL, spec->kind, spec->role,
		ITEM_IN_PROGRESS, spec->content));
	stub_emit(s, EVENT_ITEM_STARTED, data);
	return (it);
}

static void
stub_item_free(struct stub_item *it)
{
	LIST_REMOVE(it, entry);
	free(it->native_id);
	free(it->text);
	free(it);
}

/* -- the harness side */

struct session *
stub_session_new(const struct agent_profile *p, cJSON *agent_command)
{
	struct session *s;

	s = xcalloc(1, sizeof *s);
	s->profile = p;
	s->agent_command = agent_command;
	LIST_INIT(&s->items);
	LIST_INIT(&s->pending);
	return (s);
}

void
stub_session_free(struct session *s)
{
	struct stub_item    *it;
	struct stub_pending *p;

	if (s->profile->adapter->free != NULL)
		s->profile->adapter->free(s);
	while ((it = LIST_FIRST(&s->items)) != NULL)
		stub_item_free(it);
	while ((p = LIST_FIRST(&s->pending)) != NULL) {
		LIST_REMOVE(p, entry);
		free(p->native_id);
		free(p);
	}
	json_free(s->agent_command);
	free(s->native_id);
	free(s->agent_version);
	free(s);
}

/* One stdout line, as session_line_cb hands it over. */
void
stub_session_line(struct session *s, const char *line, size_t len)
{
	char *fixed = NULL;

	if (len == 0)
		return;
	if (!utf8_valid(line, len))
		line = fixed = utf8_repair(line, len, &len);
	s->raw = line;
	s->rawlen = len;
	s->unparsed = 0;
	s->profile->adapter->on_line(s, line, len);
	s->raw = NULL;
	s->rawlen = 0;
	s->unparsed = 0;
	free(fixed);
}

/* The native id of the first pending permission (1) or question. */
const char *
stub_session_pending(struct session *s, int question)
{
	struct stub_pending *p;

	LIST_FOREACH(p, &s->pending, entry) {
		if (p->question == question)
			return (p->native_id);
	}
	return (NULL);
}

void
stub_session_resolved(struct session *s, const char *native_id)
{
	struct stub_pending *p;

	LIST_FOREACH(p, &s->pending, entry) {
		if (strcmp(p->native_id, native_id) == 0) {
			LIST_REMOVE(p, entry);
			free(p->native_id);
			free(p);
			return;
		}
	}
}

int
stub_session_in_turn(struct session *s)
{
	return (s->in_turn);
}

size_t
stub_session_sent(struct session *s)
{
	return (s->sent);
}

/* -- the host functions */

const char *
session_id(struct session *s)
{
	return ("fuzz");
}

const char *
session_cwd(struct session *s)
{
	return ("/nonexistent/agentd-fuzz");
}

const char *
session_model(struct session *s)
{
	return ("fuzz-model");
}

const char *
session_permission_mode(struct session *s)
{
	return ("default");
}

const char *
session_native_id(struct session *s)
{
	return (s->native_id);
}

void
session_set_native_id(struct session *s, const char *id)
{
	stub_str(id, "native session id");
	free(s->native_id);
	s->native_id = xstrdup(id);
}

void
session_set_agent_version(struct session *s, const char *version)
{
	stub_str(version, "agent version");
	free(s->agent_version);
	s->agent_version = xstrdup(version);
}

const struct agent_profile *
session_profile(struct session *s)
{
	return (s->profile);
}

const cJSON *
session_agent_command(struct session *s)
{
	return (s->agent_command);
}

const cJSON *
session_mcp(struct session *s)
{
	return (NULL);
}

void *
session_adapter_data(struct session *s)
{
	return (s->adapter_data);
}

void
session_set_adapter_data(struct session *s, void *data)
{
	s->adapter_data = data;
}

void
session_send_json(struct session *s, cJSON *msg)
{
	struct jsonrpc_msg m;
	const char	  *err;
	char		  *text;
	size_t		   len;
	cJSON		  *v;

	FUZZ_CHECK(msg != NULL, "send_json(NULL)");
	text = json_print(msg, &len);
	json_free(msg);
	FUZZ_CHECK(memchr(text, '\n', len) == NULL,
	    "a newline in a line sent "
	    "to the agent");
	v = json_parse(text, len, &err);
	FUZZ_CHECK(v != NULL, "sent text is not JSON: %.300s", text);
	if (s->profile->adapter == &adapter_acp)
		FUZZ_CHECK(jsonrpc_parse(v, &m, &err) == 0,
		    "sent a message "
		    "that is not JSON-RPC (%s): %.300s",
		    err, text);
	json_free(v);
	free(text);
	s->sent++;
}

void
session_turn_start(struct session *s)
{
	cJSON *data;
	char   id[32];

	if (s->in_turn)
		return;
	s->in_turn = 1;
	snprintf(id, sizeof id, "turn_%llu", (unsigned long long)++s->nturns);
	data = json_object();
	json_set_str(data, "turn_id", id);
	stub_emit(s, EVENT_TURN_STARTED, data);
}

void
session_turn_end(
    struct session *s, const char *stop_reason, cJSON *usage, double cost)
{
	struct stub_item *it;
	cJSON		 *data;
	char		  id[32];

	FUZZ_CHECK(usage == NULL || json_is_obj(usage), "usage not an object");
	if (stop_reason != NULL)
		stub_str(stop_reason, "stop_reason");
	if (!s->in_turn) {
		json_free(usage);
		return;
	}
	while ((it = LIST_FIRST(&s->items)) != NULL)
		session_item_complete(s, it->native_id, 0, NULL);
	snprintf(id, sizeof id, "turn_%llu", (unsigned long long)s->nturns);
	data = json_object();
	json_set_str(data, "turn_id", id);
	if (stop_reason != NULL)
		json_set_str(data, "stop_reason", stop_reason);
	if (usage != NULL)
		json_set(data, "usage", usage);
	if (cost >= 0)
		json_set_num(data, "cost_usd", cost);
	stub_emit(s, EVENT_TURN_ENDED, data);
	s->in_turn = 0;
}

const char *
session_item_start(struct session *s, const struct item_spec *spec)
{
	struct stub_item *it;

	FUZZ_CHECK(spec != NULL, "item_start(NULL)");
	stub_str(spec->native_id, "item native id");
	FUZZ_CHECK((int)spec->kind >= 0 && spec->kind < ITEM_KIND_COUNT,
	    "kind %d", (int)spec->kind);
	FUZZ_CHECK((int)spec->role >= 0 && spec->role < ROLE_COUNT, "role %d",
	    (int)spec->role);
	FUZZ_CHECK(spec->content == NULL || json_is_arr(spec->content),
	    "content not an array");
	if ((it = stub_item_find(s, spec->native_id)) != NULL) {
		json_free(spec->content);
		return (it->item_id);
	}
	return (stub_item_new(s, spec)->item_id);
}

int
session_item_open(struct session *s, const char *native_id)
{
	stub_str(native_id, "item native id");
	return (stub_item_find(s, native_id) != NULL);
}

static void
stub_item_text(struct session *s, struct stub_item *it, const char *text)
{
	cJSON *data;
	size_t old = it->text != NULL ? strlen(it->text) : 0;

	if (old + strlen(text) < (1UL << 20)) {
		it->text = xrealloc(it->text, old + strlen(text) + 1);
		memcpy(it->text + old, text, strlen(text) + 1);
	}
	it->deltas++;
	data = json_object();
	json_set_str(data, "item_id", it->item_id);
	json_set_str(data, "native_item_id", it->native_id);
	json_set_str(data, "delta", text);
	stub_emit(s, EVENT_ITEM_DELTA, data);
}

void
session_item_delta(struct session *s, const char *native_id, const char *text)
{
	struct stub_item *it;
	struct item_spec  spec;

	stub_str(native_id, "delta native id");
	stub_str(text, "delta text");
	if ((it = stub_item_find(s, native_id)) == NULL) {
		memset(&spec, 0, sizeof spec);
		spec.native_id = native_id;
		spec.kind = ITEM_MESSAGE;
		spec.role = ROLE_ASSISTANT;
		it = stub_item_new(s, &spec);
	}
	stub_item_text(s, it, text);
}

void
session_item_complete(
    struct session *s, const char *native_id, int failed, cJSON *content)
{
	struct stub_item *it;
	struct item_spec  spec;
	cJSON		 *data;

	stub_str(native_id, "complete native id");
	FUZZ_CHECK(
	    content == NULL || json_is_arr(content), "content not an array");
	if ((it = stub_item_find(s, native_id)) == NULL) {
		memset(&spec, 0, sizeof spec);
		spec.native_id = native_id;
		spec.kind = ITEM_MESSAGE;
		spec.role = ROLE_ASSISTANT;
		it = stub_item_new(s, &spec);
	}
	if (content == NULL) {
		content = json_array();
		if (it->kind == ITEM_REASONING)
			json_append(content,
			    event_part_reasoning(
				it->text != NULL ? it->text : "", NULL));
		else if (it->text != NULL || it->kind == ITEM_MESSAGE)
			json_append(content,
			    event_part_text(it->text != NULL ? it->text : ""));
	}
	data = json_object();
	json_set(data, "item",
	    event_item(it->item_id, it->native_id, NULL, it->kind, it->role,
		failed ? ITEM_FAILED : ITEM_COMPLETED, content));
	stub_emit(s, EVENT_ITEM_COMPLETED, data);
	stub_item_free(it);
}

static void
stub_pending_add(struct session *s, const char *native_id, int question)
{
	struct stub_pending *p;

	p = xcalloc(1, sizeof *p);
	p->native_id = xstrdup(native_id);
	p->question = question;
	LIST_INSERT_HEAD(&s->pending, p, entry);
}

void
session_permission_request(struct session *s, const char *native_id,
    const char *action, cJSON *metadata)
{
	cJSON *data;

	stub_str(native_id, "permission native id");
	FUZZ_CHECK(metadata == NULL || json_is_obj(metadata),
	    "metadata not an object");
	if (action != NULL)
		stub_str(action, "permission action");
	stub_pending_add(s, native_id, 0);
	data = json_object();
	json_set_str(data, "permission_id", "perm_1");
	json_set_str(data, "action", action != NULL ? action : "");
	json_set_str(data, "status", "requested");
	json_set(data, "metadata", metadata != NULL ? metadata : json_object());
	stub_emit(s, EVENT_PERMISSION_REQUESTED, data);
}

void
session_question_request(
    struct session *s, const char *native_id, cJSON *questions)
{
	cJSON *data;

	stub_str(native_id, "question native id");
	FUZZ_CHECK(questions == NULL || json_is_arr(questions),
	    "questions not an array");
	stub_pending_add(s, native_id, 1);
	data = json_object();
	json_set_str(data, "question_id", "q_1");
	json_set(
	    data, "questions", questions != NULL ? questions : json_array());
	stub_emit(s, EVENT_QUESTION_REQUESTED, data);
}

void
session_error(
    struct session *s, const char *message, const char *code, cJSON *details)
{
	cJSON *data;

	stub_str(message, "error message");
	if (code != NULL)
		stub_str(code, "error code");
	data = json_object();
	json_set_str(data, "message", message);
	if (code != NULL)
		json_set_str(data, "code", code);
	if (details != NULL)
		json_set(data, "details", details);
	stub_emit(s, EVENT_ERROR, data);
}

void
session_unparsed(struct session *s, const char *error, const char *location)
{
	cJSON *data;

	stub_str(error, "unparsed error");
	stub_str(location, "unparsed location");
	s->unparsed = 1;
	data = json_object();
	json_set_str(data, "error", error);
	json_set_str(data, "location", location);
	stub_emit(s, EVENT_AGENT_UNPARSED, data);
}

void
session_status(struct session *s, const char *label, const char *detail)
{
	struct item_spec spec;
	char		 nid[32];
	cJSON		*content;

	stub_str(label, "status label");
	if (detail != NULL)
		stub_str(detail, "status detail");
	snprintf(
	    nid, sizeof nid, "status-%llu", (unsigned long long)s->nitems + 1);
	content = json_array();
	json_append(content, event_part_status(label, detail));
	memset(&spec, 0, sizeof spec);
	spec.native_id = nid;
	spec.kind = ITEM_STATUS;
	spec.role = ROLE_SYSTEM;
	spec.content = json_dup(content);
	session_item_start(s, &spec);
	session_item_complete(s, nid, 0, content);
}

/* The raw of the events that follow: must be JSON, it is embedded as is. */
void
session_set_raw(struct session *s, const char *raw, size_t len)
{
	const char *err;
	cJSON	   *v;

	FUZZ_CHECK(raw != NULL, "set_raw(NULL)");
	v = json_parse(raw, len, &err);
	FUZZ_CHECK(v != NULL, "set_raw with text that is not JSON: %.*s",
	    (int)(len < 300 ? len : 300), raw);
	json_free(v);
	if (s->raw == NULL)
		return;
	s->raw = raw;
	s->rawlen = len;
	s->unparsed = 0;
}
