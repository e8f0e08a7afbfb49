# Two entry points for a fresh clone (see README):
#   make up    install everything, scaffold ./demo once, run it as a devnet with the reference hub
#   make demo  (second terminal) a contract calls a model; the proof is verified locally
#   make test  install everything, run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser up demo test lint bench screenshots clean docs

install: $(STAMP) node_modules/.installed browser

# The explorer's browser tests drive Debian's chromium through its chromedriver.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ( $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
	    $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q chromium chromium-driver )

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[all,dev]"  # all: node, hub, worker, zk
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo/chain.toml: | $(STAMP)
	$(BIN)/neurostack new demo --no-input

up: install demo/chain.toml
	cd demo && ../$(BIN)/neurostack up

demo: install
	cd demo && ../$(BIN)/neurostack demo

# Four pytest-xdist workers, each taking whole groups (a module, or the modules sharing a
# session fixture: conftest.py); PYTEST_ARGS="-n 0" runs serially, e.g. to debug one file.
PYTEST_WORKERS ?= 4
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check --cache-dir .ruff_cache .  # one cache: not one inside the template
	$(BIN)/lint-imports
	$(BIN)/mypy --ignore-missing-imports neurostack sequencer bridge hub_client

# Rewrite the code blocks of README.md and docs/ from their files under docs_src/.
docs: install
	$(BIN)/python -m neurostack.docs --sync

bench: install
	$(BIN)/python bench/node.py
	$(BIN)/python bench/hub.py
	$(BIN)/python bench/pipe.py
	$(BIN)/python bench/zk.py
	$(BIN)/python bench/explorer.py
	$(BIN)/python bench/verify.py

# Regenerate the explorer screenshots in docs/img/explorer/ (a devnet, a browser; ~1 min).
screenshots: install
	$(BIN)/python -m tests.explorer.screenshots docs/img/explorer

clean:
	rm -rf $(VENV) node_modules demo .pytest_cache
