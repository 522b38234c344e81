# Strata — build, demo, test. The two front-door commands are `make demo` and `make test`;
# both set up everything they need on a fresh machine (Python venv with pinned packages).
# `make help` lists the targets: each documented by a `## name: what it does` comment above it.
# The shipped library's Embedded Swift build (module order, C targets, link) is mk/embedded.mk.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# SwiftPM build directory; override (e.g. SCRATCH=.build-mine) to keep concurrent builds apart.
SCRATCH ?= .build
RELEASE := $(SCRATCH)/release

# ---- per-architecture flags: the one place that names a CPU (issue 16) ----
# ARCH is the machine the code is built for (default: this one); `make lib-aarch64` sets it.
# Release Swift needs -Ounchecked, -enforce-exclusivity=unchecked and a CPU target: on x86-64
# `-target-cpu haswell` (AVX2 + FMA) makes SIMD8<Float>.addingProduct a ymm vfmadd (without it
# FMAs are libm calls, ~150x slower). On aarch64 Advanced SIMD and FMA (fmla) are baseline, so
# the generic CPU is right for every board from Cortex-A53/A72 (Raspberry Pi 3/4) on.
HOST_ARCH := $(shell uname -m)
ARCH ?= $(HOST_ARCH)
SWIFT_CPU_FLAGS_x86_64 := -target-cpu haswell
SWIFT_CPU_FLAGS_aarch64 :=
# $(call swift_release_flags,ARCH): the swiftc release flags for that architecture.
swift_release_flags = -Ounchecked -enforce-exclusivity=unchecked $(SWIFT_CPU_FLAGS_$(1))
# `swift build` (SwiftPM, this machine's architecture) gets them as -Xswiftc: Package.swift has no
# unsafeFlags (SwiftPM refuses those in a version-pinned dependency), so a plain
# `swift build -c release` also works on any machine, only slower.
SWIFT_BUILD := swift build -c release --scratch-path $(SCRATCH) \
  $(addprefix -Xswiftc ,$(call swift_release_flags,$(HOST_ARCH)))
# Where `lib`, `cli` and `wheels` put their outputs (build/lib, build/include, build/bin, build/dist).
OUT ?= build
export PYTHONPATH := $(CURDIR)/tools/convert:$(CURDIR)/bindings/python
# The tests load (and link C programs against) the library `make lib` ships.
export STRATA_LIBRARY := $(CURDIR)/$(OUT)/lib/libstrata.so
export OMP_NUM_THREADS ?= 1

.PHONY: all setup lib cli demo test test-swift test-python check-arm clean setup-system install uninstall wheels \
        test-sanitize soak

all: lib cli

# The targets a user starts with, in the order `make help` shows them first.
FRONT_DOOR := demo test lib cli install wheels examples help
.PHONY: help
## help: the front-door targets, then every documented target with the first line of its comment
help:
	@awk -v front="$(FRONT_DOOR)" ' \
	  /^## [a-z][a-z0-9-]*: / { line = substr($$0, 4); i = index(line, ": "); name = substr(line, 1, i - 1); \
	    if (!(name in what)) { what[name] = substr(line, i + 2); order[++n] = name } } \
	  END { printf "Start here:\n"; k = split(front, f, " "); \
	    for (j = 1; j <= k; j++) { printf "  make %-16s %s\n", f[j], what[f[j]]; shown[f[j]] = 1 } \
	    printf "\nEverything else:\n"; \
	    for (j = 1; j <= n; j++) if (!(order[j] in shown)) printf "  make %-16s %s\n", order[j], what[order[j]] }' \
	  $(MAKEFILE_LIST)

## setup: Python venv with the pinned test/demo/converter dependencies (tools/requirements.txt)
setup: $(VENV)/.installed
$(VENV)/.installed: tools/requirements.txt tools/requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r tools/requirements.txt
	@# torchvision (the zoo test's models) without its dependencies: its own torch pin would replace ours.
	$(PY) -m pip install --quiet --no-deps -r tools/requirements-nodeps.txt
	touch $@

# Versions come from the header (the one source of truth); the soname carries the ABI major.
VERSION := $(shell awk '/^\#define STRATA_VERSION_(MAJOR|MINOR|PATCH) /{printf "%s%s", s, $$3; s="."}' include/strata.h)
ABI_VERSION := $(shell awk '/^\#define STRATA_ABI_VERSION /{print $$3}' include/strata.h)
SONAME := libstrata.so.$(ABI_VERSION)
PREFIX ?= /usr/local
DEST := $(DESTDIR)$(PREFIX)
# $(call apt_install,PACKAGES): apt-get installs PACKAGES (a shell word list) as root; any other user
# gets the exact command to run as root, and the target stops.
apt_install = if [ "$$(id -u)" = 0 ]; then echo "installing$(1)"; apt-get update -qq && apt-get install -y -qq $(1); \
  else echo "missing Debian packages:$(1). Run as root: apt-get update && apt-get install -y$(1)"; exit 1; fi

# ---- the shipped library: Embedded Swift, in mk/embedded.mk (`make lib`) ----
include mk/embedded.mk

# ---- aarch64 Linux (issue 16): the same sources cross-built, tested under qemu-user ----
AARCH64_PACKAGES := gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user
AARCH64_OUT := $(OUT)/aarch64
.PHONY: setup-aarch64 lib-aarch64 test-aarch64 lib-swiftpm

## setup-aarch64: Debian's aarch64 cross gcc/binutils, glibc for arm64 and qemu-user, apt-installed
##                only when missing
setup-aarch64:
	@missing=""; for p in $(AARCH64_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  $(call apt_install,$$missing); fi

## lib-aarch64: $(AARCH64_OUT)/lib/libstrata.so.$(ABI) and libstrata.a for aarch64-linux-gnu (glibc >= 2.34)
##              from the same sources (Embedded Swift cross build), headers in $(AARCH64_OUT)/include
lib-aarch64: setup-aarch64
	$(MAKE) --no-print-directory lib ARCH=aarch64 OUT=$(AARCH64_OUT)

## lib-swiftpm: SwiftPM's normal-Swift $(RELEASE)/libstrata.so (not the shipped library; `make lib`
##              is): the Swift runtime linked in, only strata_* exported (strata.map), the ABI soname
lib-swiftpm:
	$(SWIFT_BUILD) --static-swift-stdlib --product strata -Xlinker --version-script=$(CURDIR)/strata.map \
	  -Xlinker -soname=$(SONAME) -Xlinker --gc-sections

## test-aarch64: under qemu-aarch64, the C tests (allocation count, leak cycles with the malformed
##               fixtures, soak) and the C samples (shared and static) on the aarch64 library, and the
##               cross-architecture test: every op family and precision, normal and subnormal inputs,
##               batches 1/7/64, threads 1/2/4 give bitwise the x86-64 library's outputs (tools/arm)
test-aarch64: setup lib lib-aarch64 wheel-aarch64
	tools/arm/test_aarch64.sh $(OUT) $(AARCH64_OUT) $(AARCH64_SYSROOT) $(PY) $(MALFORMED)

.PHONY: wheel-aarch64
## wheel-aarch64: the bindings' wheel for manylinux_2_34_aarch64 in $(OUT)/dist, carrying the
##                library of lib-aarch64 (setup.py reads the tag's machine from the library's ELF
##                header); `make wheels` builds it too on an x86-64 machine
wheel-aarch64: setup lib-aarch64
	rm -f $(OUT)/dist/strata_runtime-*_aarch64.whl
	STRATA_LIBRARY=$(CURDIR)/$(AARCH64_OUT)/lib/$(SONAME) $(PY) -m pip wheel --quiet --no-deps --no-build-isolation \
	  -w $(OUT)/dist ./bindings/python
ifeq ($(HOST_ARCH),x86_64)
wheels: wheel-aarch64
endif

## cli: the `strata` command in $(OUT)/bin, the Swift runtime linked in (runs where Swift is absent)
cli:
	$(SWIFT_BUILD) --static-swift-stdlib --product strata-cli
	mkdir -p $(OUT)/bin
	cp $(RELEASE)/strata-cli $(OUT)/bin/strata

## demo: train the seed MNIST-style network on scikit-learn digits, convert, run from C and Python
demo: setup lib cli
	$(PY) tools/demo/demo.py

## test: every test — Swift unit tests, converter tests, bindings, examples and end-to-end tests, the Ray and Spark recipes
test: setup setup-system lib cli test-swift test-python check-arm abi-check test-scale

# ---- ABI check (issue 19): libabigail compares the shipped library with a committed baseline ----
ABI_ARCH := $(shell uname -m)
## ABI_BASELINE: abidw's description of the last released ABI, one per soname and architecture
ABI_BASELINE := abi/$(SONAME).$(ABI_ARCH).abi
.PHONY: abi-check abi-baseline
## abi-check: $(OUT)/lib/$(SONAME) against $(ABI_BASELINE) (tools/abi/check.sh): fails on an
##            incompatible change (removed/renamed function, changed version node or soname)
abi-check: setup-system lib
	@if [ -f $(ABI_BASELINE) ]; then tools/abi/check.sh $(ABI_BASELINE) $(OUT)/lib/$(SONAME); \
	elif [ "$(ABI_ARCH)" = x86_64 ]; then echo "abi-check: no baseline $(ABI_BASELINE) (after a deliberate soname \
	  bump, record one: make abi-baseline)"; exit 1; \
	else echo "abi-check: no baseline for $(ABI_ARCH) ($(ABI_BASELINE)); skipped"; fi

## abi-baseline: records the ABI of $(OUT)/lib/$(SONAME) as $(ABI_BASELINE) — only on purpose, at a
##               release or with a soname bump (README, "ABI compatibility")
abi-baseline: setup-system lib
	mkdir -p abi
	abidw $(OUT)/lib/$(SONAME) --out-file $(ABI_BASELINE)
	sed -i "s|path='[^']*'|path='$(SONAME)'|" $(ABI_BASELINE)

test-swift:
	swift test

# The Swift toolchain's own llvm-objdump (it knows aarch64), else one on PATH.
LLVM_OBJDUMP ?= $(firstword $(wildcard $(dir $(realpath $(shell command -v swiftc)))llvm-objdump) llvm-objdump)
## check-arm: the kernels compile for bare-metal aarch64 (Embedded Swift) to NEON FMAs, so the
##            portable SIMD path never silently breaks for ARM edge boxes; on x86-64, the CLI of
##            `make cli` has ymm FMAs (the per-architecture release flags reached `swift build`)
check-arm:
	mkdir -p $(OUT)/arm
	@# StrataKernels imports StrataCore (the weight-encoding table): compile it first, same target.
	swiftc -target aarch64-none-none-elf -enable-experimental-feature Embedded \
	  -enable-experimental-feature Extern -wmo -parse-as-library -O -package-name strata -module-name StrataCore \
	  $$(find Sources/StrataCore -name '*.swift' | sort) -emit-module -emit-module-path $(OUT)/arm/StrataCore.swiftmodule \
	  -c -o $(OUT)/arm/StrataCore.o
	swiftc -target aarch64-none-none-elf -enable-experimental-feature Embedded \
	  -enable-experimental-feature Extern -wmo -parse-as-library -O -package-name strata -I $(OUT)/arm \
	  -module-name StrataKernels $$(find Sources/StrataKernels -name '*.swift' | sort) -c -o $(OUT)/arm/StrataKernels.o
	@n=$$($(LLVM_OBJDUMP) -d $(OUT)/arm/StrataKernels.o | grep -c 'fmla'); \
	  echo "check-arm: StrataKernels for aarch64-none-none-elf has $$n NEON fmla instructions"; \
	  test $$n -gt 0
	@# The release flags reach `swift build` (Package.swift has none): the x86-64 CLI's kernels are
	@# ymm FMAs, not libm fmaf calls (about 150x slower).
	@if [ "$(HOST_ARCH)" = x86_64 ] && [ -x $(OUT)/bin/strata ]; then \
	  n=$$(objdump -d --no-show-raw-insn $(OUT)/bin/strata | grep -c 'vfmadd[0-9]*ps.*ymm'); \
	  echo "check-arm: the x86-64 strata CLI has $$n ymm FMA instructions"; test $$n -gt 100; fi

# Each suite has its own conftest/helpers modules, so each runs in its own pytest process.
test-python: setup lib cli
	$(PY) -m pytest -q tools/codegen/tests
	$(PY) -m pytest -q tools/convert/tests
	$(PY) -m pytest -q bindings/python/tests

## setup-system: the system tools the packaging tests, the ABI check and the scale-out tests use
##               (cmake, pkg-config, abidw/abidiff from abigail-tools, java from openjdk-17-jre-headless),
##               apt-installed only when missing
setup-system:
	@missing=""; for tool in cmake pkg-config abidw:abigail-tools java:openjdk-17-jre-headless; do command -v $${tool%%:*} >/dev/null || \
	  missing="$$missing $${tool##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  $(call apt_install,$$missing); fi

## install: PREFIX=/usr/local (and DESTDIR for staging): headers, libstrata.so.$(ABI) + symlink,
##          libstrata.a, bin/strata, lib/pkgconfig/strata.pc, lib/cmake/Strata/ (find_package),
##          share/doc/strata/LICENSE
INSTALLED := include/strata.h include/strata.hpp lib/$(SONAME) lib/libstrata.so lib/libstrata.a \
             bin/strata lib/pkgconfig/strata.pc lib/cmake/Strata/StrataConfig.cmake \
             lib/cmake/Strata/StrataConfigVersion.cmake share/doc/strata/LICENSE
SUBST := sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@ABI_VERSION@|$(ABI_VERSION)|g'
install: lib cli
	install -d "$(DEST)/include" "$(DEST)/lib/pkgconfig" "$(DEST)/lib/cmake/Strata" "$(DEST)/bin"
	install -m 644 include/strata.h include/strata.hpp "$(DEST)/include/"
	install -m 755 $(OUT)/lib/$(SONAME) "$(DEST)/lib/$(SONAME)"
	ln -sfn $(SONAME) "$(DEST)/lib/libstrata.so"
	install -m 644 $(OUT)/lib/libstrata.a "$(DEST)/lib/libstrata.a"
	install -m 755 -s $(OUT)/bin/strata "$(DEST)/bin/strata"
	$(SUBST) strata.pc.in > "$(DEST)/lib/pkgconfig/strata.pc"
	$(SUBST) cmake/StrataConfig.cmake.in > "$(DEST)/lib/cmake/Strata/StrataConfig.cmake"
	$(SUBST) cmake/StrataConfigVersion.cmake.in > "$(DEST)/lib/cmake/Strata/StrataConfigVersion.cmake"
	install -d "$(DEST)/share/doc/strata"
	install -m 644 LICENSE "$(DEST)/share/doc/strata/LICENSE"

## uninstall: removes exactly what `make install` put under PREFIX
uninstall:
	for f in $(INSTALLED); do rm -f "$(DEST)/$$f"; done
	-rmdir "$(DEST)/lib/cmake/Strata" "$(DEST)/share/doc/strata" 2>/dev/null

## wheels: Python wheels of the bindings (libstrata.so inside) and the converter, in $(OUT)/dist
wheels: setup lib
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w $(OUT)/dist ./bindings/python ./tools/convert

clean:
	rm -rf .build build

# ---- benchmark (tools/bench; issue 8). Its own venv, so `make test` never needs TensorFlow. ----
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
.PHONY: codegen
## codegen: regenerate Sources/StrataKernels/Generated/ (the GEMM tiles) from tools/codegen/gen_*.py;
##          tools/codegen/tests (in `make test`) fails when a generated file differs from its generator
codegen:
	for g in tools/codegen/gen_*.py; do $(PYTHON) $$g || exit 1; done

.PHONY: bench bench-setup bench-smoke bench-integrity

## bench-setup: .venv-bench with tools/requirements.txt plus the peers (tools/bench/requirements.txt)
bench-setup: $(BENCH_VENV)/.installed
$(BENCH_VENV)/.installed: tools/requirements.txt tools/bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	echo '*' > $(BENCH_VENV)/.gitignore
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r tools/bench/requirements.txt
	touch $@

## bench: Strata vs ONNX Runtime, TFLite/XNNPACK and PyTorch, interleaved in one run; results and
## chart in tools/bench/results/. BENCH_QUICK=1 for a short run; BENCH_ARGS="--models mnist ..." to pick.
## Then tools/bench/quant.py: every weight precision vs f32 and ORT int8 (QUANT_BENCH_ARGS to pick).
bench: bench-setup lib
	$(BENCH_PY) tools/bench/run.py $(BENCH_ARGS)
	$(BENCH_PY) tools/bench/quant.py $(QUANT_BENCH_ARGS)

## bench-integrity: load time of the big MLP (201 MB) with and without its CRC checks, and
## strata_model_verify's GB/s (tools/bench/integrity_bench.c; INTEGRITY_MODEL=path for another file)
INTEGRITY_MODEL ?= $(OUT)/bench/models/big.strata
bench-integrity: bench-setup lib
	@test -f $(INTEGRITY_MODEL) || $(BENCH_PY) tools/bench/run.py --export-one big --formats strata \
	  --model-dir $(OUT)/bench/models
	mkdir -p $(OUT)/bench
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Iinclude tools/bench/integrity_bench.c -L$(OUT)/lib -lstrata \
	  -Wl,-rpath,$(CURDIR)/$(OUT)/lib -o $(OUT)/bench/integrity_bench
	$(OUT)/bench/integrity_bench $(INTEGRITY_MODEL) 9
	STRATA_PRETEND_NO_PCLMUL=1 $(OUT)/bench/integrity_bench $(INTEGRITY_MODEL) 5

## bench-smoke: a seconds-long run of the harness on the seed model (not part of `make test`)
bench-smoke: bench-setup lib
	$(BENCH_PY) -m pytest -q tools/bench/test_bench_smoke.py

# ---- fuzzing and fixtures (tools/fuzz, Tests/Fixtures; issue 4). Not part of `make test`. ----
FUZZ_SECONDS ?= 120
.PHONY: fuzz fuzz-replay fixtures

## fuzz: build the loader fuzz target (swiftc -sanitize=fuzzer,address) and run it for
## FUZZ_SECONDS (default 120) from the committed seed corpus, LeakSanitizer on; fails on any
## crash or leak (reproducers in .build-fuzz/artifacts/)
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) tools/fuzz/run.sh

## fuzz-replay: run every committed seed and crash reproducer (tools/fuzz/corpus, regressions) once
fuzz-replay:
	tools/fuzz/replay.sh tools/fuzz/corpus tools/fuzz/regressions

## fixtures: regenerate the malformed fixture files in Tests/Fixtures/malformed (deterministic)
fixtures: setup
	$(PY) Tests/Fixtures/make_fixtures.py

# ---- reliability (issue 7): sanitizers, leaks, soak. Not part of `make test`. ----
# Each sanitizer builds into its own scratch directory, so switching does not rebuild the others.
SANITIZE_SCRATCH ?= .build-sanitize
STRESS_RUNS ?= 10000
SOAK_SECONDS ?= 60
SOAK_THREADS ?= 2
## SOAK_MODEL_DIRS: every .strata file under these directories joins the generated models
SOAK_MODEL_DIRS ?=
MALFORMED := $(sort $(wildcard Tests/Fixtures/malformed/*.strata))
CC ?= cc
C_TEST_FLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -Iinclude -L$(OUT)/lib -lstrata -lpthread \
                -Wl,-rpath,$(CURDIR)/$(OUT)/lib

## test-sanitize: the Swift test suite under AddressSanitizer with LeakSanitizer on; the thread tests
##   under ThreadSanitizer, the 8-thread stress test at STRESS_RUNS (10 000) runs per thread; valgrind's
##   leak check on load/run/free cycles with error paths (leak_cycles.c). ASan and TSan instrument the
##   normal-Swift build of the same sources (SwiftPM; Embedded Swift has no sanitizer runtime);
##   valgrind checks the shipped Embedded Swift library of `make lib`. UndefinedBehaviorSanitizer:
##   swiftc rejects -sanitize=undefined on Linux, so it covers the C code (abi.c) only; Swift's own
##   overflow and bounds checks are on in these debug builds. Options: handle_segv=0 lets the exit
##   tests that expect SIGSEGV (guard pages) see it; allocator_may_return_null=1 lets the tests of
##   impossible allocations get NULL (OUT_OF_MEMORY) instead of an ASan abort; --disable-xctest skips
##   the empty XCTest pass, whose runner leaks its own suite objects at exit.
test-sanitize: setup
	@start=$$(date +%s); \
	echo "== ASan (+ LeakSanitizer; UBSan for the C code): swift test"; \
	ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:handle_segv=0:handle_sigbus=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  swift test --disable-xctest --scratch-path $(SANITIZE_SCRATCH)-address --sanitize=address \
	    -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined || exit 1; \
	echo "== TSan: thread, stress (STRATA_STRESS_RUNS=$(STRESS_RUNS)), shared-session (SessionBusy) and cancellation tests"; \
	STRATA_STRESS_RUNS=$(STRESS_RUNS) TSAN_OPTIONS=halt_on_error=1:allocator_may_return_null=1 \
	  swift test --disable-xctest --scratch-path $(SANITIZE_SCRATCH)-thread --sanitize=thread \
	    --filter 'Stress|Threads|ThreadPool|LastError|Cancellation|Memory|SessionBusy' || exit 1; \
	echo "== valgrind: leak_cycles (load/run/free cycles, failed loads and runs)"; \
	$(MAKE) --no-print-directory valgrind-leaks || exit 1; \
	echo "test-sanitize: passed in $$(( $$(date +%s) - start )) s"

.PHONY: valgrind-leaks
## valgrind-leaks: leak_cycles.c under valgrind --leak-check=full on the shipped library (`make lib`,
##   with its symbols), with every malformed fixture; fails on any definite or indirect leak or
##   memory error
valgrind-leaks: setup lib
	mkdir -p $(OUT)/reliability
	$(PY) tools/soak/make_models.py $(OUT)/reliability/models >/dev/null
	@# The unstripped library (symbols for valgrind's stacks, no debug info), next to the program.
	strip --strip-debug -o $(OUT)/reliability/$(SONAME) $(EMB)/libstrata.so
	$(CC) bindings/c/tests/leak_cycles.c -std=c11 -O2 -g -Wall -Wextra -Werror -Iinclude \
	  -L$(OUT)/reliability -l:$(SONAME) -Wl,-rpath,'$$ORIGIN' -o $(OUT)/reliability/leak_cycles
	@for run in "tiny_f32 600" "residual256_f32 200"; do set -- $$run; echo "valgrind: leak_cycles $$1, $$2 cycles"; \
	  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=99 $(OUT)/reliability/leak_cycles $(OUT)/reliability/models/$$1.strata $$2 -1 \
	    $(MALFORMED) || exit 1; done

## soak: SOAK_SECONDS (60) of mixed load on SOAK_THREADS (2) threads over the generated models and every
##   .strata under SOAK_MODEL_DIRS: loads, runs checked bit for bit, frees, deliberate errors, and
##   sessions shared by all threads on purpose (OK with the right bits, or SESSION_BUSY); then
##   SOAK_SECONDS/4 of Python: 8 threads on one shared strata.Model plus 2 on one shared Session.
##   Prints runs, busy rejections, wrong outputs returned with OK (must be 0), errors and RSS;
##   fails on any wrong output, unexpected status or leftover thread
soak: setup lib
	mkdir -p $(OUT)/reliability
	$(PY) tools/soak/make_models.py $(OUT)/reliability/models >/dev/null
	$(CC) bindings/c/tests/soak.c $(C_TEST_FLAGS) -o $(OUT)/reliability/soak
	$(OUT)/reliability/soak $(SOAK_SECONDS) $(SOAK_THREADS) \
	  $$(find $(OUT)/reliability/models $(SOAK_MODEL_DIRS) -name '*.strata' | sort) -- $(MALFORMED)
	$(PY) tools/soak/python_soak.py $$(( $(SOAK_SECONDS) / 4 + 1 )) 8 \
	  $$(find $(OUT)/reliability/models $(SOAK_MODEL_DIRS) -name '*.strata' | sort)

# ---- scale-out (issue 20): docs/SCALING.md's Ray and Spark recipes run for real ----
.PHONY: test-scale test-scale-ray
## test-scale: the Spark (local[2], Java 17) and Ray (local, 2 CPUs) recipes of docs/SCALING.md,
##             run as written on 4000 rows; every prediction compared with one process's (tools/scale)
test-scale: setup setup-system lib
	$(PY) -m pytest -q -s tools/scale
## test-scale-ray: the Ray recipe alone (if CI time runs short, `make test` can run this instead of
##                 test-scale: both took 2.3 and 3.7 min on the loaded 2-core machine, Ray about 1 min)
test-scale-ray: setup lib
	$(PY) -m pytest -q -s tools/scale/test_ray.py

# ---- examples (issue 20): examples/, also run and checked by bindings/python/tests/test_examples.py ----
EXAMPLES_OUT := $(OUT)/examples
.PHONY: examples
## examples: runs examples/ (the CNN, scikit-learn and streaming GRU programs, then the C and Swift programs on the CNN's file)
examples: setup lib
	$(PY) examples/cnn_digits.py $(EXAMPLES_OUT)
	$(PY) examples/sklearn_mlp.py $(EXAMPLES_OUT)
	$(PY) examples/streaming_gru.py $(EXAMPLES_OUT)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -Iinclude examples/c/classify_digits.c -L$(OUT)/lib -lstrata \
	  -Wl,-rpath,$(CURDIR)/$(OUT)/lib -o $(EXAMPLES_OUT)/classify_digits
	$(EXAMPLES_OUT)/classify_digits $(EXAMPLES_OUT)/cnn_digits.strata $(EXAMPLES_OUT)/digits_test.f32
	swift build -c release --package-path examples/swift --scratch-path $(SCRATCH)-examples
	$(SCRATCH)-examples/release/classify-digits $(EXAMPLES_OUT)/cnn_digits.strata $(EXAMPLES_OUT)/digits_test.f32

# ---- the edge model zoo (issue 15): every model from every source; `make test` runs a subset ----
.PHONY: zoo
## zoo: docs/OPS.md's zoo table regenerated (tools/zoo/write_table.py: every model of
##      bindings/python/tests/zoo.py from the module, TorchScript and ONNX, errors, f16/int8 top-1,
##      batch-1 time against ONNX Runtime), then the whole zoo test (STRATA_ZOO=all)
zoo: setup lib
	STRATA_CONVERT_QUIET=1 $(PY) tools/zoo/write_table.py
	STRATA_ZOO=all STRATA_CONVERT_QUIET=1 $(PY) -m pytest -q -p no:warnings bindings/python/tests/test_zoo.py
