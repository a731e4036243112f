# Every target creates (or reuses) the virtual environment .venv from pyproject.toml first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ARGS ?=

.PHONY: run demo test lint report clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("fashionbench needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

## run: the benchmark suite (default profile quick); extra arguments via ARGS="..."
run: $(STAMP)
	$(BIN)/python run_all.py $(ARGS)

## demo: a first table in about 15 seconds, no download (digits, smoke profile)
demo: $(STAMP)
	$(BIN)/python run_all.py --dataset digits --profile smoke --only 'raw-*,pca-svm,mcnn' $(ARGS)

## report: regenerate every leaderboard from the stored results, training nothing
report: $(STAMP)
	$(BIN)/python run_all.py --report-only

## test: the test suite (lint first, then pytest)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(ARGS)

clean-venv:
	rm -rf $(VENV)
