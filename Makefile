# The two commands the README opens with: `make demo` and `make test`. CI runs `make test`.
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export VIGIL_HOME ?= $(CURDIR)/.vigil

APT_PACKAGES := chromium tesseract-ocr tesseract-ocr-ara tesseract-ocr-fra tesseract-ocr-deu \
  tesseract-ocr-rus tesseract-ocr-fas tesseract-ocr-urd tesseract-ocr-tur libchromaprint-tools ffmpeg \
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavdevice-dev libavfilter-dev \
  pkg-config cmake

.PHONY: demo test lint format system-deps venv dev-venv bench clean peers

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip wheel

venv: $(BIN)/python
	$(BIN)/pip install -q -e .

dev-venv: $(BIN)/python system-deps
	$(BIN)/pip install -q -e '.[dev,video,ray]'

## Set up and run the main job on the embedded default (SQLite under VIGIL_HOME, no server).
demo: venv
	$(BIN)/vigil demo

## Debian packages the project needs (installed only when missing).
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint: $(BIN)/python
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format:
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## Other projects' test corpora (feedparser, Pillow) from PyPI, pinned by version and SHA-256, into .cache/.
peers: $(BIN)/python
	$(BIN)/python tests/peers/fetch.py

## Set up and run every test: Debian packages, dev dependencies, lint, then pytest (PostgreSQL included).
test: dev-venv peers
	$(MAKE) lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: venv
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .vigil .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
