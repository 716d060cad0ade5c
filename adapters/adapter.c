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

/*
 * What each agent offers without running it. Claude's and Codex's modes
 * are agentd's permission modes as their adapters map them; models come
 * from the agent once it runs (Claude's initialize, Codex's model/list,
 * an ACP session's answer) into SessionInfo's options.
 */
static const char *const agent_claude_modes[] = { "default", "acceptEdits",
	"plan", "bypassPermissions", "dontAsk", "auto", NULL };
static const struct agent_options agent_claude_options = { NULL,
	agent_claude_modes, NULL, AGENT_SET_MODEL | AGENT_SET_MODE };

static const char *const agent_codex_modes[] = { "default", "acceptEdits",
	"plan", "read-only", "bypassPermissions", NULL };
static const char *const agent_codex_efforts[] = { "none", "minimal", "low",
	"medium", "high", "xhigh", NULL };
static const struct agent_options agent_codex_options = { NULL,
	agent_codex_modes, agent_codex_efforts,
	AGENT_SET_MODEL | AGENT_SET_MODE | AGENT_SET_EFFORT };

static const char *const agent_pi_efforts[] = { "off", "minimal", "low",
	"medium", "high", "xhigh", NULL };
static const struct agent_options agent_pi_options = { NULL, NULL,
	agent_pi_efforts, AGENT_SET_MODEL | AGENT_SET_EFFORT };

static const struct agent_options agent_amp_options = { NULL, NULL, NULL, 0 };

static const char *const agent_gemini_modes[] = { "default", "autoEdit", "yolo",
	"plan", NULL };
static const struct agent_options agent_gemini_options = { NULL,
	agent_gemini_modes, NULL, AGENT_SET_ASK };

static const struct agent_options agent_acp_options = { NULL, NULL, NULL,
	AGENT_SET_ASK };

/* The mock agent's, as its session/new answers them (mockagent.c). */
static const char *const agent_mock_models[] = { "mock-fast", "mock-smart",
	NULL };
static const char *const agent_mock_modes[] = { "default", "acceptEdits",
	"plan", NULL };
static const char *const agent_mock_efforts[] = { "low", "medium", "high",
	NULL };
static const struct agent_options agent_mock_options = { agent_mock_models,
	agent_mock_modes, agent_mock_efforts, AGENT_SET_ASK };

const struct agent_profile agent_profiles[] = {
	/* Agents with a protocol of their own: claude.c, codex.c, pi.c, amp.c. */
	{ "claude", &adapter_claude, agent_claude_argv,
	    "@anthropic-ai/claude-code@2.1.197", agent_claude_env, 0,
	    &agent_claude_options },
	{ "codex", &adapter_codex, agent_codex_argv, "@openai/codex@0.169.0",
	    agent_codex_env, 0, &agent_codex_options },
	{ "pi", &adapter_pi, agent_pi_argv,
	    "@mariozechner/pi-coding-agent@0.73.1", agent_pi_env, 0,
	    &agent_pi_options },
	{ "amp", &adapter_amp, agent_amp_argv,
	    "@sourcegraph/amp@0.0.1790142911", agent_amp_env, 0,
	    &agent_amp_options },
	{ "opencode", &adapter_acp, agent_opencode_argv, "opencode-ai@1.18.33",
	    agent_opencode_env, AGENT_OFFER_FS, &agent_acp_options },
	{ "gemini", &adapter_acp, agent_gemini_argv,
	    "@google/gemini-cli@0.61.0", agent_gemini_env, 0,
	    &agent_gemini_options },
	{ "goose", &adapter_acp, agent_goose_argv, NULL, agent_goose_env, 0,
	    &agent_acp_options },
	{ "acp", &adapter_acp, NULL, NULL, NULL,
	    AGENT_CUSTOM_COMMAND | AGENT_OFFER_FS, &agent_acp_options },
	{ "mock", &adapter_acp, agent_mock_argv, NULL, NULL,
	    AGENT_BUILTIN | AGENT_OFFER_FS, &agent_mock_options },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL }
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

/*
 * GET /v1/agents/{agent}'s options: for "model", "mode" and "effort",
 * whether a live session can change it (settable; dependsOnAgent for ACP,
 * where the agent's session says) and the values known without running
 * the agent ([{id}], or none).
 */
cJSON *
adapter_options(const struct agent_profile *p)
{
	static const struct {
		const char *key;
		int	    bit;
	} keys[] = { { "model", AGENT_SET_MODEL }, { "mode", AGENT_SET_MODE },
		{ "effort", AGENT_SET_EFFORT } };
	const struct agent_options *ao = p->options;
	const char *const	   *list;
	cJSON			   *o, *k, *a;
	size_t			    i;

	o = json_object();
	for (i = 0; i < nitems(keys); i++) {
		k = json_object();
		json_set_bool(k, "settable",
		    ao != NULL &&
			(ao->settable & (keys[i].bit | AGENT_SET_ASK)) != 0);
		if (ao != NULL && (ao->settable & AGENT_SET_ASK))
			json_set_bool(k, "dependsOnAgent", 1);
		list = ao == NULL ? NULL
		    : i == 0	  ? ao->models
		    : i == 1	  ? ao->modes
				  : ao->efforts;
		if ((a = host_choices(list)) != NULL)
			json_set(k, "available", a);
		json_set(o, keys[i].key, k);
	}
	return (o);
}
