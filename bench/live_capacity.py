"""Live transcription capacity: how many realtime STT sessions one replica keeps at real time.

    .venv/bin/python bench/live_capacity.py [--sessions 1,2,3,4] [--seconds 40]
        [--setting STT__REALTIME_PARTIAL_INTERVAL=0]

One server on 127.0.0.1 (SQLite, engines preloaded, no live transcription limit). For each
count of ``--sessions``, that many ElevenLabs realtime sockets stream an utterance spoken by the
local TTS at real-time pace (100 ms chunks, 0.5 s VAD silence), again and again for
``--seconds`` (``bench/load_phases.py``, the load benchmark's STT phase), while ``/metrics`` is
read every 0.25 s. Printed per count: end of speech -> commit (p50, p95, max), the drift (how
much later a session's last third of commits came than its first third), utterances without a
commit, the longest a decode waited for a Whisper worker (the backlog admission control reads)
and how busy the workers were (decoding seconds per wall second, per worker). A count keeps
real time when its p95 is at most ``--p95`` seconds, it drifts by at most ``--drift`` seconds
and every utterance was committed; the largest such count over the usable cores is the
measured sessions-per-core figure (``limits.live_transcriptions_per_core``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load_agents import spoken
from bench.load_phases import UTTERANCE, SttResult, percentile, stt_load
from tests.harness import RunningServer

from sottovoce.config_capacity import usable_cores

BACKLOG = "sottovoce_local_stt_backlog_seconds"
BUSY = "sottovoce_local_stt_busy_seconds"
WORKERS = "sottovoce_local_stt_workers"


def gauges(url: str) -> dict[str, float]:
    values = {}
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("sottovoce_local_stt_"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


async def measured(
    server: RunningServer, key: str, pcm: bytes, n: int, seconds: float
) -> tuple[SttResult, float, float]:
    """The sessions' result, the largest backlog ``/metrics`` showed meanwhile, and how busy
    the Whisper workers were (decoding seconds per wall second per worker)."""
    worst = 0.0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal worst
        async with httpx.AsyncClient(timeout=5) as client:
            while not done.is_set():
                text = (await client.get(f"{server.url}/metrics")).text
                for line in text.splitlines():
                    if line.startswith(BACKLOG + " "):
                        worst = max(worst, float(line.rsplit(" ", 1)[1]))
                await asyncio.sleep(0.25)

    before, began = gauges(server.url), time.monotonic()
    watcher = asyncio.create_task(watch())
    try:
        result = await stt_load(server.ws_url, key, pcm, n, seconds)
    finally:
        done.set()
        await watcher
    after, wall = gauges(server.url), time.monotonic() - began
    busy = after[BUSY] - before[BUSY]
    return result, worst, busy / wall / max(after[WORKERS], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sessions", default="1,2,3,4")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--p95", type=float, default=3.0, help="most p95 that keeps real time")
    parser.add_argument("--drift", type=float, default=0.5, help="most drift that does")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        help="NAME=VALUE for the server (SOTTOVOCE_NAME), e.g. STT__REALTIME_PARTIAL_INTERVAL=0",
    )
    args = parser.parse_args()
    counts = [min(max(int(n), 1), 32) for n in args.sessions.split(",")]
    seconds = min(max(args.seconds, 5.0), 600.0)
    root = Path(tempfile.mkdtemp(prefix="sottovoce-live-"))
    load_before = os.getloadavg()[0]
    env = {
        "SOTTOVOCE_ENGINES__PRELOAD": "true",
        "SOTTOVOCE_LOG_LEVEL": "WARNING",
        "SOTTOVOCE_LIMITS__MAX_LIVE_TRANSCRIPTIONS": "64",
        "SOTTOVOCE_LIMITS__LIVE_BACKLOG_S": "0",
        **{f"SOTTOVOCE_{n.upper()}": v for n, _, v in (s.partition("=") for s in args.setting)},
    }
    server = RunningServer(root, env=env, startup_s=300)
    rows = []
    try:
        deadline = time.monotonic() + 300
        while httpx.get(f"{server.url}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.5)
        key = server.create_workspace("live", zdr=True).api_key
        pcm = spoken(server.url, key, UTTERANCE)
        for n in counts:
            print(f"# {n} sessions for {seconds:g} s ...", flush=True)
            result, backlog, busy = asyncio.run(measured(server, key, pcm, n, seconds))
            lat = result.latencies
            missing = result.failures.get("no commit", 0)
            keeps = (
                bool(lat)
                and percentile(lat, 95) <= args.p95
                and result.drift() <= args.drift
                and sum(result.failures.values()) == 0
            )
            rows.append((n, lat, result.drift(), missing, backlog, busy, keeps))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"\n{'sessions':>8s}  {'commits':>7s}  {'p50 s':>6s}  {'p95 s':>6s}  {'max s':>6s}  "
        f"{'drift s':>7s}  {'missed':>6s}  {'backlog s':>9s}  {'busy':>5s}  real time"
    )
    for n, lat, drift, missing, backlog, busy, keeps in rows:
        print(
            f"{n:8d}  {len(lat):7d}  {percentile(lat, 50):6.2f}  {percentile(lat, 95):6.2f}  "
            f"{max(lat, default=float('nan')):6.2f}  {drift:7.2f}  {missing:6d}  "
            f"{backlog:9.2f}  {busy:5.0%}  {'yes' if keeps else 'no'}"
        )
    cores = usable_cores()
    best = max((n for n, *_, keeps in rows if keeps), default=0)
    print(
        f"\nkept real time up to {best} sessions on {cores} usable cores: "
        f"{best / cores:.2f} sessions per core (p95 <= {args.p95:g} s, drift <= {args.drift:g} s)"
    )
    print(
        f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} "
        "(other processes included)"
    )


if __name__ == "__main__":
    main()
