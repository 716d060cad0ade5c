/*
 * argv.c: the command line and environment every adapter's spawn_argv
 * fills, starting from the agent's own command.
 *
 * The argv "@self" as argv[0] means agentd's own executable: proc.c
 * resolves it (from /proc/self/exe) just before exec, so the mock agent
 * runs from the very binary that serves it, wherever it was installed.
 */
#include <stdlib.h>
#include <string.h>

#include "adapters.h"

/* Append to a NULL-terminated array, keeping the terminator. */
static void
argv_push(char ***array, size_t *n, char *s)
{
	*array = xreallocarray(*array, *n + 2, sizeof **array);
	(*array)[(*n)++] = s;
	(*array)[*n] = NULL;
}

/* Add one argument. */
void
argv_add(struct argv_builder *b, const char *arg)
{
	argv_push(&b->argv, &b->argc, xstrdup(arg));
}

/* Add one NAME=value entry to the agent's extra environment. */
void
argv_env(struct argv_builder *b, const char *name, const char *value)
{
	char *entry;

	xasprintf(&entry, "%s=%s", name, value);
	argv_push(&b->env, &b->envc, entry);
}

/* Free both arrays; the builder can be reused afterwards. */
void
argv_free(struct argv_builder *b)
{
	size_t i;

	for (i = 0; i < b->argc; i++)
		free(b->argv[i]);
	free(b->argv);
	/* Entries may hold a session's credentials. */
	for (i = 0; i < b->envc; i++)
		xfree_secret(b->env[i]);
	free(b->env);
	memset(b, 0, sizeof *b);
}

/*
 * The agent's command: the create request's agentCommand when given (for
 * any agent: another path, a wrapper, the replay agent), else the
 * profile's. Adapters append their protocol arguments after it.
 */
int
argv_command(struct host *s, struct argv_builder *b, char **cause)
{
	const struct agent_profile *p = host_profile(s);
	const cJSON		   *cmd, *el;
	const char *const	   *arg;

	cmd = host_agent_command(s);
	if (cmd == NULL) {
		if (p->argv == NULL || p->argv[0] == NULL) {
			xasprintf(cause,
			    "agentCommand is required for agent "
			    "%s: a non-empty array of strings",
			    p->id);
			return (-1);
		}
		for (arg = p->argv; *arg != NULL; arg++)
			argv_add(b, *arg);
		return (0);
	}
	JSON_FOREACH(el, cmd) {
		if (json_str(el) == NULL || *json_str(el) == '\0') {
			*cause = xstrdup("agentCommand must be an array of "
					 "non-empty strings");
			return (-1);
		}
		argv_add(b, json_str(el));
	}
	return (0);
}
