# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-full bench bench-spopt bench-prove bench-city clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.demo-installed

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/siting demo

# Lint first (ruff and mypy, configured in pyproject.toml: zero findings), then the suite.
test: $(VENV)/.test-installed
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

# The checks too long for CI: the whole Shanghai street grid planned three times (about 7 min),
# the 4-copy tiled city on a local cluster and a remote scheduler.
test-full: $(VENV)/.test-installed
	$(BIN)/python -m pytest -m full

bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/stages.py

# Same instances solved by spopt and by optimizer.models in one run (about 1.5 h; QUICK=1: 1 min).
bench-spopt: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/compare_spopt.py $(if $(QUICK),--quick)

# Locker model proven on every extract (60 s each) and a synthetic 20,000-home district
# (10 min); run on an idle machine: limits of 60 s and 600 s per solver phase (QUICK=1: 10 s
# limits, 4 copies, about 2 min).
bench-prove: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/prove_lockers.py $(if $(QUICK),--quick)

# City mode on synthetic tiled cities (the Chengdu extract 1, 4 and 16 times; TILES="1 4 16 36
# 100" for the table in docs/measurements.md) on a local Dask cluster of 2 workers: time, worker memory, cost,
# bound, gap; the cities of up to 4 copies are also planned as one plan, the reference.
TILES ?= 1 4 16
bench-city: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/bench_city.py --tiles $(TILES) --time-limit 10 --whole-up-to 4

clean:
	rm -rf $(VENV) out .pytest_cache
