# Two commands matter: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
# The interpreter .venv is made from: Debian's CPython 3.11 when it is there with venv support (Debian builds
# it with PGO and LTO; extraction runs ~13% faster on it than on a plain source build such as pyenv's),
# else python3 (any CPython >= 3.11). `make PYTHON=/path/to/python3.x` chooses another.
PYTHON ?= $(shell /usr/bin/python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1 && echo /usr/bin/python3.11 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_DISABLE_TELEMETRY := 1
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run test lint bench clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements.lock
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e .
	touch $(STAMP)

run: setup
	$(VENV)/bin/budgetqa demo

test: setup
	bash scripts/system-deps.sh
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) benchmarks/extract_throughput.py

clean:
	rm -rf $(VENV) .budgetqa .pytest_cache
