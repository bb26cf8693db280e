"""Load benchmark: one replica against two behind HAProxy, side by side, on one PostgreSQL.

    .venv/bin/python bench/load.py [--seconds 60] [--stt-seconds 60] [--streams 16] [--sessions 8]

It starts its own PostgreSQL cluster (a database for the data, one for the key store), two
replicas (engines preloaded, one master key) and HAProxy running deploy/haproxy.cfg, all on
127.0.0.1. Two HAProxy configurations take turns in front of the same replicas: "1 replica"
(replica 1 only) and "2 replicas" (round robin). For each, in this order:

* TTS: ``--streams`` workers each POST ``/v1/text-to-speech/joe/stream`` (pcm_16000) one after
  another for ``--seconds``: requests by status (0: a transport error), audio seconds made per
  wall second, time to the first audio byte (p50/p95);
* realtime STT: ``--sessions`` ElevenLabs realtime sockets (``commit_strategy=vad``), each
  streaming an utterance spoken by the local TTS at real-time pace in 100 ms chunks, then
  silence, waiting for its committed transcript, again and again for ``--stt-seconds``: end of
  speech -> commit (p50/p95), commits per second;
* each replica's resident memory (VmRSS of its process) before, at its peak during, and a few
  seconds after each load.

Bounded: every request has a timeout, every phase a fixed duration, and nothing listens beyond
127.0.0.1. Prints one table, then the throughput ratios (2 replicas / 1).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.haproxy import HAProxy
from tests.harness import RunningServer
from tests.postgres import PostgresCluster, find_bin_dir

MASTER_KEY = "load-bench-replicas-share-this-master-key"
SENTENCES = [
    "Please hold while I transfer your call to the billing department.",
    "Your appointment is confirmed for Tuesday at three thirty in the afternoon.",
    "The nurse will call you back after lunch to confirm the prescription.",
]
UTTERANCE = "Please confirm the appointment for Tuesday morning at nine."
RATE = 16000
CHUNK = RATE * 2 // 10  # 100 ms of s16 mono
VAD_SILENCE_S = 0.5
COMMIT_WAIT_S = 30.0
"""How long a session waits for an utterance's commit before it counts "no commit"."""


@dataclass
class Memory:
    """VmRSS of some processes, sampled in a thread while a phase runs (MiB)."""

    pids: list[int]
    before: list[float] = field(default_factory=list)
    peak: list[float] = field(default_factory=list)
    after: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.before = [rss(p) for p in self.pids]
        self.peak = list(self.before)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = [max(a, rss(p)) for a, p in zip(self.peak, self.pids, strict=True)]

    def finish(self, settle_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join()
        time.sleep(settle_s)  # what the allocator gives back once the load has stopped
        self.after = [rss(p) for p in self.pids]

    def cell(self) -> str:
        def joined(values: list[float]) -> str:
            return "+".join(f"{v:.0f}" for v in values)

        return f"{joined(self.before)} / {joined(self.peak)} / {joined(self.after)}"


def rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class TtsResult:
    statuses: Counter[int] = field(default_factory=Counter)
    first_byte: list[float] = field(default_factory=list)
    audio_s: float = 0.0
    wall_s: float = 0.0


async def tts_load(url: str, key: str, streams: int, seconds: float) -> TtsResult:
    result = TtsResult()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=0)

    async def worker(client: httpx.AsyncClient, n: int) -> None:
        i = n
        while time.monotonic() < deadline:
            text = SENTENCES[i % len(SENTENCES)]
            i += 1
            started = time.perf_counter()
            try:
                async with client.stream(
                    "POST",
                    f"{url}/v1/text-to-speech/joe/stream?output_format=pcm_16000",
                    json={"text": text},
                    headers={"xi-api-key": key},
                ) as reply:
                    size, first = 0, 0.0
                    async for data in reply.aiter_raw():
                        if data and not first:
                            first = time.perf_counter() - started
                        size += len(data)
                result.statuses[reply.status_code] += 1
                if reply.status_code == 200:
                    result.first_byte.append(first)
                    result.audio_s += size / 2 / RATE
            except httpx.HTTPError:
                result.statuses[0] += 1

    started = time.monotonic()
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(worker(client, n) for n in range(streams)))
    result.wall_s = time.monotonic() - started
    return result


def speech_end(pcm: bytes) -> float:
    """Seconds to the end of the last 20 ms frame louder than a tenth of the loudest one."""
    samples = np.frombuffer(pcm, dtype="<i2").astype("float64")
    frames = samples[: samples.size // 320 * 320].reshape(-1, 320)
    level = (frames**2).mean(axis=1) ** 0.5
    loud = (level > 0.1 * level.max()).nonzero()[0]
    return float((loud[-1] + 1) * 320 / RATE)


@dataclass
class SttResult:
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0


async def stt_session(ws_url: str, key: str, pcm: bytes, seconds: float, out: SttResult) -> None:
    """Utterances back to back at real-time pace for ``seconds``; the k-th non-empty commit
    answers the k-th utterance, so a server falling behind shows as growing latency."""
    query = httpx.QueryParams(
        {
            "xi_api_key": key,
            "audio_format": "pcm_16000",
            "commit_strategy": "vad",
            "vad_silence_threshold_secs": VAD_SILENCE_S,
            "language_code": "en",
        }
    )
    utterance = pcm + b"\x00" * int(RATE * 2 * (VAD_SILENCE_S + 1.0))
    chunks = [utterance[o : o + CHUNK] for o in range(0, len(utterance), CHUNK)]
    speech_ends: list[float] = []
    commits: list[float] = []
    try:
        async with connect(f"{ws_url}/v1/speech-to-text/realtime?{query}", open_timeout=30) as ws:
            await asyncio.wait_for(ws.recv(), 30)  # session_started

            async def receive() -> None:
                async for raw in ws:
                    message = json.loads(raw)
                    kind = message.get("message_type")
                    if kind == "committed_transcript" and message.get("text"):
                        commits.append(time.perf_counter())
                    elif kind not in ("partial_transcript", "committed_transcript"):
                        out.failures[str(kind)] += 1  # the server's error, by its type
                        return

            receiver = asyncio.create_task(receive())
            start = time.perf_counter()
            sent = 0
            while time.perf_counter() - start < seconds and not receiver.done():
                utterance_start = start + sent * 0.1
                speech_ends.append(utterance_start + speech_end(pcm))
                for chunk in chunks:
                    delay = start + sent * 0.1 - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)  # real-time pace: chunk n leaves at n * 100 ms
                    await ws.send(json.dumps({"audio_base_64": base64.b64encode(chunk).decode()}))
                    sent += 1
            # The utterances sent have COMMIT_WAIT_S more to be committed.
            deadline = time.perf_counter() + COMMIT_WAIT_S
            while len(commits) < len(speech_ends) and time.perf_counter() < deadline:
                if receiver.done():
                    break
                await asyncio.sleep(0.05)
            receiver.cancel()
    except Exception as error:  # a refused or dropped session is counted, not fatal
        out.failures[type(error).__name__] += 1
    out.latencies += [c - e for c, e in zip(commits, speech_ends, strict=False)]
    if len(commits) < len(speech_ends):
        out.failures["no commit"] += len(speech_ends) - len(commits)


async def stt_load(ws_url: str, key: str, pcm: bytes, sessions: int, seconds: float) -> SttResult:
    out = SttResult()
    started = time.monotonic()
    await asyncio.gather(*(stt_session(ws_url, key, pcm, seconds, out) for _ in range(sessions)))
    out.wall_s = time.monotonic() - started
    return out


def ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def run_config(
    name: str, proxy: HAProxy, pids: list[int], key: str, pcm: bytes, args: argparse.Namespace
) -> dict[str, str]:
    print(f"# {name}: {args.streams} TTS streams for {args.seconds:g} s ...", flush=True)
    memory = Memory(pids)
    tts = asyncio.run(tts_load(proxy.url, key, args.streams, args.seconds))
    memory.finish()
    print(f"# {name}: {args.sessions} realtime STT sessions for {args.stt_seconds:g} s ...")
    stt_memory = Memory(pids)
    stt = asyncio.run(stt_load(proxy.ws_url, key, pcm, args.sessions, args.stt_seconds))
    stt_memory.finish()
    ok = tts.statuses.get(200, 0)
    return {
        "TTS requests ok": str(ok),
        "TTS errors by status": ", ".join(
            f"{s}: {n}" for s, n in sorted(tts.statuses.items()) if s != 200
        )
        or "none",
        "TTS requests/s": f"{ok / tts.wall_s:.2f}",
        "TTS audio-s/s": f"{tts.audio_s / tts.wall_s:.2f}",
        "TTS first byte p50/p95 ms": (
            f"{ms(percentile(tts.first_byte, 50))} / {ms(percentile(tts.first_byte, 95))}"
        ),
        "TTS RSS MiB before/peak/after": memory.cell(),
        "STT commits": str(len(stt.latencies)),
        "STT failures": ", ".join(f"{k}: {n}" for k, n in stt.failures.items()) or "none",
        "STT commits/s": f"{len(stt.latencies) / stt.wall_s:.2f}",
        "STT end of speech->commit p50/p95 ms": (
            f"{ms(percentile(stt.latencies, 50))} / {ms(percentile(stt.latencies, 95))}"
        ),
        "STT RSS MiB before/peak/after": stt_memory.cell(),
    }


def ratio(one: dict[str, str], two: dict[str, str], row: str) -> str:
    a, b = float(one[row]), float(two[row])
    return f"{b / a:.2f}" if a else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="TTS phase length")
    parser.add_argument("--stt-seconds", type=float, default=60, help="realtime STT phase length")
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--sessions", type=int, default=8)
    args = parser.parse_args()
    for name in ("seconds", "stt_seconds"):
        setattr(args, name, min(max(getattr(args, name), 1.0), 600.0))
    args.streams, args.sessions = min(max(args.streams, 1), 64), min(max(args.sessions, 1), 32)
    bin_dir = find_bin_dir()
    if bin_dir is None or shutil.which("haproxy") is None:
        print(
            "skipped: needs PostgreSQL's binaries and haproxy (apt-get install postgresql haproxy)"
        )
        return

    load_before = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="sottovoce-load-"))
    cluster = PostgresCluster(bin_dir)
    replicas: list[RunningServer] = []
    proxies: list[HAProxy] = []
    try:
        env = {
            "SOTTOVOCE_DATABASE_URL": cluster.create_database(),
            "SOTTOVOCE_KEYSTORE_URL": cluster.create_database(),
            "SOTTOVOCE_MASTER_KEY": MASTER_KEY,
            "SOTTOVOCE_ENGINES__PRELOAD": "true",
            "SOTTOVOCE_LOG_LEVEL": "WARNING",
        }
        for n in (1, 2):
            replicas.append(RunningServer(root / f"replica-{n}", env=env, startup_s=300))
        for replica in replicas:
            deadline = time.monotonic() + 300
            while httpx.get(f"{replica.url}/readyz", timeout=5).status_code != 200:
                assert time.monotonic() < deadline, "a replica never became ready"
                time.sleep(0.5)
        key = replicas[0].create_workspace("load", zdr=True).api_key
        spoken = httpx.post(
            f"{replicas[0].url}/v1/text-to-speech/joe?output_format=pcm_16000",
            json={"text": UTTERANCE},
            headers={"xi-api-key": key},
            timeout=60,
        )
        spoken.raise_for_status()
        addresses = [r.url.removeprefix("http://") for r in replicas]
        results = {}
        for name, behind in (("1 replica", addresses[:1]), ("2 replicas", addresses)):
            proxy = HAProxy(root / name.replace(" ", "-"), behind)
            proxies.append(proxy)
            pids = [r.proc.pid for r in replicas[: len(behind)]]
            results[name] = run_config(name, proxy, pids, key, spoken.content, args)
            proxy.stop()
    finally:
        for proxy in proxies:
            proxy.stop()
        for replica in replicas:
            replica.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)

    one, two = results["1 replica"], results["2 replicas"]
    width = max(len(row) for row in one)
    print(f"\n{'':{width}s}  {'1 replica':>24s}  {'2 replicas (HAProxy)':>24s}")
    for row in one:
        print(f"{row:{width}s}  {one[row]:>24s}  {two[row]:>24s}")
    print(f"\nthroughput ratio 2/1: TTS audio-s/s {ratio(one, two, 'TTS audio-s/s')}, ", end="")
    print(f"STT commits/s {ratio(one, two, 'STT commits/s')}")
    print(
        f"load average before/after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores (other processes included)"
    )
    print(
        f"({args.streams} TTS streams for {args.seconds:g} s, {args.sessions} realtime STT "
        f"sessions for {args.stt_seconds:g} s; RSS per replica, '+' between replicas)"
    )


if __name__ == "__main__":
    main()
