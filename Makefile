# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test install install-dev lint format migrate translations bench clean vendor

# Reinstall only when pyproject.toml changed (the stamp files remember).
$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: the demo (SQLite + embedded Redis under instance/), web server and worker together
run: install
	$(FLASK) devserver --port $(PORT)

## test: the whole suite on the embedded defaults (DATABASE_URL/REDIS_URL select others)
test: install-dev
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

migrate: install
	$(FLASK) db upgrade

translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -o mutualaid/translations/messages.pot mutualaid
	$(BIN)/pybabel update -i mutualaid/translations/messages.pot -d mutualaid/translations
	$(BIN)/pybabel compile -d mutualaid/translations

## vendor: copy the pinned front-end packages from npm into mutualaid/static/vendor/
vendor:
	bash scripts/vendor.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
