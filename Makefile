# Extra Mile evaluation: every step of the build. `make` (or `make help`) lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

# Environment: an active conda environment built from environment.yml (named extra-mile) is
# used when there is one; otherwise a .venv made once and reused.
CONDA_ENV_NAME := extra-mile
ifeq ($(CONDA_DEFAULT_ENV),$(CONDA_ENV_NAME))
PY := python
ENV_STAMP :=
else
PY := .venv/bin/python
ENV_STAMP := .venv/.installed
endif

SEED ?= 4
DATA ?= data/synthetic/default
PUBLISHED ?= data/published
DATA_STAMP := $(if $(filter data/synthetic/default,$(DATA)),data/synthetic/default/meta.json,$(wildcard $(DATA)/schools.*))
REPORTS := reports
NOTEBOOKS := notebooks
LIB_DEPS := $(shell find evaluation -name '*.py' -o -name '*.j2' -o -name '*.csv' -o -name '*.json' | sort) analysis.yml $(ENV_STAMP)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1

.PHONY: help env browser data reports report lab test lint bench clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  variables: DATA=<dir> (default $(DATA)), PUBLISHED=<dir> (DfE files, default $(PUBLISHED)), SEED=<n>, CLUSTER=<name> for 'make report'"

.venv/.installed: pyproject.toml constraints.txt
	python3 -m venv .venv
	.venv/bin/python -m pip install --quiet --upgrade pip
	.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

env: $(ENV_STAMP) ## create the Python environment (.venv, or use the active conda env)

browser: ## install headless Chromium (Debian) for the browser tests
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; }

# The seed is a prerequisite too: SEED=<n> regenerates the data (and so every report).
SEED_STAMP := data/synthetic/.seed
$(shell mkdir -p data/synthetic && (echo $(SEED) | cmp -s - $(SEED_STAMP) || echo $(SEED) > $(SEED_STAMP)))

data/synthetic/default/meta.json: $(wildcard evaluation/synthetic/*.py) $(SEED_STAMP) | $(ENV_STAMP)
	$(PY) -m evaluation data --scenario default --seed $(SEED) --out data/synthetic/default

data: data/synthetic/default/meta.json ## generate the default synthetic data set

# One rule per report, generated from the data (clusters) and $(PUBLISHED) (sources).
$(REPORTS)/targets.mk: $(DATA_STAMP) $(wildcard $(PUBLISHED)/*/*) | $(ENV_STAMP)
	@mkdir -p $(REPORTS)
	@$(PY) -m evaluation targets --data $(DATA) --published $(PUBLISHED) --seed $(SEED) > $@.tmp && mv $@.tmp $@

ifneq ($(filter reports,$(MAKECMDGOALS)),)
-include $(REPORTS)/targets.mk
endif

reports: $(REPORTS)/targets.mk $(REPORT_HTML) ## render every report (incremental; make -j2 for parallel) and the index
	@$(PY) -m evaluation index --data $(DATA) --published $(PUBLISHED) --seed $(SEED)

report: $(ENV_STAMP) $(DATA_STAMP) ## render one report: make report CLUSTER="<cluster name>"
	@test -n "$(CLUSTER)" || { echo "usage: make report CLUSTER=\"<cluster name>\""; exit 2; }
	@$(PY) -m evaluation render --cluster "$(CLUSTER)" --data $(DATA) --published $(PUBLISHED) --seed $(SEED)
	@$(PY) -m evaluation index --data $(DATA) --published $(PUBLISHED) --seed $(SEED) || true

lab: $(ENV_STAMP) $(DATA_STAMP) ## open JupyterLab on notebooks/ with the package importable
	$(PY) -m jupyterlab --notebook-dir=$(NOTEBOOKS)

test: $(ENV_STAMP) browser ## run the whole test suite
	$(PY) -m pytest -q -n 2 --dist loadgroup tests

lint: $(ENV_STAMP) ## ruff
	$(PY) -m ruff check evaluation tests bench

BENCHES := bench/bench_matching.py bench/simulation_study.py bench/bench_build.py
bench: $(ENV_STAMP) $(DATA_STAMP) ## benchmarks: matching vs peers, simulation study, build timings
	@for b in $(BENCHES); do echo "== $$b"; $(PY) $$b || exit 1; done

clean: ## remove generated data, reports and caches
	rm -rf $(REPORTS)/html $(REPORTS)/_executed $(REPORTS)/records $(REPORTS)/logs \
	  $(REPORTS)/index.html $(REPORTS)/targets.mk data/synthetic .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
