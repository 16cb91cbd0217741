# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install install-test system-deps run test bench vendor translations lint fuzz jscheck

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

system-deps:
	sh scripts/install-system-deps.sh

run: install
	sh scripts/run.sh

lint: install-test
	$(BIN)/ruff check praatbox tests bench scripts app.py
	$(BIN)/mypy praatbox

# Type-check static/js against its JSDoc (static/jsconfig.json), where TypeScript's `tsc` is
# installed (`npm install -g typescript`); `make test` does not need it.
TSC ?= tsc
jscheck:
	@if command -v $(TSC) >/dev/null 2>&1; then $(TSC) -p static/jsconfig.json --noEmit && echo "jscheck: no type errors"; \
	else echo "jscheck: skipped, $(TSC) not found"; fi

test: install-test system-deps lint
	sh scripts/run-tests.sh

bench: install-test
	sh scripts/install-system-deps.sh bench
	sh scripts/run-in-netns.sh sh scripts/run-benchmarks.sh

# The TURN packet path under 1,000,000 fuzzed inputs (`make test` runs a short fuzz run).
fuzz: install-test
	$(BIN)/python scripts/fuzz_turn.py --inputs 1000000

vendor:
	sh scripts/vendor.sh

translations: install-test
	$(BIN)/pybabel extract -F babel.cfg -o praatbox/translations/messages.pot .
	$(BIN)/pybabel update -i praatbox/translations/messages.pot -d praatbox/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d praatbox/translations
