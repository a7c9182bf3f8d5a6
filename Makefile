# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test check-sync lint pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/demo.py --out demo_out

test: $(STAMP) check-sync lint pytest

# nbs/ is the source of truth: fail when nbdev-clean or nbdev-export would change a file.
check-sync: $(STAMP)
	@$(BIN)/python tools/check_sync.py

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check mlbench tests bench demo tools

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/profile.py | tee -a bench/results.jsonl

clean:
	rm -rf $(VENV) .venv-peers demo_out .pytest_cache .hypothesis
