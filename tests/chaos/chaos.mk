# tests/chaos/chaos.mk: crash consistency and load (included by the Makefile).
#
#   make chaos [CHAOS_KILLS=50] [LOAD_SECONDS=60] [CHAOS_SEED=N]
#	1. tests/chaos/chaos.py: kill -9 agentd CHAOS_KILLS times in the
#	   middle of streaming sessions; after each restart check that every
#	   event a client received survived, sequences are contiguous, the log
#	   has no torn line, and resumed SSE/WS clients see no gap or duplicate.
#	2. tests/integration/test_load.py with LOAD_SECONDS (default 60 here,
#	   10 in make test): 200 WebSocket clients over 20 sessions, RSS bound,
#	   10,000 malformed HTTP requests.
#	Both print their figures and end with "N passed, M failed".

CHAOS_KILLS	?= 50
LOAD_SECONDS	?= 60

chaos: $(AGENTD_BIN)
	CHAOS_KILLS=$(CHAOS_KILLS) python3 tests/chaos/chaos.py \
	    --agentd $(AGENTD_BIN)
	LOAD_SECONDS=$(LOAD_SECONDS) python3 tests/integration/run.py \
	    --agentd $(AGENTD_BIN) -k test_load

.PHONY: chaos
