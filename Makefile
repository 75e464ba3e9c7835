# The two commands for a fresh machine: `make run` and `make test`. Everything else is a step.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export AMQP_URI ?= amqp://guest:guest@127.0.0.1:5672/
export MONGODB_URI ?= mongodb://127.0.0.1:27017/

.PHONY: run stop test bench chaos venv stack-up stack-down stack-status services-start \
	services-stop lint deploy-check monitoring lock

PROVINCE_SCALE ?= 1.0

run: stack-up services-start  ## stack, services, the generated province loaded, the report
	$(BIN)/tracker demo generate --seed 2025 --scale $(PROVINCE_SCALE) --out .stack/province
	$(BIN)/tracker demo load .stack/province
	$(BIN)/tracker report --html reports/province.html
	@echo
	@echo "registry API:   http://127.0.0.1:8001/v1/enterprises/{uscc}   /v1/enterprises?unit=220100"
	@echo "tiering API:    http://127.0.0.1:8002/v1/enterprises/{uscc}/tier   /v1/tiers/summary   /v1/watchlist"
	@echo "incubators API: http://127.0.0.1:8003/v1/progress   /v1/incubators/{id}   POST /v1/events"
	@echo "notifications:  http://127.0.0.1:8004/v1/units/{unit}/alerts"
	@echo "every /v1 API takes Authorization: Bearer <key>; keys are kept by the auth service (:8006)"
	@echo "metrics:        http://127.0.0.1:800[1-6]/metrics     health: /health/live /health/ready"
	@echo "Prometheus:     http://127.0.0.1:9090 (the project's alert rules: /alerts)"
	@echo "HTML report:    $(CURDIR)/reports/province.html"
	@echo "RabbitMQ UI:    http://127.0.0.1:15672 (guest/guest, local only)"
	@echo "service logs:   .stack/services/*.log    stop everything: make stop"
	@echo
	@echo "PORTAL:         http://127.0.0.1:8005  (sign in with a key, printed once:"
	@echo "                  $(BIN)/tracker keys issue --unit 220100        a city bureau (220000: the province)"
	@echo "                  $(BIN)/tracker keys issue --incubator JL-INC-0001   a carrier's staff"
	@echo "                  $(BIN)/tracker keys issue --admin              everything)"

stop: services-stop stack-down

test: stack-up  ## install what is missing, start the stack, run the whole suite
	scripts/ensure-chromium.sh
	scripts/ensure-ops-tools.sh >/dev/null
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest

bench: stack-up  ## every benchmark scenario; writes bench/results/latest.{json,md}
	$(BIN)/python -m bench $(BENCH_ARGS)

CHAOS_SCALE ?= 0.085

chaos: venv  ## ~10,000 events while each service is SIGKILLed, the broker restarted, the database stopped
	CHAOS_SCALE=$(CHAOS_SCALE) CHAOS_CONTROL=1 CHAOS_REPORT=reports/chaos.json \
		$(BIN)/pytest tests/chaos -q -s -p no:cacheprovider

venv: $(BIN)/tracker

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Pinned, hashed dependencies only (runtime and the test extra: requirements-test.lock), then the
# project itself without resolving anything: every machine and CI test the versions the image runs.
$(BIN)/tracker: requirements-test.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

stack-up: venv
	scripts/stack.sh up

stack-down:
	scripts/stack.sh down

stack-status:
	scripts/stack.sh status

services-start: venv
	scripts/services.sh start

services-stop:
	scripts/services.sh stop

deploy-check: venv  ## kustomize builds, offline schema validation, compose, dashboards, rules
	scripts/ensure-ops-tools.sh >/dev/null
	$(BIN)/pytest tests/deploy -q

monitoring: venv  ## rewrite the generated alert rules (deploy/monitoring) from scripts/monitoring
	$(BIN)/python -m scripts.monitoring

UV_VERSION := 0.13.9
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
	--python-platform linux --quiet --custom-compile-command "make lock"

# requirements.lock: what the image installs. requirements-test.lock: the same pins (it is
# resolved under them) plus the test extra, what `make venv` installs. Existing pins are kept
# unless pyproject.toml's ranges exclude them, so running it twice changes nothing.
lock: | $(BIN)/python  ## rewrite both lock files (pinned, hashed) from pyproject.toml
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra test --constraint requirements.lock -o requirements-test.lock

lint: venv  ## ruff, the import contracts, mypy (services/ and shared/: pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
