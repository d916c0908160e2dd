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
	$(BIN)/python -m pip install --quiet -e '.[test,hub,evidence]'
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

# JupyterLab on a free port of this machine only, opening notebooks/ with the workspace set.
# The app object is exposed to the page so links between the app's pages open notebooks.
lab: install
	$(BIN)/workbook --workspace $(CURDIR)/workspace demo --id $(PROJECT)
	@port=$$($(BIN)/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	root=; if [ "$$(id -u)" = 0 ]; then \
	  echo "make lab: running as root, so JupyterLab is started with --allow-root (its kernels can change anything on this machine; prefer an ordinary user)."; \
	  root=--allow-root; fi; \
	echo "make lab: JupyterLab on port $$port with the workspace $(CURDIR)/workspace; it prints its address (with its access token) below."; \
	WORKBOOK_WORKSPACE=$(CURDIR)/workspace $(BIN)/jupyter lab --ip=127.0.0.1 --port=$$port \
	  --ServerApp.port_retries=0 --LabApp.expose_app_in_browser=True $$root \
	  --ServerApp.root_dir=$(CURDIR)/notebooks $(LAB_ARGS)

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
