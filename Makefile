# bertc: BERT text classification in C.
#   make            build build/bertc and build/libbertc.a
#   make test       install what is needed, build (-Werror), generate reference
#                   fixtures with PyTorch/transformers, run all tests, then the
#                   sanitizer tests (asan-test)
#   make asan-test  build with AddressSanitizer + UBSan into build-asan/ and run the tests
#   make demo       the notebook end to end on the embedded defaults
#   make demo-ner   named-entity recognition on CoNLL-2003 end to end (tools/demo_ner.sh)
#   make bench      benchmarks against PyTorch / ONNX Runtime (never in CI)
#   make fuzz       libFuzzer harnesses (fuzz/) under ASan+UBSan, FUZZ_SECONDS each (default 10)
#   make deps       only the installs (tools/setup.sh all)
#   make WITH_MPI=0 build without MPI (default: with it when pkg-config finds one;
#                   data-parallel training, docs/distributed.md; use a clean BUILD dir
#                   when switching); bench/mpi_scaling.sh measures it
#   make install PREFIX=/usr/local [DESTDIR=]  bin/bertc, lib/libbertc.so.0.1.0 (soname
#                   libbertc.so.0, only include/bertc.h's functions exported), lib/libbertc.a,
#                   include/bertc.h, lib/pkgconfig/bertc.pc; built apart in build-install/
#   make wheel      the Python package (python/) as a wheel in build/wheel/, libbertc.so bundled
#   make pylib      only the shared library the Python package loads (build-install/libbertc.so.0.1.0)
#                   by `make portable` (x86-64-v3 baseline, AVX-512 kernels picked at run time)
#   make PORTABLE=1 the same portable tuning into build-portable/ (docs/portable.md)

PYTHON  ?= python3
CC      ?= gcc
# PORTABLE=1: the distribution build (docs/portable.md): everything for x86-64-v3
# (AVX2+FMA), bertc's kernels (src/ops_cpu.c) also for x86-64-v4 (AVX-512), the
# level picked at run time (src/cpu_dispatch.h). Without it: -march=native.
PORTABLE ?=
ifeq ($(PORTABLE),1)
BUILD   ?= build-portable
OPT     ?= -O3 -march=x86-64-v3 -mtune=generic
KERNEL_LEVELS := avx2 avx512
PORTDEF := -DBERTC_PORTABLE=1
else
BUILD   ?= build
OPT     ?= -O3 -march=native
KERNEL_LEVELS := native
PORTDEF :=
endif
# Flags of each kernel level (after OPT, so their -march wins).
KFLAGS_native :=
KFLAGS_avx2   := -march=x86-64-v3
KFLAGS_avx512 := -march=x86-64-v4 -mprefer-vector-width=512
SAN     ?=
PIC     ?=
PKGS    := cairo
WARN    := -Wall -Wextra -Werror -Wno-error=deprecated-declarations
CFLAGS  := -std=c11 -D_GNU_SOURCE -Isrc -g $(OPT) $(SAN) $(PIC) $(PORTDEF) -fopenmp -fno-math-errno $(WARN) \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := -lopenblas -ldnnl -lutf8proc -lcjson -larchive -lmicrohttpd -lcurl -lz -lwordnet \
           $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
LDFLAGS := -fopenmp $(SAN)
# MPI for data-parallel training (src/dist.c, docs/distributed.md): on when
# pkg-config finds an MPI (Debian's mpi.pc follows the mpi alternative: Open MPI
# or MPICH; ompi-c and mpich are tried after it). make WITH_MPI=0 builds
# without it (one process only), WITH_MPI=1 insists on it.
MPI_PC  := $(firstword $(foreach p,mpi ompi-c mpich,$(shell pkg-config --exists $(p) 2>/dev/null && echo $(p))))
WITH_MPI ?= $(if $(MPI_PC),1,0)
ifeq ($(WITH_MPI),1)
ifeq ($(MPI_PC),)
$(error WITH_MPI=1 but pkg-config finds no MPI (mpi, ompi-c or mpich): apt-get install libopenmpi-dev)
endif
CFLAGS  += -DBERTC_WITH_MPI $(shell pkg-config --cflags $(MPI_PC))
LDLIBS  += $(shell pkg-config --libs $(MPI_PC))
endif

SRC      := $(filter-out src/ops_cpu.c,$(wildcard src/*.c src/tasks/*.c))
OBJ      := $(SRC:src/%.c=$(BUILD)/obj/%.o) $(KERNEL_LEVELS:%=$(BUILD)/obj/ops_cpu.%.o)
# The reference kernels (ops_ref.c) define what each op means; only tests and
# benchmarks run them, so they are linked into those and kept out of the library.
REF_OBJ  := $(BUILD)/obj/ops_ref.o
LIB_OBJ  := $(filter-out $(REF_OBJ),$(OBJ))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
GEN      := $(wildcard tools/gen_*.py)
STAMPS   := $(GEN:tools/gen_%.py=build/fixtures/%.stamp)

.PHONY: all deps test check asan-test fixtures demo demo-ner bench fuzz clean install portable pylib wheel
all: $(BUILD)/bertc $(BUILD)/libbertc.a $(TEST_BIN)

# The flags a build directory was compiled with: rewritten only when they change,
# so that a directory built once native and once portable (or with another OPT)
# is recompiled instead of mixing objects of both.
.PHONY: FORCE
$(BUILD)/cflags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS) kernels: $(KERNEL_LEVELS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) kernels: $(KERNEL_LEVELS)' >$@

$(BUILD)/obj/%.o: src/%.c $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The fast kernels, once per level of KERNEL_LEVELS (ops_cpu.LEVEL.o). Every
# symbol the copy defines gets the suffix _LEVEL (objcopy --redefine-syms from
# its nm), so the copies link side by side and src/cpu_dispatch.c picks one;
# except, in the first (baseline) copy, a global function cpu_dispatch.c does
# not call through its table (a kernel not yet listed there): it keeps its name
# and runs at the baseline level, undispatched, rather than failing to link.
# Without -fno-trapping-math GCC will not if-convert the
# selects in exp_v/erf_v (GELU, softmax) and a dozen other loops without
# AVX-512's masked compares, so on AVX2 they ran scalar (GELU was 32% of a
# training step). It changes no value: no reassociation or contraction, only
# permission to evaluate comparisons that could raise a floating-point flag.
$(BUILD)/obj/ops_cpu.%.o: src/ops_cpu.c $(BUILD)/obj/cpu_dispatch.o $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fno-trapping-math $(KFLAGS_$*) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.raw
	nm --defined-only $@.raw | awk -v want="$$(nm -u $(BUILD)/obj/cpu_dispatch.o | awk '{ print $$2 }')" \
	    -v base=$(if $(filter $*,$(firstword $(KERNEL_LEVELS))),1,0) \
	    'BEGIN { n = split(want, w, "\n"); for (i = 1; i <= n; i++) called[w[i]] = 1 } \
	     NF == 3 && !(base && $$2 ~ /^[TDBRW]$$/ && !(($$3 "_$*") in called)) { print $$3, $$3 "_$*" }' | sort -u >$@.syms
	objcopy --redefine-syms=$@.syms $@.raw $@
	@rm -f $@.raw $@.syms

$(BUILD)/libbertc.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The static library as installed: each global symbol it defines that does not
# start with bertc_ gets the prefix bertc__ (st_open -> bertc__st_open), in the
# definitions and in the references between its members (objcopy --redefine-syms,
# the list made from its own nm, so references to libc or OpenBLAS stay as they
# are). The source keeps its short module names; tests and the CLI link the
# unprefixed $(BUILD)/libbertc.a.
$(BUILD)/dist/libbertc.a: $(BUILD)/libbertc.a
	@mkdir -p $(dir $@)
	nm -g --defined-only $< | awk 'NF == 3 && $$3 !~ /^bertc_/ { print $$3, "bertc__" $$3 }' | sort -u >$@.syms
	objcopy --redefine-syms=$@.syms $< $@
	@rm -f $@.syms

# The shared library (make install builds it with PIC="-fPIC -fvisibility=hidden").
VERSION := 0.1.0
SOMAJOR := 0
$(BUILD)/libbertc.so.$(VERSION): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libbertc.so.$(SOMAJOR) -Wl,--no-undefined -o $@ $^ $(LDFLAGS) $(LDLIBS)

CLI_SRC  := $(wildcard cli/*.c)
$(BUILD)/bertc: $(CLI_SRC) $(wildcard cli/*.h) $(BUILD)/libbertc.a
	$(CC) $(CFLAGS) $(CLI_SRC) -o $@ $(BUILD)/libbertc.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(REF_OBJ) $(BUILD)/libbertc.a tests/test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $< -o $@ $(REF_OBJ) $(BUILD)/libbertc.a $(LDFLAGS) $(LDLIBS)

-include $(OBJ:.o=.d)
$(OBJ:.o=.d): ;  # made by the compiler (-MMD), never by a rule

deps:
	tools/setup.sh all

# Reference fixtures: tools/gen_NAME.py OUTDIR writes build/fixtures/NAME/.
fixtures: $(STAMPS)
# Generators that read the models gen_forward.py saves run after it.
build/fixtures/api.stamp build/fixtures/attention.stamp: build/fixtures/forward.stamp
build/fixtures/qa_cli.stamp: build/fixtures/qa_pipeline.stamp  # one creates build/venv-tf457 at a time
build/fixtures/%.stamp: tools/gen_%.py tools/setup.sh
	@mkdir -p build/fixtures
	$(PYTHON) $< build/fixtures/$*
	@touch $@

check: all fixtures
	tests/run.sh $(BUILD)

test: deps
	$(MAKE) all
	$(MAKE) fixtures
	tests/run.sh build
	$(MAKE) asan-test

asan-test:
	$(MAKE) BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer" \
	        SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	BERTC_SANITIZED=1 tests/run.sh build-asan

demo: deps all
	tools/demo.sh

demo-ner: deps all
	tools/demo_ner.sh

bench: deps all
	bench/run.sh

# Fuzzing (docs/fuzzing.md): make fuzz FUZZ_SECONDS=600 [FUZZ_TARGETS="safetensors data"]
FUZZ_SECONDS ?= 10
fuzz:
	$(MAKE) -f fuzz/fuzz.mk run FUZZ_SECONDS=$(FUZZ_SECONDS) $(if $(FUZZ_TARGETS),FUZZ_TARGETS="$(FUZZ_TARGETS)")

# Install like a library. Its objects are position-independent with hidden
# symbols, so they are built apart (INSTALL_BUILD) and `make` stays as it is.
# The distribution build is portable (PORTABLE=1): `make portable` builds what
# install copies (and what a wheel should bundle), in INSTALL_BUILD.
PREFIX        ?= /usr/local
INSTALL_BUILD ?= build-install
LIBDIR        := $(DESTDIR)$(PREFIX)/lib
portable:
	$(MAKE) BUILD=$(INSTALL_BUILD) PORTABLE=1 PIC="-fPIC -fvisibility=hidden" \
	        $(INSTALL_BUILD)/bertc $(INSTALL_BUILD)/dist/libbertc.a $(INSTALL_BUILD)/libbertc.so.$(VERSION)
install: portable
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include $(LIBDIR)/pkgconfig
	install -m 755 $(INSTALL_BUILD)/bertc $(DESTDIR)$(PREFIX)/bin/bertc
	install -m 644 $(INSTALL_BUILD)/dist/libbertc.a $(LIBDIR)/libbertc.a
	install -m 755 $(INSTALL_BUILD)/libbertc.so.$(VERSION) $(LIBDIR)/libbertc.so.$(VERSION)
	ln -sf libbertc.so.$(VERSION) $(LIBDIR)/libbertc.so.$(SOMAJOR)
	ln -sf libbertc.so.$(SOMAJOR) $(LIBDIR)/libbertc.so
	install -m 644 include/bertc.h $(DESTDIR)$(PREFIX)/include/bertc.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(strip $(LDLIBS)) -lgomp -lpthread|' \
	    tools/bertc.pc.in > $(LIBDIR)/pkgconfig/bertc.pc

# The Python package (docs/python.md): pip builds python/ in place, and its
# setup.py bundles build-install's libbertc.so (the portable PIC, hidden-symbol build above).
pylib: portable

wheel: pylib
	$(PYTHON) -m pip wheel --no-build-isolation --no-deps -w build/wheel ./python

clean:
	rm -rf build build-asan build-fuzz build-dev build-install build-portable python/build python/bertc.egg-info python/bertc/lib
