# Two targets do all the set-up on a machine with only python3 and make:
#   make run    runs `salesrules run` on the example export with rules.toml
#   make test   runs every test: the kernel's and each plugin package's
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
STAMP  := $(VENV)/.installed

.PHONY: run test bench install clean

$(STAMP): pyproject.toml $(PLUGINS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/salesrules run

test: $(STAMP)
	$(BIN)/salesrules plugins --check --strict
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/bench_run.py
	$(BIN)/python bench/bench_allocation.py
	$(BIN)/python bench/bench_calls.py
	$(BIN)/python bench/bench_report.py

clean:
	rm -rf $(VENV) out
