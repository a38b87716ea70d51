# Two commands do all set-up on a fresh machine:
#   make demo   venv + install, then evaluate policies on the tool-use env and print a table
#   make test   venv + install (all extras) + system packages (as root), then the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test test-full test-fast setup setup-all system lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

# torch first, pinned: 2.13.0 is the CPU build on this machine's disk; any other spec (or letting
# trl/transformers pull it in) downloads a CUDA build of several GB
$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,web,docker,export,train,ray,mcp]"
	@touch $@ $(VENV)/.installed-core

setup: $(VENV)/.installed-core

setup-all: $(VENV)/.installed-all

# System packages (bubblewrap, Docker engine + base image, Chromium) and data fetched at set-up time.
system: setup-all
	@bash scripts/setup_system.sh

demo: setup
	@bash scripts/demo.sh

test: setup-all system
	$(BIN)/pytest $(PYTEST_ARGS)

# every shipped task in the sweeps (make test takes an even spread of them): ~10 more minutes
test-full: setup-all system
	AGENTGYM_FULL_SWEEP=1 $(BIN)/pytest $(PYTEST_ARGS)

# the inner loop: no system set-up, no slow, Docker, browser or bubblewrap tests
test-fast: setup-all
	$(BIN)/pytest -m "not slow and not docker and not browser and not bwrap" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check agentgym tests bench

bench: setup-all system
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
