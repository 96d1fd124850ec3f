# Homeward: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
export PORT
# the JavaScript's checks, in `make lint` and `make test`
JS_CHECKS = node_modules/.bin/eslint . && node_modules/.bin/prettier --check --log-level=warn .

.PHONY: setup run serve worker test bench lint migrate clean messages

# The server's translations (translations/<lang>/LC_MESSAGES/messages.po),
# compiled to the .mo files Flask-Babel reads; .mo files are never committed.
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)

setup: $(VENV)/.installed frontend/vendor/.installed $(CATALOGS:.po=.mo)

# Re-installs only when a requirements file changed.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Third-party browser modules come from npm (package-lock.json) and are copied
# next to the app's own; they are never committed.
frontend/vendor/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p frontend/vendor
	cp node_modules/idb/build/index.js frontend/vendor/idb.js
	cp node_modules/uplot/dist/uPlot.esm.js frontend/vendor/uplot.js
	cp node_modules/uplot/dist/uPlot.min.css frontend/vendor/uplot.css
	touch $@

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

# After adding or changing a server string: extract every string into
# translations/messages.pot and merge it into each language's .po (README).
messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --project=Homeward \
		--copyright-holder=Homeward --no-location --sort-output \
		-o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations

migrate: setup
	$(FLASK) db upgrade

# The worker (mail, reminders, export jobs, the alert sweep, file clean-up:
# backend/worker.py) runs in the background for as long as the server runs.
run: migrate
	$(FLASK) seed-demo --if-missing
	$(FLASK) vapid-keys --if-missing
	$(FLASK) worker & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
		$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Production-style serving: gunicorn with gunicorn.conf.py (WEB_CONCURRENCY, PORT),
# the PWA's files linked for nginx (deploy/nginx.conf) to serve from disk.
serve: migrate
	$(FLASK) publish-assets
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

# The worker alone (`make run` starts one too): every task on its schedule
# (`flask --app wsgi worker tasks` lists them), e.g. next to `make serve`.
worker: migrate
	$(FLASK) vapid-keys --if-missing
	$(FLASK) worker

# ESLint and Prettier over our JavaScript (eslint.config.js, .prettierrc.json),
# then the frontend's pure logic under node (frontend/tests/), then pytest.
test: setup
	scripts/ensure-system-packages
	$(BIN)/ruff check --quiet .
	$(JS_CHECKS)
	node --test --test-reporter=dot frontend/tests/
	$(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks print figures; they are never part of `make test`.
bench: setup
	cd bench && ../$(BIN)/python report_bench.py
	cd bench && ../$(BIN)/python load_bench.py

lint: setup
	$(BIN)/ruff check .
	$(JS_CHECKS)

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules frontend/vendor
