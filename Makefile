# One entry point for humans, pre-commit and CI.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: install tools demo test test-fast lint format type docs schemas golden bench check-fresh clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv with mlgitops and its development tools

tools: ## External validators used by the tests (actionlint, promtool, SARIF schema)
	./scripts/install-tools.sh

demo: install ## Validate and compile the bundled quickstart example
	$(BIN)/mlgitops validate examples/quickstart
	$(BIN)/mlgitops compile examples/quickstart

test: install tools ## Run the whole test suite, external validators included
	$(BIN)/pytest

test-fast: install ## Unit tests only, without the slow external validators
	$(BIN)/pytest -m "not external"

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

type: install
	$(BIN)/mypy

docs: install ## Regenerate docs/spec.md and schemas/ from the spec models
	$(BIN)/python scripts/write_docs.py

schemas: docs

golden: install ## Refresh the committed expected outputs (examples and test goldens)
	$(BIN)/python scripts/write_golden.py

bench: install ## Run the benchmarks and print the figures
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis dist build
