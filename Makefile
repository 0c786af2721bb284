# newsvault: `make run` runs the demo, `make test` runs every check. Both set themselves up.
VENV    ?= .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
SOURCES := vocabulary storage processing crawler tasks newsvault tests bench

.PHONY: run test lint format services browser pywb clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh $(VENV)
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/newsvault demo

test: $(STAMP) services browser pywb lint
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format $(SOURCES)
	$(VENV)/bin/ruff check --fix $(SOURCES)

services:
	scripts/services.sh

browser:
	scripts/browser.sh --install

pywb:
	scripts/pywb.sh

clean:
	rm -rf $(VENV) .venv-pywb data .pytest_cache .mypy_cache .ruff_cache
