# Two commands on a fresh machine: `make demo` and `make test`. Everything else is bootstrapped
# from uv.lock. Only Python 3.11 and the package registries are assumed.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync
CLI := $(RUN) agentic-commerce
export AGENTIC_COMMERCE_DATA_DIR ?= $(CURDIR)/data

# Options for `make demo`, e.g. `make demo DAYS=60 PRODUCTS=50 FRESH=1`.
DAYS ?=
PRODUCTS ?=
SCENARIO ?=
DEMO_ARGS := $(if $(DAYS),--days $(DAYS)) $(if $(PRODUCTS),--products $(PRODUCTS)) $(if $(SCENARIO),--scenario $(SCENARIO)) $(if $(FRESH),--fresh)
PYTEST_ARGS ?=
# Two pytest workers for two cores; tests sharing a session world stay on one worker (loadgroup).
TEST_WORKERS ?= 2
PYTEST := $(RUN) pytest -n $(TEST_WORKERS) --dist loadgroup

.PHONY: help install demo test test-fast ui sql clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set (as on the machines this runs on) every process
# (each Dagster run, dbt, the CLI) otherwise recompiles its imports from source: ~13,000 modules.
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --compile-bytecode
	$(RUN) agentic-commerce dbt-parse
	@touch $@

install: $(VENV)/.synced  ## install the locked dependencies into .venv

demo: install  ## simulate a year, run perception and reasoning through Dagster, print a summary
	$(CLI) demo $(DEMO_ARGS)

test: install  ## run the whole test suite
	$(PYTEST) $(PYTEST_ARGS)

test-fast: install  ## the suite without the slow end-to-end tests
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

ui: install  ## serve the Dagster UI (:3000) and the MLflow UI (:5000) over the data directory
	$(CLI) ui

sql: install  ## open the DuckDB shell on the analyst database (read-only)
	$(CLI) sql

clean:  ## remove the data directory, $$AGENTIC_COMMERCE_DATA_DIR (the whole simulated shop, warehouse and models)
	rm -rf -- "$(AGENTIC_COMMERCE_DATA_DIR)"
