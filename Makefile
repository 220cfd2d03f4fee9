# One entry point for humans, pre-commit and CI (.ci/run).  `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS_STAMP := .tools/.installed
# Directories that exist in this checkout (git keeps no empty ones).
PY_DIRS := $(wildcard src tests benchmarks scripts drift/src)
PYTEST_ARGS ?=
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: help install tools demo test test-fast e2e lint format type docs schemas golden bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml drift/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "mlgitops needs Python >= 3.11; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	# The drift checker (drift/) ships from this repository; tests/driftcheck runs it.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ./drift
	touch $(STAMP)

install: $(STAMP) ## Create .venv with mlgitops (editable) and its development tools

$(TOOLS_STAMP): scripts/install-tools.sh
	./scripts/install-tools.sh
	touch $(TOOLS_STAMP)

tools: ## (Re)install and verify the external tools in .tools/ (actionlint, promtool, SARIF schema, the e2e servers)
	./scripts/install-tools.sh
	touch $(TOOLS_STAMP)

demo: install ## Validate and compile the bundled quickstart example
	$(BIN)/mlgitops validate examples/quickstart
	$(BIN)/mlgitops compile examples/quickstart

test: install $(TOOLS_STAMP) ## Run the whole test suite, external validators included
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: install ## Quick subset for pre-commit: no external validators, no slow tests
	$(BIN)/pytest -q -m "not external and not slow and not e2e" $(PYTEST_ARGS)

e2e: install $(TOOLS_STAMP) ## The quickstart's whole lifecycle against real MLflow, Prometheus, Pushgateway on 127.0.0.1
	$(BIN)/pytest -q -m e2e $(PYTEST_ARGS)

lint: install ## ruff check and ruff format --check
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

format: install ## Apply ruff format and ruff's safe fixes
	$(BIN)/ruff format $(PY_DIRS)
	$(BIN)/ruff check --fix $(PY_DIRS)

type: install ## mypy --strict (pydantic plugin) on src/mlgitops, and on drift/
	$(BIN)/mypy
	cd drift && ../$(BIN)/mypy

docs: install ## Regenerate docs/spec.md and schemas/ from the spec models
	$(BIN)/python scripts/write_docs.py

schemas: docs

golden: install ## Refresh the committed expected outputs (examples and test goldens)
	$(BIN)/python scripts/write_golden.py

bench: install ## Run the benchmarks and print the figures
	$(BIN)/python benchmarks/run.py

clean: ## Remove the virtualenv, tools and caches
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis dist build
