# Two commands do all the set-up on a fresh machine (Python 3.10+ with pip, make, apt):
#   make app    install into .venv, create the demo project, serve the app with Voilà
#               (PORT=8866 by default; a port that is taken is an error)
#   make test   install into .venv (with test tools) and the system packages the tests
#               need (Chromium, poppler-utils, npm), then run every test
#   make hub    a real JupyterHub on this machine for trying the app as a team (HUB_PORT=8000
#               by default): users alice, bob, carol and dana, the password is printed;
#               HUB_MODE=user (default: a server each) or service (one shared server)
# System packages are installed with apt-get when make runs as root or with passwordless
# sudo; otherwise make stops at once and prints the one command to run (.ci/system-packages).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROJECT ?= demo
PORT    ?= 8866
HUB_PORT ?= 8000
HUB_MODE ?= user
# configurable-http-proxy (JupyterHub's proxy), installed with npm into .hub/, not globally.
HUB_PROXY := .hub/node_modules/.bin/configurable-http-proxy

.PHONY: app lab hub test install lint schema clean test-packages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || PYTHON=$(PYTHON) bash .ci/system-packages --venv
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,hub]'
	@touch $(STAMP)

install: $(STAMP)

app: install
	$(BIN)/workbook demo --id $(PROJECT)
	$(BIN)/workbook status $(PROJECT)
	$(BIN)/workbook serve --port $(PORT) --project $(PROJECT)

# State (database, cookie secret, password, log, workspace) is kept in .hub/; delete that
# folder to start again from scratch.
hub: install $(HUB_PROXY)
	$(BIN)/python deploy/jupyterhub/try_hub.py --port $(HUB_PORT) --mode $(HUB_MODE)

$(HUB_PROXY):
	@command -v npm >/dev/null 2>&1 || bash .ci/system-packages --hub
	npm install --prefix .hub --no-save --no-audit --no-fund --loglevel=error \
		configurable-http-proxy@4

lab: install
	WORKBOOK_WORKSPACE=$(CURDIR)/workspace $(BIN)/jupyter lab notebooks/

# Before the (slow) install, so a missing package stops make at once.
test-packages:
	@PYTHON=$(PYTHON) bash .ci/system-packages --tests --hub $(if $(wildcard $(BIN)/python),,--venv)

test: test-packages install $(HUB_PROXY)
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check workbook widgets tests

schema: install
	$(BIN)/workbook schema --write

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
