# The README's two commands are `make demo` and `make test`.
# Everything installs into virtualenvs under .venv* (created on first use).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# Every distribution folder; a plugin is any plugins/*/pyproject.toml.
PLUGINS := $(patsubst %/pyproject.toml,%,$(wildcard plugins/*/pyproject.toml))

.PHONY: demo test test-all test-isolated test-core-alone test-plugin bench docs lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Installed once; re-run when any pyproject or the dev requirements change.
$(VENV)/.installed: $(BIN)/python requirements-dev.txt airlock_core/pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	$(PIP) install -r requirements-dev.txt -e airlock_core $(foreach p,$(PLUGINS),-e "$(p)[test]")
	touch $@

demo: $(VENV)/.installed
	$(BIN)/airlock demo

# All tests: the whole workspace together, then each distribution alone.
test: test-all test-isolated

test-all: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The oldest supported Python, when this machine has one (the core promises >= 3.10).
PYTHON_OLDEST ?= $(firstword $(shell python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null) \
                             $(wildcard /root/.pyenv/versions/3.10*/bin/python3.10))
# The newest Python here from 3.14 down to 3.12: Django 6 (with its own tasks framework) needs >= 3.12.
NEWER_PYTHONS := 3.14 3.13 3.12
PYTHON_NEWEST ?= $(firstword $(foreach v,$(NEWER_PYTHONS),$(shell python$(v) -c 'import sys; print(sys.executable)' 2>/dev/null) \
                             $(wildcard /root/.pyenv/versions/$(v)*/bin/python$(v))))

# The middleware plugins, which need no backend: also run on the oldest Python.
BACKENDLESS_PLUGINS := airlock-retry airlock-priority airlock-coalesce

# The core with no plugin installed (also on the oldest and the newest Python,
# with the backendless plugins on the oldest), then each plugin alone, and
# airlock-django once more with Django 6.
test-isolated: test-core-alone
	@if [ -n "$(PYTHON_OLDEST)" ]; then \
	  set -e; $(MAKE) --no-print-directory test-core-alone PYTHON=$(PYTHON_OLDEST) CORE_VENV=.venv-core-oldest; \
	  for p in $(BACKENDLESS_PLUGINS); do \
	    $(MAKE) --no-print-directory test-plugin PLUGIN=$$p PYTHON=$(PYTHON_OLDEST) PLUGIN_VENV=.venv-$$p-oldest; \
	  done; \
	else echo "no Python 3.10 here: the oldest-Python runs are left out"; fi
	@if [ -n "$(PYTHON_NEWEST)" ]; then \
	  $(MAKE) --no-print-directory test-core-alone PYTHON=$(PYTHON_NEWEST) CORE_VENV=.venv-core-newest; \
	else echo "no Python 3.12 or newer here: the core's newest-Python run is left out"; fi
	@set -e; for p in $(PLUGINS); do $(MAKE) --no-print-directory test-plugin PLUGIN=$$(basename $$p); done
	@if [ -n "$(PYTHON_NEWEST)" ]; then \
	  $(MAKE) --no-print-directory test-plugin PLUGIN=airlock-django PYTHON=$(PYTHON_NEWEST) \
	    PLUGIN_VENV=.venv-airlock-django-6 PLUGIN_REQUIRES='django>=6'; \
	else echo "no Python 3.12 or newer here: airlock-django's run with Django 6 is left out"; fi

CORE_VENV ?= .venv-core
test-core-alone:
	rm -rf $(CORE_VENV) && $(PYTHON) -m venv $(CORE_VENV)
	$(CORE_VENV)/bin/python -m pip --disable-pip-version-check -q install pytest gevent ./airlock_core
	$(CORE_VENV)/bin/python -m pytest -p no:cacheprovider airlock_core/tests

# make test-plugin PLUGIN=airlock-celery [PLUGIN_REQUIRES='django>=6'] (more requirements for that venv)
PLUGIN_VENV ?= .venv-$(PLUGIN)
test-plugin:
	@test -n "$(PLUGIN)" || (echo "usage: make test-plugin PLUGIN=airlock-<name>"; exit 2)
	rm -rf $(PLUGIN_VENV) && $(PYTHON) -m venv $(PLUGIN_VENV)
	$(PLUGIN_VENV)/bin/python -m pip --disable-pip-version-check -q install ./airlock_core "./plugins/$(PLUGIN)[test]" $(if $(PLUGIN_REQUIRES),'$(PLUGIN_REQUIRES)')
	AIRLOCK_TEST_PLUGIN_ALONE=$(PLUGIN) $(PLUGIN_VENV)/bin/python -m pytest -p no:cacheprovider plugins/$(PLUGIN)/tests

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py

docs: $(VENV)/.installed
	$(BIN)/mkdocs build --strict

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf .venv .venv-* site .pytest_cache
