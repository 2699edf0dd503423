# Beamtime: two commands for a newcomer — `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test install install-dev lint migrate seed jobs bench constraints translations clean help

help:
	@echo "make run    - install, migrate, seed the demo, serve on http://127.0.0.1:5000 (+ jobs process)"
	@echo "make test   - the whole test suite, tier by tier (PostgreSQL tiers need TEST_DATABASE_URL)"
	@echo "make lint   - ruff and the import-linter layering contracts"
	@echo "make bench  - benchmarks, size S (python -m bench --size S|M|L [names])"
	@echo "make translations - extract the strings, update every catalogue, compile (app/translations)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

run: migrate
	@bash scripts/run-dev.sh

jobs: install
	$(BIN)/flask jobs run

test: install-dev
	$(BIN)/python scripts/test_tiers.py

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install-dev
	$(BIN)/python -m bench --size S

# Sorted, file-only locations: catalogues merge without line-number noise. Translate in
# app/translations/<lang>/LC_MESSAGES/messages.po, then run this again; commit the .mo files.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
	  --add-location=file --sort-output -w 100 --project=Beamtime --version=0.1 \
	  --copyright-holder=Beamtime --msgid-bugs-address=user-office@beamtime.example \
	  -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations -w 100 --no-fuzzy-matching
	$(BIN)/pybabel compile -d app/translations --statistics

constraints: install-dev
	( echo "# Exact versions CI passed with (pip install -c constraints.txt). Regenerate: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable ) > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-results
