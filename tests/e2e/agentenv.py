"""Environment recipes to run the real agent CLIs offline against
tests/mockmodel/server.py.  Python 3.11 standard library only.

    from agentenv import agent_env, agent_bin
    env, files = agent_env("codex", "http://127.0.0.1:PORT", home, workdir)
    subprocess.Popen([agent_bin("codex"), "app-server"], env=env, cwd=workdir)

agent_env() builds a fresh environment (nothing inherited but PATH, LANG,
TERM and TMPDIR), with HOME set to home_dir, writes the config files the
agent needs under home_dir, and returns (env, [paths written]).
Verified end to end (tests/e2e/README.md): claude, codex.  The others follow
the recipes of agent-protocols.md and are not yet checked here.

fast_errors=True (default) turns the CLIs' own retries off so the HTTP
429/500 and mid-stream error scenarios end the turn at once (Claude Code
otherwise retries 10 times with exponential backoff, ignoring retry-after,
and Codex retries 4 times per request and 5 times per stream).
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
AGENTS_DIR = os.environ.get("AGENTS_DIR", os.path.join(ROOT, "tests",
                                                        ".agents"))
MOCK_KEY = "sk-mock"

# model ids the CLIs ask for by default (the mock accepts any)
CODEX_MODEL = "gpt-5.5"
GEMINI_MODEL = "gemini-2.5-flash"   # -m skips Gemini's router request


def lock():
    """{name: (package, version, binary)} from agents.lock."""
    out = {}
    with open(os.path.join(HERE, "agents.lock")) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#") or len(w) < 3:
                continue
            out[w[0]] = (w[1], w[2], w[3] if len(w) > 3 else w[0])
    return out


def agent_bin(agent):
    """Path of the installed CLI (may not exist: run install.sh)."""
    binary = lock().get(agent, (None, None, agent))[2]
    return os.path.join(AGENTS_DIR, "node_modules", ".bin", binary)


def installed(agent):
    return os.access(agent_bin(agent), os.X_OK)


def _write(path, text, files):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    files.append(path)


def _base_env(home_dir):
    env = {"HOME": home_dir, "USER": "root", "LOGNAME": "root",
           "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
           "LANG": os.environ.get("LANG", "C.UTF-8"),
           "TERM": "dumb", "NO_COLOR": "1", "CI": "1",
           # Claude Code refuses some modes as root without it
           "IS_SANDBOX": "1"}
    if os.environ.get("TMPDIR"):
        env["TMPDIR"] = os.environ["TMPDIR"]
    return env


def agent_env(agent, mock_url, home_dir, workdir, fast_errors=True):
    """(env dict, [files written]) to run AGENT offline against the mock.

    mock_url is the server root, e.g. "http://127.0.0.1:41335" (no /v1).
    workdir is the agent's cwd (created if missing).
    """
    mock_url = mock_url.rstrip("/")
    os.makedirs(home_dir, exist_ok=True)
    os.makedirs(workdir, exist_ok=True)
    env = _base_env(home_dir)
    files = []

    if agent in ("claude", "claude-agent-acp"):
        # Tested: no config file is needed for -p / stream-json; the trust
        # dialog and onboarding are skipped in print mode.
        env.update({
            "ANTHROPIC_BASE_URL": mock_url,
            "ANTHROPIC_API_KEY": MOCK_KEY,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
        })
        if fast_errors:
            env["CLAUDE_CODE_MAX_RETRIES"] = "0"
        return env, files

    if agent in ("codex", "codex-acp"):
        codex_home = os.path.join(home_dir, ".codex")
        retries = "0" if fast_errors else "4"
        stream_retries = "0" if fast_errors else "5"
        _write(os.path.join(codex_home, "config.toml"), f"""\
# written by tests/e2e/agentenv.py
model = "{CODEX_MODEL}"
model_provider = "mock"

[model_providers.mock]
name = "Mock"
base_url = "{mock_url}/v1"
wire_api = "responses"
env_key = "MOCK_API_KEY"
request_max_retries = {retries}
stream_max_retries = {stream_retries}

[projects."{workdir}"]
trust_level = "trusted"
""", files)
        env.update({"CODEX_HOME": codex_home, "MOCK_API_KEY": MOCK_KEY})
        return env, files

    if agent == "opencode":
        cfg = {
            "$schema": "https://opencode.ai/config.json",
            "provider": {"mock": {
                "npm": "@ai-sdk/openai-compatible", "name": "Mock",
                "options": {"baseURL": mock_url + "/v1", "apiKey": MOCK_KEY},
                "models": {"mock-model": {"name": "Mock Model",
                                          "tool_call": True,
                                          "reasoning": True}}}},
            "model": "mock/mock-model",
            "small_model": "mock/mock-model",
            "autoupdate": False,
            "share": "disabled",
            "permission": {"bash": "ask", "edit": "ask"},
        }
        _write(os.path.join(home_dir, ".config", "opencode",
                            "opencode.json"), json.dumps(cfg, indent=2),
               files)
        env.update({"OPENCODE_DISABLE_MODELS_FETCH": "1",
                    "XDG_CONFIG_HOME": os.path.join(home_dir, ".config"),
                    "XDG_DATA_HOME": os.path.join(home_dir, ".local",
                                                  "share")})
        return env, files

    if agent == "gemini":
        _write(os.path.join(home_dir, ".gemini", "settings.json"),
               json.dumps({"security": {"auth": {
                   "selectedType": "gemini-api-key"}}}, indent=2), files)
        env.update({"GEMINI_API_KEY": MOCK_KEY,
                    "GOOGLE_GEMINI_BASE_URL": mock_url,
                    "GEMINI_MODEL": GEMINI_MODEL})
        return env, files

    if agent == "pi":
        agent_dir = os.path.join(home_dir, ".pi", "agent")
        _write(os.path.join(agent_dir, "models.json"), json.dumps({
            "providers": {"mock": {
                "baseUrl": mock_url + "/v1", "api": "openai-completions",
                "apiKey": "MOCK_API_KEY",
                "compat": {"supportsDeveloperRole": False},
                # images too, for attachments; a second model for a
                # model change (issue 15)
                "models": [{"id": "mock-model", "reasoning": True,
                            "input": ["text", "image"]},
                           {"id": "mock-model-2", "reasoning": True,
                            "input": ["text", "image"]}]}}},
            indent=2), files)
        env.update({"PI_CODING_AGENT_DIR": agent_dir, "PI_OFFLINE": "1",
                    "MOCK_API_KEY": MOCK_KEY})
        return env, files

    raise ValueError("agent_env: unknown agent %r" % agent)


# Extra arguments each CLI needs on top of its protocol arguments when it
# runs against the mock.
AGENT_ARGS = {
    "claude": [],
    "codex": [],
    "opencode": [],
    "gemini": ["-m", GEMINI_MODEL],
    "pi": ["--model", "mock/mock-model"],
}
