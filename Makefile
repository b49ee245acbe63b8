# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= ../shared/data
CHROMIUM := /usr/bin/chromium

.PHONY: setup chromium demo test lint typecheck unit bench lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and alone, pinned: any other order lets a dependency pull a multi-GB CUDA build.
	$(BIN)/pip install -q -c requirements.lock torch==2.13.0
	$(BIN)/pip install -q -c requirements.lock -e '.[node,embedded,dev]'
	touch $(STAMP)

setup: $(STAMP)

# The status page's browser test drives Debian's Chromium (Playwright never downloads one).
# CI runs as root and gets it from apt; anyone else is told what to install.
$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ]; then \
		echo "error: the browser test needs Chromium at $(CHROMIUM)." \
			"Install it (Debian/Ubuntu: sudo apt-get install chromium), then run make again." >&2; \
		exit 1; \
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
	@test -x $(CHROMIUM) || { echo "error: apt installed chromium, but not at $(CHROMIUM)" >&2; exit 1; }

chromium: $(CHROMIUM)

# The embedded default: the whole system on this machine for about five minutes (docs/embedded.md).
demo: setup
	$(BIN)/python -m reconciler demo --data $(DATA) --summary-json var/demo/summary.json

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup chromium
	$(BIN)/pytest

test: lint typecheck unit

bench: setup
	$(BIN)/python -m benchmarks

# Re-pin after changing pyproject.toml: writes what the install resolved, torch without its local build tag.
lock: setup
	$(BIN)/pip freeze --exclude-editable | sed -E 's/^(torch==[^+]+)\+.*/\1/' > requirements.lock

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
