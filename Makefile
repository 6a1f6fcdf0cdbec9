# obskit: `make report` (demo report) and `make test` (test suite) are all the set-up there is.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ROWS ?= 200000
DEMO_DIR ?= demo-data
REPORTS ?= reports/demo

# Evidently and NannyML (test references) phone home unless told not to; obskit never does.
export DO_NOT_TRACK := 1
export ITERATIVE_DO_NOT_TRACK := 1
export NML_DISABLE_USAGE_LOGGING := 1
# MLflow reads only DO_NOT_TRACK=true, not 1
export MLFLOW_DISABLE_TELEMETRY := true
export MPLBACKEND := Agg

.PHONY: install install-dev report test lint clean bench bench-drift bench-report

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (obskit)" >/dev/null
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(DEMO_DIR)/config.yml: | $(VENV)/.installed
	$(VENV)/bin/obskit demo --out $(DEMO_DIR) --rows $(ROWS)

report: $(VENV)/.installed $(DEMO_DIR)/config.yml
	$(VENV)/bin/obskit report --config $(DEMO_DIR)/config.yml --out $(REPORTS)

test: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check obskit tests
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy obskit
	$(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check obskit tests
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy obskit
	$(VENV)/bin/ruff format --check obskit tests

# Benchmarks against Evidently and NannyML (benchmarks/README.md): make bench-drift / bench-report SIZES=100k,1M (default 100k,1M,10M)
SIZES ?= 100k,1M,10M
REPORT_SIZES ?= $(SIZES)
$(VENV)/.installed-bench: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[bench]"
	touch $@

# issue 17's targets side by side (benchmarks/README.md "Targets (issue 17)"):
# make bench TARGETS=report300k,incremental; the opt-in 100M run: TARGETS=...,100M
TARGETS ?= report300k,report1M,drift1M,demo1M,incremental,spark
bench: $(VENV)/.installed-bench
	$(PY) benchmarks/bench_targets.py --targets $(TARGETS)

bench-drift: $(VENV)/.installed-bench
	$(PY) benchmarks/bench_drift.py --sizes $(SIZES)

bench-report: $(VENV)/.installed-bench
	$(PY) benchmarks/bench_report.py --sizes $(REPORT_SIZES)

clean:
	rm -rf $(DEMO_DIR) $(REPORTS)
