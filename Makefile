# gia-kg: `make demo` and `make test` work on a fresh clone (Python 3.10+, Java for `reason`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo test check lint reason import bench clean site

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=70" wheel
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) ## set up .venv, install, answer the flagship questions
	@echo "== The threat-model order, derived by HermiT from the SoK's capability sets"
	@$(BIN)/gia-kg order --format text
	@echo
	@echo "== Defenses that cover G but not H (which stop holding once the server also picks the clients?)"
	@$(BIN)/gia-kg query defenses-cover-but-not -p covered=G -p uncovered=H
	@echo
	@echo "== Defenses that cover E but not F (hold against a statistics-informed eavesdropper, not an active manipulator)"
	@$(BIN)/gia-kg query defenses-cover-but-not -p covered=E -p uncovered=F
	@echo
	@echo "== Attacks feasible for a threat-model-D adversary (surrogate data, no manipulation)"
	@$(BIN)/gia-kg query attacks-feasible -p threat_model=D
	@echo
	@echo "gia-kg is installed in $(VENV): run 'source $(VENV)/bin/activate' to put gia-kg on your PATH,"
	@echo "or call $(BIN)/gia-kg directly. Start with: gia-kg --help, gia-kg queries, gia-kg query NAME --help"
	@echo "See it: gia-kg site -o site, then open site/index.html (offline). Serve it: gia-kg serve"
	@echo "(SPARQL 1.1 at http://127.0.0.1:7878/sparql, saved queries at /queries)."

test: $(STAMP) ## set up .venv if needed, then lint and run the test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

check: lint ## lint + reasoning freshness + SHACL validation + audit (fails on ERROR findings)
	$(BIN)/gia-kg reason --check
	$(BIN)/gia-kg validate
	$(BIN)/gia-kg audit --fail-on ERROR

reason: $(STAMP) ## re-run HermiT and rewrite kg/data/inferred.ttl
	$(BIN)/gia-kg reason

# The SoK releases are kept in the repository (tests/fixtures/sok, GPL-3.0); SOK=path picks another.
SOK ?= tests/fixtures/sok/sok_gias_fl-README-2025-09-02.md

import: $(STAMP) ## re-import kg/data (stable IRIs from kg/data/registry.tsv) from the SoK README $(SOK)
	$(BIN)/gia-kg import-sok $(SOK) -o kg/data

bench: $(STAMP) ## run the benchmarks (minutes) and rewrite benchmarks/results.md
	$(BIN)/python benchmarks/run.py

# Debian/Ubuntu: apt-get install chromium (headless screenshots; the site itself needs no browser).
CHROMIUM ?= chromium
SHOT := $(CHROMIUM) --headless --no-sandbox --hide-scrollbars --window-size=1400,1000

site: $(STAMP) ## render the static site into site/, then screenshot its heatmap and Hasse pages into docs/img/
	$(BIN)/gia-kg site -o site
	@command -v $(CHROMIUM) >/dev/null || { echo "no $(CHROMIUM) for the screenshots; open site/index.html"; exit 1; }
	$(SHOT) --screenshot=docs/img/heatmap.png file://$(CURDIR)/site/coverage.html
	$(SHOT) --screenshot=docs/img/hasse.png file://$(CURDIR)/site/order.html

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
