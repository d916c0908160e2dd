# Two commands do all the set-up on a fresh machine (Python 3.10+ with pip, make, apt):
#   make app    install into .venv, create the demo project, serve the app with Voilà
#               (PORT=8866 by default; a port that is taken is an error)
#   make test   install into .venv (with test tools) and the system packages the tests
#               need (Chromium, poppler-utils), then run every test
# System packages are installed with apt-get when make runs as root or with passwordless
# sudo; otherwise make stops at once and prints the one command to run (.ci/system-packages).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROJECT ?= demo
PORT    ?= 8866

.PHONY: app lab test install lint schema clean test-packages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || PYTHON=$(PYTHON) bash .ci/system-packages --venv
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

app: install
	$(BIN)/workbook demo --id $(PROJECT)
	$(BIN)/workbook status $(PROJECT)
	$(BIN)/workbook serve --port $(PORT) --project $(PROJECT)

lab: install
	WORKBOOK_WORKSPACE=$(CURDIR)/workspace $(BIN)/jupyter lab notebooks/

# Before the (slow) install, so a missing package stops make at once.
test-packages:
	@PYTHON=$(PYTHON) bash .ci/system-packages --tests $(if $(wildcard $(BIN)/python),,--venv)

test: test-packages install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check workbook widgets tests

schema: install
	$(BIN)/workbook schema --write

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
