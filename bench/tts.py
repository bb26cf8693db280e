"""TTS benchmark: the server's streaming endpoint against the engine called in-process.

Measured side by side in one run, on the same sentences, interleaved so machine noise hits
both alike:

- time to first audio byte: ``POST /v1/text-to-speech/{voice}/stream`` (pcm and mp3) vs the
  engine's own first chunk in-process (target: server/in-process <= 1.10, and under 150 ms);
- real-time factor (compute seconds per audio second) of a paragraph, server vs in-process;
- aggregate audio-seconds per second with 1, 4 and 16 concurrent streams through the server;
- the server's memory (resident now and peak).

Run: ``.venv/bin/python bench/tts.py [--reps 5]`` from the repository root. It starts its own
server (engines preloaded) on a free port, with a temporary data directory.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.harness import RunningServer

from sottovoce.engines.base import SynthesisRequest
from sottovoce.engines.piper import PiperSynthesizer
from sottovoce.privacy.sensitive import Sensitive

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please hold while I transfer your call to the billing department.",
    "Your appointment is confirmed for Tuesday at three thirty in the afternoon.",
]
PARAGRAPH = (
    "Thank you for calling. Your order shipped this morning and should arrive on Thursday. "
    "If you need to change the delivery address, say change address, or stay on the line and "
    "an agent will help you. We appreciate your patience, and we hope you have a great day."
)
RATE = 22050


async def engine_first_chunk(engine: PiperSynthesizer, text: str) -> tuple[float, float, float]:
    """(first chunk seconds, total seconds, audio seconds) in-process."""
    start = time.perf_counter()
    first = 0.0
    audio = 0
    async for chunk in engine.synthesize(SynthesisRequest(text=Sensitive(text), voice_id="joe")):
        if not first:
            first = time.perf_counter() - start
        audio += len(chunk.pcm.reveal())
    return first, time.perf_counter() - start, audio / 2 / RATE


async def server_stream(
    client: httpx.AsyncClient, url: str, key: str, text: str, fmt: str = "pcm_22050"
) -> tuple[float, float, float]:
    """(first byte seconds, total seconds, audio seconds) through the server."""
    start = time.perf_counter()
    first = 0.0
    size = 0
    async with client.stream(
        "POST",
        f"{url}/v1/text-to-speech/joe/stream?output_format={fmt}&enable_logging=false",
        json={"text": text},
        headers={"xi-api-key": key},
    ) as reply:
        reply.raise_for_status()
        async for data in reply.aiter_raw():
            if data and not first:
                first = time.perf_counter() - start
            size += len(data)
    rate = int(fmt.split("_")[1])
    seconds = size / 2 / rate if fmt.startswith("pcm") else 0.0
    return first, time.perf_counter() - start, seconds


def memory(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:6.1f} ms (min {min(values) * 1000:6.1f})"


async def main(reps: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="sottovoce-bench-"))
    env = {"SOTTOVOCE_ENGINES__PRELOAD": "true", "SOTTOVOCE_LOG_LEVEL": "WARNING"}
    server = RunningServer(root, env=env)
    try:
        key = server.create_workspace("bench").api_key
        engine = PiperSynthesizer()
        engine.load()
        async with httpx.AsyncClient(timeout=120) as client:
            # Warm both paths once (first-call allocations, HTTP connection).
            await engine_first_chunk(engine, SENTENCES[0])
            await server_stream(client, server.url, key, SENTENCES[0])

            print(f"# time to first audio byte, {reps} reps x {len(SENTENCES)} sentences")
            local_first, server_first, server_mp3 = [], [], []
            fox_local, fox_server = [], []
            for _ in range(reps):
                for text in SENTENCES:
                    lf = (await engine_first_chunk(engine, text))[0]
                    sf = (await server_stream(client, server.url, key, text))[0]
                    mf = (await server_stream(client, server.url, key, text, "mp3_44100_128"))[0]
                    local_first.append(lf)
                    server_first.append(sf)
                    server_mp3.append(mf)
                    if text == SENTENCES[0]:
                        fox_local.append(lf)
                        fox_server.append(sf)
            print(f"in-process first chunk : {ms(local_first)}")
            print(f"server pcm first byte  : {ms(server_first)}")
            print(f"server mp3 first byte  : {ms(server_mp3)}")
            ratio = statistics.median(server_first) / statistics.median(local_first)
            print(f"ratio server/in-process (pcm): {ratio:.3f}  (target <= 1.10)")
            print(f"'quick brown fox' server pcm : {ms(fox_server)}  (target < 150 ms;"
                  " speaches: 180-235 ms)")  # fmt: skip
            print(f"'quick brown fox' in-process : {ms(fox_local)}")

            print("\n# real-time factor, one paragraph")
            local_rtf, server_rtf = [], []
            for _ in range(max(2, reps // 2)):
                _, total, audio = await engine_first_chunk(engine, PARAGRAPH)
                local_rtf.append(total / audio)
                _, total, audio = await server_stream(client, server.url, key, PARAGRAPH)
                server_rtf.append(total / audio)
            print(f"in-process RTF: {statistics.median(local_rtf):.4f}")
            print(f"server RTF    : {statistics.median(server_rtf):.4f}")
            rtf_ratio = statistics.median(server_rtf) / statistics.median(local_rtf)
            print(f"ratio         : {rtf_ratio:.3f}")

            del engine  # the in-process copy is not needed for the server-only part
            print("\n# throughput through the server (one paragraph per stream)")
            for streams in (1, 4, 16):
                start = time.perf_counter()
                results = await asyncio.gather(
                    *(server_stream(client, server.url, key, PARAGRAPH) for _ in range(streams))
                )
                wall = time.perf_counter() - start
                audio = sum(r[2] for r in results)
                firsts = sorted(r[0] for r in results)
                print(
                    f"{streams:2d} streams: {audio / wall:6.1f} audio-s/s, wall {wall:5.2f} s, "
                    f"first byte median {statistics.median(firsts) * 1000:6.1f} ms, "
                    f"worst {firsts[-1] * 1000:6.1f} ms"
                )
            print("(speaches, same voice, 4 concurrent paragraphs: 16.5-18 audio-s/s)")
        rss, peak = memory(server.proc.pid)
        print(f"\n# server memory: resident {rss:.0f} MiB, peak {peak:.0f} MiB")
        print("(speaches: about 2.3 GB)")
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    asyncio.run(main(parser.parse_args().reps))
