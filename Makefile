# One-command set-up: `make demo` and `make test` create the venv and install on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.v2l-installed
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export RAY_USAGE_STATS_ENABLED := 0
export RAY_AUTH_MODE := disabled
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

.PHONY: setup ffmpeg system-packages test lint unit integration demo bench ui clean

setup: $(STAMP) ffmpeg system-packages

# Reinstalls only when the dependency pins change. The lock pins every package (pip's -c).
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

ffmpeg:
	@sh scripts/ensure_ffmpeg.sh $(PY)

# chromium and postgresql (Debian) for the browser and PostgreSQL tests.
system-packages:
	@sh scripts/ensure_system_packages.sh

# Two tiers: unit tests (dummy components, seconds each) first, then the integration tier (Ray clusters, Dagster
# materialisations, servers, committed-weight bars, the demo, the wheel). pytest's exit code 5 (no tests) fails.
PYTEST_TIER = rc=0; $(PY) -m pytest -q -m
PYTEST_RC = ; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test: setup lint unit integration

lint: setup
	@$(PY) -m ruff check --quiet .
	@$(PY) -m ruff format --check --quiet .

unit: setup
	@$(PYTEST_TIER) "not integration" $(PYTEST_RC)

integration: setup
	@$(PYTEST_TIER) integration $(PYTEST_RC)

demo: setup
	$(VENV)/bin/v2l demo --out runs/demo

bench: setup
	$(PY) -m benchmarks.run

# The Dagster UI and the MLflow UI on 127.0.0.1 until Ctrl-C (ports: UI_ARGS="--dagster-port 3000 --mlflow-port 5000").
ui: setup
	$(PY) scripts/ui.py $(UI_ARGS)

clean:
	rm -rf runs .pytest_cache
