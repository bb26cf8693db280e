"""The load benchmark's phases (``bench/load.py``, ``bench/live_capacity.py``): concurrent TTS
streams and realtime STT sessions at real-time pace against one URL, and each process's
resident memory while they run. Every request has a timeout and every phase a fixed length."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

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
TRY_AGAIN_LATER = 1013


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


def ms(value: float) -> str:
    return f"{value * 1000:.0f}"


def p50_p95(values: list[float]) -> str:
    return f"{ms(percentile(values, 50))} / {ms(percentile(values, 95))}"


@dataclass
class TtsResult:
    statuses: Counter[int] = field(default_factory=Counter)
    first_byte: list[float] = field(default_factory=list)
    audio_s: float = 0.0
    wall_s: float = 0.0

    def errors(self) -> str:
        """Requests that failed, by status (0: a transport error)."""
        failed = sorted((s, n) for s, n in self.statuses.items() if s != 200)
        return ", ".join(f"{s}: {n}" for s, n in failed) or "none"


async def tts_load(url: str, key: str, streams: int, seconds: float) -> TtsResult:
    """``streams`` workers, each posting a streamed TTS request after the other."""
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
                elif reply.status_code == 429:
                    # Refused at once, as asked: back off as Retry-After says, not in a loop.
                    await asyncio.sleep(float(reply.headers.get("retry-after", "1")))
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
    admitted: int = 0
    refused: int = 0
    """Sessions closed at once with 1013 "try again later" (past the live transcription limit)."""
    latencies: list[float] = field(default_factory=list)
    """End of speech -> committed transcript, of every utterance of the admitted sessions."""
    per_session: list[list[float]] = field(default_factory=list)
    """The same latencies, session by session, in the order the utterances were spoken."""
    failures: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0

    def failed(self) -> str:
        return ", ".join(f"{k}: {n}" for k, n in self.failures.items()) or "none"

    def drift(self) -> float:
        """How much later the commits of each session's last third of utterances came than
        those of its first third, on average over the sessions (s): a session that keeps real
        time does not drift; one that falls behind drifts by more with each utterance."""
        drifts = [
            float(np.mean(s[-(len(s) // 3) :]) - np.mean(s[: len(s) // 3]))
            for s in self.per_session
            if len(s) >= 3
        ]
        return float(np.mean(drifts)) if drifts else float("nan")


async def opened(ws: ClientConnection, out: SttResult) -> bool:
    """Whether the session was admitted (``session_started``) or refused (1013), counted."""
    try:
        first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if first.get("message_type") == "session_started":
            out.admitted += 1
            return True
        await asyncio.wait_for(ws.recv(), 10)  # the close that follows the error
    except ConnectionClosed as closed:
        if closed.rcvd is not None and closed.rcvd.code == TRY_AGAIN_LATER:
            out.refused += 1
            return False
        raise
    raise RuntimeError("the session neither started nor was refused")


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
            if not await opened(ws, out):
                return

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
    except Exception as error:  # a dropped session is counted, not fatal
        out.failures[type(error).__name__] += 1
    latencies = [c - e for c, e in zip(commits, speech_ends, strict=False)]
    out.latencies += latencies
    if latencies:
        out.per_session.append(latencies)
    if len(commits) < len(speech_ends):
        out.failures["no commit"] += len(speech_ends) - len(commits)


async def stt_load(ws_url: str, key: str, pcm: bytes, sessions: int, seconds: float) -> SttResult:
    """``sessions`` sessions, their starts spread over one utterance's length (callers do not
    all stop talking at the same instant), each running for ``seconds`` from its start."""
    out = SttResult()
    period = len(pcm) / 2 / RATE + VAD_SILENCE_S + 1.0

    async def session(n: int) -> None:
        await asyncio.sleep(n * period / sessions)
        await stt_session(ws_url, key, pcm, seconds, out)

    started = time.monotonic()
    await asyncio.gather(*(session(n) for n in range(sessions)))
    out.wall_s = time.monotonic() - started
    return out
