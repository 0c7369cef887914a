# LicenseDesk: `make run` to try it, `make test` to prove it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PASSWORD ?= demo
# `make run` always uses the local SQLite file and runs background tasks in-process.
RUN_ENV := DJANGO_DEBUG=1 DATABASE_URL=sqlite:///$(CURDIR)/db.sqlite3 CELERY_BROKER_URL=

.PHONY: run test bench bench-smoke lint format clean deploy-check

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LicenseDesk needs Python 3.11 or newer (set PYTHON=python3.x).")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo --password '$(PASSWORD)'
	@echo "LicenseDesk is at http://127.0.0.1:8000  (Ctrl-C stops it)"
	$(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# One pytest process per core (pytest-xdist), each on its own test database and Redis database;
# TEST_WORKERS=0 runs in this one process, as a debugger needs.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Django's deployment checklist with production settings: debug off, throwaway secrets.
DEPLOY_ENV := DJANGO_DEBUG=0 ALLOWED_HOSTS=licensedesk.example.com DATABASE_URL=sqlite:///:memory: \
	SECRET_KEY=throwaway-deploy-check-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ \
	AUDIT_HMAC_KEY=throwaway-deploy-check-audit-0123456789abcdef AUDIT_SIGNING_KEY=dGhyb3dhd2F5LWRlcGxveS1jaGVjay1zaWduaW5nLWs= \
	PERSONAL_DATA_KEYS=dGhyb3dhd2F5LWRlcGxveS1jaGVjay1wZXJzb25hbCE=
deploy-check: $(STAMP)
	$(DEPLOY_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: $(STAMP)
	$(BIN)/python -m bench

# Every bench row once at a tiny size, checks only: CI runs it so no row can rot unnoticed.
bench-smoke: $(STAMP)
	$(BIN)/python -m bench --smoke

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
