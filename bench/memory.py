"""Memory benchmark: one server's resident memory, anonymous and file-backed, through a day's work.

    .venv/bin/python bench/memory.py [--rounds 2] [--stt-seconds 15] [--settle 15]
        [--config NAME=VAR=VALUE,VAR=VALUE ...]

For each configuration (``default`` is the server as shipped; each ``--config`` adds one whose
environment adds or overrides ``VAR=VALUE`` pairs, e.g. ``--config arena=SOTTOVOCE_ENGINES__
ONNX_ARENA=true``), it starts a server of its own on 127.0.0.1 and reads ``/proc/PID/status``
(``RssAnon``: the process's own memory; ``RssFile``: pages of mapped files, the GGUF and the
shared libraries, which the kernel can drop and re-read and other processes share; ``RssShmem``)
every 100 ms through these phases:

1. idle, before any engine is loaded (a first server with ``engines.preload`` off);
2. engines loaded (a second server, engines preloaded as shipped), idle;
3. ``--rounds`` rounds of 16, then of 64, concurrent TTS streams (one sentence each; the
   admission limit is raised to 64 so that all of them run);
4. 8 realtime STT sessions (ElevenLabs, VAD commits) speaking at real-time pace for
   ``--stt-seconds``; 4 file transcriptions at once; 4 chat completions at once;
5. ``--rounds`` rounds of clients that hang up: 32 TTS streams cut after their first bytes
   (half with an RST), 8 uploads cut mid-body, 8 cut while being transcribed, 8 realtime
   sockets dropped without a close frame;
6. once the server's own work is over (under 5 % of a core for a second: a loaded machine
   leaves realtime sessions decoding after their clients are gone), ``--settle`` seconds,
   then as long again.

Each phase shows ``anon+file`` MiB at its peak and just after it (1 s). The summary compares
each configuration with the first: engines loaded, the highest peak, and the end. Bounded:
every request has a timeout and every phase a fixed size; nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import stt_load
from tests.drops import cut_realtime, cut_tts_stream, cut_upload
from tests.harness import RunningServer
from tests.spoken import pcm_wav

SENTENCES = [
    "Please hold while I transfer your call to the billing department.",
    "Your appointment is confirmed for Tuesday at three thirty in the afternoon.",
    "The nurse will call you back after lunch to confirm the prescription.",
]
UTTERANCE = "Please confirm the appointment for Tuesday morning at nine."
LONG_TEXT = " ".join(SENTENCES * 6)
"""What a cut stream asks for: long enough to be cut before it ends."""
ENV = {
    "SOTTOVOCE_LOG_LEVEL": "INFO",
    "SOTTOVOCE_LIMITS__MAX_CONCURRENT_SYNTHESIS": "64",
    "SOTTOVOCE_LIMITS__MAX_CONCURRENT_TRANSCRIPTION": "32",
}


@dataclass(frozen=True)
class Rss:
    anon: float
    file: float
    shmem: float

    @property
    def total(self) -> float:
        return self.anon + self.file + self.shmem

    def cell(self) -> str:
        return f"{self.anon:.0f}+{self.file:.0f}"


def rss(pid: int) -> Rss:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("RssAnon", "RssFile", "RssShmem"):
            values[name] = int(rest.split()[0]) / 1024
    return Rss(values["RssAnon"], values["RssFile"], values["RssShmem"])


@dataclass
class Row:
    phase: str
    peak: Rss
    after: Rss
    note: str = ""


@dataclass
class Sampler:
    """The peak of a process's resident memory while a phase runs."""

    pid: int
    peak: Rss = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.peak = rss(self.pid)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            now = rss(self.pid)
            if now.total > self.peak.total:
                self.peak = now

    def stop(self) -> Rss:
        self._stop.set()
        self._thread.join()
        return self.peak


class Run:
    """The phases against one server, each a row."""

    def __init__(self, server: RunningServer, key: str, workspace_id: str) -> None:
        self.server, self.key, self.workspace_id = server, key, workspace_id
        self.rows: list[Row] = []

    def phase(self, name: str, work: object) -> None:
        sampler = Sampler(self.server.proc.pid)
        started = time.monotonic()
        note = f"{work() or ''} {time.monotonic() - started:.0f} s" if callable(work) else ""
        peak = sampler.stop()
        time.sleep(1.0)
        after = rss(self.server.proc.pid)
        self.rows.append(Row(name, max(peak, after, key=lambda r: r.total), after, str(note)))
        print(f"  {name:34s} peak {peak.cell():>10s}  after {after.cell():>10s}  {note}")

    def records(self) -> int:
        return len(self.server.usage_records(self.workspace_id))

    def wait_records(self, count: int, timeout: float = 120) -> None:
        """Until the server has written ``count`` usage records: the requests are over."""
        deadline = time.monotonic() + timeout
        while self.records() < count and time.monotonic() < deadline:
            time.sleep(0.2)


def statuses(counts: Counter[int]) -> str:
    return " ".join(f"{s or 'transport'}:{n}" for s, n in sorted(counts.items()))


async def tts_round(url: str, key: str, streams: int) -> Counter[int]:
    counts: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=0)

    async def one(client: httpx.AsyncClient, n: int) -> None:
        try:
            async with client.stream(
                "POST",
                f"{url}/v1/text-to-speech/joe/stream?output_format=pcm_16000",
                json={"text": SENTENCES[n % len(SENTENCES)]},
                headers={"xi-api-key": key},
            ) as reply:
                async for _ in reply.aiter_raw():
                    pass
            counts[reply.status_code] += 1
        except httpx.HTTPError:
            counts[0] += 1

    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        await asyncio.gather(*(one(client, n) for n in range(streams)))
    return counts


async def uploads(url: str, key: str, wav: bytes, count: int) -> Counter[int]:
    counts: Counter[int] = Counter()

    async def one(client: httpx.AsyncClient) -> None:
        try:
            reply = await client.post(
                f"{url}/v1/speech-to-text",
                headers={"xi-api-key": key},
                data={"model_id": "scribe_v1", "language_code": "en"},
                files={"file": ("a.wav", wav, "audio/wav")},
            )
            counts[reply.status_code] += 1
        except httpx.HTTPError:
            counts[0] += 1

    async with httpx.AsyncClient(timeout=300) as client:
        await asyncio.gather(*(one(client) for _ in range(count)))
    return counts


async def chats(url: str, key: str, count: int) -> Counter[int]:
    counts: Counter[int] = Counter()

    async def one(client: httpx.AsyncClient, n: int) -> None:
        body = {
            "model": "local/smollm2-135m-instruct",
            "messages": [{"role": "user", "content": f"Tell me a story about the number {n}."}],
            "max_tokens": 160,
        }
        try:
            reply = await client.post(
                f"{url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
            )
            counts[reply.status_code] += 1
        except httpx.HTTPError:
            counts[0] += 1

    async with httpx.AsyncClient(timeout=300) as client:
        await asyncio.gather(*(one(client, n) for n in range(count)))
    return counts


def realtime(ws_url: str, key: str, pcm: bytes, args: argparse.Namespace) -> str:
    result = asyncio.run(stt_load(ws_url, key, pcm, args.sessions, args.stt_seconds))
    failed = " ".join(f"{k}:{n}" for k, n in result.failures.items())
    return f"commits:{len(result.latencies)} {failed}".strip()


def drops(server: RunningServer, key: str, pcm: bytes, streams: int) -> str:
    """Clients that hang up; returns how many of each began as they should."""
    wav = pcm_wav(pcm)
    jobs = [("tts", lambda i=i: cut_tts_stream(server.port, key, LONG_TEXT, reset=i % 2 == 1))
            for i in range(streams)]  # fmt: skip
    for i in range(streams // 4):
        reset = i % 2 == 1
        jobs.append(("body", lambda r=reset: cut_upload(server.port, key, wav, reset=r)))
        jobs.append(("stt", lambda r=reset: cut_upload(server.port, key, wav, sent=1, reset=r)))
        jobs.append(("socket", lambda r=reset: cut_realtime(server.port, key, pcm, reset=r)))
    began: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = [(kind, pool.submit(job)) for kind, job in jobs]
        for kind, future in results:
            try:
                value = future.result(timeout=300)
            except OSError:
                continue
            ok = value in (b"", "session_started") or (
                isinstance(value, bytes) and value.startswith(b"HTTP/1.1 200")
            )
            began[kind] += ok
    return " ".join(f"{k}:{n}" for k, n in began.items())


def run_config(name: str, env: dict[str, str], root: Path, args: argparse.Namespace) -> list[Row]:
    print(f"# {name}: {' '.join(f'{k}={v}' for k, v in env.items()) or 'as shipped'}")
    full = {**ENV, **env}
    idle = RunningServer(root / f"{name}-idle", env={**full, "SOTTOVOCE_ENGINES__PRELOAD": "false"})
    try:
        ready(idle)
        time.sleep(3)
        before = rss(idle.proc.pid)
    finally:
        idle.stop()
    preload = {"SOTTOVOCE_ENGINES__PRELOAD": "true", **full}
    server = RunningServer(root / name, env=preload, startup_s=300)
    try:
        ready(server)
        creds = server.create_workspace("memory", zdr=True)
        run = Run(server, creds.api_key, creds.workspace_id)
        run.rows.append(Row("idle, no engines loaded", before, before))
        print(f"  {'idle, no engines loaded':34s} {before.cell():>26s}")
        time.sleep(3)
        run.phase("engines loaded, idle", None)
        key, url = creds.api_key, server.url
        spoken = httpx.post(
            f"{url}/v1/text-to-speech/joe?output_format=pcm_16000",
            json={"text": UTTERANCE},
            headers={"xi-api-key": key},
            timeout=120,
        )
        spoken.raise_for_status()
        pcm = spoken.content
        for streams in (16, 64):
            for n in range(1, args.rounds + 1):
                run.phase(
                    f"TTS {streams} streams, round {n}",
                    lambda s=streams: statuses(asyncio.run(tts_round(url, key, s))),
                )
        run.phase(
            f"realtime STT, {args.sessions} sessions",
            lambda: realtime(server.ws_url, key, pcm, args),
        )
        wav = pcm_wav(pcm * 3)
        run.phase("STT files, 4 at once", lambda: statuses(asyncio.run(uploads(url, key, wav, 4))))
        run.phase("chat, 4 at once", lambda: statuses(asyncio.run(chats(url, key, 4))))
        for n in range(1, args.rounds + 1):

            def cut() -> str:
                count = run.records()
                began = drops(server, key, pcm, 32)
                run.wait_records(count + 32 + 3 * 8)
                return began

            run.phase(f"hang-ups, round {n}", cut)
        quiet = wait_quiet(server.proc.pid)
        print(f"  (the server's work was over {quiet:.0f} s after the last phase)")
        for n in (1, 2):
            run.phase(f"idle {n * args.settle:g} s after that", lambda: time.sleep(args.settle))
        return run.rows
    finally:
        server.stop()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_quiet(pid: int, timeout: float = 180) -> float:
    """Until the server used under 5 % of a core for a second (the sessions a loaded machine
    left behind have decoded their last utterances); returns the seconds waited."""
    started = time.monotonic()
    before = cpu_seconds(pid)
    while time.monotonic() - started < timeout:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now - before < 0.05:
            break
        before = now
    return time.monotonic() - started


def ready(server: RunningServer) -> None:
    deadline = time.monotonic() + 300
    while httpx.get(f"{server.url}/readyz", timeout=5).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError("the server never became ready")
        time.sleep(0.2)


def parse_config(text: str) -> tuple[str, dict[str, str]]:
    name, _, pairs = text.partition("=")
    env = dict(pair.split("=", 1) for pair in pairs.split(",") if pair)
    return name, env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--stt-seconds", type=float, default=15)
    parser.add_argument("--settle", type=float, default=15)
    parser.add_argument("--config", action="append", default=[], help="NAME=VAR=VALUE,...")
    args = parser.parse_args()
    args.rounds = min(max(args.rounds, 1), 5)
    args.sessions = min(max(args.sessions, 1), 32)
    args.stt_seconds = min(max(args.stt_seconds, 1), 120)
    args.settle = min(max(args.settle, 1), 120)
    configs = [("default", {}), *(parse_config(c) for c in args.config)]
    started, load_before = time.monotonic(), os.getloadavg()[0]
    results: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory(prefix="sottovoce-memory-") as root:
        for name, env in configs:
            results[name] = run_config(name, env, Path(root), args)
    report(results)
    print(
        f"\n{time.monotonic() - started:.0f} s in all; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores (other processes included)"
    )


def report(results: dict[str, list[Row]]) -> None:
    names = list(results)
    first = results[names[0]]
    width = max(len(r.phase) for r in first)
    print("\nMiB anon+file (RssAnon+RssFile), peak / 1 s after each phase")
    print(f"{'':{width}s}  " + "  ".join(f"{n:>21s}" for n in names))
    for i, row in enumerate(first):
        cells = [f"{r[i].peak.cell():>10s} / {r[i].after.cell():>8s}" for r in results.values()]
        print(f"{row.phase:{width}s}  " + "  ".join(cells))
    print()
    for name, rows in results.items():
        loaded, end = rows[1].after, rows[-1].after
        peak = max((r.peak for r in rows), key=lambda r: r.total)
        line = (
            f"{name}: loaded {loaded.total:.0f} MiB (anon {loaded.anon:.0f}), "
            f"peak {peak.total:.0f}, end {end.total:.0f} (anon {end.anon:.0f}), "
            f"end/loaded {end.total / loaded.total:.2f}"
        )
        if name != names[0]:
            base = results[names[0]]
            base_peak = max((r.peak for r in base), key=lambda r: r.total)
            line += (
                f"; vs {names[0]}: loaded {loaded.total / base[1].after.total:.2f}, "
                f"peak {peak.total / base_peak.total:.2f}, "
                f"end {end.total / base[-1].after.total:.2f}"
            )
        print(line)


if __name__ == "__main__":
    main()
