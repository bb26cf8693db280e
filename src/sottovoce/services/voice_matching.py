"""Approximate voice matching: a Kokoro voice fitted to a speaker's samples. Not true cloning.

No package ships a zero-shot cloning model that runs without PyTorch or a download, so a voice
is *searched for* in the space of blends of Kokoro's shipped style packs
(:mod:`sottovoce.engines.kokoro_packs`, ten numbers): every candidate speaks a fixed sentence,
and is scored by the speaker encoder's cosine similarity to the samples
(:mod:`sottovoce.engines.speaker`) minus a penalty for a median pitch far from theirs. The
search starts from the best of the shipped packs and runs CMA-ES (``cma``) for
``voices.match_evaluations`` candidates. The best few are then checked for intelligibility
(local Whisper on another sentence); the best one that passes is kept, else the starting pack.
The result resembles the speaker (pitch, timbre, roughly) and never reproduces them.

A job runs in the server's task group, one step at a time off the event loop, recording its
progress (``fine_tuning`` in ``GET /v1/voices/{id}``). A voice deleted meanwhile stops its job.
Jobs that a stopped server left unfinished are started again at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import numpy as np
import numpy.typing as npt
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from sqlalchemy.orm import Session

from sottovoce.audio.decode import decode_audio
from sottovoce.engines.base import Transcriber, TranscriptionRequest
from sottovoce.engines.kokoro import KokoroSynthesizer
from sottovoce.engines.kokoro_packs import BOUNDS, PACK_NAMES, Pack, to_bytes
from sottovoce.engines.speaker import SAMPLE_RATE, SpeakerEncoder
from sottovoce.engines.voices import KOKORO
from sottovoce.errors import EngineFailed, SottovoceError
from sottovoce.privacy.logging import log_event
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.context import Services
from sottovoce.store import voices as store
from sottovoce.store.voices import VoiceStatus

log = logging.getLogger("sottovoce.voices")

SCORE_TEXT = "The quick brown fox jumps over the lazy dog, then it runs back home again."
CHECK_TEXT = "Please call Stella and ask her to bring these things with her from the store."
PITCH_WEIGHT = 0.15
"""Score lost per octave between the candidate's median pitch and the samples'."""
MAX_CHECK_WER = 0.25
CHECKED = 3
"""Best candidates checked for intelligibility, best first."""

Floats = npt.NDArray[np.float32]


class VoiceDeleted(Exception):
    """The voice was deleted while its job ran: stop quietly."""


def median_f0(samples: Floats, rate: int = SAMPLE_RATE) -> float | None:
    """Median pitch (Hz) of the voiced 40 ms frames, by autocorrelation; ``None`` if unvoiced."""
    frame = int(0.04 * rate)
    low, high = int(rate / 400), int(rate / 60)
    found: list[float] = []
    for start in range(0, samples.size - frame, frame // 2):
        x = samples[start : start + frame].astype(np.float64)
        x -= x.mean()
        energy = float(np.dot(x, x))
        if energy < 1e-4 * frame:
            continue
        corr = np.correlate(x, x, mode="full")[frame - 1 :]
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.45 * energy:
            found.append(rate / lag)
    return float(np.median(found)) if len(found) >= 3 else None


def _to_16k(audio: Floats, rate: int) -> Floats:
    if rate == SAMPLE_RATE or audio.size == 0:
        return audio.astype(np.float32)
    positions = np.arange(0, audio.size, rate / SAMPLE_RATE)
    resampled: Floats = np.interp(positions, np.arange(audio.size), audio).astype(np.float32)
    return resampled


def word_error_rate(said: str, heard: str) -> float:
    ref = re.findall(r"[a-z']+", said.lower())
    hyp = re.findall(r"[a-z']+", heard.lower())
    row = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, b in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (a != b))
    return row[-1] / max(1, len(ref))


@dataclass(frozen=True)
class Match:
    pack: Pack
    similarity: float
    """Speaker similarity of the kept voice to the samples."""
    start_similarity: float
    """Of the best shipped pack, where the search began."""
    evaluations: int


@dataclass
class Matcher:
    """The search for one speaker: blocking steps, each run off the event loop by the job."""

    kokoro: KokoroSynthesizer
    encoder: SpeakerEncoder
    reference: Floats
    """The samples, 16 kHz mono."""

    def __post_init__(self) -> None:
        self.target = self.encoder.embed(self.reference)
        self.target_f0 = median_f0(self.reference)

    def score(self, params: npt.NDArray[np.float64]) -> tuple[float, float]:
        """(score, similarity) of the voice at ``params``."""
        pack = self.kokoro.space.blend(params)
        audio = _to_16k(self.kokoro.render(SCORE_TEXT, pack), self.kokoro.sample_rate)
        similarity = float(np.dot(self.encoder.embed(audio), self.target))
        penalty = 0.0
        f0 = median_f0(audio)
        if f0 is not None and self.target_f0 is not None:
            penalty = PITCH_WEIGHT * abs(math.log2(f0 / self.target_f0))
        return similarity - penalty, similarity


async def match_voice(
    matcher: Matcher,
    transcriber: Transcriber | None,
    evaluations: int,
    progress: Callable[[float], Awaitable[None]],
) -> Match:
    """Search ``evaluations`` candidates (the shipped packs first) and keep the best one that
    is still intelligible. ``progress`` gets the fraction done (and may raise to stop)."""
    with warnings.catch_warnings():
        # cma warns on import that matplotlib (for its plots) is missing: not needed here.
        warnings.simplefilter("ignore", UserWarning)
        import cma

    space = matcher.kokoro.space
    tried: list[tuple[float, float, npt.NDArray[np.float64]]] = []  # score, similarity, params
    budget = max(1, evaluations)
    total = budget + (CHECKED if transcriber is not None else 0)

    async def evaluate(params: npt.NDArray[np.float64]) -> float:
        score, similarity = await anyio.to_thread.run_sync(
            matcher.score, params, abandon_on_cancel=True
        )
        tried.append((score, similarity, np.asarray(params, np.float64)))
        await progress(len(tried) / total)
        return score

    for name in PACK_NAMES[: min(len(PACK_NAMES), budget)]:
        await evaluate(space.params_of(name))
    start_score, start_similarity, start = max(tried, key=lambda t: t[0])
    remaining = budget - len(tried)
    if remaining > 0:
        options = {
            "bounds": list(BOUNDS),
            "popsize": 8,
            "seed": 1 + int(abs(start_score) * 1e6) % 1000,
            # No output, and above all no log files (cma writes outcmaes/ by default).
            "verbose": -9,
            "verb_log": 0,
            "verb_disp": 0,
            "maxfevals": remaining,
        }
        es = cma.CMAEvolutionStrategy(start, 0.25, options)
        while remaining > 0 and not es.stop():
            batch = es.ask()
            # The last generation may be cut short by the budget: scored, never told.
            scores = [-(await evaluate(np.asarray(x))) for x in batch[:remaining]]
            remaining -= len(scores)
            if len(scores) == len(batch):
                es.tell(batch, scores)
    ranked = sorted(tried, key=lambda t: -t[0])
    kept = (start_similarity, start)
    if transcriber is None:
        kept = (ranked[0][1], ranked[0][2])
    else:
        for _score, similarity, params in ranked[:CHECKED]:
            if await _intelligible(matcher, transcriber, params):
                kept = (similarity, params)
                break
            await progress(min(1.0, (len(tried) + 1) / total))
    return Match(space.blend(kept[1]), kept[0], start_similarity, len(tried))


async def _intelligible(
    matcher: Matcher, transcriber: Transcriber, params: npt.NDArray[np.float64]
) -> bool:
    pack = matcher.kokoro.space.blend(params)
    audio = await anyio.to_thread.run_sync(
        matcher.kokoro.render, CHECK_TEXT, pack, abandon_on_cancel=True
    )
    samples = _to_16k(audio, matcher.kokoro.sample_rate)
    heard = await transcriber.transcribe(
        TranscriptionRequest(audio=Sensitive(samples.astype("<f4").tobytes()), language="en")
    )
    return word_error_rate(CHECK_TEXT, heard.reveal().text) <= MAX_CHECK_WER


class MatchingJobs:
    """The queue of matching jobs and the task that runs them (one task per ``match_jobs``)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._waiting: list[tuple[str, str]] = []
        self._send: MemoryObjectSendStream[tuple[str, str]] | None = None

    def submit(self, workspace_id: str, voice_id: str) -> None:
        if self._send is None:  # not running yet: queued until it is
            self._waiting.append((workspace_id, voice_id))
        else:
            self._send.send_nowait((workspace_id, voice_id))

    async def run_forever(self) -> None:
        """Resume interrupted jobs, then run queued ones until cancelled."""
        send, receive = anyio.create_memory_object_stream[tuple[str, str]](math.inf)
        with send, receive:
            self._send = send
            interrupted = await self.services.in_session(store.interrupted)
            for job in [*interrupted, *self._waiting]:
                send.send_nowait(job)
            self._waiting.clear()
            try:
                async with anyio.create_task_group() as workers:
                    for _ in range(self.services.settings.voices.match_jobs):
                        workers.start_soon(self._worker, receive)
            finally:
                self._send = None

    async def _worker(self, receive: MemoryObjectReceiveStream[tuple[str, str]]) -> None:
        async for workspace_id, voice_id in receive:
            started = time.monotonic()
            try:
                await self._run(workspace_id, voice_id)
                log_event(log, "voices.matched", duration_ms=_ms(started), count=1)
            except VoiceDeleted:
                log_event(log, "voices.match_stopped", duration_ms=_ms(started))
            except SottovoceError as exc:
                await self._fail(voice_id, exc.code)
            except Exception as exc:  # a bug or an engine fault must not stop the queue
                await self._fail(voice_id, EngineFailed.code, type(exc).__name__)

    async def _fail(self, voice_id: str, code: str, error_type: str | None = None) -> None:
        log_event(log, "voices.match_failed", error_code=code, error_type=error_type)
        with contextlib.suppress(VoiceDeleted):
            await self._record(voice_id, VoiceStatus.FAILED, 0.0, code)

    async def _record(
        self, voice_id: str, status: VoiceStatus, done: float, code: str | None = None
    ) -> None:
        def write(session: Session) -> bool:
            return store.set_progress(session, voice_id, status, done, code)

        if not await self.services.in_session(write):
            raise VoiceDeleted()

    async def _run(self, workspace_id: str, voice_id: str) -> None:
        services = self.services
        settings = services.settings
        await self._record(voice_id, VoiceStatus.RUNNING, 0.0)
        try:
            samples = await services.in_session(lambda s: store.samples(s, workspace_id, voice_id))
        except SottovoceError:
            raise VoiceDeleted() from None
        limit = settings.voices.max_sample_seconds

        def reference() -> Floats:
            arrays = [
                np.frombuffer(decode_audio(s, max_seconds=limit).samples.reveal(), "<f4")
                for s in samples
            ]
            return np.concatenate(arrays) if arrays else np.zeros(0, np.float32)

        audio = await anyio.to_thread.run_sync(reference)
        kokoro = services.engines.synthesizer(KOKORO)
        assert isinstance(kokoro, KokoroSynthesizer)
        encoder = services.engines.speaker_encoder
        matcher = await anyio.to_thread.run_sync(Matcher, kokoro, encoder, audio)
        written = [0.0]

        async def progress(done: float) -> None:
            # At most two writes a second; each also notices a voice deleted meanwhile.
            if time.monotonic() - written[0] >= 0.5:
                written[0] = time.monotonic()
                await self._record(voice_id, VoiceStatus.RUNNING, done)

        transcriber = services.engines.transcriber("local/whisper-base")
        match = await match_voice(matcher, transcriber, settings.voices.match_evaluations, progress)
        pack = Sensitive(to_bytes(match.pack))
        if not await services.in_session(lambda s: store.finish(s, workspace_id, voice_id, pack)):
            raise VoiceDeleted()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
