# fuzz.mk: libFuzzer harnesses for bertc's parsers (see docs/fuzzing.md).
# src/ is compiled without -fopenmp (fuzz/shim/omp.h) and without -Werror: the
# main build checks its warnings; here unused OpenMP-only parameters would trip it.
# Used by the top-level Makefile:  make fuzz [FUZZ_SECONDS=600] [FUZZ_TARGETS="safetensors vocab"]
#   build    build-fuzz/fuzz_NAME for every fuzz/fuzz_NAME.c (clang, ASan + UBSan + libFuzzer)
#   run      each harness in turn for FUZZ_SECONDS on fuzz/corpus/NAME (seeds, read-only)
#            plus build-fuzz/corpus/NAME (what it finds), after replaying fuzz/regressions/NAME;
#            crashes are written to build-fuzz/crashes/NAME/ and stop the run with an error.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 10
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
                -Wall -Wextra -Werror -Wno-unknown-pragmas -Wno-error=deprecated-declarations \
                -Ifuzz/shim -Isrc $(shell pkg-config --cflags cairo 2>/dev/null)
FUZZ_LDLIBS  := -lopenblas -ldnnl -lutf8proc -lcjson -larchive -lmicrohttpd -lcurl -lz -lwordnet \
                $(shell pkg-config --libs cairo 2>/dev/null) -lm -lpthread
FUZZ_SRC     := $(filter-out src/ops_cpu.c,$(wildcard src/*.c src/tasks/*.c))
FUZZ_OBJ     := $(FUZZ_SRC:src/%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/ops_cpu.native.o
FUZZ_HARN    := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES   := $(FUZZ_HARN:fuzz/fuzz_%.c=%)
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: build run
build: $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-error -Wno-unused-parameter -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

# The kernels as the main Makefile builds them: one copy, its symbols suffixed
# _native except global ones src/cpu_dispatch.c does not call through its table.
$(FUZZ_BUILD)/obj/ops_cpu.native.o: src/ops_cpu.c $(FUZZ_BUILD)/obj/cpu_dispatch.o
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-error -Wno-unused-parameter -fsanitize=fuzzer-no-link -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.raw
	nm --defined-only $@.raw | awk -v want="$$(nm -u $(FUZZ_BUILD)/obj/cpu_dispatch.o | awk '{ print $$2 }')" \
	    'BEGIN { n = split(want, w, "\n"); for (i = 1; i <= n; i++) called[w[i]] = 1 } \
	     NF == 3 && !($$2 ~ /^[TDBRW]$$/ && !(($$3 "_native") in called)) { print $$3, $$3 "_native" }' | sort -u >$@.syms
	objcopy --redefine-syms=$@.syms $@.raw $@
	@rm -f $@.raw $@.syms

$(FUZZ_BUILD)/libbertc.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_util.h $(FUZZ_BUILD)/libbertc.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< -o $@ $(FUZZ_BUILD)/libbertc.a $(FUZZ_LDLIBS)

-include $(FUZZ_OBJ:.o=.d)
$(FUZZ_OBJ:.o=.d): ;

# -rss_limit_mb: a harness may not use more than 2 GB (a parser that trusts a size
# from its input shows up as an OOM crash). -max_len caps inputs at 64 KiB.
run: build
	@set -e; for n in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/crashes/$$n; \
	    if [ -d fuzz/regressions/$$n ] && [ -n "$$(ls fuzz/regressions/$$n)" ]; then \
	        echo "fuzz: $$n: replaying fuzz/regressions/$$n"; \
	        $(FUZZ_BUILD)/fuzz_$$n -runs=0 fuzz/regressions/$$n/* >$(FUZZ_BUILD)/$$n.regress.log 2>&1 || \
	            { tail -30 $(FUZZ_BUILD)/$$n.regress.log; echo "fuzz: $$n: a regression input fails"; exit 1; }; \
	    fi; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	    $(FUZZ_BUILD)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=65536 \
	        -timeout=10 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$n/ \
	        $(FUZZ_BUILD)/corpus/$$n fuzz/corpus/$$n >$(FUZZ_BUILD)/$$n.log 2>&1 || \
	        { tail -40 $(FUZZ_BUILD)/$$n.log; echo "fuzz: $$n: crash, input in $(FUZZ_BUILD)/crashes/$$n/"; exit 1; }; \
	    grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb" $(FUZZ_BUILD)/$$n.log | sed "s/^/fuzz: $$n: /"; \
	done
