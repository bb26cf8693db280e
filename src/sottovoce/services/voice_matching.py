"""Approximate voice matching: a built-in voice, shaped, fitted to a speaker's samples. Not
true cloning.

No package ships a zero-shot cloning model that runs without PyTorch or a download, so a voice
is *searched for* (:mod:`sottovoce.services.voice_search`): among the built-in voices, their
pitch and formant shaping, and blends of Kokoro's shipped style packs, scored by the speaker
encoder's similarity to the samples. The result (a :class:`~sottovoce.services.voice_recipe.
Recipe`) resembles the speaker (pitch, vocal tract length, roughly the timbre) and never
reproduces them.

A job runs in the server's task group, one step at a time off the event loop, recording its
progress (``fine_tuning`` in ``GET /v1/voices/{id}``). A voice deleted meanwhile stops its job.
Jobs that a stopped server left unfinished are started again at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time

import anyio
import numpy as np
import numpy.typing as npt
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from sqlalchemy.orm import Session

from sottovoce.audio.decode import decode_audio
from sottovoce.errors import EngineFailed, SottovoceError
from sottovoce.privacy.logging import log_event
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import voices
from sottovoce.services.context import Services
from sottovoce.services.voice_search import Matcher, match_voice
from sottovoce.store import voices as store
from sottovoce.store.voices import VoiceStatus

Floats = npt.NDArray[np.float32]

log = logging.getLogger("sottovoce.voices")


class VoiceDeleted(Exception):
    """The voice was deleted while its job ran: stop quietly."""


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
        engines = services.engines
        bases = tuple(voices.available(engines))

        def matcher_of() -> Matcher:
            return Matcher(engines, engines.speaker_encoder, audio, bases)

        matcher = await anyio.to_thread.run_sync(matcher_of)
        written = [0.0]

        async def progress(done: float) -> None:
            # At most two writes a second; each also notices a voice deleted meanwhile.
            if time.monotonic() - written[0] >= 0.5:
                written[0] = time.monotonic()
                await self._record(voice_id, VoiceStatus.RUNNING, done)

        transcriber = services.engines.transcriber("local/whisper-base")
        match = await match_voice(matcher, transcriber, settings.voices.match_evaluations, progress)
        pack = Sensitive(match.recipe.to_bytes())
        model_id = match.recipe.base.model_id

        def finish(session: Session) -> bool:
            return store.finish(session, workspace_id, voice_id, pack, model_id)

        if not await services.in_session(finish):
            raise VoiceDeleted()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
