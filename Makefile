# Two commands set up everything on a fresh machine:
#   make demo   install (once), build the engine, simulate examples/cuba.yaml
#   make test   install (once), build the engine, run the tests
# Re-running them on a set-up machine only rebuilds what changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
# lava-nc 0.10.0 declares Requires-Python <3.11; its dependencies are pinned in
# pyproject.toml and it is installed without them (docs/architecture.md, "Dependencies").
LAVA   := lava-nc==0.10.0
STAMP  := $(VENV)/.spikecore-installed
EXT_SOURCES := $(wildcard spikecore/engine/*.pyx spikecore/engine/*.pxd spikecore/engine/*.h)
# what Cython generates (one .c per .pyx); _kernel.c is hand-written and tracked, never cleaned
GENERATED_C := $(patsubst %.pyx,%.c,$(wildcard spikecore/engine/*.pyx))
PYTEST_ARGS ?=

.PHONY: demo test test-slow test-all bench build clean

demo: build
	$(VENV)/bin/spikecore run examples/cuba.yaml --out results/cuba

test: build
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: build
	$(PY) -m pytest -m "slow and not long" $(PYTEST_ARGS)

test-long: build
	$(PY) -m pytest -m long $(PYTEST_ARGS)

test-all: build
	$(PY) -m pytest $(PYTEST_ARGS)

bench: build
	$(PY) -m benchmarks $(BENCH_ARGS)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Full install: only when the venv is new or the project metadata changed.
$(STAMP): pyproject.toml setup.py | $(PY)
	$(PIP) install -q "setuptools>=68" wheel "cython>=3.0" "numpy>=1.24.4,<2"
	$(PIP) install -q --no-build-isolation -e ".[dev]"
	$(PIP) install -q --no-deps --ignore-requires-python "$(LAVA)"
	$(PY) -m spikecore.pynn.shim install
	touch $@

# Rebuild the Cython engine in place when its sources change (seconds).
build: $(STAMP)
	$(PY) setup.py -q build_ext --inplace

clean:
	rm -rf build results spikecore/engine/*.so $(GENERATED_C)
