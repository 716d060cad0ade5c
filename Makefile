# agentd: one static musl binary. See README.md and docs/.
#
#   make            build/agentd, static musl (toolchain/ builds the deps once)
#   make run        build and serve on 127.0.0.1:2468
#   make test       unit + integration tests, ends with "N passed, N failed"
#   make dev        build/agentd-dev against Debian's -dev packages, ASan+UBSan
#   make dist       build/dist/agentd and agentd-linux-arm64, stripped
#   make lint       clang-format check, cppcheck, clang-tidy
#   make tidy       clang-tidy alone

VERSION		 = 0.1.0
CC_MUSL		?= musl-gcc
CC_HOST		?= gcc
WARN		 = -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
		   -Wpointer-arith -Wmissing-prototypes -Wstrict-prototypes
CSTD		 = -std=c11 -D_GNU_SOURCE -fno-strict-aliasing
DEFS		 = -DAGENTD_VERSION='"$(VERSION)"'

RECIPE		 = toolchain/build-deps.sh toolchain/versions \
		   $(sort $(wildcard toolchain/patches/*.patch))
RECIPE_HASH	:= $(shell cat $(RECIPE) 2>/dev/null | sha256sum | cut -c1-12)
DEPS		 = .deps/musl-$(RECIPE_HASH)
DEPS_STAMP	 = $(DEPS)/.done
# linux arm64: the same deps cross-built (toolchain/build-deps.sh ... aarch64)
DEPS_ARM64	 = .deps/musl-aarch64-$(RECIPE_HASH)
CC_ARM64	 = $(DEPS_ARM64)/cross/bin/aarch64-linux-musl-gcc

# The daemon's layers, bottom first (docs/internals.md): each folder of
# supervisor/ calls only the folders before it in this list.
LAYERS		 = compat protocol supervisor/core supervisor/host adapters \
		   supervisor/session supervisor/fake supervisor/http \
		   supervisor/cli
SRCS		 = $(sort $(foreach d,$(LAYERS),$(wildcard $(d)/*.c)))
LIB_SRCS	 = $(filter-out supervisor/cli/main.c,$(SRCS))
HDRS		 = $(foreach d,$(LAYERS),$(wildcard $(d)/*.h))

MUSL_OBJS	 = $(SRCS:%.c=build/musl/%.o)
ARM64_OBJS	 = $(SRCS:%.c=build/arm64/%.o)
UNIT_SRCS	 = $(sort $(wildcard tests/unit/test_*.c))

# Host builds (unit tests, make dev) use Debian's -dev packages; SAN=1 adds
# ASan and UBSan to them and makes the integration suite use agentd-dev.
ifeq ($(SAN),1)
HOST_DIR	 = build/san
HOST_SAN	 = -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
AGENTD_BIN	 = build/agentd-dev
else
HOST_DIR	 = build/host
HOST_SAN	 =
AGENTD_BIN	 = build/agentd
endif
HOST_CFLAGS	 = $(CSTD) $(WARN) $(DEFS) -g -O1 $(HOST_SAN) \
		   -DAGENTD_DEV_LWS -I/usr/include/cjson
HOST_LIBS	 = -lwebsockets -lev -lcjson -lm
HOST_LIB_OBJS	 = $(LIB_SRCS:%.c=$(HOST_DIR)/%.o)
UNIT_BINS	 = $(UNIT_SRCS:tests/unit/%.c=$(HOST_DIR)/tests/%)

# Quiet by default: "  CC file.c"; make V=1 shows the commands.
ifeq ($(V),1)
Q	 =
else
Q	 = @
endif

all: build/agentd

$(DEPS_STAMP): $(RECIPE)
	toolchain/build-deps.sh $(DEPS)

# The recipe the objects were built against, rewritten only when it
# changes: going back to deps built earlier (their stamp older than the
# objects) must rebuild and relink too.
build/deps.id: FORCE
	@mkdir -p $(@D)
	@echo $(RECIPE_HASH) | cmp -s - $@ || echo $(RECIPE_HASH) > $@
FORCE:

build/musl/%.o: %.c $(HDRS) $(DEPS_STAMP) build/deps.id
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC_MUSL) $(CSTD) $(WARN) $(DEFS) -Os -ffunction-sections \
	    -fdata-sections -isystem $(DEPS)/prefix/include -c $< -o $@

build/agentd: $(MUSL_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC_MUSL) -static -Wl,--gc-sections -o $@ $(MUSL_OBJS) \
	    -L$(DEPS)/prefix/lib -lwebsockets -lev -lcjson

$(DEPS_ARM64)/.done: $(RECIPE)
	toolchain/build-deps.sh $(DEPS_ARM64) aarch64

build/arm64/%.o: %.c $(HDRS) $(DEPS_ARM64)/.done build/deps.id
	@mkdir -p $(@D)
	@echo "  CC      $< (arm64)"
	$(Q)$(CC_ARM64) $(CSTD) $(WARN) $(DEFS) -Os -ffunction-sections \
	    -fdata-sections -isystem $(DEPS_ARM64)/prefix/include -c $< -o $@

build/agentd-arm64: $(ARM64_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC_ARM64) -static -Wl,--gc-sections -o $@ $(ARM64_OBJS) \
	    -L$(DEPS_ARM64)/prefix/lib -lwebsockets -lev -lcjson

# build/dist/agentd is x86-64 (what toolchain/Dockerfile copies), beside
# it agentd-linux-arm64 (make test-arm64 runs it under qemu: tests/arm64/).
dist: build/dist/agentd build/dist/agentd-linux-arm64
	@ls -l $^

build/dist/agentd: build/agentd
	@mkdir -p $(@D)
	strip -o $@ build/agentd

build/dist/agentd-linux-arm64: build/agentd-arm64
	@mkdir -p $(@D)
	aarch64-linux-gnu-strip -o $@ build/agentd-arm64

# Debian's -dev packages for host builds (toolchain/host-deps.sh installs
# them where missing, as root).
HOST_STAMP	 = build/.host-deps

$(HOST_STAMP): toolchain/host-deps.sh
	toolchain/host-deps.sh $@

$(HOST_DIR)/%.o: %.c $(HDRS) | $(HOST_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $< ($(HOST_DIR))"
	$(Q)$(CC_HOST) $(HOST_CFLAGS) -c $< -o $@

dev: build/agentd-dev
build/agentd-dev: $(HOST_LIB_OBJS) $(HOST_DIR)/supervisor/cli/main.o
	@echo "  LD      $@"
	$(Q)$(CC_HOST) $(HOST_SAN) -o $@ $^ $(HOST_LIBS)

# For valgrind (tests/valgrind): the host build without sanitizers.
build/agentd-vg: $(LIB_SRCS:%.c=build/host/%.o) build/host/supervisor/cli/main.o
	@echo "  LD      $@"
	$(Q)$(CC_HOST) -o $@ $^ $(HOST_LIBS)

$(HOST_DIR)/tests/%: tests/unit/%.c tests/unit/test.h tests/unit/scratch.h \
    tests/unit/run.h $(HOST_LIB_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC_HOST) $(HOST_CFLAGS) -Wno-missing-prototypes -o $@ $< \
	    $(HOST_LIB_OBJS) $(HOST_LIBS)

run: build/agentd
	build/agentd serve --host 127.0.0.1 --port 2468

# Suites beyond unit and integration, each tests/<name>/suite.sh: make
# test runs them all, as CI does (about 30 minutes, with about 10 for e2e
# and 5 for chaos); `make test SUITES=` runs only the
# unit and integration tests (about 2 minutes). tests/agentsimage (make
# test-agents-image, 6-20 minutes cold) is not among them.
SUITES		?= lint openapi client pyclient ui proxy acp sandbox e2e chaos \
		   fuzz san valgrind image fresh arm64 metrics

# The layer rule (tests/lint/layers.py) runs first, on the host objects.
test: $(AGENTD_BIN) $(UNIT_BINS) $(HOST_DIR)/supervisor/cli/main.o
	AGENTD_SAN=$(SAN) SUITES="$(SUITES)" LAYERS_OBJDIR=$(HOST_DIR) \
	    LAYERS="$(LAYERS)" tests/run.sh $(AGENTD_BIN) \
	    tests/lint/layers.sh $(UNIT_BINS)

# One format (.clang-format), cppcheck and clang-tidy (.clang-tidy) clean,
# as tests/lint checks in make test.
LINT_SRCS	 = $(shell git ls-files '*.c' '*.h' | grep -v '^clients/')
lint:
	clang-format --dry-run --Werror $(LINT_SRCS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	    --inline-suppr -D__GNUC__ --std=c11 -I compat -I protocol \
	    -I adapters $(SRCS)
	@$(TIDY)

# clang-tidy, any warning an error (make tidy; tests/lint runs it). One
# run per file, two at a time: given several files, clang-tidy 14 takes
# every va_list after the first file's to be uninitialized. Its stderr
# only counts the warnings of the headers it does not report.
TIDY		 = command -v clang-tidy >/dev/null || \
		   { echo "make: clang-tidy is not installed" >&2; exit 1; }; \
		   printf '%s\n' $(SRCS) | xargs -P2 -I{} clang-tidy -quiet \
		   --warnings-as-errors='*' {} -- $(CSTD) $(DEFS) \
		   -I/usr/include/cjson 2>/dev/null
tidy:
	@$(TIDY)

clean:
	rm -rf build

.PHONY: all dist dev run test lint tidy clean

# Suites kept beside their code: bench (make bench), fuzz (make fuzz),
# faults and load (make chaos), end-to-end with real CLIs (make e2e).
-include tests/bench/bench.mk tests/fuzz/fuzz.mk tests/chaos/chaos.mk \
    tests/e2e/e2e.mk ui/ui.mk docs/openapi.mk tests/image/image.mk
