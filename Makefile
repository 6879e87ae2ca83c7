# The two commands of the README: `make dev` runs the pipeline, `make test` runs every check.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: setup dev test lint unit schemas dashboards

setup:
	./scripts/ensure-system-deps.sh
	$(UV) sync --all-packages --frozen
	$(UV) run python -c "from complaints_cli.broker import ensure_jars; ensure_jars()"

dev: setup
	$(UV) run complaints dev

lint:
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports
	$(UV) run complaints-schemas --check
	$(UV) run python deploy/grafana/dashboards.py --check

test: setup lint
	REQUIRE_E2E=1 $(UV) run pytest

unit:
	$(UV) run pytest -m "not kafka and not e2e"

schemas:
	$(UV) run complaints-schemas

dashboards:
	$(UV) run python deploy/grafana/dashboards.py
