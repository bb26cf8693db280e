"""Realtime TTS benchmark: text arriving at LLM pace over the ElevenLabs ``stream-input``
socket, against the engine called in-process, side by side in one run.

- First audio: text is sent one word at a time at 20 words per second (an LLM's pace); the
  server's time from the first text message to the first audio message is measured against
  the in-process equivalent: the time the first clause takes to arrive at that pace plus the
  engine's own first chunk on that clause (``PiperSynthesizer.synthesize`` in this process).
  Interleaved, so machine noise hits both alike. Target: server <= 1.2 x in-process + 30 ms,
  and the first audio arrives before the text has finished arriving.
- Throughput: 1, 4 and 16 sockets at once, each streaming the paragraph at 20 words/s: audio
  seconds per wall second, first-audio p50/p95, and errors (target: every socket served); and,
  as the reference measured in the same run, as many ``POST .../stream`` requests carrying the
  whole paragraph at once (what the machine gives when no text has to wait).

Run: ``.venv/bin/python bench/realtime_tts.py [--reps 5]`` from the repository root. It starts
its own server (engines preloaded, zero retention asked per socket) on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import RunningServer

from sottovoce.engines.base import SynthesisRequest
from sottovoce.engines.piper import PiperSynthesizer
from sottovoce.privacy.sensitive import Sensitive

PARAGRAPH = (
    "Thank you for calling, your order shipped this morning and should arrive on Thursday. "
    "If you need to change the delivery address, say change address, or stay on the line and "
    "an agent will help you. We appreciate your patience, and we hope you have a great day."
)
FIRST_CLAUSE = "Thank you for calling,"
WORDS_PER_SECOND = 20.0
RATE = 16000


@dataclass
class Run:
    first_audio: float
    """Seconds from the first text message to the first audio message."""
    text_done: float
    """Seconds from the first text message to the last one."""
    audio_seconds: float
    error: str | None = None


async def stream_socket(url: str, key: str) -> Run:
    words = PARAGRAPH.split(" ")
    first_audio = 0.0
    audio = 0
    text_done = 0.0
    try:
        async with connect(url, additional_headers={"xi-api-key": key}, open_timeout=60) as ws:
            await ws.send(json.dumps({"text": " "}))
            start = time.perf_counter()

            async def writer() -> None:
                nonlocal text_done
                for i, word in enumerate(words):
                    await asyncio.sleep(
                        max(0.0, start + i / WORDS_PER_SECOND - time.perf_counter())
                    )
                    await ws.send(json.dumps({"text": word + " "}))
                text_done = time.perf_counter() - start
                await ws.send(json.dumps({"text": ""}))

            task = asyncio.create_task(writer())
            async for raw in ws:
                message = json.loads(raw)
                if message.get("audio"):
                    if not first_audio:
                        first_audio = time.perf_counter() - start
                    audio += len(base64.b64decode(message["audio"]))
                if message.get("isFinal"):
                    break
                if message.get("error"):
                    return Run(0, 0, 0, str(message["error"]))
            await task
    except Exception as exc:  # a benchmark reports failures, it does not stop on them
        return Run(0, 0, 0, type(exc).__name__)
    return Run(first_audio, text_done, audio / 2 / RATE)


async def http_stream(url: str, key: str) -> float:
    """Audio seconds of the whole paragraph through ``POST .../stream`` (the reference)."""
    size = 0
    async with (
        httpx.AsyncClient(timeout=600) as client,
        client.stream("POST", url, json={"text": PARAGRAPH}, headers={"xi-api-key": key}) as reply,
    ):
        async for data in reply.aiter_raw():
            size += len(data)
    return size / 2 / RATE


async def engine_first_clause(engine: PiperSynthesizer) -> float:
    """The engine's first chunk on the first clause, in this process (seconds)."""
    start = time.perf_counter()
    request = SynthesisRequest(text=Sensitive(FIRST_CLAUSE), voice_id="joe")
    async for _chunk in engine.synthesize(request):
        return time.perf_counter() - start
    return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(reps: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="sottovoce-bench-"))
    env = {"SOTTOVOCE_ENGINES__PRELOAD": "true", "SOTTOVOCE_LOG_LEVEL": "WARNING"}
    server = RunningServer(root, env=env)
    try:
        key = server.create_workspace("bench").api_key
        url = (
            f"{server.ws_url}/v1/text-to-speech/joe/stream-input"
            f"?output_format=pcm_{RATE}&enable_logging=false"
        )
        engine = PiperSynthesizer()
        engine.load()
        await engine_first_clause(engine)  # warm both paths once
        await stream_socket(url, key)
        arrival = (len(FIRST_CLAUSE.split()) - 1) / WORDS_PER_SECOND

        print(f"# first audio at {WORDS_PER_SECOND:.0f} words/s, {reps} reps")
        local, remote, early = [], [], 0
        for _ in range(reps):
            local.append(arrival + await engine_first_clause(engine))
            run = await stream_socket(url, key)
            remote.append(run.first_audio)
            early += run.first_audio < run.text_done
        engine_only = [t - arrival for t in local]
        ms = statistics.median
        print(f"first clause arrives after      : {arrival * 1000:6.1f} ms")
        print(f"in-process engine, first chunk  : median {ms(engine_only) * 1000:6.1f} ms")
        print(f"in-process (arrival + engine)   : median {ms(local) * 1000:6.1f} ms")
        print(f"server first text -> first audio: median {ms(remote) * 1000:6.1f} ms "
              f"(min {min(remote) * 1000:.1f}, max {max(remote) * 1000:.1f})")  # fmt: skip
        target = 1.2 * ms(local) + 0.030
        verdict = "met" if ms(remote) <= target else "MISSED"
        print(f"target <= 1.2 x in-process + 30 ms = {target * 1000:.1f} ms: {verdict}")
        print(f"first audio before the text finished arriving: {early}/{reps}")

        del engine
        print("\n# concurrent sockets, each streaming the paragraph at 20 words/s")
        for sockets in (1, 4, 16):
            start = time.perf_counter()
            runs = await asyncio.gather(*(stream_socket(url, key) for _ in range(sockets)))
            wall = time.perf_counter() - start
            served = [r for r in runs if r.error is None and r.audio_seconds > 0]
            firsts = [r.first_audio for r in served]
            audio = sum(r.audio_seconds for r in served)
            errors = sorted({r.error for r in runs if r.error})
            p50 = pct(firsts, 0.5) * 1000 if firsts else float("nan")
            p95 = pct(firsts, 0.95) * 1000 if firsts else float("nan")
            print(
                f"{sockets:2d} sockets: {len(served)}/{sockets} served, {audio / wall:5.1f} "
                f"audio-s/s (wall {wall:5.2f} s), first audio p50 {p50:6.0f} ms, "
                f"p95 {p95:6.0f} ms, errors {errors or 'none'}"
            )
            start = time.perf_counter()
            stream_url = url.replace("ws", "http", 1).replace("stream-input", "stream")
            reference = await asyncio.gather(
                *(http_stream(stream_url, key) for _ in range(sockets))
            )
            wall = time.perf_counter() - start
            rate = sum(reference) / wall
            print(f"    reference, {sockets:2d} x POST /stream: {rate:5.1f} audio-s/s")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    asyncio.run(main(parser.parse_args().reps))
