# sectstudy: `make run` serves the app with demo data; `make test` runs the whole suite.
# Both set everything up themselves: a virtualenv in .venv and, unless DATABASE_URL
# is set, an embedded PostgreSQL with its data in var/pgdata.

VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python 3.12+ on PATH (pyenv honours .python-version, which asks for 3.13).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	echo $$p; break; fi; done)

.PHONY: run test bench lint fmt check-python clean

run: $(RUNTIME_STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo ""
	@echo "sectstudy is serving at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n 2

bench: $(DEV_STAMP)
	$(PY) -m pytest -m bench -q

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: $(DEV_STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

check-python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "sectstudy needs Python 3.12 or newer, and none was found on PATH."; \
		echo "Install one (for example: apt-get install python3 on Debian 13, or pyenv install 3.13) and run make again."; \
		exit 1; fi

$(PY): | check-python
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
