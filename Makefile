# myobench - one non-recursive Makefile.
#
#   make            build $(BUILD)/myobench and $(BUILD)/libmyobench.a
#   make test       install missing Debian packages, build, run the Criterion suite
#   make demo       install missing packages, build, run the main job on the embedded default
#   make asan       build and run the tests under AddressSanitizer + UBSan (in build-asan/)
#   make bench      build and run the benchmarks (prints ratios measured in one run)
#
# Benchmarks run with OMP_WAIT_POLICY=passive: on a shared 2-core machine,
# spinning OpenMP workers collapse when another process holds a core.
#
# Every .c file under the library folders goes into libmyobench.a; cli/ is only
# in the binary, so tests and benchmarks link exactly the code the tool runs.

BUILD   ?= build
CC      ?= cc
# gsl stays last: the -lgslcblas it brings then follows -lopenblas, so cblas_*
# still resolve to OpenBLAS.
PKGS    := hdf5 matio libpcre2-8 libcrypto yaml-0.1 libcyaml jansson fftw3f sqlite3 lapacke openblas zlib gsl
LIBDIRS := core format synth converters kernels kernels/nn baselines protocols reports harness methods

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lsvm
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

OPT     ?= -O2
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
# CI builds (CI=true, as .ci/run gets it) and WERROR=1 turn warnings into errors.
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARN    += -Werror
endif
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -fopenmp $(WARN) -I. $(PKG_CFLAGS) $(CFLAGS) $(SAN)
LDLIBS  := $(PKG_LIBS) -fopenmp -lm $(SAN)

LIB_SRC   := $(foreach d,$(LIBDIRS),$(wildcard $(d)/*.c))
CLI_SRC   := $(wildcard cli/*.c)
TEST_SRC  := $(wildcard tests/*.c)
BENCH_SRC := $(wildcard bench/*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/%.o)

LIB       := $(BUILD)/libmyobench.a
BIN       := $(BUILD)/myobench
TEST_BIN  := $(BUILD)/tests/run_unit
BENCH_BIN := $(BUILD)/bench/run_bench

# Real recordings for tests live beside the repository, never inside it.
MB_REAL_DATA ?= $(abspath ../shared/data/real)
TEST_JOBS    ?= 2
export MB_REAL_DATA

.PHONY: all deps test demo asan bench clean
all: $(BIN)

deps:
	@./scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(TEST_BIN): $(TEST_OBJ) $(LIB) $(BIN)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(TEST_OBJ) $(LIB) $(LDLIBS) $(CRIT_LIBS)

$(BENCH_BIN): $(BENCH_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(BENCH_OBJ) $(LIB) $(LDLIBS)

# The tests call the binary as a user would (exit codes, stderr), so they
# are told where it is. OMP_NUM_THREADS is small because Criterion forks.
test: deps
	@$(MAKE) --no-print-directory $(TEST_BIN)
	MB_BIN=$(abspath $(BIN)) OMP_NUM_THREADS=2 $(TEST_BIN) --jobs $(TEST_JOBS) $(TEST_ARGS)

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	./scripts/demo.sh $(BIN) $(if $(QUICK),--quick)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    build-asan/tests/run_unit build-asan/myobench
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    MB_BIN=$(abspath build-asan/myobench) OMP_NUM_THREADS=2 build-asan/tests/run_unit --jobs $(TEST_JOBS) $(TEST_ARGS)

bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BIN) $(BIN)
	OMP_WAIT_POLICY=passive $(BENCH_BIN) $(BENCH_ARGS)

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d)
