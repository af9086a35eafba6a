# MicroCred — the two commands README promises: `make run` and `make test`.
# (No gunicorn access log: query strings carry per-launch tokens; the app logs paths only.)
# The demo runs one worker process (its in-process store is not shared) with 8 threads;
# config/gunicorn.conf.py says why threads.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5005
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres lint bench worker clean venv venv-run i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What runs (the demo, a worker): the package and its runtime dependencies only.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Lint, type checks and tests: the dev extras too (pytest, ruff, mypy, Playwright, schemathesis).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed
venv-run: $(VENV)/.installed-run

## run: set up and start the demo (SQLite + sandbox LMS) on http://127.0.0.1:$(PORT)/sandbox
run: venv-run
	MICROCRED_ENV=$${MICROCRED_ENV:-development} $(BIN)/microcred db upgrade
	@echo "MicroCred on http://127.0.0.1:$(PORT)/sandbox  (Ctrl-C stops it)"
	MICROCRED_ENV=$${MICROCRED_ENV:-development} PORT=$(PORT) WEB_CONCURRENCY=1 \
	  $(BIN)/gunicorn -c config/gunicorn.conf.py wsgi:app

## test: set up and run lint, type checks and the whole suite (SQLite, then PostgreSQL);
## the fault-injection suite (tests/fault, its own PostgreSQL and Redis) runs in the first pass
test: venv lint test-sqlite test-postgres

lint: venv
	$(BIN)/ruff check lti_tool tests bench wsgi.py config
	$(BIN)/mypy

test-sqlite: venv
	$(BIN)/pytest

test-postgres: venv
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(subst +psycopg,,$(PG_TEST_URL))', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== PostgreSQL"; TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -m "not fault"; \
	else echo "PostgreSQL does not answer at $(PG_TEST_URL): skipped (CI starts it)"; \
	  if [ -n "$$CI" ]; then exit 1; fi; fi

## worker: a background worker for roster refreshes and grade-book publications (needs REDIS_URL)
worker: venv-run
	MICROCRED_ENV=$${MICROCRED_ENV:-development} $(BIN)/microcred worker

## i18n: extract the translatable strings, update the catalogs (fr_CA) and compile them.
## Then fill every empty msgstr in lti_tool/translations/<locale>/LC_MESSAGES/messages.po
## and run it again; the test suite fails on any string left untranslated.
I18N_DIR := lti_tool/translations
i18n: venv
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --sort-output --no-location \
	  -o $(I18N_DIR)/messages.pot . >/dev/null 2>&1
	$(BIN)/pybabel update -i $(I18N_DIR)/messages.pot -d $(I18N_DIR) -l fr_CA \
	  --no-fuzzy-matching --ignore-obsolete >/dev/null
	$(BIN)/pybabel compile -d $(I18N_DIR) --statistics

bench: venv
	$(BIN)/python bench/launch.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
