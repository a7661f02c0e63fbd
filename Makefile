# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CODE := pipeline flows

.PHONY: install run lint test bench-quality clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

run: install  ## install, then process the bundled raw/ into processed/
	$(BIN)/sitesift run --raw raw --out processed

lint: install  ## ruff (lint and format) over the whole checkout, notebooks and README code included; mypy over the code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(CODE)

test: lint  ## install, lint, then run the whole test suite
	$(BIN)/python -m pytest -q

bench-quality: install  ## quality benchmark against ../shared/eval (not part of the tests)
	$(BIN)/python bench/quality.py ../shared/eval

clean:
	rm -rf processed/_runs processed/documents processed/blocks processed/boilerplate processed/skipped
