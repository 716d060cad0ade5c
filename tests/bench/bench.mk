# make bench: tests/bench/bench.py measures agentd (and sandbox-agent 0.4.2
# where npm can install it) and prints one table; figures also go to
# build/bench.json. See docs/performance.md.

BENCH_CFLAGS	 = -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
		   -Wno-unused-parameter -isystem $(DEPS)/prefix/include

build/bench/loadgen: tests/bench/loadgen.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC_MUSL) -static $(BENCH_CFLAGS) -o $@ $< \
	    -L$(DEPS)/prefix/lib -lwebsockets -lev -lcjson

# The floor finds newlines with agentd's own search (protocol/memfind.c).
build/bench/floor: tests/bench/floor.c protocol/memfind.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC_MUSL) -static $(BENCH_CFLAGS) -o $@ $< protocol/memfind.c \
	    -L$(DEPS)/prefix/lib -lwebsockets -lev

build/bench/tsagent: tests/bench/tsagent.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC_MUSL) -static $(BENCH_CFLAGS) -o $@ $< \
	    -L$(DEPS)/prefix/lib -lcjson

bench: build/agentd build/bench/loadgen build/bench/tsagent build/bench/floor
	@mkdir -p build/dist
	strip -o build/dist/agentd build/agentd
	python3 tests/bench/bench.py --agentd build/agentd \
	    --stripped build/dist/agentd --loadgen build/bench/loadgen \
	    --tsagent build/bench/tsagent --floor build/bench/floor \
	    --json build/bench.json $(BENCH_ARGS)

.PHONY: bench
