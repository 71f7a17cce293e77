# The README's two commands are `make run` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || { echo "GLM Web needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

## Install into .venv and run the whole app: web, Celery worker + beat, simulator without a key.
run: $(STAMP)
	$(BIN)/python manage.py runapp

## Install into .venv and run every test (Redis/PostgreSQL tests skip when absent, unless CI=true).
test: $(STAMP)
	$(BIN)/python -m pytest

## ruff lint and format check (STYLE.md's rules, ruff.toml), then mypy (mypy.ini).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var
