# gia-kg: `make demo` and `make test` work on a fresh clone (Python 3.10+, Java for `reason`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo test check lint reason clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=70" wheel
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) ## set up .venv, install, answer the flagship questions
	@$(BIN)/gia-kg order --format text

test: $(STAMP) ## set up .venv if needed, then run the test suite
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

check: lint ## lint + reasoning freshness
	$(BIN)/gia-kg reason --check

reason: $(STAMP) ## re-run HermiT and rewrite kg/data/inferred.ttl
	$(BIN)/gia-kg reason

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
