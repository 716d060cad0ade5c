/*
 * event.c: the universal event schema (DESIGN.md section 3): names,
 * builders for items and content parts, serialization and validation.
 *
 * Serialization is the one place an event becomes text. The envelope is
 * written by hand in a fixed member order with "raw" always last, so the
 * same line serves both audiences: line[0..noraw_len) + "}" is the event
 * without raw, which is what clients get unless they ask for raw. The
 * validator is table-driven: one field list per data type and per content
 * part, so adding a member is one line, and every cause names the path of
 * the offending value ("data.item.content[1].call_id: missing").
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"

static const char *const event_type_names[EVENT_TYPE_COUNT + 1] = {
	[EVENT_SESSION_STARTED] = "session.started",
	[EVENT_SESSION_ENDED] = "session.ended",
	[EVENT_TURN_STARTED] = "turn.started",
	[EVENT_TURN_ENDED] = "turn.ended",
	[EVENT_ITEM_STARTED] = "item.started",
	[EVENT_ITEM_COMPLETED] = "item.completed",
	[EVENT_ITEM_DELTA] = "item.delta",
	[EVENT_PERMISSION_REQUESTED] = "permission.requested",
	[EVENT_PERMISSION_RESOLVED] = "permission.resolved",
	[EVENT_QUESTION_REQUESTED] = "question.requested",
	[EVENT_QUESTION_RESOLVED] = "question.resolved",
	[EVENT_ERROR] = "error",
	[EVENT_AGENT_UNPARSED] = "agent.unparsed",
	[EVENT_TYPE_COUNT] = NULL
};
static const char *const event_kind_names[ITEM_KIND_COUNT + 1] = {
	[ITEM_MESSAGE] = "message",
	[ITEM_TOOL_CALL] = "tool_call",
	[ITEM_TOOL_RESULT] = "tool_result",
	[ITEM_REASONING] = "reasoning",
	[ITEM_SYSTEM] = "system",
	[ITEM_STATUS] = "status",
	[ITEM_KIND_COUNT] = NULL
};
static const char *const event_role_names[ROLE_COUNT + 1] = { [ROLE_USER] =
								  "user",
	[ROLE_ASSISTANT] = "assistant",
	[ROLE_SYSTEM] = "system",
	[ROLE_TOOL] = "tool",
	[ROLE_COUNT] = NULL };
static const char *const event_status_names[ITEM_STATUS_COUNT + 1] = {
	[ITEM_IN_PROGRESS] = "in_progress",
	[ITEM_COMPLETED] = "completed",
	[ITEM_FAILED] = "failed",
	[ITEM_STATUS_COUNT] = NULL
};
/*
 * The permission reply table, by enum permission_reply: the word a client
 * sends, and the status permission.resolved records (the validator's list
 * of allowed statuses, hence NULL-terminated).
 */
static const char *const event_permission_words[PERMISSION_CANCELLED + 1] = {
	[PERMISSION_ONCE] = "once",
	[PERMISSION_ALWAYS] = "always",
	[PERMISSION_REJECT] = "reject",
	[PERMISSION_CANCELLED] = NULL
};
static const char *const event_perm_resolved[PERMISSION_CANCELLED + 2] = {
	[PERMISSION_ONCE] = "accept",
	[PERMISSION_ALWAYS] = "accept_for_session",
	[PERMISSION_REJECT] = "reject",
	[PERMISSION_CANCELLED] = "cancelled",
	[PERMISSION_CANCELLED + 1] = NULL
};

/* What an event's envelope adds to its strings, data and raw: < 300. */
#define EVENT_ENVELOPE_MAX 512

static const char *event_nonnull(const char *);
static cJSON	  *event_part(const char *);

/* Name of a type, kind, role or status; NULL when out of range. */
const char *
event_type_name(enum event_type t)
{
	if ((int)t < 0 || t >= EVENT_TYPE_COUNT)
		return (NULL);
	return (event_type_names[t]);
}

/* The type for a name, or -1. */
int
event_type_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return (-1);
	for (i = 0; i < EVENT_TYPE_COUNT; i++) {
		if (strcmp(event_type_names[i], name) == 0)
			return (i);
	}
	return (-1);
}

const char *
event_item_kind_name(enum item_kind k)
{
	if ((int)k < 0 || k >= ITEM_KIND_COUNT)
		return (NULL);
	return (event_kind_names[k]);
}

const char *
event_item_role_name(enum item_role r)
{
	if ((int)r < 0 || r >= ROLE_COUNT)
		return (NULL);
	return (event_role_names[r]);
}

const char *
event_item_status_name(enum item_status s)
{
	if ((int)s < 0 || s >= ITEM_STATUS_COUNT)
		return (NULL);
	return (event_status_names[s]);
}

/* The reply a client's word names; -1 for any other word (or NULL). */
int
event_permission_reply(const char *word, enum permission_reply *reply)
{
	int i;

	for (i = 0; word != NULL && i <= PERMISSION_CANCELLED; i++) {
		if (event_permission_words[i] != NULL &&
		    strcmp(event_permission_words[i], word) == 0) {
			*reply = (enum permission_reply)i;
			return (0);
		}
	}
	return (-1);
}

/* A reply's word ("once"), or NULL for cancelled and out of range. */
const char *
event_permission_word(enum permission_reply r)
{
	if ((int)r < 0 || r > PERMISSION_CANCELLED)
		return (NULL);
	return (event_permission_words[r]);
}

/* The status permission.resolved records for a reply ("accept"). */
const char *
event_permission_status(enum permission_reply r)
{
	if ((int)r < 0 || r > PERMISSION_CANCELLED)
		return (NULL);
	return (event_perm_resolved[r]);
}

/*
 * Format Unix milliseconds as RFC 3339 UTC: 2026-11-22T12:00:00.123Z.
 * Every event is stamped, and events come many a second: the date and
 * time of the last second formatted are kept, so only the milliseconds
 * are written per event (gmtime_r and snprintf were a tenth of an
 * event's cost).
 */
void
event_format_time(int64_t ms, char *buf, size_t size)
{
	static time_t last = (time_t)-1;
	static char   date[32]; /* "2026-11-22T12:00:00" of last */
	static size_t dlen;
	struct tm     tm;
	time_t	      secs;
	int	      msec, n;

	if (size == 0)
		return;
	secs = (time_t)(ms / 1000);
	msec = (int)(ms % 1000);
	if (msec < 0) {
		msec += 1000;
		secs--;
	}
	if (secs != last) {
		if (gmtime_r(&secs, &tm) == NULL)
			memset(&tm, 0, sizeof tm);
		n = snprintf(date, sizeof date, "%04d-%02d-%02dT%02d:%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		dlen = n > 0 && (size_t)n < sizeof date ? (size_t)n : 0;
		last = secs;
	}
	if (dlen + 6 > size) {
		(void)snprintf(buf, size, "%s.%03dZ", date, msec);
		return;
	}
	memcpy(buf, date, dlen);
	buf[dlen] = '.';
	buf[dlen + 1] = (char)('0' + msec / 100);
	buf[dlen + 2] = (char)('0' + msec / 10 % 10);
	buf[dlen + 3] = (char)('0' + msec % 10);
	buf[dlen + 4] = 'Z';
	buf[dlen + 5] = '\0';
}

/*
 * Append s as a JSON string: quotes, \" \\ and control escapes. With
 * cjson, \b and \f get their short escapes as cJSON prints them (else
 * \u0008 and \u000c), for data written without a tree that must read as
 * if json_print had made it.
 */
static void
event_quote(struct buf *b, const char *s, size_t len, int cjson)
{
	char	      esc[8];
	size_t	      run;
	unsigned char c;

	(void)buf_add(b, "\"", 1);
	for (;;) {
		run = json_scan_plain(s, len);
		(void)buf_add(b, s, run);
		if (run == len)
			break;
		c = (unsigned char)s[run];
		s += run + 1;
		len -= run + 1;
		switch (c) {
		case '"':
			(void)buf_add(b, "\\\"", 2);
			break;
		case '\\':
			(void)buf_add(b, "\\\\", 2);
			break;
		case '\n':
			(void)buf_add(b, "\\n", 2);
			break;
		case '\r':
			(void)buf_add(b, "\\r", 2);
			break;
		case '\t':
			(void)buf_add(b, "\\t", 2);
			break;
		case '\b':
		case '\f':
			if (cjson) {
				(void)buf_add(b, c == '\b' ? "\\b" : "\\f", 2);
				break;
			}
			/* FALLTHROUGH */
		default:
			(void)snprintf(esc, sizeof esc, "\\u%04x", c);
			(void)buf_add(b, esc, 6);
			break;
		}
	}
	(void)buf_add(b, "\"", 1);
}

/*
 * Append the data of an item.delta, {"item_id","native_item_id"?,
 * "delta"}, as json_print prints the tree with those members
 * (native_item_id left out when NULL). The delta is the most frequent
 * event: building and freeing a tree for three strings was a fifth of
 * its cost, and printing them to a buffer of their own and copying that
 * into the event was a tenth of what was left.
 */
static void
event_delta_print(
    struct buf *b, const struct event_delta *d, const size_t len[3])
{
	(void)buf_lit(b, "{\"item_id\":");
	event_quote(b, d->item_id, len[0], 1);
	if (d->native_id != NULL) {
		(void)buf_lit(b, ",\"native_item_id\":");
		event_quote(b, d->native_id, len[1], 1);
	}
	(void)buf_lit(b, ",\"delta\":");
	event_quote(b, d->text, len[2], 1);
	(void)buf_add(b, "}", 1);
}

/* Append n in decimal (snprintf was a tenth of an event's header). */
static void
event_u64(struct buf *b, uint64_t n)
{
	char  d[24];
	char *p = d + sizeof d;

	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	(void)buf_add(b, p, (size_t)(d + sizeof d - p));
}

/*
 * Serialize ev as one JSON object without a newline; malloc'd and
 * NUL-terminated, its length in *len. Members come in a fixed order with
 * raw last (ev->raw is inserted verbatim; rawlen 0 means strlen). *noraw_len
 * is the length of the prefix before ",\"raw\":" (or before the final "}"
 * when there is no raw), so that prefix + "}" is the event without raw.
 */
char *
event_serialize(const struct event *ev, size_t *len, size_t *noraw_len)
{
	const struct event_delta *d = ev->delta;
	const char		 *sid, *type;
	struct buf		  b;
	char			  tmp[128], *data = NULL; /* header: < 80 */
	size_t			  datalen = 0, rawlen = 0, strings, sidlen;
	size_t			  nsidlen = 0, dlen[3] = { 0, 0, 0 };

	if (ev->raw != NULL)
		rawlen = ev->rawlen != 0 ? ev->rawlen : strlen(ev->raw);
	if (ev->data != NULL)
		data = json_print(ev->data, &datalen);

	/* A string is at most six times longer escaped: the cap is exact. */
	sid = ev->session_id != NULL ? ev->session_id : "";
	sidlen = strlen(sid);
	if (ev->native_session_id != NULL)
		nsidlen = strlen(ev->native_session_id);
	strings = sidlen + nsidlen;
	if (ev->data == NULL && d != NULL) {
		dlen[0] = strlen(d->item_id);
		dlen[1] = d->native_id != NULL ? strlen(d->native_id) : 0;
		dlen[2] = d->textlen;
		datalen = dlen[0] + dlen[1] + dlen[2];
		strings += datalen;
	}
	buf_init(&b, EVENT_ENVELOPE_MAX + 6 * strings + datalen + rawlen);
	buf_reserve(&b, 256 + datalen + rawlen);

	(void)buf_lit(&b, "{\"event_id\":\"evt_");
	event_u64(&b, ev->sequence);
	(void)buf_lit(&b, "\",\"sequence\":");
	event_u64(&b, ev->sequence);
	(void)buf_lit(&b, ",\"time\":\"");
	event_format_time(ev->time_ms, tmp, sizeof tmp);
	(void)buf_str(&b, tmp);
	(void)buf_lit(&b, "\",\"session_id\":");
	event_quote(&b, sid, sidlen, 0);
	if (ev->native_session_id != NULL) {
		(void)buf_lit(&b, ",\"native_session_id\":");
		event_quote(&b, ev->native_session_id, nsidlen, 0);
	}
	if (ev->daemon)
		(void)buf_lit(&b, ",\"source\":\"daemon\"");
	else
		(void)buf_lit(&b, ",\"source\":\"agent\"");
	if (ev->synthetic)
		(void)buf_lit(&b, ",\"synthetic\":true");
	else
		(void)buf_lit(&b, ",\"synthetic\":false");
	(void)buf_lit(&b, ",\"type\":");
	type = event_type_name(ev->type);
	if (type == NULL)
		type = "unknown";
	event_quote(&b, type, strlen(type), 0);
	(void)buf_lit(&b, ",\"data\":");
	if (data != NULL)
		(void)buf_add(&b, data, datalen);
	else if (ev->data == NULL && d != NULL)
		event_delta_print(&b, d, dlen);
	else
		(void)buf_lit(&b, "{}");
	free(data);

	if (noraw_len != NULL)
		*noraw_len = b.len;
	if (ev->raw != NULL) {
		(void)buf_lit(&b, ",\"raw\":");
		(void)buf_add(&b, ev->raw, rawlen);
	}
	(void)buf_add(&b, "}", 1);
	return (buf_take(&b, len));
}

/* Builders. A required string given as NULL becomes "". */

static const char *
event_nonnull(const char *s)
{
	return (s != NULL ? s : "");
}

/*
 * An item object {item_id, native_item_id, parent_id?, kind, role, status,
 * content}; native_item_id is null when native_id is NULL. content (owned)
 * is moved in; NULL gives [].
 */
cJSON *
event_item(const char *item_id, const char *native_id, const char *parent_id,
    enum item_kind kind, enum item_role role, enum item_status status,
    cJSON *content)
{
	cJSON *o;

	o = json_object();
	json_set_str(o, "item_id", event_nonnull(item_id));
	if (native_id != NULL)
		json_set_str(o, "native_item_id", native_id);
	else
		json_set(o, "native_item_id", json_null());
	json_set_str(o, "parent_id", parent_id);
	json_set_str(o, "kind", event_item_kind_name(kind));
	json_set_str(o, "role", event_item_role_name(role));
	json_set_str(o, "status", event_item_status_name(status));
	json_set(o, "content", content != NULL ? content : json_array());
	return (o);
}

/* A part object with its "type" member first. */
static cJSON *
event_part(const char *type)
{
	cJSON *o;

	o = json_object();
	json_set_str(o, "type", type);
	return (o);
}

cJSON *
event_part_text(const char *text)
{
	cJSON *o;

	o = event_part("text");
	json_set_str(o, "text", event_nonnull(text));
	return (o);
}

/* visibility NULL means "public". */
cJSON *
event_part_reasoning(const char *text, const char *visibility)
{
	cJSON *o;

	o = event_part("reasoning");
	json_set_str(o, "text", event_nonnull(text));
	json_set_str(
	    o, "visibility", visibility != NULL ? visibility : "public");
	return (o);
}

/* arguments is JSON text (a string member, not an object); NULL is "{}". */
cJSON *
event_part_tool_call(
    const char *name, const char *arguments, const char *call_id)
{
	cJSON *o;

	o = event_part("tool_call");
	json_set_str(o, "name", event_nonnull(name));
	json_set_str(o, "arguments", arguments != NULL ? arguments : "{}");
	json_set_str(o, "call_id", event_nonnull(call_id));
	return (o);
}

cJSON *
event_part_tool_result(const char *call_id, const char *output, int is_error)
{
	cJSON *o;

	o = event_part("tool_result");
	json_set_str(o, "call_id", event_nonnull(call_id));
	json_set_str(o, "output", event_nonnull(output));
	json_set_bool(o, "is_error", is_error);
	return (o);
}

/* action is "read", "write" or "patch"; diff is omitted when NULL. */
cJSON *
event_part_file_ref(const char *path, const char *action, const char *diff)
{
	cJSON *o;

	o = event_part("file_ref");
	json_set_str(o, "path", event_nonnull(path));
	json_set_str(o, "action", event_nonnull(action));
	json_set_str(o, "diff", diff);
	return (o);
}

/* path and data are each omitted when NULL. */
cJSON *
event_part_image(const char *path, const char *data, const char *mime)
{
	cJSON *o;

	o = event_part("image");
	json_set_str(o, "path", path);
	json_set_str(o, "data", data);
	json_set_str(o, "mime", event_nonnull(mime));
	return (o);
}

/* json (owned) is moved in; NULL gives null. */
cJSON *
event_part_json(cJSON *json)
{
	cJSON *o;

	o = event_part("json");
	json_set(o, "json", json != NULL ? json : json_null());
	return (o);
}

cJSON *
event_part_status(const char *label, const char *detail)
{
	cJSON *o;

	o = event_part("status");
	json_set_str(o, "label", event_nonnull(label));
	json_set_str(o, "detail", detail);
	return (o);
}

/*
 * Validation. Each field spec names a member, its JSON type, whether it
 * may be absent (EF_OPT: absent or null both pass), the allowed string
 * values, the member list of a nested object (or of each element of an
 * array of objects), and an extra check on the value.
 */
enum event_ftype {
	EF_ANY,
	EF_STR,
	EF_INT,
	EF_NUM,
	EF_BOOL,
	EF_OBJ,
	EF_ARR
};
#define EF_OPT 0x1

struct event_field {
	const char		 *key;
	enum event_ftype	  type;
	int			  flags;
	const char *const	 *values;
	const struct event_field *sub;
	int (*check)(const cJSON *, const char *, char **);
};

static int event_is_int(const cJSON *);
static int event_fail(char **, const char *, const char *);
static int event_check_fields(
    const cJSON *, const char *, const struct event_field *, char **);
static int event_check_field(
    const cJSON *, const char *, const struct event_field *, char **);
static int event_check_elements(
    const cJSON *, const char *, const struct event_field *, char **);
static int event_check_type(
    const cJSON *, const char *, const struct event_field *, char **);
static int event_check_sequence(const cJSON *, const char *, char **);
static int event_check_time(const cJSON *, const char *, char **);
static int event_check_count(const cJSON *, const char *, char **);
static int event_check_code(const cJSON *, const char *, char **);
static int event_check_content(const cJSON *, const char *, char **);

static const char *const event_sources[] = { "agent", "daemon", NULL };
static const char *const event_reasons[] = { "completed", "error", "terminated",
	NULL };
static const char *const event_enders[] = { "agent", "daemon", NULL };
static const char *const event_perm_requested[] = { "requested", NULL };
static const char *const event_question_resolved[] = { "answered", "rejected",
	"cancelled", NULL };
static const char *const event_file_actions[] = { "read", "write", "patch",
	NULL };
static const char *const event_visibilities[] = { "public", "private", NULL };

static const struct event_field event_f_envelope[] = { { "event_id", EF_STR, 0,
							   NULL, NULL, NULL },
	{ "sequence", EF_INT, 0, NULL, NULL, event_check_sequence },
	{ "time", EF_STR, 0, NULL, NULL, event_check_time },
	{ "session_id", EF_STR, 0, NULL, NULL, NULL },
	{ "native_session_id", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "source", EF_STR, 0, event_sources, NULL, NULL },
	{ "synthetic", EF_BOOL, 0, NULL, NULL, NULL },
	{ "type", EF_STR, 0, event_type_names, NULL, NULL },
	{ "data", EF_OBJ, 0, NULL, NULL, NULL },
	{ "raw", EF_ANY, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };

static const struct event_field event_f_metadata[] = { { "agent", EF_STR, 0,
							   NULL, NULL, NULL },
	{ "agentVersion", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "model", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "permissionMode", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "cwd", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_session_started[] = {
	{ "metadata", EF_OBJ, 0, NULL, event_f_metadata, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct event_field event_f_stderr[] = { { "head", EF_STR, 0, NULL,
							 NULL, NULL },
	{ "tail", EF_STR, 0, NULL, NULL, NULL },
	{ "truncated", EF_BOOL, 0, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_session_ended[] = {
	{ "reason", EF_STR, 0, event_reasons, NULL, NULL },
	{ "terminated_by", EF_STR, 0, event_enders, NULL, NULL },
	{ "message", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "exit_code", EF_INT, EF_OPT, NULL, NULL, NULL },
	{ "stderr", EF_OBJ, EF_OPT, NULL, event_f_stderr, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct event_field event_f_usage[] = {
	{ "input_tokens", EF_INT, EF_OPT, NULL, NULL, event_check_count },
	{ "output_tokens", EF_INT, EF_OPT, NULL, NULL, event_check_count },
	{ "cache_read_tokens", EF_INT, EF_OPT, NULL, NULL, event_check_count },
	{ "cache_write_tokens", EF_INT, EF_OPT, NULL, NULL, event_check_count },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct event_field event_f_turn[] = { { "turn_id", EF_STR, 0, NULL,
						       NULL, NULL },
	{ "stop_reason", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "usage", EF_OBJ, EF_OPT, NULL, event_f_usage, NULL },
	{ "cost_usd", EF_NUM, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };

static const struct event_field event_f_item[] = { { "item_id", EF_STR, 0, NULL,
						       NULL, NULL },
	{ "native_item_id", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "parent_id", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "kind", EF_STR, 0, event_kind_names, NULL, NULL },
	{ "role", EF_STR, 0, event_role_names, NULL, NULL },
	{ "status", EF_STR, 0, event_status_names, NULL, NULL },
	{ "content", EF_ARR, 0, NULL, NULL, event_check_content },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_item_event[] = {
	{ "item", EF_OBJ, 0, NULL, event_f_item, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct event_field event_f_delta[] = { { "item_id", EF_STR, 0,
							NULL, NULL, NULL },
	{ "native_item_id", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "delta", EF_STR, 0, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };

static const struct event_field event_f_perm_metadata[] = {
	{ "tool_name", EF_STR, 0, NULL, NULL, NULL },
	{ "input", EF_ANY, 0, NULL, NULL, NULL },
	{ "call_id", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct event_field event_f_perm_requested[] = {
	{ "permission_id", EF_STR, 0, NULL, NULL, NULL },
	{ "action", EF_STR, 0, NULL, NULL, NULL },
	{ "status", EF_STR, 0, event_perm_requested, NULL, NULL },
	{ "metadata", EF_OBJ, 0, NULL, event_f_perm_metadata, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct event_field event_f_perm_resolved[] = {
	{ "permission_id", EF_STR, 0, NULL, NULL, NULL },
	{ "action", EF_STR, 0, NULL, NULL, NULL },
	{ "status", EF_STR, 0, event_perm_resolved, NULL, NULL },
	{ "metadata", EF_OBJ, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct event_field event_f_option[] = { { "label", EF_STR, 0, NULL,
							 NULL, NULL },
	{ "description", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_question[] = { { "question", EF_STR, 0,
							   NULL, NULL, NULL },
	{ "header", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "multi_select", EF_BOOL, 0, NULL, NULL, NULL },
	{ "options", EF_ARR, 0, NULL, event_f_option, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_question_requested[] = {
	{ "question_id", EF_STR, 0, NULL, NULL, NULL },
	{ "questions", EF_ARR, 0, NULL, event_f_question, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct event_field event_f_question_resolved[] = {
	{ "question_id", EF_STR, 0, NULL, NULL, NULL },
	{ "status", EF_STR, 0, event_question_resolved, NULL, NULL },
	{ "answers", EF_ANY, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct event_field event_f_error[] = { { "message", EF_STR, 0,
							NULL, NULL, NULL },
	{ "code", EF_ANY, EF_OPT, NULL, NULL, event_check_code },
	{ "details", EF_ANY, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_unparsed[] = { { "error", EF_STR, 0,
							   NULL, NULL, NULL },
	{ "location", EF_STR, 0, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };

static const struct event_field *const event_f_data[EVENT_TYPE_COUNT] = {
	[EVENT_SESSION_STARTED] = event_f_session_started,
	[EVENT_SESSION_ENDED] = event_f_session_ended,
	[EVENT_TURN_STARTED] = event_f_turn,
	[EVENT_TURN_ENDED] = event_f_turn,
	[EVENT_ITEM_STARTED] = event_f_item_event,
	[EVENT_ITEM_COMPLETED] = event_f_item_event,
	[EVENT_ITEM_DELTA] = event_f_delta,
	[EVENT_PERMISSION_REQUESTED] = event_f_perm_requested,
	[EVENT_PERMISSION_RESOLVED] = event_f_perm_resolved,
	[EVENT_QUESTION_REQUESTED] = event_f_question_requested,
	[EVENT_QUESTION_RESOLVED] = event_f_question_resolved,
	[EVENT_ERROR] = event_f_error,
	[EVENT_AGENT_UNPARSED] = event_f_unparsed
};

/* Content parts by type; each list leaves out "type" itself. */
static const struct event_field event_f_text[] = { { "text", EF_STR, 0, NULL,
						       NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_reasoning[] = { { "text", EF_STR, 0,
							    NULL, NULL, NULL },
	{ "visibility", EF_STR, 0, event_visibilities, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_tool_call[] = { { "name", EF_STR, 0,
							    NULL, NULL, NULL },
	{ "arguments", EF_STR, 0, NULL, NULL, NULL },
	{ "call_id", EF_STR, 0, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_tool_result[] = {
	{ "call_id", EF_STR, 0, NULL, NULL, NULL },
	{ "output", EF_STR, 0, NULL, NULL, NULL },
	{ "is_error", EF_BOOL, 0, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL }
};
static const struct event_field event_f_file_ref[] = { { "path", EF_STR, 0,
							   NULL, NULL, NULL },
	{ "action", EF_STR, 0, event_file_actions, NULL, NULL },
	{ "diff", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_image[] = { { "path", EF_STR, EF_OPT,
							NULL, NULL, NULL },
	{ "data", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ "mime", EF_STR, 0, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_json[] = { { "json", EF_ANY, 0, NULL,
						       NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };
static const struct event_field event_f_status[] = { { "label", EF_STR, 0, NULL,
							 NULL, NULL },
	{ "detail", EF_STR, EF_OPT, NULL, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL } };

static const struct {
	const char		 *type;
	const struct event_field *fields;
} event_parts[] = { { "text", event_f_text },
	{ "reasoning", event_f_reasoning }, { "tool_call", event_f_tool_call },
	{ "tool_result", event_f_tool_result },
	{ "file_ref", event_f_file_ref }, { "image", event_f_image },
	{ "json", event_f_json }, { "status", event_f_status } };

/* Set *cause (if cause is not NULL) to "path: why"; return -1. */
static int
event_fail(char **cause, const char *path, const char *why)
{
	if (cause != NULL)
		xasprintf(cause, "%s: %s", path, why);
	return (-1);
}

/* Check every field of list fields in object o, at path. */
static int
event_check_fields(const cJSON *o, const char *path,
    const struct event_field *fields, char **cause)
{
	const struct event_field *f;

	for (f = fields; f->key != NULL; f++) {
		if (event_check_field(o, path, f, cause) != 0)
			return (-1);
	}
	return (0);
}

/* An integral number within +-2^53, as json_get_int accepts. */
static int
event_is_int(const cJSON *v)
{
	double d;

	if (!json_is_num(v))
		return (0);
	d = json_num(v);
	return (isfinite(d) && d == floor(d) && fabs(d) <= 9007199254740992.0);
}

/* Check the JSON type and allowed values of v, the value at path. */
static int
event_check_type(
    const cJSON *v, const char *path, const struct event_field *f, char **cause)
{
	const char *const *s;
	const char	  *str;
	char		  *why;

	switch (f->type) {
	case EF_ANY:
		break;
	case EF_STR:
		if ((str = json_str(v)) == NULL)
			return (event_fail(cause, path, "not a string"));
		if (f->values == NULL)
			break;
		for (s = f->values; *s != NULL; s++) {
			if (strcmp(*s, str) == 0)
				break;
		}
		if (*s != NULL)
			break;
		if (cause != NULL) {
			xasprintf(&why, "unknown value \"%s\"", str);
			event_fail(cause, path, why);
			free(why);
		}
		return (-1);
	case EF_INT:
		if (!event_is_int(v))
			return (event_fail(cause, path, "not an integer"));
		break;
	case EF_NUM:
		if (!json_is_num(v))
			return (event_fail(cause, path, "not a number"));
		break;
	case EF_BOOL:
		if (!json_is_bool(v))
			return (event_fail(cause, path, "not a boolean"));
		break;
	case EF_OBJ:
		if (!json_is_obj(v))
			return (event_fail(cause, path, "not an object"));
		if (f->sub != NULL)
			return (event_check_fields(v, path, f->sub, cause));
		break;
	case EF_ARR:
		if (!json_is_arr(v))
			return (event_fail(cause, path, "not an array"));
		if (f->sub != NULL)
			return (event_check_elements(v, path, f->sub, cause));
		break;
	}
	return (0);
}

/* Check member f->key of o (at path) against its spec. */
static int
event_check_field(
    const cJSON *o, const char *path, const struct event_field *f, char **cause)
{
	const cJSON *v;
	char	    *vpath;
	int	     r;

	if (*path != '\0')
		xasprintf(&vpath, "%s.%s", path, f->key);
	else
		vpath = xstrdup(f->key);
	v = json_get(o, f->key);
	if (v == NULL || (json_is_null(v) && (f->flags & EF_OPT))) {
		r = (f->flags & EF_OPT) ? 0
					: event_fail(cause, vpath, "missing");
		free(vpath);
		return (r);
	}
	r = event_check_type(v, vpath, f, cause);
	if (r == 0 && f->check != NULL)
		r = f->check(v, vpath, cause);
	free(vpath);
	return (r);
}

/* Check each element of array a (at path) as an object with fields. */
static int
event_check_elements(const cJSON *a, const char *path,
    const struct event_field *fields, char **cause)
{
	const cJSON *el;
	char	    *epath;
	int	     i = 0, r = 0;

	JSON_FOREACH(el, a) {
		xasprintf(&epath, "%s[%d]", path, i++);
		if (!json_is_obj(el))
			r = event_fail(cause, epath, "not an object");
		else
			r = event_check_fields(el, epath, fields, cause);
		free(epath);
		if (r != 0)
			return (-1);
	}
	return (0);
}

static int
event_check_sequence(const cJSON *v, const char *path, char **cause)
{
	if (json_num(v) < 1)
		return (event_fail(cause, path, "less than 1"));
	return (0);
}

static int
event_check_count(const cJSON *v, const char *path, char **cause)
{
	if (json_num(v) < 0)
		return (event_fail(cause, path, "negative"));
	return (0);
}

/* Our own time format exactly: YYYY-MM-DDTHH:MM:SS.mmmZ. */
static int
event_check_time(const cJSON *v, const char *path, char **cause)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	const char	 *s = json_str(v);
	size_t		  i;

	if (strlen(s) != sizeof shape - 1)
		return (event_fail(cause, path, "not RFC 3339 UTC with ms"));
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9')
				    : s[i] != shape[i])
			return (event_fail(
			    cause, path, "not RFC 3339 UTC with ms"));
	}
	return (0);
}

/* An error code is a string or a number. */
static int
event_check_code(const cJSON *v, const char *path, char **cause)
{
	if (!json_is_str(v) && !json_is_num(v))
		return (event_fail(cause, path, "not a string or a number"));
	return (0);
}

/* Check each content part by its "type". */
static int
event_check_content(const cJSON *a, const char *path, char **cause)
{
	static const struct event_field typef = { "type", EF_STR, 0, NULL, NULL,
		NULL };
	const cJSON		       *el;
	const char		       *type;
	char			       *epath, *why;
	size_t				k;
	int				i = 0, r;

	JSON_FOREACH(el, a) {
		xasprintf(&epath, "%s[%d]", path, i++);
		r = -1;
		if (!json_is_obj(el))
			event_fail(cause, epath, "not an object");
		else if (event_check_field(el, epath, &typef, cause) == 0) {
			type = json_get_str(el, "type");
			for (k = 0; k < nitems(event_parts); k++) {
				if (strcmp(event_parts[k].type, type) == 0)
					break;
			}
			if (k < nitems(event_parts))
				r = event_check_fields(
				    el, epath, event_parts[k].fields, cause);
			else if (cause != NULL) {
				xasprintf(&why, "%s.type", epath);
				free(epath);
				xasprintf(&epath, "unknown value \"%s\"", type);
				event_fail(cause, why, epath);
				free(why);
			}
		}
		free(epath);
		if (r != 0)
			return (-1);
	}
	return (0);
}

/*
 * Check an event object against the schema: the envelope, event_id ==
 * "evt_" + sequence, and the data of its type. Return 0, or -1 with
 * *cause (if cause is not NULL) a malloc'd message naming the path.
 */
int
event_validate(const cJSON *ev, char **cause)
{
	const cJSON *data, *item;
	char	     id[32];
	long long    seq;
	int	     type;

	if (!json_is_obj(ev))
		return (event_fail(cause, "event", "not an object"));
	if (event_check_fields(ev, "", event_f_envelope, cause) != 0)
		return (-1);
	(void)json_get_int(ev, "sequence", &seq);
	(void)snprintf(id, sizeof id, "evt_%lld", seq);
	if (strcmp(json_get_str(ev, "event_id"), id) != 0)
		return (
		    event_fail(cause, "event_id", "does not match sequence"));
	type = event_type_from_name(json_get_str(ev, "type"));
	data = json_get(ev, "data");
	if (event_check_fields(data, "data", event_f_data[type], cause) != 0)
		return (-1);
	if (type == EVENT_ITEM_COMPLETED) {
		item = json_get(data, "item");
		if (strcmp(json_get_str(item, "status"), "in_progress") == 0)
			return (event_fail(cause, "data.item.status",
			    "in_progress in item.completed"));
	}
	return (0);
}

struct event_scan_state {
	const char *s;
	int	    type;
	size_t	    noraw;
};

static int
event_scan_cb(
    void *arg, const char *key, size_t klen, size_t off, size_t len, size_t sep)
{
	struct event_scan_state *e = arg;
	char			 name[32];

	if (klen == 5 && memcmp(key, "\"raw\"", 5) == 0)
		e->noraw = sep;
	else if (klen == 6 && memcmp(key, "\"type\"", 6) == 0 && len >= 2 &&
	    len - 2 < sizeof name && e->s[off] == '"') {
		memcpy(name, e->s + off + 1, len - 2);
		name[len - 2] = '\0';
		e->type = event_type_from_name(name);
	}
	return (0);
}

/*
 * Scan a serialised event. *noraw is the length of the prefix that ends
 * before the "raw" member (the comma included), so that the prefix plus
 * "}" is the event without raw; without raw it is all but the closing
 * brace. Returns -1 if the line is not an object with a known "type".
 */
int
event_scan(const char *s, size_t len, enum event_type *type, size_t *noraw)
{
	struct event_scan_state e;

	while (len > 0 &&
	    (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	e.s = s;
	e.type = -1;
	e.noraw = len - 1;
	if (json_scan_members(s, len, event_scan_cb, &e) != 0 || e.type < 0)
		return (-1);
	*type = (enum event_type)e.type;
	*noraw = e.noraw;
	return (0);
}

/* A turn's usage, the universal way: the four token counts. */
cJSON *
event_usage(long long input, long long output, long long cache_read,
    long long cache_write)
{
	cJSON *o;

	o = json_object();
	json_set_int(o, "input_tokens", input);
	json_set_int(o, "output_tokens", output);
	json_set_int(o, "cache_read_tokens", cache_read);
	json_set_int(o, "cache_write_tokens", cache_write);
	return (o);
}

/*
 * A native usage object as universal usage: names are the native members
 * for input, output, cache read and cache write, in that order; a missing
 * one counts 0. NULL if there is no object.
 */
cJSON *
event_usage_from(const cJSON *native, const char *const names[4])
{
	long long n[4];
	int	  i;

	if (!json_is_obj(native))
		return (NULL);
	for (i = 0; i < 4; i++) {
		if (json_get_int(native, names[i], &n[i]) != 0)
			n[i] = 0;
	}
	return (event_usage(n[0], n[1], n[2], n[3]));
}
