#!/usr/bin/env bash
# suite-timeout: 1500
# The real agent CLIs through agentd against tests/mockmodel (make e2e).
# Skips, with a line saying so, where the npm registry cannot be reached.
set -u
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/run.py" --agentd "$1" --agents "${E2E_AGENTS:-claude,codex,opencode,gemini,pi,claude-agent-acp,codex-acp}"
