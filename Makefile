# The README's two commands are `make run` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# pip's own progress (one line per package it collects, then its install step), so a
# first `make run` never sits silent while it downloads.
PIP := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar off

.PHONY: run test lint install clean

# What the app needs to run; `make run` installs only this.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || { echo "GLM Web needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	@test -x $(BIN)/python || { echo "Creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing GLM Web's dependencies into $(VENV) (the first time takes a while)"
	$(PIP) -r requirements.txt
	touch $(STAMP)

# The test and development tools on top, for `make test` and `make lint`.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	@echo "Installing the test and development tools into $(VENV)"
	$(PIP) -r requirements-dev.txt
	touch $(DEV_STAMP)

install: $(STAMP)

## Install into .venv and run the whole app: web, Celery worker + beat, simulator without a key.
run: $(STAMP)
	$(BIN)/python manage.py runapp

## Install into .venv and run every test (Redis/PostgreSQL tests skip when absent, unless CI=true),
## one pytest-xdist worker per core (at most 4: each starts its own simulator and workers).
test: $(DEV_STAMP)
	$(BIN)/python -m pytest -n auto --maxprocesses=4

## ruff lint and format check (STYLE.md's rules, ruff.toml), then mypy (mypy.ini).
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var
