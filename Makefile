# Strata — build, demo, test. The two front-door commands are `make demo` and `make test`;
# both set up everything they need on a fresh machine (Python venv with pinned packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RELEASE := .build/release
export PYTHONPATH := $(CURDIR)/tools/convert:$(CURDIR)/bindings/python
export STRATA_LIBRARY := $(CURDIR)/$(RELEASE)/libstrata.so
export OMP_NUM_THREADS ?= 1

.PHONY: all setup lib cli demo test test-swift test-python clean

all: lib cli

## setup: Python venv with the pinned test/demo/converter dependencies (tools/requirements.txt)
setup: $(VENV)/.installed
$(VENV)/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r tools/requirements.txt
	touch $@

## lib: libstrata.so and libstrata.a (release) in .build/release, copied to build/lib
lib:
	swift build -c release --product strata
	swift build -c release --product strata-static
	mkdir -p build/lib build/include
	cp $(RELEASE)/libstrata.so build/lib/libstrata.so
	cp $(RELEASE)/libstrata-static.a build/lib/libstrata.a
	cp include/strata.h build/include/strata.h

## cli: the `strata` command in build/bin
cli:
	swift build -c release --product strata-cli
	mkdir -p build/bin
	cp $(RELEASE)/strata-cli build/bin/strata

## demo: train the seed MNIST-style network on scikit-learn digits, convert, run from C and Python
demo: setup lib cli
	$(PY) tools/demo/demo.py

## test: every test — Swift unit tests, converter tests, bindings and end-to-end tests
test: setup lib cli test-swift test-python

test-swift:
	swift test

# Each suite has its own conftest/helpers modules, so each runs in its own pytest process.
test-python: setup lib cli
	$(PY) -m pytest -q tools/convert/tests
	$(PY) -m pytest -q bindings/python/tests

clean:
	rm -rf .build build

# ---- benchmark (tools/bench; issue 8). Its own venv, so `make test` never needs TensorFlow. ----
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
.PHONY: bench bench-setup bench-smoke

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
bench: bench-setup lib
	$(BENCH_PY) tools/bench/run.py $(BENCH_ARGS)

## bench-smoke: a seconds-long run of the harness on the seed model (not part of `make test`)
bench-smoke: bench-setup lib
	$(BENCH_PY) -m pytest -q tools/bench/test_bench_smoke.py
