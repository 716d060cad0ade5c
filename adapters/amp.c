/*
 * amp.c: Amp over `amp -x --stream-json --stream-json-input`.
 *
 * Amp writes Claude Code's stream-json without partial messages and has no
 * control channel, so everything but the command line is the Claude
 * adapter's: its line handler already builds items from whole assistant
 * blocks (the session adds the one synthetic delta a streamless message
 * gets) and reads Amp's error results. What Amp lacks shows here: no
 * permission round trip on stdio (Amp's own settings decide), and no way
 * to interrupt a turn but to stop the process.
 *
 * Amp's model runs behind its own service, so its fixtures cannot come
 * from our mock model server (docs/agents.md).
 */
#include <string.h>

#include "adapters.h"

static int  amp_spawn_argv(struct host *, struct argv_builder *, char **);
static void amp_on_start(struct host *);
static void amp_on_line(struct host *, const char *, size_t);
static int  amp_send_message(struct host *, const struct user_message *);
static int
amp_reply_permission(struct host *, const char *, enum permission_reply);
static int  amp_reply_question(struct host *, const char *, const cJSON *);
static int  amp_cancel(struct host *);
static void amp_free(struct host *);

const struct adapter adapter_amp = { .name = "amp",
	.caps = CAP_TOOL_CALLS | CAP_FILE_CHANGES | CAP_RESUME | CAP_USAGE,
	.spawn_argv = amp_spawn_argv,
	.on_start = amp_on_start,
	.on_line = amp_on_line,
	.send_message = amp_send_message,
	.reply_permission = amp_reply_permission,
	.reply_question = amp_reply_question,
	.cancel = amp_cancel,
	.free = amp_free };

/* amp [threads continue ID] -x --stream-json --stream-json-input */
static int
amp_spawn_argv(struct host *s, struct argv_builder *b, char **cause)
{
	if (argv_command(s, b, cause) != 0)
		return (-1);
	if (host_native_id(s) != NULL) {
		argv_add(b, "threads");
		argv_add(b, "continue");
		argv_add(b, host_native_id(s));
	}
	argv_add(b, "-x");
	argv_add(b, "--stream-json");
	argv_add(b, "--stream-json-input");
	return (0);
}

static int
amp_cancel(struct host *s)
{
	return (-1); /* no control channel: terminate stops the turn */
}

/* The rest is Claude's stream-json, handled by the Claude adapter. */
static void
amp_on_start(struct host *s)
{
	(void)claude_begin(s); /* Amp has no control channel: no initialize */
}

static void
amp_on_line(struct host *s, const char *line, size_t len)
{
	adapter_claude.on_line(s, line, len);
}

static int
amp_send_message(struct host *s, const struct user_message *m)
{
	return (adapter_claude.send_message(s, m));
}

static int
amp_reply_permission(
    struct host *s, const char *id, enum permission_reply reply)
{
	return (-1); /* Amp asks none on stdio */
}

static int
amp_reply_question(struct host *s, const char *id, const cJSON *answers)
{
	return (-1);
}

static void
amp_free(struct host *s)
{
	adapter_claude.free(s);
}
