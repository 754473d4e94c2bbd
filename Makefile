# The two commands of the README: `make run` and `make test`. Everything else is what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Development settings for `make run`: debug pages, and webhooks allowed to reach this machine.
RUN_ENV := DEBUG=1 INTEGRATIONS_ALLOW_PRIVATE_URLS=1 PYTHONUNBUFFERED=1 PATH="$(BIN):$$PATH"

.PHONY: run test test-matrix bench setup system-packages lint screenshots clean

run: setup
	$(RUN_ENV) $(BIN)/python manage.py migrate --no-input
	$(RUN_ENV) $(BIN)/python manage.py demo_data
	$(RUN_ENV) $(BIN)/honcho start -f Procfile

# The whole suite on SQLite (the default database), then again on a throwaway PostgreSQL server; and
# the example host (examples/minimal_host) with the app installed from its wheel into a fresh virtualenv,
# on the oldest and the newest supported pair of Python and Django (noxfile.py; every pair: make test-matrix).
# The suite is two runs, one per host: the app's tests (tests/integrations/) on the suite's own test host
# (tests/testhost/), and DialogForm's (host/, faults/, browser/, and the app's any_host/ tests again).
# Coverage is measured on the SQLite runs (browser tests included): measuring it again on PostgreSQL
# would add a third to that run's time for a few lines that only run there.
APP_TESTS = --ds=tests.testhost.settings tests/integrations
test: setup lint
	$(BIN)/pytest --cov --cov-report= $(APP_TESTS) $(PYTEST_ARGS)
	$(BIN)/pytest --cov --cov-append --cov-report=term $(PYTEST_ARGS)
	$(BIN)/nox -t diagonal floors
	bin/release-check  # the sdist and the wheel, as twine checks them for an upload
	# The browser tests, the API's schema conformance (schemathesis) and the tests marked `once` (faults of
	# Redis, receivers and processes; gunicorn serving) run once, above: the database plays no part in
	# them (hostile bytes reach PostgreSQL through the hostile-input walks, run again here).
	bin/with-postgres $(BIN)/pytest -m "not once" $(APP_TESTS) $(PYTEST_ARGS)
	bin/with-postgres $(BIN)/pytest --ignore=tests/browser --ignore=tests/host/test_api_schema.py -m "not once" $(PYTEST_ARGS)
	$(BIN)/python bench/run.py --tiny  # the benchmark, at a size that only checks it still runs
	$(BIN)/python bench/run.py --tiny --only scale  # and its pages-at-scale part, on a small history
	bin/with-postgres $(BIN)/python bench/run.py --tiny --only scale  # with its PostgreSQL-only part (a migration)

# The example host on every supported pair of Python (3.11 to 3.13) and Django (5.2 LTS, 6.0, 6.1).
test-matrix: setup
	$(BIN)/nox

# The delivery benchmarks (a few minutes): prints one table and writes it into docs/performance.md; then the
# pages with 10,000 and 1,000,000 deliveries on record, on a throwaway PostgreSQL (a few minutes more).
bench: setup
	$(BIN)/python bench/run.py --write docs/performance.md
	bin/with-postgres $(BIN)/python bench/run.py --only scale --write docs/performance.md

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy integrations
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=tests.testhost.settings  # the test host's
	DEBUG=1 $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null  # the API's OpenAPI schema
	DJANGO_SETTINGS_MODULE=dialogform_hooks.settings_production \
	  SECRET_KEY="ci-only-$$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" ALLOWED_HOSTS=hooks.example.com \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

# The pictures of docs/screenshots/, taken by the browser tests in Chromium.
screenshots: setup
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/browser

setup: system-packages $(VENV)/.installed

# Debian/Ubuntu packages: Redis (the queue), Chromium (browser tests), PostgreSQL (the suite's second
# run), venv support for the system Python.
system-packages:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage db.sqlite3
