# make e2e: the pinned real CLIs through agentd against our mock model.
# make fixtures: the same run, recording every scenario's stdio and
# universal stream into tests/fixtures/<agent>/ for the golden tests.
E2E_AGENTS	?= claude,codex,opencode,gemini,pi,claude-agent-acp,codex-acp

e2e: build/agentd
	E2E_AGENTS=$(E2E_AGENTS) tests/e2e/suite.sh build/agentd

fixtures: build/agentd
	python3 tests/e2e/run.py --agentd build/agentd --agents $(E2E_AGENTS) \
	    --record

.PHONY: e2e fixtures
