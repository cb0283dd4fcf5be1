# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench bench-spopt bench-prove clean

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

clean:
	rm -rf $(VENV) out .pytest_cache
