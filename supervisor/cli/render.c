/*
 * render.c: universal events as a person reads them in a terminal, and
 * lines typed back. Shared by agentd run and agentd attach.
 *
 * The renderer is a function of the events it is fed and a small state
 * (the item whose text streams, the tool calls still running, the
 * permissions and questions waiting for an answer); everything it says
 * goes through one write callback (fd 1 or 2), so a test can feed it
 * recorded events and compare the text. It never reads and never blocks.
 *
 *	text		streamed as it arrives
 *	reasoning	dim ("thinking: " first when there is no colour)
 *	tool call	one line, "⠋ Bash  echo hi" with a spinner on a tty
 *			(render_tick redraws it), then "✓ …" or "✗ …" when
 *			its result comes, then a few lines of output, dim
 *	file_ref	its diff, + lines green, - lines red
 *	turn end	"— 12 in / 10 out tokens · $0.0001 · 0.4s", dim
 *	error		red, on stderr
 *
 * With RENDER_ASK, permission and question requests are kept until they
 * are resolved; render_prompt shows the first one's prompt and
 * render_answer turns a typed line into the WebSocket command that answers
 * it ({"type":"permission.reply",…}), which run.c hands to the session and
 * attach.c sends as it is.
 *
 * render_input is the other direction: lines from a descriptor (the
 * terminal, or a pipe) through the loop, never blocking it.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define RENDER_PREVIEW_LINES 3 /* of a tool's output */
#define RENDER_DIFF_LINES    40
#define RENDER_INPUT_MAX     (1024 * 1024)

#define RENDER_DIM    "2"
#define RENDER_BOLD   "1"
#define RENDER_RED    "31"
#define RENDER_GREEN  "32"
#define RENDER_YELLOW "33"
#define RENDER_CYAN   "36"

static const char *const render_frames[] = { "⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦",
	"⠧", "⠇", "⠏" };

/* A tool call waiting for its result. */
struct render_tool {
	char *call_id;
	char *line; /* "name  summary" */
	char *diff; /* from the call's own content */
	TAILQ_ENTRY(render_tool) entry;
};

/* A permission or question waiting for an answer. */
struct render_ask {
	int    question;
	char  *id;
	char  *prompt; /* permission: what is asked */
	cJSON *questions;
	int    index; /* the question being asked */
	cJSON *answers;
	int    listed;	 /* its options were printed */
	int    answered; /* here; resolved still to come */
	TAILQ_ENTRY(render_ask) entry;
};

struct render {
	int		flags;
	int		width;
	render_write_cb write;
	void	       *arg;

	int	     col;	/* stdout is mid-line */
	int	     status;	/* the spinner line is drawn */
	int	     prompting; /* a prompt waits on screen */
	unsigned int frame;
	char	    *item;	   /* the item whose text streams */
	char	    *reasoning[8]; /* reasoning items streaming */
	int64_t	     turn_ms;	   /* its turn.started time */
	TAILQ_HEAD(, render_tool) tools;
	TAILQ_HEAD(, render_ask) asks;
};

struct render_input {
	int		fd;
	struct loop_io *io;
	render_line_cb	line;
	void (*eof)(void *);
	void  *arg;
	char  *buf;
	size_t len;
};

static void render_tool_done(
    struct render *, struct render_tool *, const char *, const cJSON *);

struct render *
render_new(int flags, int width, render_write_cb write, void *arg)
{
	struct render *r;

	r = xcalloc(1, sizeof *r);
	r->flags = flags;
	r->width = width < 20 ? 20 : width;
	r->write = write;
	r->arg = arg;
	TAILQ_INIT(&r->tools);
	TAILQ_INIT(&r->asks);
	return (r);
}

static void
render_tool_free(struct render *r, struct render_tool *t)
{
	TAILQ_REMOVE(&r->tools, t, entry);
	free(t->call_id);
	free(t->line);
	free(t->diff);
	free(t);
}

static void
render_ask_free(struct render *r, struct render_ask *a)
{
	TAILQ_REMOVE(&r->asks, a, entry);
	free(a->id);
	free(a->prompt);
	json_free(a->questions);
	json_free(a->answers);
	free(a);
}

void
render_free(struct render *r)
{
	size_t i;

	if (r == NULL)
		return;
	while (!TAILQ_EMPTY(&r->tools))
		render_tool_free(r, TAILQ_FIRST(&r->tools));
	while (!TAILQ_EMPTY(&r->asks))
		render_ask_free(r, TAILQ_FIRST(&r->asks));
	for (i = 0; i < nitems(r->reasoning); i++)
		free(r->reasoning[i]);
	free(r->item);
	free(r);
}

/* Raw output; tracks whether stdout is mid-line. */
static void
render_put(struct render *r, int fd, const char *s, size_t len)
{
	if (len == 0)
		return;
	r->write(r->arg, fd, s, len);
	if (fd == STDOUT_FILENO)
		r->col = s[len - 1] != '\n';
}

static void
render_puts(struct render *r, int fd, const char *s)
{
	render_put(r, fd, s, strlen(s));
}

/* An SGR attribute on, or off with NULL; nothing without colour. */
static void
render_sgr(struct render *r, int fd, const char *code)
{
	char buf[16];

	if (~r->flags & RENDER_COLOR)
		return;
	snprintf(buf, sizeof buf, "\033[%sm", code != NULL ? code : "0");
	r->write(r->arg, fd, buf, strlen(buf));
}

static void
render_vprintf(struct render *r, int fd, const char *fmt, va_list ap)
{
	char *s;
	int   n;

	if ((n = vasprintf(&s, fmt, ap)) == -1)
		fatalx("vasprintf failed");
	render_put(r, fd, s, (size_t)n);
	free(s);
}

static void
render_printf(struct render *, int, const char *, ...) __printflike(3, 4);

static void
render_printf(struct render *r, int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	render_vprintf(r, fd, fmt, ap);
	va_end(ap);
}

/*
 * About to print: take the spinner line away, and leave a prompt that was
 * on screen (render_prompt shows it again afterwards).
 */
static void
render_begin(struct render *r)
{
	if (r->status) {
		r->write(r->arg, STDOUT_FILENO, "\r\033[K", 4);
		r->status = 0;
	}
	if (r->prompting) {
		render_puts(r, STDOUT_FILENO, "\n");
		r->prompting = 0;
	}
}

/* Start a fresh line on stdout. */
static void
render_newline(struct render *r)
{
	render_begin(r);
	if (r->col)
		render_puts(r, STDOUT_FILENO, "\n");
	free(r->item);
	r->item = NULL;
}

/* Copy at most cols characters of s (UTF-8), with "…" if cut. */
static char *
render_cut(const char *s, int cols)
{
	const char *p;
	char	   *out;
	int	    n = 0;

	for (p = s; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		if (n++ == cols - 1) {
			/* One column left: is this the last character? */
			const char *q = p + 1;

			while ((*q & 0xc0) == 0x80)
				q++;
			if (*q == '\0')
				break;
			xasprintf(&out, "%.*s…", (int)(p - s), s);
			return (out);
		}
	}
	return (xstrdup(s));
}

/* Text on one line: every run of white space becomes one space. */
static char *
render_flatten(const char *s)
{
	char *out, *o;
	int   space = 0;

	o = out = xmalloc(strlen(s) + 1);
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			space = 1;
			continue;
		}
		if (space)
			*o++ = ' ';
		space = 0;
		*o++ = *s;
	}
	*o = '\0';
	return (out);
}

/* The argument that says what a tool call does: its command, path, … */
static char *
render_summary(const cJSON *args)
{
	static const char *const keys[] = { "command", "cmd", "file_path",
		"filePath", "path", "pattern", "url", "query", "description",
		"prompt" };
	const cJSON		*v, *e;
	char			*s, *t;
	size_t			 i, len;

	if (args == NULL || !json_is_obj(args))
		return (xstrdup(""));
	for (i = 0; i < nitems(keys); i++) {
		v = json_get(args, keys[i]);
		if (json_is_str(v))
			return (render_flatten(json_str(v)));
		if (json_is_arr(v) && json_size(v) > 0) {
			s = xstrdup("");
			JSON_FOREACH(e, v) {
				if (!json_is_str(e))
					continue;
				len = strlen(s);
				xasprintf(&t, "%s%s%s", s, len ? " " : "",
				    json_str(e));
				free(s);
				s = t;
			}
			t = render_flatten(s);
			free(s);
			return (t);
		}
	}
	if (json_size(args) == 0)
		return (xstrdup(""));
	s = json_print(args, NULL);
	t = render_flatten(s);
	free(s);
	return (t);
}

/* "name  summary", the summary left out where the name already says it. */
static char *
render_tool_line(const char *name, const char *arguments)
{
	const char *err;
	cJSON	   *args;
	char	   *sum, *line;

	args = arguments != NULL
	    ? json_parse(arguments, strlen(arguments), &err)
	    : NULL;
	sum = render_summary(args);
	json_free(args);
	if (name == NULL || *name == '\0')
		name = "tool";
	if (*sum == '\0' || strstr(name, sum) != NULL)
		line = xstrdup(name);
	else
		xasprintf(&line, "%s  %s", name, sum);
	free(sum);
	return (line);
}

/* The first content part of this type, or NULL. */
static const cJSON *
render_part(const cJSON *item, const char *type)
{
	const cJSON *part;
	const char  *t;

	JSON_FOREACH(part, json_get_arr(item, "content")) {
		t = json_get_str(part, "type");
		if (t != NULL && strcmp(t, type) == 0)
			return (part);
	}
	return (NULL);
}

static struct render_tool *
render_tool_find(struct render *r, const char *call_id)
{
	struct render_tool *t;

	if (call_id == NULL)
		return (NULL);
	TAILQ_FOREACH(t, &r->tools, entry) {
		if (strcmp(t->call_id, call_id) == 0)
			return (t);
	}
	return (NULL);
}

/* The spinner line: the latest running tool, on a tty, at a line start. */
static void
render_status(struct render *r)
{
	struct render_tool *t, *last = NULL;
	char		   *line, *cut;
	int		    n = 0;

	if ((~r->flags & RENDER_TTY) || r->col || r->status || r->prompting ||
	    TAILQ_EMPTY(&r->tools))
		return;
	TAILQ_FOREACH(t, &r->tools, entry) {
		last = t;
		n++;
	}
	t = last;
	cut = render_cut(t->line, r->width - 10);
	if (n > 1)
		xasprintf(&line, "%s %s (+%d)",
		    render_frames[r->frame % nitems(render_frames)], cut,
		    n - 1);
	else
		xasprintf(&line, "%s %s",
		    render_frames[r->frame % nitems(render_frames)], cut);
	r->write(r->arg, STDOUT_FILENO, "\r\033[K", 4);
	render_sgr(r, STDOUT_FILENO, RENDER_CYAN);
	r->write(r->arg, STDOUT_FILENO, line, strlen(line));
	render_sgr(r, STDOUT_FILENO, NULL);
	r->status = 1;
	free(cut);
	free(line);
}

/* The spinner's next frame (a timer calls this on a tty). */
void
render_tick(struct render *r)
{
	if (!r->status)
		return;
	r->frame++;
	r->status = 0;
	render_status(r);
}

int
render_spinning(struct render *r)
{
	return ((r->flags & RENDER_TTY) && !TAILQ_EMPTY(&r->tools));
}

/* Some lines of text, indented, each cut to the width, at most max. */
static void
render_lines(struct render *r, const char *text, int max, int diff)
{
	const char *p, *nl, *colour;
	char	   *line, *cut;
	int	    n = 0, total = 0;

	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		total++;
	}
	for (p = text; *p != '\0' && n < max; p = nl + 1, n++) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		line = xstrndup(p, (size_t)(nl - p + (*nl != '\n')));
		cut = render_cut(line, r->width - 5);
		colour = RENDER_DIM;
		if (diff && strncmp(cut, "+++", 3) != 0 &&
		    strncmp(cut, "---", 3) != 0) {
			if (*cut == '+')
				colour = RENDER_GREEN;
			else if (*cut == '-')
				colour = RENDER_RED;
			else if (strncmp(cut, "@@", 2) == 0)
				colour = RENDER_CYAN;
		}
		render_puts(r, STDOUT_FILENO, "    ");
		render_sgr(r, STDOUT_FILENO, colour);
		render_puts(r, STDOUT_FILENO, cut);
		render_sgr(r, STDOUT_FILENO, NULL);
		render_puts(r, STDOUT_FILENO, "\n");
		free(cut);
		free(line);
	}
	if (total > n) {
		render_puts(r, STDOUT_FILENO, "    ");
		render_sgr(r, STDOUT_FILENO, RENDER_DIM);
		render_printf(r, STDOUT_FILENO, "… %d more line%s", total - n,
		    total - n == 1 ? "" : "s");
		render_sgr(r, STDOUT_FILENO, NULL);
		render_puts(r, STDOUT_FILENO, "\n");
	}
}

/* Every file_ref diff of an item's content. */
static void
render_diffs(struct render *r, const cJSON *item)
{
	const cJSON *part;
	const char  *type, *diff, *path, *action;

	JSON_FOREACH(part, json_get_arr(item, "content")) {
		type = json_get_str(part, "type");
		if (type == NULL || strcmp(type, "file_ref") != 0)
			continue;
		path = json_get_str(part, "path");
		action = json_get_str(part, "action");
		if ((diff = json_get_str(part, "diff")) != NULL &&
		    *diff != '\0')
			render_lines(r, diff, RENDER_DIFF_LINES, 1);
		else if (path != NULL) {
			render_puts(r, STDOUT_FILENO, "    ");
			render_sgr(r, STDOUT_FILENO, RENDER_DIM);
			render_printf(r, STDOUT_FILENO, "%s %s",
			    action != NULL ? action : "file", path);
			render_sgr(r, STDOUT_FILENO, NULL);
			render_puts(r, STDOUT_FILENO, "\n");
		}
	}
}

/* A tool call is over: its line with ✓ or ✗, then output and diffs. */
static void
render_tool_done(struct render *r, struct render_tool *t, const char *mark,
    const cJSON *result)
{
	const cJSON *part;
	const char  *output;
	char	    *cut;

	render_newline(r);
	cut = render_cut(t->line, r->width - 3);
	render_sgr(r, STDOUT_FILENO,
	    strcmp(mark, "✗") == 0 ? RENDER_RED : RENDER_GREEN);
	render_puts(r, STDOUT_FILENO, mark);
	render_sgr(r, STDOUT_FILENO, NULL);
	render_printf(r, STDOUT_FILENO, " %s\n", cut);
	free(cut);
	if (result != NULL) {
		part = render_part(result, "tool_result");
		output = json_get_str(part, "output");
		if (output != NULL && *output != '\0')
			render_lines(r, output, RENDER_PREVIEW_LINES, 0);
		render_diffs(r, result);
	}
	if (t->diff != NULL &&
	    (result == NULL || render_part(result, "file_ref") == NULL))
		render_lines(r, t->diff, RENDER_DIFF_LINES, 1);
	render_tool_free(r, t);
}

/* item.started or item.completed of a tool_call item. */
static void
render_tool_call(struct render *r, const cJSON *item, int completed)
{
	const cJSON	   *part, *ref;
	struct render_tool *t;
	const char	   *call_id, *status, *diff;

	part = render_part(item, "tool_call");
	call_id = json_get_str(part, "call_id");
	if (call_id == NULL)
		call_id = json_get_str(item, "item_id");
	if (call_id == NULL)
		return;
	if ((t = render_tool_find(r, call_id)) == NULL) {
		if (completed && render_tool_find(r, call_id) == NULL &&
		    (status = json_get_str(item, "status")) != NULL &&
		    strcmp(status, "failed") != 0 && part == NULL)
			return;
		t = xcalloc(1, sizeof *t);
		t->call_id = xstrdup(call_id);
		TAILQ_INSERT_TAIL(&r->tools, t, entry);
	}
	if (part != NULL) {
		free(t->line);
		t->line = render_tool_line(json_get_str(part, "name"),
		    json_get_str(part, "arguments"));
	} else if (t->line == NULL)
		t->line = xstrdup("tool");
	if ((ref = render_part(item, "file_ref")) != NULL &&
	    (diff = json_get_str(ref, "diff")) != NULL) {
		free(t->diff);
		t->diff = xstrdup(diff);
	}
	status = json_get_str(item, "status");
	if (completed && status != NULL && strcmp(status, "failed") == 0)
		render_tool_done(r, t, "✗", NULL);
	else if (r->status) {
		r->status = 0; /* redrawn with the new line */
		r->write(r->arg, STDOUT_FILENO, "\r\033[K", 4);
	}
}

/* item.completed of a tool_result item. */
static void
render_tool_result(struct render *r, const cJSON *item)
{
	struct render_tool *t;
	const cJSON	   *part;
	const char	   *status;
	int		    failed, is_error = 0;

	part = render_part(item, "tool_result");
	status = json_get_str(item, "status");
	(void)json_get_bool(part, "is_error", &is_error);
	failed = is_error || (status != NULL && strcmp(status, "failed") == 0);
	if ((t = render_tool_find(r, json_get_str(part, "call_id"))) == NULL) {
		/* Its call was before we looked (attach): a line anyway. */
		t = xcalloc(1, sizeof *t);
		t->call_id = xstrdup("");
		t->line = xstrdup("tool result");
		TAILQ_INSERT_TAIL(&r->tools, t, entry);
	}
	render_tool_done(r, t, failed ? "✗" : "✓", item);
}

/* Text of a message or reasoning item, as it streams. */
static void
render_delta(struct render *r, const cJSON *data, int reasoning)
{
	const char *id, *delta;

	id = json_get_str(data, "item_id");
	delta = json_get_str(data, "delta");
	if (id == NULL || delta == NULL || *delta == '\0')
		return;
	render_begin(r);
	if (r->item == NULL || strcmp(r->item, id) != 0) {
		render_newline(r);
		r->item = xstrdup(id);
		if (reasoning && (~r->flags & RENDER_COLOR))
			render_puts(r, STDOUT_FILENO, "thinking: ");
	}
	if (reasoning)
		render_sgr(r, STDOUT_FILENO, RENDER_DIM);
	render_puts(r, STDOUT_FILENO, delta);
	if (reasoning)
		render_sgr(r, STDOUT_FILENO, NULL);
}

/*
 * Reasoning items whose start we saw, so that their deltas are dimmed
 * (a delta does not say its item's kind).
 */
static int
render_reasoning(struct render *r, const char *id, int add, int del)
{
	size_t i, free_slot = nitems(r->reasoning);

	if (id == NULL)
		return (0);
	for (i = 0; i < nitems(r->reasoning); i++) {
		if (r->reasoning[i] == NULL) {
			free_slot = i;
			continue;
		}
		if (strcmp(r->reasoning[i], id) == 0) {
			if (del) {
				free(r->reasoning[i]);
				r->reasoning[i] = NULL;
			}
			return (1);
		}
	}
	if (add && free_slot < nitems(r->reasoning))
		r->reasoning[free_slot] = xstrdup(id);
	return (0);
}

static void
render_item(struct render *r, const cJSON *data, int completed)
{
	const cJSON *item = json_get_obj(data, "item"), *part;
	const char  *kind, *role, *id, *text;

	kind = json_get_str(item, "kind");
	role = json_get_str(item, "role");
	id = json_get_str(item, "item_id");
	if (kind == NULL)
		return;
	if (strcmp(kind, "tool_call") == 0) {
		render_tool_call(r, item, completed);
		return;
	}
	if (strcmp(kind, "tool_result") == 0) {
		if (completed)
			render_tool_result(r, item);
		return;
	}
	if (strcmp(kind, "reasoning") == 0)
		(void)render_reasoning(r, id, !completed, 0);
	if (!completed)
		return;
	if (strcmp(kind, "message") == 0 && role != NULL &&
	    strcmp(role, "user") == 0) {
		if ((~r->flags & RENDER_USER) ||
		    (part = render_part(item, "text")) == NULL ||
		    (text = json_get_str(part, "text")) == NULL)
			return;
		render_newline(r);
		render_sgr(r, STDOUT_FILENO, RENDER_BOLD);
		render_printf(r, STDOUT_FILENO, "› %s", text);
		render_sgr(r, STDOUT_FILENO, NULL);
		render_puts(r, STDOUT_FILENO, "\n");
		return;
	}
	if (strcmp(kind, "message") == 0 || strcmp(kind, "reasoning") == 0) {
		if (id != NULL && r->item != NULL && strcmp(r->item, id) == 0)
			render_newline(r);
		(void)render_reasoning(r, id, 0, 1);
		return;
	}
	if ((part = render_part(item, "status")) != NULL) {
		render_newline(r);
		render_sgr(r, STDOUT_FILENO, RENDER_DIM);
		render_printf(r, STDOUT_FILENO, "· %s%s%s",
		    json_get_str(part, "label") != NULL
			? json_get_str(part, "label")
			: "status",
		    json_get_str(part, "detail") != NULL ? ": " : "",
		    json_get_str(part, "detail") != NULL
			? json_get_str(part, "detail")
			: "");
		render_sgr(r, STDOUT_FILENO, NULL);
		render_puts(r, STDOUT_FILENO, "\n");
	}
}

/* Unix milliseconds of an event's "time" (2026-11-22T12:00:00.123Z). */
int64_t
render_time_ms(const char *s)
{
	struct tm tm;
	int	  ms = 0, n = 0;

	if (s == NULL)
		return (-1);
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon,
		&tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return (-1);
	if (s[n] == '.')
		(void)sscanf(s + n + 1, "%3d", &ms);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return ((int64_t)timegm(&tm) * 1000 + ms);
}

/* The dim line at a turn's end. */
static void
render_turn_end(struct render *r, const cJSON *ev)
{
	const cJSON	   *data = json_get_obj(ev, "data"), *usage;
	struct render_tool *t;
	const char	   *reason;
	long long	    in, out;
	double		    cost;
	int64_t		    end;
	char		    line[256];
	size_t		    len = 0;

	reason = json_get_str(data, "stop_reason");
	while ((t = TAILQ_FIRST(&r->tools)) != NULL)
		render_tool_done(r, t,
		    reason == NULL || strcmp(reason, "end_turn") == 0 ? "·"
								      : "✗",
		    NULL);
	render_newline(r);
	line[0] = '\0';
	if (reason != NULL && strcmp(reason, "end_turn") != 0)
		len += snprintf(line + len, sizeof line - len, " · %s", reason);
	usage = json_get_obj(data, "usage");
	if (usage != NULL && json_get_int(usage, "input_tokens", &in) == 0 &&
	    json_get_int(usage, "output_tokens", &out) == 0)
		len += snprintf(line + len, sizeof line - len,
		    " · %lld in / %lld out tokens", in, out);
	if (json_get_num(data, "cost_usd", &cost) == 0)
		len +=
		    snprintf(line + len, sizeof line - len, " · $%.4f", cost);
	end = render_time_ms(json_get_str(ev, "time"));
	if (r->turn_ms > 0 && end >= r->turn_ms)
		len += snprintf(line + len, sizeof line - len, " · %.1fs",
		    (double)(end - r->turn_ms) / 1000);
	r->turn_ms = 0;
	render_sgr(r, STDOUT_FILENO, RENDER_DIM);
	/* Each piece starts with " · "; the first one's goes. */
	render_printf(
	    r, STDOUT_FILENO, "—%s", len > 0 ? line + strlen(" ·") : "");
	render_sgr(r, STDOUT_FILENO, NULL);
	render_puts(r, STDOUT_FILENO, "\n");
}

/* Text on fd, each line indented. */
static void
render_indent(struct render *r, int fd, const char *text)
{
	const char *p, *nl;

	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		render_puts(r, fd, "  ");
		render_put(r, fd, p, (size_t)(nl - p + 1));
		if (*nl != '\n')
			render_puts(r, fd, "\n");
	}
}

/* session.ended: why, and the end of the agent's stderr on a failure. */
static void
render_session_end(struct render *r, const cJSON *data)
{
	const char *reason, *msg, *tail;
	long long   code;

	reason = json_get_str(data, "reason");
	msg = json_get_str(data, "message");
	render_newline(r);
	if (reason != NULL && strcmp(reason, "error") == 0) {
		render_sgr(r, STDERR_FILENO, RENDER_RED);
		if (json_get_int(data, "exit_code", &code) == 0)
			render_printf(r, STDERR_FILENO,
			    "the agent ended: exit "
			    "code %lld",
			    code);
		else
			render_printf(r, STDERR_FILENO, "the agent ended: %s",
			    msg != NULL ? msg : "error");
		render_sgr(r, STDERR_FILENO, NULL);
		render_puts(r, STDERR_FILENO, "\n");
		tail = json_get_str(json_get_obj(data, "stderr"), "tail");
		if (tail != NULL && *tail != '\0') {
			render_sgr(r, STDERR_FILENO, RENDER_DIM);
			render_puts(
			    r, STDERR_FILENO, "its stderr ended with:\n");
			render_indent(r, STDERR_FILENO, tail);
			render_sgr(r, STDERR_FILENO, NULL);
		}
		return;
	}
	if (r->flags & RENDER_USER) {
		render_sgr(r, STDOUT_FILENO, RENDER_DIM);
		render_printf(r, STDOUT_FILENO, "session ended (%s)%s%s",
		    reason != NULL ? reason : "?", msg != NULL ? ": " : "",
		    msg != NULL ? msg : "");
		render_sgr(r, STDOUT_FILENO, NULL);
		render_puts(r, STDOUT_FILENO, "\n");
	}
}

static struct render_ask *
render_ask_find(struct render *r, const char *id)
{
	struct render_ask *a;

	if (id == NULL)
		return (NULL);
	TAILQ_FOREACH(a, &r->asks, entry) {
		if (strcmp(a->id, id) == 0)
			return (a);
	}
	return (NULL);
}

/* The first request not answered here yet. */
static struct render_ask *
render_ask_next(struct render *r)
{
	struct render_ask *a;

	TAILQ_FOREACH(a, &r->asks, entry) {
		if (!a->answered)
			return (a);
	}
	return (NULL);
}

static void
render_permission(struct render *r, const cJSON *data, int resolved)
{
	static const char *const words[][2] = { { "accept", "allowed" },
		{ "accept_for_session", "allowed for this session" },
		{ "reject", "rejected" }, { "cancelled", "cancelled" } };
	struct render_ask	*a;
	const cJSON		*meta;
	const char		*id, *action, *status, *word;
	char			*sum;
	size_t			 i;

	id = json_get_str(data, "permission_id");
	action = json_get_str(data, "action");
	if (action == NULL || *action == '\0')
		action = "a tool";
	if (!resolved) {
		if (id == NULL || render_ask_find(r, id) != NULL)
			return;
		a = xcalloc(1, sizeof *a);
		a->id = xstrdup(id);
		meta = json_get_obj(data, "metadata");
		sum = render_summary(json_get_obj(meta, "input"));
		if (*sum != '\0' && strstr(action, sum) == NULL)
			xasprintf(&a->prompt, "%s  %s", action, sum);
		else
			a->prompt = xstrdup(action);
		free(sum);
		TAILQ_INSERT_TAIL(&r->asks, a, entry);
		return;
	}
	if ((a = render_ask_find(r, id)) != NULL)
		render_ask_free(r, a);
	status = json_get_str(data, "status");
	word = status != NULL ? status : "resolved";
	for (i = 0; status != NULL && i < nitems(words); i++) {
		if (strcmp(words[i][0], status) == 0)
			word = words[i][1];
	}
	render_newline(r);
	render_sgr(r, STDOUT_FILENO, RENDER_YELLOW);
	render_printf(r, STDOUT_FILENO, "permission %s: %s", action, word);
	render_sgr(r, STDOUT_FILENO, NULL);
	render_puts(r, STDOUT_FILENO, "\n");
}

/* The label of question i (its header, else its text). */
static const char *
render_question_name(const cJSON *questions, int i)
{
	const cJSON *q = json_at(questions, i);

	if (json_get_str(q, "header") != NULL)
		return (json_get_str(q, "header"));
	if (json_get_str(q, "question") != NULL)
		return (json_get_str(q, "question"));
	return ("question");
}

static void
render_question(struct render *r, const cJSON *data, int resolved)
{
	struct render_ask *a;
	const cJSON	  *answers, *e, *l, *qs = NULL;
	const char	  *id, *status, *word;
	int		   i, first;

	id = json_get_str(data, "question_id");
	if (!resolved) {
		if (id == NULL || render_ask_find(r, id) != NULL)
			return;
		a = xcalloc(1, sizeof *a);
		a->question = 1;
		a->id = xstrdup(id);
		a->questions = json_get_arr(data, "questions") != NULL
		    ? json_dup(json_get_arr(data, "questions"))
		    : json_array();
		a->answers = json_array();
		TAILQ_INSERT_TAIL(&r->asks, a, entry);
		return;
	}
	if ((a = render_ask_find(r, id)) != NULL)
		qs = a->questions;
	status = json_get_str(data, "status");
	answers = json_get_arr(data, "answers");
	render_newline(r);
	render_sgr(r, STDOUT_FILENO, RENDER_YELLOW);
	if (status != NULL && strcmp(status, "answered") == 0 &&
	    answers != NULL) {
		i = 0;
		JSON_FOREACH(e, answers) {
			render_printf(r, STDOUT_FILENO, "%s%s:", i ? "; " : "",
			    render_question_name(qs, i));
			i++;
			first = 1;
			JSON_FOREACH(l, e) {
				render_printf(r, STDOUT_FILENO, "%s%s",
				    first ? " " : ", ",
				    json_is_str(l) ? json_str(l) : "?");
				first = 0;
			}
		}
	} else {
		word = status != NULL ? status : "resolved";
		if (strcmp(word, "rejected") == 0)
			word = "declined";
		render_printf(r, STDOUT_FILENO, "%s: %s",
		    render_question_name(qs, 0), word);
	}
	render_sgr(r, STDOUT_FILENO, NULL);
	render_puts(r, STDOUT_FILENO, "\n");
	if (a != NULL)
		render_ask_free(r, a);
}

/* One universal event (the parsed envelope). */
void
render_event(struct render *r, const cJSON *ev)
{
	const cJSON *data = json_get_obj(ev, "data");
	const char  *type, *msg;

	if ((type = json_get_str(ev, "type")) == NULL)
		return;
	if (strcmp(type, "item.delta") == 0) {
		render_delta(r, data,
		    render_reasoning(r, json_get_str(data, "item_id"), 0, 0));
	} else if (strcmp(type, "item.started") == 0)
		render_item(r, data, 0);
	else if (strcmp(type, "item.completed") == 0)
		render_item(r, data, 1);
	else if (strcmp(type, "turn.started") == 0)
		r->turn_ms = render_time_ms(json_get_str(ev, "time"));
	else if (strcmp(type, "turn.ended") == 0)
		render_turn_end(r, ev);
	else if (strcmp(type, "permission.requested") == 0)
		render_permission(r, data, 0);
	else if (strcmp(type, "permission.resolved") == 0)
		render_permission(r, data, 1);
	else if (strcmp(type, "question.requested") == 0)
		render_question(r, data, 0);
	else if (strcmp(type, "question.resolved") == 0)
		render_question(r, data, 1);
	else if (strcmp(type, "error") == 0) {
		msg = json_get_str(data, "message");
		render_error(r, "%s", msg != NULL ? msg : "error");
	} else if (strcmp(type, "agent.unparsed") == 0) {
		msg = json_get_str(data, "error");
		render_note(r, STDERR_FILENO, "unparsed agent output: %s",
		    msg != NULL ? msg : "?");
	} else if (strcmp(type, "session.ended") == 0)
		render_session_end(r, data);
	render_status(r);
}

/* A dim line of our own, on stdout or stderr. */
void
render_note(struct render *r, int fd, const char *fmt, ...)
{
	va_list ap;

	render_newline(r);
	render_sgr(r, fd, RENDER_DIM);
	va_start(ap, fmt);
	render_vprintf(r, fd, fmt, ap);
	va_end(ap);
	render_sgr(r, fd, NULL);
	render_puts(r, fd, "\n");
	render_status(r);
}

/* A red line on stderr. */
void
render_error(struct render *r, const char *fmt, ...)
{
	va_list ap;

	render_newline(r);
	render_sgr(r, STDERR_FILENO, RENDER_RED);
	render_puts(r, STDERR_FILENO, "error: ");
	va_start(ap, fmt);
	render_vprintf(r, STDERR_FILENO, fmt, ap);
	va_end(ap);
	render_sgr(r, STDERR_FILENO, NULL);
	render_puts(r, STDERR_FILENO, "\n");
	render_status(r);
}

/* The prompt of the first permission or question waiting, if not shown. */
void
render_prompt(struct render *r)
{
	struct render_ask *a;
	const cJSON	  *q, *o;
	const char	  *desc;
	int		   i, n, multi = 0;

	if ((~r->flags & RENDER_ASK) || r->prompting ||
	    (a = render_ask_next(r)) == NULL)
		return;
	render_newline(r);
	render_sgr(r, STDOUT_FILENO, RENDER_YELLOW);
	if (!a->question) {
		render_printf(r, STDOUT_FILENO, "Allow %s?", a->prompt);
		render_sgr(r, STDOUT_FILENO, NULL);
		render_puts(r, STDOUT_FILENO, " [y]es / [a]lways / [n]o ");
		r->prompting = 1;
		return;
	}
	q = json_at(a->questions, a->index);
	n = json_size(json_get_arr(q, "options"));
	(void)json_get_bool(q, "multi_select", &multi);
	if (!a->listed) {
		render_printf(r, STDOUT_FILENO, "? %s",
		    json_get_str(q, "question") != NULL
			? json_get_str(q, "question")
			: render_question_name(a->questions, a->index));
		render_sgr(r, STDOUT_FILENO, NULL);
		render_puts(r, STDOUT_FILENO, "\n");
		i = 0;
		JSON_FOREACH(o, json_get_arr(q, "options")) {
			desc = json_get_str(o, "description");
			render_printf(r, STDOUT_FILENO, "  %d. %s%s%s\n", ++i,
			    json_get_str(o, "label") != NULL
				? json_get_str(o, "label")
				: "?",
			    desc != NULL ? " — " : "",
			    desc != NULL ? desc : "");
		}
		a->listed = 1;
		render_sgr(r, STDOUT_FILENO, RENDER_YELLOW);
	}
	if (n == 0)
		render_puts(r, STDOUT_FILENO, "answer:");
	else if (multi)
		render_printf(r, STDOUT_FILENO,
		    "choose (1-%d, several with "
		    "commas):",
		    n);
	else
		render_printf(r, STDOUT_FILENO, "choose (1-%d):", n);
	render_sgr(r, STDOUT_FILENO, NULL);
	render_puts(r, STDOUT_FILENO, " ");
	r->prompting = 1;
}

int
render_asking(struct render *r)
{
	return ((r->flags & RENDER_ASK) && render_ask_next(r) != NULL);
}

/* The labels a line picks among a question's options; NULL if invalid. */
static cJSON *
render_choose(const cJSON *q, const char *line)
{
	const cJSON *opts = json_get_arr(q, "options"), *o;
	cJSON	    *picked;
	char	    *copy, *tok, *save, *end;
	long	     n;
	int	     multi = 0;

	picked = json_array();
	if (json_size(opts) == 0) {
		json_append(picked, json_string(line));
		return (picked);
	}
	(void)json_get_bool(q, "multi_select", &multi);
	copy = xstrdup(line);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && end[-1] == ' ')
			*--end = '\0';
		n = strtol(tok, &end, 10);
		o = NULL;
		if (*tok != '\0' && *end == '\0' && n >= 1 &&
		    n <= json_size(opts))
			o = json_at(opts, (int)n - 1);
		else {
			JSON_FOREACH(o, opts) {
				if (json_get_str(o, "label") != NULL &&
				    strcasecmp(json_get_str(o, "label"), tok) ==
					0)
					break;
			}
		}
		if (o == NULL || json_get_str(o, "label") == NULL ||
		    (!multi && json_size(picked) == 1))
			goto bad;
		json_append(picked, json_string(json_get_str(o, "label")));
	}
	free(copy);
	if (json_size(picked) == 0) {
		json_free(picked);
		return (NULL);
	}
	return (picked);
bad:
	free(copy);
	json_free(picked);
	return (NULL);
}

/*
 * A line typed while something is asked. Returns the command that
 * answers it, or NULL (asked again, or the next question shown).
 */
cJSON *
render_answer(struct render *r, const char *line)
{
	struct render_ask *a;
	cJSON		  *cmd, *picked;
	const char	  *reply = NULL;

	if ((a = render_ask_next(r)) == NULL)
		return (NULL);
	r->prompting = 0;
	r->col = 0; /* the terminal echoed the line and its newline */
	while (*line == ' ')
		line++;
	cmd = json_object();
	if (!a->question) {
		if (strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0)
			reply = "once";
		else if (strcasecmp(line, "a") == 0 ||
		    strcasecmp(line, "always") == 0)
			reply = "always";
		else if (strcasecmp(line, "n") == 0 ||
		    strcasecmp(line, "no") == 0)
			reply = "reject";
		if (reply == NULL) {
			json_free(cmd);
			render_prompt(r);
			return (NULL);
		}
		json_set_str(cmd, "type", "permission.reply");
		json_set_str(cmd, "permission_id", a->id);
		json_set_str(cmd, "reply", reply);
		a->answered = 1;
		return (cmd);
	}
	if (*line == '\0' ||
	    (picked = render_choose(json_at(a->questions, a->index), line)) ==
		NULL) {
		json_free(cmd);
		render_prompt(r);
		return (NULL);
	}
	json_append(a->answers, picked);
	if (++a->index < json_size(a->questions)) {
		a->listed = 0;
		json_free(cmd);
		render_prompt(r);
		return (NULL);
	}
	json_set_str(cmd, "type", "question.reply");
	json_set_str(cmd, "question_id", a->id);
	json_set(cmd, "answers", json_dup(a->answers));
	a->answered = 1;
	return (cmd);
}

/* The user pressed Enter on their own line (a message typed on a tty). */
void
render_input_line(struct render *r)
{
	r->col = 0;
	r->prompting = 0;
}

/* Write all of buf to fd (stdout or stderr), whatever it takes. */
void
render_write_fd(void *arg, int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Colours on fd: a terminal, and neither NO_COLOR nor TERM=dumb. */
int
render_color_wanted(int fd)
{
	const char *term = getenv("TERM");
	const char *no = getenv("NO_COLOR");

	if (!isatty(fd) || (no != NULL && *no != '\0'))
		return (0);
	return (term == NULL || strcmp(term, "dumb") != 0);
}

/* The terminal's width, or 100. */
int
render_width(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return (ws.ws_col);
	return (100);
}

static void
render_input_cb(int fd, void *arg)
{
	struct render_input *in = arg;
	char		     buf[4096], *nl, *line;
	ssize_t		     n;
	size_t		     len;

	if ((n = read(fd, buf, sizeof buf)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		n = 0;
	}
	if (n == 0) {
		loop_io_stop(in->io);
		if (in->len > 0) {
			line = xstrndup(in->buf, in->len);
			in->len = 0;
			in->line(in->arg, line);
			free(line);
		}
		in->eof(in->arg);
		return;
	}
	if (in->len + (size_t)n > RENDER_INPUT_MAX)
		in->len = 0; /* a line that long is no message: drop it */
	in->buf = xrealloc(in->buf, in->len + (size_t)n + 1);
	memcpy(in->buf + in->len, buf, (size_t)n);
	in->len += (size_t)n;
	while ((nl = memchr(in->buf, '\n', in->len)) != NULL) {
		len = (size_t)(nl - in->buf);
		if (len > 0 && in->buf[len - 1] == '\r')
			len--;
		line = xstrndup(in->buf, len);
		len = (size_t)(nl - in->buf) + 1;
		memmove(in->buf, in->buf + len, in->len - len);
		in->len -= len;
		in->line(in->arg, line);
		free(line);
	}
}

/* Lines from fd, through the loop; eof is called once at the end. */
struct render_input *
render_input_new(int fd, render_line_cb line, void (*eof)(void *), void *arg)
{
	struct render_input *in;

	in = xcalloc(1, sizeof *in);
	in->fd = fd;
	in->line = line;
	in->eof = eof;
	in->arg = arg;
	in->io = loop_io_new(fd, 0, render_input_cb, in);
	loop_io_start(in->io);
	return (in);
}

void
render_input_free(struct render_input *in)
{
	if (in == NULL)
		return;
	loop_io_free(in->io);
	free(in->buf);
	free(in);
}
