# Two commands do all the set-up on a fresh machine (Python 3.10+ and pip):
#   make app    install into .venv, create the demo project, serve the app with Voilà
#   make test   install into .venv (with test tools) and run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROJECT ?= demo
PORT    ?= 8866

.PHONY: app lab test install lint schema clean

$(STAMP): pyproject.toml
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

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check workbook widgets tests

schema: install
	$(BIN)/workbook schema --write

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
