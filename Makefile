# Two commands do everything on a fresh machine with Python: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
FLASK := $(PY) -m flask --app wsgi

.PHONY: install run run-prod-like test lint format bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Local use: without SECRET_KEY the app keeps a random one in instance/secret_key.
run: export APP_ENV ?= development
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	exec $(PY) -m webapp.devserver

# gunicorn and two RQ workers against the machine's PostgreSQL and Redis.
PROD_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/trbss
PROD_REDIS_URL ?= redis://127.0.0.1:6379/0
run-prod-like: export APP_ENV ?= development
run-prod-like: install
	$(PY) -c "import psycopg; c = psycopg.connect('postgresql://postgres@127.0.0.1:5432/postgres', autocommit=True); c.execute('CREATE DATABASE trbss') if not c.execute(\"SELECT 1 FROM pg_database WHERE datname='trbss'\").fetchone() else None"
	DATABASE_URL=$(PROD_DATABASE_URL) $(FLASK) db upgrade
	DATABASE_URL=$(PROD_DATABASE_URL) $(FLASK) seed-demo
	DATABASE_URL=$(PROD_DATABASE_URL) REDIS_URL=$(PROD_REDIS_URL) SECRET_KEY=$${SECRET_KEY:-prod-like-local-secret} \
		exec $(PY) -m webapp.devserver --gunicorn --workers 2

# One process by default: a full run on two pytest-xdist workers hung once on this 2-core
# machine (a browser file's worker stopped progressing) and was not explained yet.
# PYTEST_WORKERS=2 runs two workers, each test file on one of them (module fixtures,
# Hypothesis and the browser stay together); every worker has its own database, Redis
# database or embedded Redis, and ports.
PYTEST_WORKERS ?= 0
test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: install
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache
