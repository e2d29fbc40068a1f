# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-pg lint format openapi migrate seed bench fuzz clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/python -m app migrate

seed: migrate
	$(BIN)/python -m app seed

run: seed
	$(BIN)/python -m app serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app seed tests bench

test: lint
	$(BIN)/pytest -q

test-pg: $(STAMP)
	TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: $(STAMP)
	$(BIN)/python -m app openapi --out openapi/openapi.json

fuzz: $(STAMP)
	FUZZ_EXAMPLES=300 $(BIN)/pytest -q tests/test_fuzz.py

bench: $(STAMP)
	$(BIN)/python -m bench --write

clean:
	rm -rf $(VENV) gkml.sqlite3*
