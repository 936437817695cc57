# openstatus: make setup && make run
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the test suite and the local run need (installed only where missing).
APT_PACKAGES := postgresql chromium
PYTEST_ARGS ?=

.PHONY: setup run test lint bench clean migrate

setup: $(BIN)/.installed
	@$(MAKE) --no-print-directory system-packages

$(BIN)/.installed: pyproject.toml requirements-dev.txt constraints.txt libs/common/pyproject.toml \
		$(wildcard services/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt
	@touch $@

.PHONY: system-packages
system-packages:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

run: $(BIN)/.installed
	$(BIN)/openstatus-local

migrate: $(BIN)/.installed
	$(BIN)/openstatus-migrate

test: $(BIN)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
