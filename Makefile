# The two commands of the README, plus the UI. Each installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test ui lint bench clean

$(BIN)/city: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[dev]"
	@touch $@

demo: $(BIN)/city  ## install, start S3, simulate a day, materialise every asset, summarise
	$(BIN)/city demo

test: $(BIN)/city  ## install, lint, run the whole test suite (real S3 server, Dagster, dbt)
	$(BIN)/ruff check .
	$(BIN)/pytest

ui: $(BIN)/city  ## Dagster UI on the demo's state
	$(BIN)/city ui

bench: $(BIN)/city  ## speed ratios against same-run baselines
	$(BIN)/python benchmarks/ingest.py

clean:  ## stop S3 and delete local state (.city); keeps .venv
	-$(BIN)/city storage down
	rm -rf .city
