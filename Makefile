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

DATA ?= data/synthetic/default
# Values given on the command line never become shell or make code: they are read raw
# ($(value ...)), reach recipes only through the environment ("$$DATA_DIR", "$$CLUSTER_NAME"),
# and the seed must be a whole number. A DATA path may contain spaces.
DATA_DIR := $(value DATA)
# PUBLISHED=<dir>, else $EVALUATION_PUBLISHED_DIR (as the CLI and the tests read it), else
# data/published.
ifeq ($(origin PUBLISHED),undefined)
PUBLISHED_DIR := $(if $(value EVALUATION_PUBLISHED_DIR),$(value EVALUATION_PUBLISHED_DIR),data/published)
else
PUBLISHED_DIR := $(value PUBLISHED)
endif
CLUSTER_NAME := $(value CLUSTER)
# SCHEDULER=tcp://host:8786 runs the reports as tasks on a Dask cluster; LIMIT=<n> builds the
# school reports of the first n schools only.
SCHEDULER_ADDR := $(value SCHEDULER)
SCHOOLS_LIMIT := $(value LIMIT)
# The default seed is written once, in evaluation/config.py (DEFAULT_SEED).
ifeq ($(origin SEED),undefined)
SEED_RAW := $(shell sed -n 's/^DEFAULT_SEED = \([0-9]*\).*/\1/p' evaluation/config.py)
else
SEED_RAW := $(value SEED)
endif
unexport DATA CLUSTER SEED PUBLISHED SCHEDULER LIMIT
export DATA_DIR CLUSTER_NAME PUBLISHED_DIR SCHEDULER_ADDR SCHOOLS_LIMIT
empty :=
space := $(empty) $(empty)
make_escape = $(subst $(space),\ ,$(subst :,\:,$(subst $$,$$$$,$(1))))
digits = 0 1 2 3 4 5 6 7 8 9
strip_digits = $(if $(2),$(call strip_digits,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,10,$(2))),$(1))
ifneq ($(call strip_digits,$(subst $(space),_,$(SEED_RAW))x,$(digits)),x)
$(error SEED must be a whole number such as 4; got '$(SEED_RAW)')
endif
override SEED := $(SEED_RAW)
# the default data set however DATA names it (./data/synthetic/default, an absolute path): its
# seed follows SEED; any other data set is used as it is
DEFAULT_DATA := data/synthetic/default
# (a path with a space is never it: filter reads words, and "data/synthetic/default copy"
# was taken for it; a symbolic link to it is, by its real path)
IS_DEFAULT_DATA := $(if $(findstring $(space),$(DATA_DIR)),,$(or $(filter $(DEFAULT_DATA),$(DATA_DIR)),$(if $(findstring $(space),$(CURDIR)),,$(or $(filter $(abspath $(DEFAULT_DATA)),$(abspath $(DATA_DIR))),$(and $(realpath $(DEFAULT_DATA)),$(filter $(realpath $(DEFAULT_DATA)),$(realpath $(DATA_DIR))))))))
DATA_STAMP := $(if $(IS_DEFAULT_DATA),data/synthetic/default/meta.json,$(call make_escape,$(wildcard $(call make_escape,$(DATA_DIR))/schools.*)))
REPORTS := reports
# passed to recipes through the environment, like DATA and CLUSTER: no value runs as code
REPORTS_DIR := $(value REPORTS)
export REPORTS_DIR
# the output checker's logs (ACRO's format), under checker/: for the checker, never released
CHECKER := checker
NOTEBOOKS := notebooks
LIB_DEPS := $(shell find evaluation -name '*.py' -o -name '*.j2' -o -name '*.csv' -o -name '*.json' | sort) analysis.yml $(ENV_STAMP)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export OMP_NUM_THREADS := 1
# Python keeps the bytecode of what it imports (.pyc): with PYTHONDONTWRITEBYTECODE set, every
# process of every build compiled pandas, scipy, matplotlib ... again (a warm build: 8 s more)
unexport PYTHONDONTWRITEBYTECODE
export OPENBLAS_NUM_THREADS := 1

.PHONY: help env browser axe data check reports school-reports report lab test lint bench clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-15s %s\n", $$1, $$2}'
	@echo "Variables:"
	@echo "  DATA=<dir>        the data set (default data/synthetic/default)"
	@echo "  PUBLISHED=<dir>   DfE files (default \$$EVALUATION_PUBLISHED_DIR, else data/published)"
	@echo "  SEED=<n>          the synthetic data's seed"
	@echo "  REPORTS=<dir>     where reports go (default reports; school reports in <dir>/schools)"
	@echo "  CLUSTER=<name>    the cluster of 'make report'"
	@echo "  SCHEDULER=<addr>  run 'make reports' / 'make school-reports' on a Dask cluster"
	@echo "  LIMIT=<n>         'make school-reports' for the first n schools only"
	@echo "Time targets on 2 cores: 'make reports' (the evaluation's own reports) under 90 s from"
	@echo "  a fresh clone and under 30 s from a warm environment; 'make school-reports' at least"
	@echo "  1,000 school reports in 10 minutes (measured by 'make bench')."

.venv/.installed: pyproject.toml constraints.txt
	python3 -m venv .venv
	.venv/bin/python -m pip install --quiet -c constraints.txt uv
	.venv/bin/python -m uv pip install --quiet --python .venv/bin/python -c constraints.txt -e '.[dev]' || { \
	  echo "uv could not install from PyPI; installing with pip (slower, follows pip's own configuration)"; \
	  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'; }
	touch $@

env: $(ENV_STAMP) ## create the Python environment (.venv, or use the active conda env)

browser: ## install headless Chromium (Debian) for the browser tests
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; }

# axe-core (accessibility rules) for the browser tests, pinned, from the npm registry.
AXE_VERSION := 4.10.3
AXE_JS := .cache/node_modules/axe-core/axe.min.js
$(AXE_JS):
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq npm >/dev/null; }
	mkdir -p .cache && npm install --no-save --no-audit --no-fund --prefix .cache axe-core@$(AXE_VERSION)

axe: $(AXE_JS) ## install axe-core (npm, version pinned here) for the accessibility tests

# The seed is a prerequisite too: SEED=<n> regenerates the default data (and so every report).
# Only a build of the default data (or `make data`) records it: a build of another data set
# with SEED=5 left it at 5, and the next plain `make reports` generated the data again.
SEED_STAMP := data/synthetic/.seed
ifneq ($(or $(IS_DEFAULT_DATA),$(filter data,$(MAKECMDGOALS))),)
$(shell mkdir -p data/synthetic && (echo $(SEED) | cmp -s - $(SEED_STAMP) || echo $(SEED) > $(SEED_STAMP)))
endif

data/synthetic/default/meta.json: $(wildcard evaluation/synthetic/*.py) $(SEED_STAMP) | $(ENV_STAMP)
	$(PY) -m evaluation data --scenario default --seed $(SEED) --out data/synthetic/default

data: data/synthetic/default/meta.json ## generate the default synthetic data set

check: $(ENV_STAMP) $(DATA_STAMP) ## read and check the data set (DATA=<dir>) and analysis.yml
	@$(PY) -m evaluation check --data "$$DATA_DIR" --published "$$PUBLISHED_DIR"

# Every core by default (one warm kernel per worker process), or a Dask cluster with
# SCHEDULER=...; a report whose inputs and code are unchanged is not rendered again.
reports: $(ENV_STAMP) $(DATA_STAMP) ## render every changed report in parallel on every core (SCHEDULER=<addr>: on Dask) and the index
	@$(PY) -m evaluation build --data "$$DATA_DIR" --published "$$PUBLISHED_DIR" --seed $(SEED) \
	  --reports "$$REPORTS_DIR" --scheduler "$$SCHEDULER_ADDR"

# The evaluation's index, when there is one, is written again: it links the school index.
school-reports: $(ENV_STAMP) ## one report per school of the national KS4 table (PUBLISHED=<dir>) and a searchable index
	@rc=0; $(PY) -m evaluation schools --published "$$PUBLISHED_DIR" --reports "$$REPORTS_DIR/schools" \
	  --scheduler "$$SCHEDULER_ADDR" --limit "$${SCHOOLS_LIMIT:-0}" || rc=$$?; \
	  if [ -f "$$REPORTS_DIR/index.html" ]; then $(PY) -m evaluation index --data "$$DATA_DIR" \
	  --published "$$PUBLISHED_DIR" --seed $(SEED) --reports "$$REPORTS_DIR" >/dev/null 2>&1 || true; fi; \
	  exit $$rc

# Exits non-zero when the report fails (its error page and the index still say why).
report: $(ENV_STAMP) $(DATA_STAMP) ## render one report: make report CLUSTER="<cluster name>"
	@test -n "$$CLUSTER_NAME" || { echo 'usage: make report CLUSTER="<cluster name>"'; exit 2; }
	@rc=0; $(PY) -m evaluation render --cluster "$$CLUSTER_NAME" --data "$$DATA_DIR" --published "$$PUBLISHED_DIR" \
	  --seed $(SEED) --reports "$$REPORTS_DIR" || rc=$$?; \
	  if [ $$rc -ne 2 ]; then $(PY) -m evaluation index --data "$$DATA_DIR" --published "$$PUBLISHED_DIR" --seed $(SEED) \
	  --reports "$$REPORTS_DIR" || true; fi; exit $$rc

# JupyterLab refuses to start as root unless told to (containers often run as root).
lab: $(ENV_STAMP) $(DATA_STAMP) ## open JupyterLab on notebooks/ with the package importable
	$(PY) -m jupyterlab --notebook-dir=$(NOTEBOOKS) $$([ "$$(id -u)" = 0 ] && echo --allow-root)

test: $(ENV_STAMP) browser axe ## ruff, then the whole test suite
	$(PY) -m ruff check evaluation tests bench
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=15 --doctest-modules tests evaluation

lint: $(ENV_STAMP) ## ruff and a dead-code finder (vulture)
	$(PY) -m ruff check evaluation tests bench
	$(PY) -m vulture evaluation tests bench --min-confidence 61

BENCHES := bench/bench_matching.py bench/simulation_study.py bench/bench_build.py
bench: $(ENV_STAMP) $(DATA_STAMP) ## benchmarks: matching vs peers, simulation study, build timings (rebuilds reports/ from nothing)
	@for b in $(BENCHES); do echo "== $$b"; $(PY) $$b || exit 1; done

clean: ## remove generated data, reports and caches
	cd "$$REPORTS_DIR" 2>/dev/null && rm -rf _shared schools html _executed records logs index.html; true
	rm -rf $(CHECKER) data/synthetic .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
