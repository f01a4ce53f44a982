# sectstudy: `make run` serves the app with demo data; `make test` runs the whole suite.
# Both set everything up themselves: what the system lacks (a Python that can make a
# virtualenv; for tests, Chromium) through scripts/ensure-system, a virtualenv in .venv and,
# unless DATABASE_URL is set, an embedded PostgreSQL with its data in var/pgdata.

VENV := .venv
PY := $(VENV)/bin/python
VENV_OK := $(VENV)/.venv-ok
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python 3.12+ on PATH (pyenv honours .python-version, which asks for 3.13).
PYTHON ?= $(shell for p in python3.13 python3.12 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	echo $$p; break; fi; done)

# What the system must provide; `make test` needs Chromium and a Java runtime (the HTML
# check runs vnu.jar) too. CHROMIUM is looked for when the tests run, after
# scripts/ensure-system may have installed it (Ubuntu names it chromium-browser), and is
# passed to pytest alone: the script reads a CHROMIUM you set.
NEEDS := venv
test: NEEDS += chromium java
bench: NEEDS += wrk
CHROMIUM ?= $(firstword $(wildcard /usr/bin/chromium /usr/bin/chromium-browser) /usr/bin/chromium)

.PHONY: run test faults bench loadtest lint fmt check-python system clean

run: system $(RUNTIME_STAMP)
	@$(PY) scripts/check-port $(HOST) $(PORT)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo ""
	@echo "sectstudy is serving at http://$(HOST):$(PORT)/ with a task worker beside it (Ctrl-C stops both)"
	@echo ""
	$(PY) scripts/serve $(PY) $(HOST) $(PORT)

test: system $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	CHROMIUM="$(CHROMIUM)" $(PY) -m pytest -n 2

# The embedded PostgreSQL's fault tests (a short run is part of `make test`), ten times over.
faults: system $(DEV_STAMP)
	for run in 1 2 3 4 5 6 7 8 9 10; do $(PY) -m pytest -n 2 -q tests/setup || exit 1; done

# Two gunicorn servers and a task worker on a throw-away PostgreSQL, driven by simulated
# members; checks that every acknowledged write is stored exactly once. FAULT=db-restart
# stops PostgreSQL for ~5 s mid-run. (A 5-second version runs in `make test`.)
FAULT ?= none
MEMBERS ?= 50
LOAD_SECONDS ?= 60
loadtest: system $(DEV_STAMP)
	$(PY) scripts/loadtest.py --members $(MEMBERS) --seconds $(LOAD_SECONDS) --servers 2 --fault $(FAULT)

# The in-process timings (pytest -m bench), then the app served as in production (gunicorn,
# 2 sync workers, production settings) on the issue's data set, driven by wrk at 32
# connections beside the static-file floor; the report goes to stdout and var/bench/.
# BENCH_SECONDS per request (after a 1 s warm-up), two runs; PROFILE=1 adds pyinstrument
# profiles and EXPLAIN ANALYZE of the slowest queries (var/bench/profile-*/).
BENCH_SECONDS ?= 4
PROFILE ?=
bench: system $(DEV_STAMP)
	$(PY) -m pytest -m bench -q
	$(PY) scripts/bench.py --seconds $(BENCH_SECONDS) $(if $(PROFILE),--profile)

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

system: check-python
	@scripts/ensure-system "$(PYTHON)" $(VENV) $(NEEDS)

$(VENV_OK): | system
	@scripts/ensure-venv "$(PYTHON)" $(VENV)
	@touch $@

$(RUNTIME_STAMP): requirements.txt | $(VENV_OK)
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VENV_OK)
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
