"""Load benchmark: one replica against two behind HAProxy, side by side, on one PostgreSQL.

    .venv/bin/python bench/load.py [--seconds 300] [--streams 16,64] [--sessions 8,16]
        [--mixed 4,8,4] [--phases tts,stt,mixed]

It starts its own PostgreSQL cluster (a database for the data, one for the key store), two
replicas (engines preloaded, one master key, default limits) and HAProxy running
deploy/haproxy.cfg, all on 127.0.0.1. Two HAProxy configurations take turns in front of the
same replicas: "1 replica" (replica 1 only) and "2 replicas" (round robin). For each, every
phase runs for ``--seconds``, in this order:

* TTS, once per count of ``--streams``: that many workers each POST
  ``/v1/text-to-speech/joe/stream`` (pcm_16000) one after another: requests by status (0: a
  transport error; a 429 is followed by its ``Retry-After``), audio seconds made per wall
  second, time to the first audio byte (p50/p95);
* realtime STT, once per count of ``--sessions``: that many ElevenLabs realtime sockets
  (``commit_strategy=vad``) open at once; each one admitted streams an utterance spoken by the
  local TTS at real-time pace in 100 ms chunks, then silence, waiting for its committed
  transcript, again and again: sessions admitted and refused (1013, past the live transcription
  limit), end of speech -> commit of the admitted ones (p50/p95), commits per second;
* mixed, agent-like (``--mixed CALLERS,STREAMS,SESSIONS``): callers on ElevenLabs conversation
  sockets (an agent on the local LLM and voice) asking a spoken question at real-time pace and
  waiting for the spoken answer, again and again, beside TTS streams and realtime STT sessions:
  callers admitted and refused, end of question -> first audio of the answer (p50/p95), and the
  TTS and STT figures as above;
* each replica's resident memory (VmRSS of its process) before, at its peak during, and 5 s
  after each phase.

Bounded: every request has a timeout, every phase a fixed duration, and nothing listens beyond
127.0.0.1. Prints one table, then the throughput ratios (2 replicas / 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load_agents import QUESTION, AgentResult, create_agent, mixed_load, spoken
from bench.load_phases import (
    UTTERANCE,
    Memory,
    SttResult,
    TtsResult,
    p50_p95,
    stt_load,
    tts_load,
)
from tests.haproxy import HAProxy
from tests.harness import RunningServer
from tests.postgres import PostgresCluster, find_bin_dir

MASTER_KEY = "load-bench-replicas-share-this-master-key"
REPLICA_URLS: list[str] = []
"""The replicas' own URLs (not through HAProxy), once started."""
Rows = dict[str, str]


def tts_rows(name: str, tts: TtsResult) -> Rows:
    ok = tts.statuses.get(200, 0)
    return {
        f"{name} requests ok": str(ok),
        f"{name} errors by status": tts.errors(),
        f"{name} audio-s/s": f"{tts.audio_s / tts.wall_s:.2f}",
        f"{name} first byte p50/p95 ms": p50_p95(tts.first_byte),
    }


def stt_rows(name: str, stt: SttResult) -> Rows:
    return {
        f"{name} sessions admitted/refused": f"{stt.admitted} / {stt.refused}",
        f"{name} commits": str(len(stt.latencies)),
        f"{name} failures": stt.failed(),
        f"{name} commits/s": f"{len(stt.latencies) / stt.wall_s:.2f}",
        f"{name} end of speech->commit p50/p95 ms": p50_p95(stt.latencies),
    }


def agent_rows(name: str, agents: AgentResult) -> Rows:
    return {
        f"{name} callers admitted/refused": f"{agents.admitted} / {agents.refused}",
        f"{name} answers": str(agents.answered),
        f"{name} caller failures": agents.failed(),
        f"{name} answers/s": f"{agents.answered / agents.wall_s:.2f}",
        f"{name} end of question->answer audio p50/p95 ms": p50_p95(agents.first_audio),
    }


def sockets_open(url: str) -> float:
    """Sockets the replica at ``url`` still holds (``/metrics``)."""
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith('sottovoce_admitted{kind="session"} '):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def settle(urls: list[str], timeout: float = 120) -> None:
    """Wait until the replicas hold no socket of the phase before: a session that fell behind
    still decodes the audio it was sent after its client has gone."""
    deadline = time.monotonic() + timeout
    while any(sockets_open(url) for url in urls):
        if time.monotonic() > deadline:
            print(f"#   (sockets still open after {timeout:g} s; going on)", flush=True)
            return
        time.sleep(1)


def phase(
    rows: Rows, label: str, pids: list[int], run: Callable[[], Any], make: Callable[[Any], Rows]
) -> None:
    settle(REPLICA_URLS)
    print(f"#   {label} ...", flush=True)
    memory = Memory(pids)
    result = asyncio.run(run())
    memory.finish()
    rows.update(make(result))
    prefix = label.split(":")[0]
    rows[f"{prefix} RSS MiB before/peak/after"] = memory.cell()
    rows[f"{prefix} machine load average at its end"] = f"{os.getloadavg()[0]:.1f}"


def run_config(
    name: str, proxy: HAProxy, pids: list[int], env: dict[str, Any], args: argparse.Namespace
) -> Rows:
    key, agent, pcm = env["key"], env["agent"], env["pcm"]
    url, ws_url, seconds = proxy.url, proxy.ws_url, args.seconds
    rows: Rows = {}
    print(f"# {name}: phases of {seconds:g} s", flush=True)
    if "tts" in args.phases:
        for n in args.streams:
            label = f"TTS x{n}"
            phase(
                rows,
                label,
                pids,
                lambda n=n: tts_load(url, key, n, seconds),
                lambda r, label=label: tts_rows(label, r),
            )
    if "stt" in args.phases:
        for n in args.sessions:
            label = f"STT x{n}"
            phase(
                rows,
                label,
                pids,
                lambda n=n: stt_load(ws_url, key, pcm["utterance"], n, seconds),
                lambda r, label=label: stt_rows(label, r),
            )
    if "mixed" in args.phases:
        callers, streams, sessions = args.mixed
        label = f"Mixed: {callers} callers + {streams} TTS + {sessions} STT"

        def mixed_rows(result: tuple[AgentResult, TtsResult, SttResult]) -> Rows:
            agents, tts, stt = result
            return {
                **agent_rows("Mixed", agents),
                **tts_rows("Mixed TTS", tts),
                **stt_rows("Mixed STT", stt),
            }

        phase(
            rows,
            label,
            pids,
            lambda: mixed_load(url, ws_url, key, agent, pcm, args.mixed, seconds),
            mixed_rows,
        )
    return rows


def counts(text: str) -> list[int]:
    return [min(max(int(n), 1), 128) for n in text.split(",") if n.strip()]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="length of every phase")
    parser.add_argument("--streams", type=counts, default=[16, 64], help="TTS streams per phase")
    parser.add_argument("--sessions", type=counts, default=[8, 16], help="STT sessions per phase")
    parser.add_argument(
        "--mixed", type=counts, default=[4, 8, 4], help="callers,TTS streams,STT sessions"
    )
    parser.add_argument("--phases", default="tts,stt,mixed", help="which phases to run")
    args = parser.parse_args()
    args.seconds = min(max(args.seconds, 1.0), 1800.0)
    args.phases = set(args.phases.split(","))
    if len(args.mixed) != 3:
        parser.error("--mixed takes three counts: callers, TTS streams, STT sessions")
    return args


def start(root: Path, cluster: PostgresCluster, replicas: list[RunningServer]) -> dict[str, Any]:
    """Two replicas (into ``replicas``), ready; a ZDR workspace's key, an agent and the speech
    to send."""
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
    url = replicas[0].url
    key = replicas[0].create_workspace("load", zdr=True).api_key
    pcm = {"utterance": spoken(url, key, UTTERANCE), "question": spoken(url, key, QUESTION)}
    return {"key": key, "agent": create_agent(url, key), "pcm": pcm}


def report(results: dict[str, Rows], args: argparse.Namespace, load_before: float) -> None:
    one, two = results["1 replica"], results["2 replicas"]
    width = max(len(row) for row in one)
    print(f"\n{'':{width}s}  {'1 replica':>24s}  {'2 replicas (HAProxy)':>24s}")
    for row in one:
        print(f"{row:{width}s}  {one[row]:>24s}  {two.get(row, ''):>24s}")
    ratios = [
        f"{row.rsplit(' ', 1)[0]} {float(two[row]) / float(one[row]):.2f}"
        for row in one
        if row.endswith(("audio-s/s", "commits/s", "answers/s")) and float(one[row])
    ]
    print("\nthroughput ratio 2/1: " + ", ".join(ratios))
    print(
        f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores (other processes included); phases of {args.seconds:g} s; "
        "RSS per replica, '+' between replicas"
    )


def main() -> None:
    args = parse()
    bin_dir = find_bin_dir()
    if bin_dir is None or shutil.which("haproxy") is None:
        print(
            "skipped: needs PostgreSQL's binaries and haproxy (apt-get install postgresql haproxy)"
        )
        return
    load_before = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="sottovoce-load-"))
    cluster = PostgresCluster(bin_dir)
    replicas: list[RunningServer] = []
    proxies: list[HAProxy] = []
    try:
        env = start(root, cluster, replicas)
        REPLICA_URLS.extend(r.url for r in replicas)
        addresses = [r.url.removeprefix("http://") for r in replicas]
        results = {}
        for name, behind in (("1 replica", addresses[:1]), ("2 replicas", addresses)):
            proxy = HAProxy(root / name.replace(" ", "-"), behind)
            proxies.append(proxy)
            pids = [r.proc.pid for r in replicas[: len(behind)]]
            results[name] = run_config(name, proxy, pids, env, args)
            proxy.stop()
    finally:
        for proxy in proxies:
            proxy.stop()
        for replica in replicas:
            replica.stop()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    report(results, args, load_before)


if __name__ == "__main__":
    main()
