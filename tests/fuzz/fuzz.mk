# tests/fuzz/fuzz.mk: libFuzzer targets (included by the Makefile).
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="jsonl acp"] [FUZZ_JOBS=1]
#	build every target with clang-14, -fsanitize=fuzzer,address,undefined
#	into build/fuzz/<target>, then run each for FUZZ_SECONDS on its
#	corpus (tests/fuzz/corpus/<target>, seeds derived from
#	tests/fixtures/ into build/fuzz/seeds/<target>, the regression inputs
#	of tests/fuzz/regress/<target>). New inputs go to build/fuzz/work/;
#	a crash stops make and leaves build/fuzz/artifacts/<target>-crash-*:
#	fix it, then copy the input into tests/fuzz/regress/<target>/.
#   make fuzz-replay
#	build each target as a plain program (host compiler, ASan with
#	SAN=1) that runs the saved inputs once; `make test` runs them too
#	(tests/fuzz/replay.sh is added to its suites below).
#   make fuzz-build
#	build the libFuzzer binaries only.

FUZZ_CC		?= clang-14
FUZZ_SECONDS	?= 60
FUZZ_JOBS	?= 1
FUZZ_TARGETS	?= jsonl json jsonrpc event_scan acp claude api ws store inflate \
		   tar
FUZZ_DIR	 = build/fuzz
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer
FUZZ_CFLAGS	 = $(CSTD) $(DEFS) -g -O1 $(FUZZ_SAN) -DAGENTD_DEV_LWS \
		   -I/usr/include/cjson -Wall -Wno-unused-parameter
FUZZ_BASE	 = $(sort $(wildcard compat/*.c protocol/*.c))
FUZZ_HDRS	 = $(HDRS) $(wildcard tests/fuzz/*.h)

# Sources of each target beyond compat/ and protocol/.
FUZZ_SRC_jsonl		 = tests/fuzz/fuzz_jsonl.c
FUZZ_SRC_json		 = tests/fuzz/fuzz_json.c
FUZZ_SRC_jsonrpc	 = tests/fuzz/fuzz_jsonrpc.c
FUZZ_SRC_event_scan	 = tests/fuzz/fuzz_event_scan.c
FUZZ_SRC_inflate	 = tests/fuzz/fuzz_inflate.c
FUZZ_SRC_acp		 = tests/fuzz/fuzz_acp.c tests/fuzz/host_stub.c \
			   supervisor/host/host.c \
			   $(sort $(wildcard adapters/*.c))
FUZZ_SRC_claude		 = tests/fuzz/fuzz_claude.c tests/fuzz/host_stub.c \
			   supervisor/host/host.c \
			   $(sort $(wildcard adapters/*.c))
FUZZ_SRC_api		 = tests/fuzz/fuzz_api.c tests/fuzz/session_stub.c \
			   supervisor/http/api.c supervisor/http/reply.c supervisor/core/options.c \
			   supervisor/http/sandbox.c
FUZZ_SRC_ws		 = tests/fuzz/fuzz_ws.c tests/fuzz/session_stub.c \
			   supervisor/http/api.c supervisor/http/reply.c supervisor/core/options.c \
			   supervisor/http/auth.c supervisor/http/guard.c \
			   supervisor/http/sandbox.c tests/fuzz/loop_stub.c
FUZZ_SRC_store		 = tests/fuzz/fuzz_store.c supervisor/core/store.c
FUZZ_SRC_tar		 = tests/fuzz/fuzz_tar.c
FUZZ_LIBS		 = -lcjson -lm
FUZZ_LIBS_ws		 = -lwebsockets

FUZZ_BINS	 = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
FUZZ_REPLAY	 = $(FUZZ_TARGETS:%=$(HOST_DIR)/fuzz/%-replay)

# clang and its libFuzzer runtime, installed where missing (as root).
FUZZ_STAMP	 = build/.fuzz-deps
$(FUZZ_STAMP): toolchain/host-deps.sh
	toolchain/host-deps.sh $@ clang-14 libclang-rt-14-dev libev-dev \
	    libcjson-dev libwebsockets-dev

$(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_HDRS) | $(FUZZ_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# One libFuzzer binary and one replay program per target.
define FUZZ_TARGET_RULES
$(FUZZ_DIR)/$(1): $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRC_$(1)) \
    $(FUZZ_BASE))
	@echo "  LD      $$@"
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ \
	    $(FUZZ_LIBS_$(1)) $(FUZZ_LIBS)

$(HOST_DIR)/fuzz/$(1)-replay: $(HOST_DIR)/fuzz/obj/replay-$(1).o \
    $(patsubst tests/fuzz/%.c,$(HOST_DIR)/fuzz/obj/%.o,$(filter \
    tests/fuzz/%,$(FUZZ_SRC_$(1)))) \
    $(patsubst %.c,$(HOST_DIR)/%.o,$(filter-out tests/fuzz/%, \
    $(FUZZ_SRC_$(1))) $(FUZZ_BASE))
	@echo "  LD      $$@"
	$(Q)$(CC_HOST) $(HOST_SAN) -o $$@ $$^ $(FUZZ_LIBS_$(1)) $(FUZZ_LIBS)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_TARGET_RULES,$(t))))

# Replay programs: product objects of the host build, test files here.
$(HOST_DIR)/fuzz/obj/%.o: tests/fuzz/%.c $(FUZZ_HDRS) | $(HOST_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $< ($(HOST_DIR))"
	$(Q)$(CC_HOST) $(CSTD) $(DEFS) -g -O1 $(HOST_SAN) -DAGENTD_DEV_LWS \
	    -I/usr/include/cjson -Wall -Wno-unused-parameter -c $< -o $@

$(HOST_DIR)/fuzz/obj/replay-%.o: tests/fuzz/replay.c tests/fuzz/fuzz.h | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC_HOST) $(CSTD) -g -O1 $(HOST_SAN) -Wall \
	    -DFUZZ_TARGET='"$*"' -c $< -o $@

fuzz-build: $(FUZZ_BINS)

fuzz-replay: $(FUZZ_REPLAY)
	@tests/fuzz/replay.sh $(FUZZ_REPLAY)

fuzz: $(FUZZ_BINS)
	@python3 tests/fuzz/seeds.py $(FUZZ_DIR)/seeds
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
	    tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_TARGETS)

# make test also replays the saved inputs (one suite, one summary line).
# The test rule's recipe expands UNIT_BINS when it runs, so this adds one
# command to tests/run.sh's list; the prerequisite builds the programs.
# A harness that no longer links (api.c grew a dependency its stubs lack)
# must not stop the other suites: the build failure is ignored here and
# replay.sh counts a missing program as a failed suite.
test: fuzz-replay-build
fuzz-replay-build:
	-$(Q)$(MAKE) --no-print-directory -k $(FUZZ_REPLAY)
UNIT_BINS	+= tests/fuzz/replay.sh
export FUZZ_REPLAY

.PHONY: fuzz fuzz-build fuzz-replay fuzz-replay-build
