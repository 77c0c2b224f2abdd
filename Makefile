# The two commands of the README, plus the UI. Each installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-all ui lint bench clean

$(BIN)/city: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[dev,production]"
	@touch $@

demo: $(BIN)/city  ## install, start S3, simulate a day, materialise every asset, summarise
	$(BIN)/city demo

test: $(BIN)/city  ## install, lint, check the layers, run the suite except `slow` (it keeps one demo-sized run end to end)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

test-all: $(BIN)/city  ## as test, plus the slow tests (accuracy, training, long backfills): what CI runs
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -m "slow or not slow"

ui: $(BIN)/city  ## Dagster UI on the demo's state
	$(BIN)/city ui

bench: $(BIN)/city  ## speed ratios against same-run baselines
	$(BIN)/python benchmarks/ingest.py

clean:  ## stop S3 and delete local state (.city); keeps .venv
	-$(BIN)/city storage down
	rm -rf .city
