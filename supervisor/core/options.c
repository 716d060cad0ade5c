/*
 * options.c: the daemon's settings, with their defaults. main.c fills them
 * from the command line; every other file only reads them.
 */
#include <stdlib.h>

#include "core.h"

struct options options = {
	.host = "127.0.0.1",
	.port = 2468,
	.max_line = JSONL_MAX_LINE_DEFAULT,
	.max_body = 8UL * 1024 * 1024,
	.body_grace = 10,
	.idle_timeout = 0,
	.kill_grace = 5,
	.cancel_grace = 5,
	.max_fds = 16384,
};
int64_t agentd_start_ms;

/* The default data dir: $XDG_STATE_HOME/agentd or ~/.local/state/agentd. */
char *
options_default_data_dir(void)
{
	const char *s;
	char	   *dir;

	if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/')
		xasprintf(&dir, "%s/agentd", s);
	else if ((s = getenv("HOME")) != NULL && *s == '/')
		xasprintf(&dir, "%s/.local/state/agentd", s);
	else
		dir = xstrdup("/tmp/agentd");
	return (dir);
}
