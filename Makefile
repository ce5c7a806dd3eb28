# Union Desk: every target does its own set-up, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint typecheck pytest test-pg setup translations migrate bench bench-broadcast bench-rush clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d bot/locales -D unionbot

migrate: setup
	$(BIN)/unionbot db upgrade

run: migrate
	$(BIN)/unionbot run

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q

# The same suite against PostgreSQL, when a server answers on 127.0.0.1:5432.
test-pg: setup
	@url=$$($(BIN)/python -m tests.support.postgres); \
	if [ -n "$$url" ]; then \
		echo "== tests on PostgreSQL ($$url)"; \
		TEST_DATABASE_URL=$$url $(BIN)/pytest -q; \
	else \
		echo "PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL run is skipped."; \
	fi

test: lint typecheck pytest test-pg

bench: setup
	$(BIN)/python -m bench.pipeline

# About three minutes: 5,000 recipients at the outbox's pace, against Telegram's limits.
bench-broadcast: setup
	$(BIN)/python -m bench.broadcast

# A sign-up rush: 1,000 members within one second, 100 seats, 100 ms per Telegram call; then the
# same rush strictly one update at a time (about two minutes).
bench-rush: setup
	$(BIN)/python -m bench.rush

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
