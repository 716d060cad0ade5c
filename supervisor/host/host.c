/*
 * host.c: the normaliser of DESIGN.md section 3, behind adapters.h.
 *
 * Adapters say what the agent said (an item started, a delta, a tool
 * call, a permission asked); this file turns it into universal events that
 * hold for every agent alike, numbers them and appends them to the
 * session's journal:
 * - sequences are contiguous from the journal's last one;
 * - every item.completed follows its item.started (a synthetic start is
 *   made for an item the agent never opened);
 * - a completed message or reasoning that streamed no delta gets one
 *   synthetic delta with its text;
 * - a turn that ends completes the items still open first;
 * - permissions and questions get our own ids (perm_N, q_N) over the
 *   adapter's native ones, and are resolved exactly once.
 * Everything emitted while an adapter handles one native line carries
 * that line as its raw; events made outside a line are the daemon's.
 *
 * What cannot be translated (host_unparsed: a line that is not JSON at
 * all, host_garbage, or one the adapter cannot read) is told at most once
 * a second: the first at once, those that follow within the second are
 * counted and told as one agent.unparsed with their number and bytes and
 * the first of them (cut to HOST_UNPARSED_RAW bytes) as raw, so an agent
 * that prints noise cannot grow the log faster than it writes. What was
 * counted is told before the turn ends, so it stays within its turn.
 *
 * The fuzzers and tests/unit/test_host.c run this very file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "host.h"

#define HOST_TEXT_MAX	  (4UL * 1024 * 1024) /* kept per item */
#define HOST_UNPARSED_MS  1000 /* at most one agent.unparsed a second */
#define HOST_UNPARSED_RAW 256  /* bytes of an unparsed line kept as raw */
#define HOST_JSON_CHECK	  64   /* shorter lines are parsed to tell garbage */

struct host_item {
	char	      *native_id;
	char	       item_id[24];
	enum item_kind kind;
	enum item_role role;
	struct buf     text; /* streamed so far, capped at HOST_TEXT_MAX */
	int	       deltas;
	LIST_ENTRY(host_item) entry;
};

struct host_pending {
	char  id[24]; /* perm_N or q_N */
	char *native_id;
	char *action;
	int   question;
	LIST_ENTRY(host_pending) entry;
};

struct host {
	char			   *id;
	const struct agent_profile *profile;
	char			   *cwd;
	char			   *model;
	char			   *permission_mode;
	char			   *effort;
	cJSON			   *options; /* {key: {current?, available?}} */
	cJSON			   *agent_command;
	cJSON			   *mcp;
	cJSON			   *launch_mcp; /* this start's, or NULL */
	char			   *mcp_file;
	char			   *skills_dir;
	char			   *native_id;
	char			   *agent_version;
	void			   *adapter_data;

	struct journal	      *journal; /* borrowed from the session */
	const struct host_cbs *cbs;
	void		      *cbarg;

	uint64_t	  seq;
	uint64_t	  nitems;
	uint64_t	  npending;
	uint64_t	  nturns;
	char		  turn_id[24];
	int		  in_turn;
	int64_t		  updated_ms;
	struct host_usage usage; /* summed over the turns ended */
	LIST_HEAD(, host_item) items;
	LIST_HEAD(, host_pending) pending;

	const char *raw; /* native line being handled, or NULL */
	size_t	    rawlen;
	int	    unparsed; /* raw is not JSON */

	/* Unparsed lines counted since the last agent.unparsed was told. */
	uint64_t	   bad_lines;
	uint64_t	   bad_bytes;
	char		  *bad_raw; /* the first of them, cut */
	size_t		   bad_rawlen;
	int		   bad_cut;
	char		  *bad_error; /* what was wrong with it */
	char		  *bad_location;
	int64_t		   bad_ms; /* when the last one was told */
	struct loop_timer *bad_timer;
};

static char *
host_strdup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

/*
 * A host over a journal that may already hold events: sequences go on
 * from its last, and item, turn and request numbers start there too so
 * ids stay unique across restarts.
 */
struct host *
host_new(const struct host_settings *set, struct journal *j,
    const struct host_cbs *cbs, void *arg)
{
	struct host *h;

	h = xcalloc(1, sizeof *h);
	h->id = xstrdup(set->id);
	h->profile = set->profile;
	h->cwd = xstrdup(set->cwd);
	h->model = host_strdup(set->model);
	h->permission_mode = host_strdup(set->permission_mode);
	h->effort = host_strdup(set->effort);
	h->options =
	    json_is_obj(set->options) ? json_dup(set->options) : json_object();
	if (set->agent_command != NULL)
		h->agent_command = json_dup(set->agent_command);
	if (set->mcp != NULL)
		h->mcp = json_dup(set->mcp);
	h->native_id = host_strdup(set->native_id);
	h->agent_version = host_strdup(set->agent_version);
	h->journal = j;
	h->cbs = cbs;
	h->cbarg = arg;
	h->seq = h->nitems = h->npending = h->nturns = journal_last(j);
	LIST_INIT(&h->items);
	LIST_INIT(&h->pending);
	return (h);
}

static void
host_item_free(struct host_item *it)
{
	LIST_REMOVE(it, entry);
	free(it->native_id);
	buf_free(&it->text);
	free(it);
}

static void
host_pending_free(struct host_pending *p)
{
	LIST_REMOVE(p, entry);
	free(p->native_id);
	free(p->action);
	free(p);
}

void
host_free(struct host *h)
{
	struct host_item    *it, *it1;
	struct host_pending *p, *p1;

	if (h == NULL)
		return;
	LIST_FOREACH_SAFE(it, &h->items, entry, it1)
		host_item_free(it);
	LIST_FOREACH_SAFE(p, &h->pending, entry, p1)
		host_pending_free(p);
	free(h->id);
	free(h->cwd);
	free(h->model);
	free(h->permission_mode);
	free(h->effort);
	json_free(h->options);
	json_free(h->agent_command);
	json_free(h->mcp);
	json_free(h->launch_mcp);
	free(h->mcp_file);
	free(h->skills_dir);
	free(h->native_id);
	free(h->agent_version);
	host_unparsed_drop(h);
	loop_timer_free(h->bad_timer);
	free(h);
}

const char *
host_id(struct host *h)
{
	return (h->id);
}

const char *
host_cwd(struct host *h)
{
	return (h->cwd);
}

const char *
host_model(struct host *h)
{
	return (h->model);
}

const char *
host_permission_mode(struct host *h)
{
	return (h->permission_mode);
}

const char *
host_effort(struct host *h)
{
	return (h->effort);
}

/*
 * What the agent offers and runs with, by key ("model", "mode",
 * "effort"): {current?, available?: [{id, name?, description?}]}, as its
 * adapter learned it. Kept in session.json so an idle session still says.
 */
const cJSON *
host_options(struct host *h)
{
	return (h->options);
}

/*
 * The adapter learned an option: its current value (or NULL, unknown)
 * and what the agent offers (an array of {id, name?, description?},
 * taken; NULL keeps what was known). The session saves it if it changed.
 */
void
host_set_option(
    struct host *h, const char *key, const char *current, cJSON *available)
{
	cJSON	   *o, *was;
	const char *cur;
	int	    changed = 0;

	if ((o = json_get_obj(h->options, key)) == NULL) {
		o = json_object();
		json_set(h->options, key, o);
		changed = 1;
	}
	cur = json_get_str(o, "current");
	if (current != NULL && (cur == NULL || strcmp(cur, current) != 0)) {
		json_set_str(o, "current", current);
		changed = 1;
	}
	if (available != NULL) {
		was = json_get(o, "available");
		if (was == NULL || !json_equal(was, available)) {
			json_set(o, "available", available);
			changed = 1;
		} else
			json_free(available);
	}
	if (changed)
		h->cbs->changed(h->cbarg);
}

/* A NULL-terminated list of ids as choices [{id}], or NULL for none. */
cJSON *
host_choices(const char *const *list)
{
	const char *const *v;
	cJSON		  *a;

	if (list == NULL)
		return (NULL);
	a = json_array();
	for (v = list; *v != NULL; v++)
		host_choice(a, *v, NULL, NULL);
	return (a);
}

/* Append the choice {id, name?, description?} to the array list. */
void
host_choice(cJSON *list, const char *id, const char *name, const char *desc)
{
	cJSON *c;

	c = json_object();
	json_set_str(c, "id", id);
	if (name != NULL)
		json_set_str(c, "name", name);
	if (desc != NULL)
		json_set_str(c, "description", desc);
	json_append(list, c);
}

/*
 * Does the agent offer value for key? 0 if so, or if its list is not
 * known (the agent itself is then the judge); else 422 with *cause
 * naming what it offers.
 */
int
host_option_check(
    struct host *h, const char *key, const char *value, char **cause)
{
	const cJSON *list, *e;
	const char  *id;
	struct buf   ids;

	list = json_get_arr(json_get_obj(h->options, key), "available");
	if (json_size(list) <= 0)
		return (0);
	JSON_FOREACH(e, list) {
		if ((id = json_get_str(e, "id")) != NULL &&
		    strcmp(id, value) == 0)
			return (0);
	}
	buf_init(&ids, 1024);
	JSON_FOREACH(e, list) {
		if ((id = json_get_str(e, "id")) != NULL &&
		    buf_printf(&ids, "%s%s", ids.len > 0 ? ", " : "", id) != 0)
			break;
	}
	xasprintf(cause, "the agent offers no %s '%s' (it offers: %s%s)", key,
	    value, ids.p != NULL ? ids.p : "", ids.full ? ", …" : "");
	buf_free(&ids);
	return (422);
}

const char *
host_native_id(struct host *h)
{
	return (h->native_id);
}

const char *
host_agent_version(struct host *h)
{
	return (h->agent_version);
}

const struct agent_profile *
host_profile(struct host *h)
{
	return (h->profile);
}

const cJSON *
host_agent_command(struct host *h)
{
	return (h->agent_command);
}

const cJSON *
host_mcp(struct host *h)
{
	return (h->mcp);
}

/* Replace what the last start was given (strings and JSON copied). */
void
host_set_launch(struct host *h, const struct host_launch *l)
{
	json_free(h->launch_mcp);
	free(h->mcp_file);
	free(h->skills_dir);
	h->launch_mcp = l->mcp != NULL ? json_dup(l->mcp) : NULL;
	h->mcp_file = host_strdup(l->mcp_file);
	h->skills_dir = host_strdup(l->skills_dir);
}

/* The MCP servers for this start: the session's merged list, else mcp. */
const cJSON *
host_launch_mcp(struct host *h)
{
	return (h->launch_mcp != NULL ? h->launch_mcp : h->mcp);
}

const char *
host_mcp_file(struct host *h)
{
	return (h->mcp_file);
}

const char *
host_skills_dir(struct host *h)
{
	return (h->skills_dir);
}

void *
host_adapter_data(struct host *h)
{
	return (h->adapter_data);
}

void
host_set_adapter_data(struct host *h, void *data)
{
	h->adapter_data = data;
}

uint64_t
host_seq(struct host *h)
{
	return (h->seq);
}

int64_t
host_updated_ms(struct host *h)
{
	return (h->updated_ms);
}

int
host_in_turn(struct host *h)
{
	return (h->in_turn);
}

void
host_set_native_id(struct host *h, const char *id)
{
	if (h->native_id != NULL && strcmp(h->native_id, id) == 0)
		return;
	free(h->native_id);
	h->native_id = xstrdup(id);
	h->cbs->changed(h->cbarg);
}

void
host_set_agent_version(struct host *h, const char *version)
{
	if (h->agent_version != NULL && strcmp(h->agent_version, version) == 0)
		return;
	free(h->agent_version);
	h->agent_version = xstrdup(version);
	h->cbs->changed(h->cbarg);
}

/* Quote a native line that is not JSON, so "raw" stays valid JSON. */
static char *
host_raw_string(const char *line, size_t len, size_t *outlen)
{
	cJSON *str;
	char  *text;

	str = json_stringn(line, len);
	text = json_print(str, outlen);
	json_free(str);
	return (text);
}

/*
 * Number, serialise and append one event; takes data (a tree) or, when
 * data is NULL and delta is not, prints delta as an item.delta's data.
 * Events made outside a native line are the daemon's and carry no raw.
 */
static void
host_emit_data(struct host *h, enum event_type type, cJSON *data,
    const struct event_delta *delta, int synthetic)
{
	struct event ev;
	char	    *line, *quoted = NULL;
	size_t	     len, noraw;

	memset(&ev, 0, sizeof ev);
	ev.sequence = h->seq + 1;
	ev.time_ms = loop_wall_ms();
	ev.session_id = h->id;
	ev.native_session_id = h->native_id;
	ev.daemon = h->raw == NULL;
	ev.synthetic = synthetic;
	ev.type = type;
	ev.data = data;
	ev.delta = delta;
	if (h->raw != NULL && h->unparsed)
		ev.raw = quoted =
		    host_raw_string(h->raw, h->rawlen, &ev.rawlen);
	else if (h->raw != NULL) {
		ev.raw = h->raw;
		ev.rawlen = h->rawlen;
	}
	line = event_serialize(&ev, &len, &noraw);
	free(quoted);
	json_free(data);
	h->seq = ev.sequence;
	h->updated_ms = ev.time_ms;
	journal_append(h->journal, ev.sequence, type, line, len, noraw);
}

/* Number, serialise and append one event; takes data. */
void
host_emit(struct host *h, enum event_type type, cJSON *data, int synthetic)
{
	host_emit_data(h, type, data, NULL, synthetic);
}

/* The agent's line being handled (valid UTF-8), the raw of its events. */
void
host_line_begin(struct host *h, const char *line, size_t len)
{
	/* Unparsed lines before this one are told first, if the rate allows. */
	if (h->bad_lines > 0 && loop_now_ms() - h->bad_ms >= HOST_UNPARSED_MS)
		host_unparsed_flush(h);
	h->raw = line;
	h->rawlen = len;
	h->unparsed = 0;
}

void
host_line_end(struct host *h)
{
	h->raw = NULL;
	h->rawlen = 0;
	h->unparsed = 0;
}

/*
 * Replace the raw text of the line being handled, for the events that
 * follow. For agents that repeat a whole partial message in every line
 * (pi), storing each line verbatim would make the log quadratic in the
 * length of a reply; their adapter keeps the part that matters. raw must
 * be valid JSON and live until on_line returns.
 */
void
host_set_raw(struct host *h, const char *raw, size_t len)
{
	if (h->raw == NULL)
		return; /* only inside on_line */
	h->raw = raw;
	h->rawlen = len;
	h->unparsed = 0;
}

/* Send one JSON message to the agent's stdin as a line; takes msg. */
void
host_send_json(struct host *h, cJSON *msg)
{
	char  *text;
	size_t len;

	text = json_print_line(msg, &len);
	h->cbs->send(h->cbarg, text, len);
	free(text);
}

static struct host_item *
host_item_find(struct host *h, const char *native_id)
{
	struct host_item *it;

	LIST_FOREACH(it, &h->items, entry) {
		if (strcmp(it->native_id, native_id) == 0)
			return (it);
	}
	return (NULL);
}

static struct host_item *
host_item_new(struct host *h, const struct item_spec *spec, int synthetic)
{
	struct host_item *it, *parent = NULL;
	cJSON		 *data;

	it = xcalloc(1, sizeof *it);
	it->native_id = xstrdup(spec->native_id);
	it->kind = spec->kind;
	it->role = spec->role;
	buf_init(&it->text, HOST_TEXT_MAX);
	snprintf(it->item_id, sizeof it->item_id, "itm_%llu",
	    (unsigned long long)++h->nitems);
	LIST_INSERT_HEAD(&h->items, it, entry);
	if (spec->parent_native_id != NULL)
		parent = host_item_find(h, spec->parent_native_id);
	data = json_object();
	json_set(data, "item",
	    event_item(it->item_id, spec->native_id,
		parent != NULL ? parent->item_id : NULL, spec->kind, spec->role,
		ITEM_IN_PROGRESS, spec->content));
	host_emit(h, EVENT_ITEM_STARTED, data, synthetic);
	return (it);
}

/* An item the agent never opened: a synthetic assistant message. */
static struct host_item *
host_item_get(struct host *h, const char *native_id)
{
	struct host_item *it;
	struct item_spec  spec;

	if ((it = host_item_find(h, native_id)) != NULL)
		return (it);
	memset(&spec, 0, sizeof spec);
	spec.native_id = native_id;
	spec.kind = ITEM_MESSAGE;
	spec.role = ROLE_ASSISTANT;
	return (host_item_new(h, &spec, 1));
}

const char *
host_item_start(struct host *h, const struct item_spec *spec)
{
	struct host_item *it;

	if ((it = host_item_find(h, spec->native_id)) != NULL) {
		json_free(spec->content);
		return (it->item_id);
	}
	return (host_item_new(h, spec, 0)->item_id);
}

int
host_item_open(struct host *h, const char *native_id)
{
	return (host_item_find(h, native_id) != NULL);
}

/* Emit a delta; remember the text (capped) for item.completed. */
static void
host_item_text(
    struct host *h, struct host_item *it, const char *text, int synthetic)
{
	struct event_delta d = { it->item_id, it->native_id, text,
		strlen(text) };

	/* Refused whole past the cap; a shorter delta after may still fit. */
	(void)buf_add(&it->text, text, d.textlen);
	it->deltas++;
	/* The most frequent event: its data printed without a tree. */
	host_emit_data(h, EVENT_ITEM_DELTA, NULL, &d, synthetic);
}

void
host_item_delta(struct host *h, const char *native_id, const char *text)
{
	host_item_text(h, host_item_get(h, native_id), text, 0);
}

/* The text of the first text or reasoning part of a content array. */
static const char *
host_content_text(const cJSON *content)
{
	const cJSON *part;
	const char  *type;

	JSON_FOREACH(part, content) {
		type = json_get_str(part, "type");
		if (type != NULL &&
		    (strcmp(type, "text") == 0 ||
			strcmp(type, "reasoning") == 0))
			return (json_get_str(part, "text"));
	}
	return (NULL);
}

void
host_item_complete(
    struct host *h, const char *native_id, int failed, cJSON *content)
{
	struct host_item *it;
	const char	 *text;
	cJSON		 *data;

	it = host_item_get(h, native_id);
	if (content == NULL) {
		content = json_array();
		if (it->kind == ITEM_REASONING)
			json_append(content,
			    event_part_reasoning(
				it->text.p != NULL ? it->text.p : "", NULL));
		else if (it->text.p != NULL || it->kind == ITEM_MESSAGE)
			json_append(content,
			    event_part_text(
				it->text.p != NULL ? it->text.p : ""));
	}
	/* A message that streamed nothing gets its text as one delta. */
	if (it->deltas == 0 &&
	    (it->kind == ITEM_MESSAGE || it->kind == ITEM_REASONING) &&
	    it->role != ROLE_USER &&
	    (text = host_content_text(content)) != NULL && *text != '\0')
		host_item_text(h, it, text, 1);
	data = json_object();
	json_set(data, "item",
	    event_item(it->item_id, it->native_id, NULL, it->kind, it->role,
		failed ? ITEM_FAILED : ITEM_COMPLETED, content));
	host_emit(h, EVENT_ITEM_COMPLETED, data, 0);
	host_item_free(it);
}

/* A completed item made whole at once (user messages, status). */
static void
host_item_whole(struct host *h, const char *native_id, enum item_kind kind,
    enum item_role role, cJSON *content)
{
	struct item_spec spec;

	memset(&spec, 0, sizeof spec);
	spec.native_id = native_id;
	spec.kind = kind;
	spec.role = role;
	spec.content = json_dup(content);
	host_item_start(h, &spec);
	host_item_complete(h, native_id, 0, content);
}

/* The user's message of the turn just started; takes content. */
void
host_user_message(struct host *h, cJSON *content)
{
	char nid[32];

	snprintf(nid, sizeof nid, "user-%llu", (unsigned long long)h->nturns);
	host_item_whole(h, nid, ITEM_MESSAGE, ROLE_USER, content);
}

/*
 * The session's settings changed (the adapter took the change): keep
 * them for the next start, and write when and what into the log, as a
 * completed status item "config" whose detail says it in words and whose
 * json part is the change, {model?, mode?, effort?}.
 */
/* A set of MCP servers or skills, as its names: never the entries. */
static void
host_config_names(
    cJSON *change, struct buf *detail, const char *key, const cJSON *map)
{
	const cJSON *e;
	cJSON	    *names;
	int	     first = 1;

	if (map == NULL)
		return;
	names = json_array();
	buf_printf(detail, "%s%s", detail->len > 0 ? ", " : "", key);
	JSON_FOREACH(e, map) {
		json_append(names, json_string(json_key(e)));
		buf_printf(detail, " %s", json_key(e));
		first = 0;
	}
	if (first)
		buf_printf(detail, " (none)");
	json_set(change, key, names);
}

void
host_configure(struct host *h, const struct session_config *cfg)
{
	static const char *const keys[] = { "model", "mode", "effort" };
	const char *vals[3] = { cfg->model, cfg->mode, cfg->effort };
	char	  **dst[3];
	struct buf  detail;
	cJSON	   *content, *change;
	char	    nid[32];
	size_t	    i;

	dst[0] = &h->model;
	dst[1] = &h->permission_mode;
	dst[2] = &h->effort;
	buf_init(&detail, 4096);
	change = json_object();
	for (i = 0; i < nitems(keys); i++) {
		if (vals[i] == NULL)
			continue;
		free(*dst[i]);
		*dst[i] = xstrdup(vals[i]);
		json_set_str(change, keys[i], vals[i]);
		buf_printf(&detail, "%s%s %s", detail.len > 0 ? ", " : "",
		    keys[i], vals[i]);
	}
	host_config_names(change, &detail, "mcp", cfg->mcp);
	host_config_names(change, &detail, "skills", cfg->skills);
	snprintf(
	    nid, sizeof nid, "config-%llu", (unsigned long long)h->nitems + 1);
	content = json_array();
	json_append(content,
	    event_part_status("config", detail.p != NULL ? detail.p : ""));
	json_append(content, event_part_json(change));
	host_item_whole(h, nid, ITEM_STATUS, ROLE_SYSTEM, content);
	buf_free(&detail);
	h->cbs->changed(h->cbarg);
}

void
host_status(struct host *h, const char *label, const char *detail)
{
	char   nid[32];
	cJSON *content;

	snprintf(
	    nid, sizeof nid, "status-%llu", (unsigned long long)h->nitems + 1);
	content = json_array();
	json_append(content, event_part_status(label, detail));
	host_item_whole(h, nid, ITEM_STATUS, ROLE_SYSTEM, content);
}

/* Start a turn (the session does on send; adapters for agents' own). */
void
host_turn_start(struct host *h)
{
	cJSON *data;

	if (h->in_turn)
		return;
	h->in_turn = 1;
	snprintf(h->turn_id, sizeof h->turn_id, "turn_%llu",
	    (unsigned long long)++h->nturns);
	data = json_object();
	json_set_str(data, "turn_id", h->turn_id);
	host_emit(h, EVENT_TURN_STARTED, data, h->raw == NULL);
	h->cbs->turn(h->cbarg, HOST_TURN_STARTED);
}

/* Add a turn's usage and cost to the host's totals (for the metrics). */
static void
host_count_usage(struct host *h, const cJSON *usage, double cost)
{
	static const char *names[] = { "input_tokens", "output_tokens",
		"cache_read_tokens", "cache_write_tokens" };
	uint64_t *sums[] = { &h->usage.input_tokens, &h->usage.output_tokens,
		&h->usage.cache_read_tokens, &h->usage.cache_write_tokens };
	long long v;
	size_t	  i;

	h->usage.turns++;
	for (i = 0; i < nitems(names); i++) {
		if (json_get_int(usage, names[i], &v) == 0 && v > 0)
			*sums[i] += (uint64_t)v;
	}
	if (cost > 0)
		h->usage.cost_usd += cost;
}

const struct host_usage *
host_usage(struct host *h)
{
	return (&h->usage);
}

/* The totals a session.json kept (after a restart). */
void
host_set_usage(struct host *h, const struct host_usage *u)
{
	h->usage = *u;
}

/* Emit turn.ended, completing open items first; takes usage. */
static int
host_turn_emit(
    struct host *h, const char *stop_reason, cJSON *usage, double cost)
{
	struct host_item *it;
	cJSON		 *data;

	if (!h->in_turn) {
		json_free(usage);
		return (0);
	}
	/* host_item_complete frees it, and its LIST_REMOVE moves lh_first
	 * on (through le_prev, which the analyzer cannot follow). */
	while ((it = LIST_FIRST(&h->items)) != NULL)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		host_item_complete(h, it->native_id, 0, NULL);
	host_unparsed_flush(h); /* what the turn could not translate, in it */
	data = json_object();
	json_set_str(data, "turn_id", h->turn_id);
	if (stop_reason != NULL)
		json_set_str(data, "stop_reason", stop_reason);
	host_count_usage(h, usage, cost);
	if (usage != NULL)
		json_set(data, "usage", usage);
	if (cost >= 0)
		json_set_num(data, "cost_usd", cost);
	host_emit(h, EVENT_TURN_ENDED, data, 0);
	h->in_turn = 0;
	journal_sync(h->journal);
	return (1);
}

/* The daemon closes the turn (the agent exited, stopped, restarted). */
void
host_turn_close(
    struct host *h, const char *stop_reason, cJSON *usage, double cost)
{
	if (host_turn_emit(h, stop_reason, usage, cost))
		h->cbs->turn(h->cbarg, HOST_TURN_CLOSED);
}

/* The agent ended its turn: the session may send the next message. */
void
host_turn_end(
    struct host *h, const char *stop_reason, cJSON *usage, double cost)
{
	(void)host_turn_emit(h, stop_reason, usage, cost);
	h->cbs->turn(h->cbarg, HOST_TURN_ENDED);
}

/* agentd died during a turn: close it in the log, truthfully. */
void
host_interrupted(struct host *h)
{
	h->in_turn = 1;
	snprintf(h->turn_id, sizeof h->turn_id, "turn_interrupted");
	host_error(h, "agentd restarted during this turn", "interrupted", NULL);
	host_turn_close(h, "interrupted", NULL, -1);
}

static struct host_pending *
host_pending_add(
    struct host *h, const char *native_id, const char *action, int question)
{
	struct host_pending *p;

	p = xcalloc(1, sizeof *p);
	snprintf(p->id, sizeof p->id, "%s_%llu", question ? "q" : "perm",
	    (unsigned long long)++h->npending);
	p->native_id = xstrdup(native_id);
	p->action = xstrdup(action != NULL ? action : "");
	p->question = question;
	LIST_INSERT_HEAD(&h->pending, p, entry);
	return (p);
}

static struct host_pending *
host_pending_find(struct host *h, const char *id, int question)
{
	struct host_pending *p;

	LIST_FOREACH(p, &h->pending, entry) {
		if (p->question == question && strcmp(p->id, id) == 0)
			return (p);
	}
	return (NULL);
}

void
host_permission_request(
    struct host *h, const char *native_id, const char *action, cJSON *metadata)
{
	struct host_pending *p;
	cJSON		    *data;

	p = host_pending_add(h, native_id, action, 0);
	data = json_object();
	json_set_str(data, "permission_id", p->id);
	json_set_str(data, "action", p->action);
	json_set_str(data, "status", "requested");
	json_set(data, "metadata", metadata != NULL ? metadata : json_object());
	host_emit(h, EVENT_PERMISSION_REQUESTED, data, 0);
	journal_sync(h->journal);
}

void
host_question_request(struct host *h, const char *native_id, cJSON *questions)
{
	struct host_pending *p;
	cJSON		    *data;

	p = host_pending_add(h, native_id, NULL, 1);
	data = json_object();
	json_set_str(data, "question_id", p->id);
	json_set(
	    data, "questions", questions != NULL ? questions : json_array());
	host_emit(h, EVENT_QUESTION_REQUESTED, data, 0);
	journal_sync(h->journal);
}

/* The adapter's native id of a pending request, or NULL. */
const char *
host_pending_native(struct host *h, const char *id, int question)
{
	struct host_pending *p;

	if ((p = host_pending_find(h, id, question)) == NULL)
		return (NULL);
	return (p->native_id);
}

static void
host_pending_emit(struct host *h, struct host_pending *p, const char *status,
    const cJSON *answers)
{
	cJSON *data;

	data = json_object();
	if (p->question) {
		json_set_str(data, "question_id", p->id);
		json_set_str(data, "status", status);
		if (answers != NULL)
			json_set(data, "answers", json_dup(answers));
		host_emit(h, EVENT_QUESTION_RESOLVED, data, 0);
	} else {
		json_set_str(data, "permission_id", p->id);
		json_set_str(data, "action", p->action);
		json_set_str(data, "status", status);
		host_emit(h, EVENT_PERMISSION_RESOLVED, data, 0);
	}
	host_pending_free(p);
}

/* Resolve a pending request with a status of DESIGN.md section 3. */
void
host_pending_resolve(struct host *h, const char *id, int question,
    const char *status, const cJSON *answers)
{
	struct host_pending *p;

	if ((p = host_pending_find(h, id, question)) != NULL)
		host_pending_emit(h, p, status, answers);
}

/*
 * Resolve every pending request as cancelled; tell (if not NULL) is
 * called first with each native id, for the session to tell the agent.
 */
void
host_pending_cancel(struct host *h, host_tell_cb tell, void *arg)
{
	struct host_pending *p;

	/* host_pending_emit frees p, and its LIST_REMOVE moves lh_first on
	 * (through le_prev, which the analyzer cannot follow); a loop on
	 * the first one, as tell and the event may change the list.
	 * NOLINTBEGIN(clang-analyzer-unix.Malloc) */
	while ((p = LIST_FIRST(&h->pending)) != NULL) {
		if (tell != NULL)
			tell(arg, p->native_id, p->question);
		host_pending_emit(h, p, "cancelled", NULL);
	}
	/* NOLINTEND(clang-analyzer-unix.Malloc) */
}

/* Append the ids of pending permissions and questions to two arrays. */
void
host_pending_ids(struct host *h, cJSON *perms, cJSON *questions)
{
	struct host_pending *p;

	LIST_FOREACH(p, &h->pending, entry)
		json_append(
		    p->question ? questions : perms, json_string(p->id));
}

void
host_error(
    struct host *h, const char *message, const char *code, cJSON *details)
{
	cJSON *data;

	data = json_object();
	json_set_str(data, "message", message);
	if (code != NULL)
		json_set_str(data, "code", code);
	if (details != NULL)
		json_set(data, "details", details);
	host_emit(h, EVENT_ERROR, data, 0);
}

/*
 * Tell one agent.unparsed: lines of bytes, what was wrong with the first,
 * and the first (cut) as raw, a JSON string whatever the line was.
 */
static void
host_unparsed_tell(struct host *h, const char *error, const char *location,
    uint64_t lines, uint64_t bytes, const char *line, size_t len, int cut)
{
	const char *raw = h->raw;
	size_t	    rawlen = h->rawlen;
	int	    unparsed = h->unparsed;
	char	   *quoted = NULL;
	cJSON	   *data;

	data = json_object();
	json_set_str(data, "error", error);
	json_set_str(data, "location", location);
	json_set_int(data, "lines", (long long)lines);
	json_set_int(data, "bytes", (long long)bytes);
	if (cut)
		json_set_bool(data, "raw_cut", 1);
	if (line != NULL) {
		quoted = host_raw_string(line, len, &h->rawlen);
		h->raw = quoted;
		h->unparsed = 0;
	}
	host_emit(h, EVENT_AGENT_UNPARSED, data, 0);
	h->raw = raw;
	h->rawlen = rawlen;
	h->unparsed = unparsed;
	free(quoted);
	h->bad_ms = loop_now_ms();
}

/* Tell what was counted since the last agent.unparsed, as one event. */
void
host_unparsed_flush(struct host *h)
{
	char msg[512];

	if (h->bad_timer != NULL)
		loop_timer_stop(h->bad_timer);
	if (h->bad_lines == 0)
		return;
	snprintf(msg, sizeof msg, "%llu line%s not translated (the first: %s)",
	    (unsigned long long)h->bad_lines, h->bad_lines == 1 ? "" : "s",
	    h->bad_error);
	host_unparsed_tell(h, msg, h->bad_location, h->bad_lines, h->bad_bytes,
	    h->bad_raw, h->bad_rawlen, h->bad_cut);
	host_unparsed_drop(h);
}

/* Forget what was counted (the session is deleted: nothing is written). */
void
host_unparsed_drop(struct host *h)
{
	if (h->bad_timer != NULL)
		loop_timer_stop(h->bad_timer);
	free(h->bad_raw);
	free(h->bad_error);
	free(h->bad_location);
	h->bad_raw = h->bad_error = h->bad_location = NULL;
	h->bad_rawlen = 0;
	h->bad_cut = 0;
	h->bad_lines = h->bad_bytes = 0;
}

static void
host_unparsed_cb(void *arg)
{
	host_unparsed_flush(arg);
}

/* The first HOST_UNPARSED_RAW bytes of a line, whole UTF-8 sequences. */
static size_t
host_unparsed_cut(const char *line, size_t len)
{
	size_t cut = len < HOST_UNPARSED_RAW ? len : HOST_UNPARSED_RAW;

	while (cut > 0 && cut < len && (line[cut] & 0xc0) == 0x80)
		cut--;
	return (cut);
}

/*
 * The line being handled (or none: an over-long line) cannot be
 * translated. Told at once if nothing was told in the last second, else
 * counted and told with the others within a second.
 */
void
host_unparsed(struct host *h, const char *error, const char *location)
{
	size_t len = h->raw != NULL ? h->rawlen : 0;
	size_t cut = host_unparsed_cut(h->raw, len);
	double wait;

	/* bytes counts the line's newline: what the agent wrote. */
	if (h->raw != NULL)
		h->unparsed = 1; /* the line's other events quote it too */
	if (h->bad_lines == 0 &&
	    (h->bad_ms == 0 || loop_now_ms() - h->bad_ms >= HOST_UNPARSED_MS)) {
		host_unparsed_tell(
		    h, error, location, 1, len + 1, h->raw, cut, cut < len);
		return;
	}
	if (h->bad_lines++ == 0) {
		h->bad_raw = h->raw != NULL ? xmemdup(h->raw, cut) : NULL;
		h->bad_rawlen = cut;
		h->bad_cut = cut < len;
		h->bad_error = xstrdup(error);
		h->bad_location = xstrdup(location);
		wait = (double)(h->bad_ms + HOST_UNPARSED_MS - loop_now_ms()) /
		    1000;
		if (h->bad_timer == NULL)
			h->bad_timer = loop_timer_new(host_unparsed_cb, h);
		loop_timer_set(h->bad_timer, wait > 0 ? wait : 0);
	}
	h->bad_bytes += len + 1;
}

/*
 * Is this line of stdout garbage, not JSON at all? Every protocol speaks
 * JSON objects, one a line, so a line that does not start with '{' and
 * end with '}' is; a short line is parsed too (short lines are where one
 * event a line would multiply the log the most). Garbage is counted as
 * unparsed here and never reaches the adapter: 1; else 0.
 */
int
host_garbage(struct host *h, const char *line, size_t len)
{
	const char *err;
	cJSON	   *v;
	size_t	    a = 0, b = len;

	while (a < b && strchr(" \t\r", line[a]) != NULL)
		a++;
	while (b > a && strchr(" \t\r", line[b - 1]) != NULL)
		b--;
	if (b - a >= 2 && line[a] == '{' && line[b - 1] == '}') {
		if (len >= HOST_JSON_CHECK)
			return (0);
		if ((v = json_parse(line, len, &err)) != NULL) {
			json_free(v);
			return (0);
		}
	}
	host_line_begin(h, line, len);
	host_unparsed(h, "not JSON", "stdout");
	host_line_end(h);
	return (1);
}
