# Two targets do all the set-up on a machine with only python3 and make:
#   make run    installs the runtime (the kernel and plugins/*), then runs `salesrules run`
#               on the example export with rules.toml
#   make test   adds the test tools (the kernel's [test] extra), then runs every test:
#               the kernel's and each plugin package's
# Each step has its own stamp file in the venv, so `make test` after `make run` only adds
# the test tools, and `make run` after `make test` installs nothing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
RUNTIME := $(VENV)/.runtime-installed
TESTING := $(VENV)/.test-installed

.PHONY: run test fuzz bench install clean

# The runtime: the kernel's dependencies and the plugin packages. Python 3.11's venv brings
# setuptools, which nothing here needs (hatchling builds the packages), so it goes; and no
# .pyc files are compiled ahead, since Python writes them for the modules a run imports.
$(RUNTIME): pyproject.toml $(PLUGINS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip uninstall --quiet --yes setuptools
	$(BIN)/python -m pip install --quiet --no-compile -e . $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(RUNTIME)

# The test tools: the kernel's [test] extra (pytest, hypothesis, hatchling, playwright).
$(TESTING): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TESTING)

# everything `make test` needs (the runtime and the test tools), without running anything
install: $(TESTING)

run: $(RUNTIME)
	$(BIN)/salesrules run

test: $(TESTING)
	$(BIN)/salesrules plugins --check --strict
	$(BIN)/ruff check src plugins tests bench
	$(BIN)/mypy src/salesrules $(wildcard plugins/*/src)
	$(BIN)/python -m pytest

# the fuzz corpus at full size: 1,200 malformed exports and rules files (make test runs 300)
fuzz: $(TESTING)
	SALESRULES_FUZZ_CASES=$${SALESRULES_FUZZ_CASES:-1200} $(BIN)/python -m pytest -q tests/test_fuzz.py

bench: $(TESTING)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/bench_run.py
	$(BIN)/python bench/bench_allocation.py
	$(BIN)/python bench/bench_calls.py
	$(BIN)/python bench/bench_report.py
	$(BIN)/python bench/bench_deals.py
	$(BIN)/python bench/bench_backtest.py

clean:
	rm -rf $(VENV) out
