# `make run` and `make test` set everything up on a fresh clone: a virtual
# environment in .venv with the project and its dev tools, installed again
# only when pyproject.toml changes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

# What mypy checks: the packages and top-level modules that exist so far.
TYPED := $(wildcard rules workflows activities notifiers store simulate cli service api feeds reports sweeps codec config bench worker.py temporal_client.py)

PG_HOST := 127.0.0.1
PG_PORT := 5432
PG_TEST_URL := postgresql+psycopg://root@$(PG_HOST):$(PG_PORT)/test

.PHONY: run test lint install chromium clean

run: $(STAMP)
	$(BIN)/ips up

# The PostgreSQL tests run when IPS_TEST_POSTGRES_URL is set; if it is not
# set at all and a server answers on $(PG_HOST):$(PG_PORT), use that one.
# (Set IPS_TEST_POSTGRES_URL= to an empty value to skip them.)
POSTGRES_ANSWERS := { if command -v pg_isready >/dev/null 2>&1; then \
		pg_isready -q -h $(PG_HOST) -p $(PG_PORT); \
	else \
		$(BIN)/python -c "import socket; socket.create_connection(('$(PG_HOST)', $(PG_PORT)), timeout=2).close()" 2>/dev/null; \
	fi; }

test: $(STAMP) chromium
	@if [ -z "$${IPS_TEST_POSTGRES_URL+set}" ] && $(POSTGRES_ANSWERS); then \
		export IPS_TEST_POSTGRES_URL='$(PG_TEST_URL)'; \
		echo "PostgreSQL answers on $(PG_HOST):$(PG_PORT): its tests run against $$IPS_TEST_POSTGRES_URL"; \
	fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)

install: $(STAMP)

# The HTML report is checked in headless Chromium (tests/reports/test_html.py),
# from Debian's package. Installed only when it is missing and we may; if it
# cannot be, those tests skip and say why, and the rest of the suite runs.
CHROMIUM := /usr/bin/chromium

chromium:
	@export DEBIAN_FRONTEND=noninteractive; \
	if [ -x $(CHROMIUM) ]; then \
		echo "chromium: $(CHROMIUM) is installed"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "chromium: $(CHROMIUM) is missing and apt-get is not available: the browser tests will skip"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "chromium: $(CHROMIUM) is missing and installing it needs root: the browser tests will skip"; \
	elif log=$$( { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
			</dev/null 2>&1 ) && [ -x $(CHROMIUM) ]; then \
		echo "chromium: installed $(CHROMIUM) with apt-get"; \
	else \
		[ -z "$$log" ] || printf '%s\n' "$$log" | tail -n 5; \
		echo "chromium: apt-get could not install chromium: the browser tests will skip"; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
