# Homeward: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
export PORT

.PHONY: setup run test lint migrate clean

setup: $(VENV)/.installed

# Re-installs only when a requirements file changed.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

migrate: setup
	$(FLASK) db upgrade

run: migrate
	$(FLASK) seed-demo --if-missing
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: setup
	$(BIN)/ruff check --quiet .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache
