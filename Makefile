# Two commands do everything on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
# Where `make serve` listens: loopback unless set on the command line (make run HOST=… PORT=8001). HOST is not taken
# from the environment, where tcsh puts the machine's name; PORT is. Workers and timeout: api/gunicorn_conf.py
# (WORKERS=… and TIMEOUT=… override them).
HOST   := 127.0.0.1
PORT   ?= 8000
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup pipeline site web browser run serve lint test bench notebooks lab clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	@echo "setting up $(VENV) (Python packages from pyproject.toml, pinned by constraints.txt)…"
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q -c constraints.txt -e '.[test]' > $(VENV)/pip.log 2>&1 || { tail -40 $(VENV)/pip.log; exit 1; }
	@touch $@

# nginx for the test of the README's reverse-proxy set-ups (make browser)
NGINX_BIN := $(VENV)/nginx/usr/sbin/nginx

# Vega for the pages `dvc plots show` and `dvc plots diff` write (.dvc/plots/offline.html loads it), so they draw offline
PLOTS_VEGA := .dvc/plots/node_modules/.installed

$(PLOTS_VEGA): .dvc/plots/package.json .dvc/plots/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix .dvc/plots --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "note: npm is missing, so the dvc plots pages load Vega from the internet (cdn.jsdelivr.net); install Node.js and npm to draw them offline"; fi

setup: $(VENV)/.installed $(PLOTS_VEGA)  ## virtual env, Python packages, and Vega for dvc plots pages (idempotent)

pipeline: setup  ## reproduce the DVC pipeline (data → features → k → clusters → personas)
	dvc repro
	@$(MAKE) --no-print-directory site

site: setup  ## render the Quarto report when Quarto is installed; say so when it is not
	@if command -v quarto >/dev/null 2>&1; then dvc repro site/dvc.yaml; \
	else echo "note: Quarto is not installed, so the report site was skipped (site/_site not rendered; everything else ran)."; \
	  echo "      To get it: install Quarto 1.5 or newer from https://quarto.org/docs/get-started/ , then run 'make site'."; fi

web:  ## build the staff page (api/web → api/static) with npm and esbuild
	@if [ -f api/web/package.json ]; then npm ci --prefix api/web --no-audit --no-fund --loglevel=error && npm run --prefix api/web build; \
	else echo "note: api/web has no package.json yet; no page to build"; fi

browser:  ## Debian's chromium for the browser tests (apt), and nginx for the README's proxy set-ups
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
	  else echo "chromium is missing: install Debian's chromium package (sudo apt-get install chromium)"; exit 1; fi; }
	@# nginx: Debian's package unpacked into .venv/nginx, not installed, so no service starts on port 80 (its test
	@# runs it with a config of its own); the test says it skipped when this could not fetch it
	@[ -x $(NGINX_BIN) ] || { d=$$(mktemp -d); \
	  if (cd $$d && apt-get download -qq nginx) >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && (cd $$d && apt-get download -qq nginx) >/dev/null 2>&1; }; \
	  then dpkg -x $$d/nginx_*.deb $(VENV)/nginx && echo "nginx unpacked into $(VENV)/nginx (for tests/browser/test_behind_nginx.py)"; \
	  else echo "note: nginx could not be fetched (apt-get download nginx), so the test of the README's nginx set-ups will be skipped"; fi; \
	  rm -rf $$d; }

run: pipeline web serve  ## set up, reproduce, build the page and serve it on http://127.0.0.1:8000

serve: setup  ## serve the API and page with gunicorn (no setup, no pipeline)
	gunicorn -c python:api.gunicorn_conf --bind $(HOST):$(PORT) 'api:create_app()'

lint: setup  ## ruff over the code, tests and notebooks, then mypy over stages/, api/ and tests/ (make test runs it first)
	ruff check --quiet .
	mypy

test: lint pipeline web browser  ## set up, lint, reproduce, and run every test (unit, API, nbval, browser, the page's own)
	npm test --prefix api/web --silent
	pytest tests
	@# nbval runs the source notebooks, which write outputs: into a temporary root, never over the DVC outputs;
	@# their kernels load the numeric kernels the pipeline pins (stages/numerics.py), like `dvc repro`
	out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; SEGMENTATION_OUTPUT_ROOT=$$out $(PY) -m stages.numerics pytest --nbval-lax notebook

bench: pipeline web  ## benchmarks, each printed as a ratio against a reference measured in the same run
	$(PY) -m tests.bench

notebooks: setup  ## copy params.yaml into the notebooks' parameters cells and refresh their checked outputs
	dvc repro
	$(PY) -m stages.run_notebook --refresh-sources
	@# a refreshed notebook is its stage's dependency: run that stage again, so dvc.lock records the notebook as it is
	dvc repro

lab: setup  ## open the notebooks in JupyterLab, kernels pinned like the pipeline's (installs the dev extra once)
	@$(PY) -c 'import jupyterlab' 2>/dev/null || $(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	$(PY) -m stages.numerics jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebook/

clean:  ## remove the virtual env and built files (DVC outputs stay in .dvc/cache)
	rm -rf $(VENV) api/static api/web/node_modules .dvc/plots/node_modules site/_site *.egg-info
