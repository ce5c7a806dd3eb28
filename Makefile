# Union Desk: every target does its own set-up, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run sandbox test check lint typecheck pytest test-pg setup translations migrate e2e-deps bench bench-broadcast bench-rush bench-ballot bench-report bench-flush clean

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

# Without a token (or with a setting to fix) `unionbot run` says what to do, in Chinese and
# English, and exits with status 2 (for scripts and service managers, which run it directly).
# Here that is where `make run` stops, without make's own "*** Error 2" line under the
# sentence; any other failure keeps make's error and status.
run: migrate
	@$(BIN)/unionbot run || { status=$$?; [ $$status -eq 3 ] || exit $$status; }

# The real bot in a terminal chat, on its own database (data/sandbox.db): no token needed.
sandbox: setup
	$(BIN)/unionbot sandbox $(ARGS)

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

# The Bot API emulator (npm telegram-test-api) the end-to-end tests run the bot against. Without
# node or npm the end-to-end tests are skipped, and say so.
E2E := tests/e2e
E2E_STAMP := $(E2E)/node_modules/.installed

$(E2E_STAMP): $(E2E)/package.json $(E2E)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(E2E) --no-audit --no-fund --loglevel=error && touch $(E2E_STAMP); \
	else \
		echo "npm is not installed: the end-to-end tests against the Bot API emulator will be skipped."; \
	fi

e2e-deps: $(E2E_STAMP)

pytest: setup e2e-deps
	$(BIN)/pytest -q

# The tests that touch a database, against PostgreSQL, when a server answers on 127.0.0.1:5432
# (the others do the same in both passes and run in the SQLite pass: tests/conftest.py).
test-pg: setup e2e-deps
	@url=$$($(BIN)/python -m tests.support.postgres); \
	if [ -n "$$url" ]; then \
		echo "== tests on PostgreSQL ($$url)"; \
		TEST_DATABASE_URL=$$url $(BIN)/pytest -q; \
	else \
		echo "PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL run is skipped."; \
	fi

# The SQLite and the PostgreSQL runs go side by side (one per core); each run's output is
# printed whole when it ends, and either failing fails `make test`.
test: lint typecheck e2e-deps
	@$(MAKE) --no-print-directory -j2 --output-sync=target pytest test-pg

bench: setup
	$(BIN)/python -m bench.pipeline

# About three minutes: 5,000 recipients at the outbox's pace, against Telegram's limits.
bench-broadcast: setup
	$(BIN)/python -m bench.broadcast

# A sign-up rush: 1,000 members within one second, 100 seats, 100 ms per Telegram call; then the
# same rush strictly one update at a time, and the bare concurrent PTB floor (three to four minutes).
bench-rush: setup
	$(BIN)/python -m bench.rush

# A secret ballot: 1,000 voters within one minute, 100 ms per Telegram call, beside a bare PTB
# floor; then 50,000 papers closed and counted (about three minutes).
bench-ballot: setup
	$(BIN)/python -m bench.ballot

# The year report (figures, 台账 workbook) of a generated 300-member school and of 50,000 members
# with 10 years of records, on SQLite and PostgreSQL (about fifteen minutes, mostly writing data).
bench-report: setup
	$(BIN)/python -m bench.report

# One flush round of the forms in progress with 500, 5,000 and 50,000 people in a form: the old
# pickle file against the database store (about two minutes; add --database-url for PostgreSQL).
bench-flush: setup
	$(BIN)/python -m bench.flush

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(E2E)/node_modules

# Idle memory of the running bot (VmRSS once it polls) on a fresh SQLite database, beside the
# same bot with alembic, openpyxl, matplotlib and python-docx imported at start (about a minute).
.PHONY: bench-memory
bench-memory: setup
	$(BIN)/python -m bench.idle_memory --runs 3

# District scale: 50,000 members, one broadcast enqueued to all, a rush of 5,000 presses, the
# forms of 50,000 people flushed and the report on 10 years, on SQLite then PostgreSQL (~30 min).
.PHONY: bench-district
bench-district: setup
	$(BIN)/python -m bench.district --both

# The district roll-up: 50 schools x 1,000 members x 5 years, one year and the 5-year term,
# against 50 x gather() and one school; SQLite, then PostgreSQL (bench_rollup, dropped after).
.PHONY: bench-district-report
bench-district-report: setup
	$(BIN)/python -m bench.district_report
