/*
 * adapter.c: the registry of agent profiles.
 *
 * An agent is a profile over an adapter: the same ACP adapter serves
 * opencode, gemini, goose, the built-in mock agent and any ACP command a
 * client names at create time. A profile only says how to launch the agent
 * and which optional parts of its protocol to offer; everything else is the
 * adapter's business.
 * */
#include <stdlib.h>
#include <string.h>

#include "adapters.h"

static const char *const agent_mock_argv[] = { "@self", "mock-agent", NULL };

static const char *const agent_claude_argv[] = { "claude", NULL };
static const char *const agent_claude_env[] = { "ANTHROPIC_API_KEY",
	"ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", NULL };

static const char *const agent_codex_argv[] = { "codex", NULL };
static const char *const agent_codex_env[] = { "OPENAI_API_KEY",
	"CODEX_API_KEY", NULL };

/* Amp's model runs behind ampcode.com: it needs its key and network. */
static const char *const agent_amp_argv[] = { "amp", NULL };
static const char *const agent_amp_env[] = { "AMP_API_KEY", NULL };

static const char *const agent_pi_argv[] = { "pi", NULL };
static const char *const agent_pi_env[] = { "ANTHROPIC_API_KEY",
	"OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY", NULL };

static const char *const agent_opencode_argv[] = { "opencode", "acp", NULL };
static const char *const agent_opencode_env[] = { "ANTHROPIC_API_KEY",
	"OPENAI_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY", NULL };

/*
 * Gemini breaks its own writes when a client's fs/read_text_file error does
 * not look like ENOENT, and it does its own I/O well inside the cwd: it is
 * not offered fs (agent-protocols.md 3.5, quirk 5).
 */
static const char *const agent_gemini_argv[] = { "gemini", "--acp", NULL };
static const char *const agent_gemini_env[] = { "GEMINI_API_KEY",
	"GOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS", NULL };

/* Goose is not on npm; it must be on PATH (a release binary). */
static const char *const agent_goose_argv[] = { "goose", "acp", NULL };
static const char *const agent_goose_env[] = { "GOOSE_PROVIDER", "GOOSE_MODEL",
	"OPENAI_API_KEY", "ANTHROPIC_API_KEY", NULL };

const struct agent_profile agent_profiles[] = {
	/* Agents with a protocol of their own: claude.c, codex.c, pi.c, amp.c. */
	{ "claude", &adapter_claude, agent_claude_argv,
	    "@anthropic-ai/claude-code@2.1.197", agent_claude_env, 0 },
	{ "codex", &adapter_codex, agent_codex_argv, "@openai/codex@0.169.0",
	    agent_codex_env, 0 },
	{ "pi", &adapter_pi, agent_pi_argv,
	    "@mariozechner/pi-coding-agent@0.73.1", agent_pi_env, 0 },
	{ "amp", &adapter_amp, agent_amp_argv,
	    "@sourcegraph/amp@0.0.1790142911", agent_amp_env, 0 },
	{ "opencode", &adapter_acp, agent_opencode_argv, "opencode-ai@1.18.33",
	    agent_opencode_env, AGENT_OFFER_FS },
	{ "gemini", &adapter_acp, agent_gemini_argv,
	    "@google/gemini-cli@0.61.0", agent_gemini_env, 0 },
	{ "goose", &adapter_acp, agent_goose_argv, NULL, agent_goose_env, 0 },
	{ "acp", &adapter_acp, NULL, NULL, NULL,
	    AGENT_CUSTOM_COMMAND | AGENT_OFFER_FS },
	{ "mock", &adapter_acp, agent_mock_argv, NULL, NULL,
	    AGENT_BUILTIN | AGENT_OFFER_FS },
	{ NULL, NULL, NULL, NULL, NULL, 0 }
};

/* Find an agent profile by id; NULL if there is none. */
const struct agent_profile *
adapter_find_agent(const char *id)
{
	const struct agent_profile *p;

	if (id == NULL)
		return (NULL);
	for (p = agent_profiles; p->id != NULL; p++) {
		if (strcmp(p->id, id) == 0)
			return (p);
	}
	return (NULL);
}
