# The two set-up commands: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench system-deps clean oracle

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "crowdline needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(PIP) install -e '.[test]'
	@touch $@

# crowd-kit, the reference the aggregation tests and bench compare against, in its own venv.
ORACLE := .venv-oracle
$(ORACLE)/.installed: tests/aggregate/oracle-requirements.txt
	$(PYTHON) -m venv $(ORACLE)
	$(ORACLE)/bin/python -m pip --disable-pip-version-check -q install -r $<
	@touch $@

oracle: $(ORACLE)/.installed

demo: $(VENV)/.installed
	$(BIN)/crowdline demo

# Servers and browser the tests drive, from Debian's packages, installed only when missing.
system-deps:
	@bash .ci/system-deps.sh

test: $(VENV)/.installed-test system-deps $(ORACLE)/.installed
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench

bench: $(VENV)/.installed-test $(ORACLE)/.installed
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) $(ORACLE) .pytest_cache .ruff_cache
