"""Live transcription, once for every socket: audio in as it arrives, transcripts out.

A :class:`LiveSession` is one socket's product: created with the session's settings (which
takes the retention decision, for the streaming mode), fed raw PCM as the client sends it, and
finished when the socket ends, however it ends. It answers with typed events: ``Partial`` while
the speaker talks, ``Committed`` when an utterance ends (a pause, or a commit on request), and
``Failed`` when the session must stop (its time limit). Without ZDR the committed transcripts of
the session go to history when it finishes (with its recording, 16 kHz WAV, when the workspace
keeps input audio); under ZDR only the usage record (audio seconds, model) remains.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sottovoce.audio.encode import wav_header
from sottovoce.audio.pcm import TARGET_RATE, PcmEncoding, PcmStream
from sottovoce.engines.base import StreamEvent, StreamEventKind, StreamOptions
from sottovoce.errors import SessionTimeLimit
from sottovoce.privacy.eligibility import HistorySource
from sottovoce.privacy.policy import RequestFlags
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import routing
from sottovoce.services.admission import admit_live
from sottovoce.services.context import RequestContext
from sottovoce.services.events import Committed, Event, Failed, Partial, Started
from sottovoce.services.routing import check_mode
from sottovoce.services.stt_files import resolve_transcriber
from sottovoce.store.history import HistoryContent


@dataclass(frozen=True)
class LiveAsk:
    """One live session's settings, as a surface parsed them."""

    model: str | None
    sample_rate: int
    encoding: PcmEncoding
    options: StreamOptions
    flags: RequestFlags = field(default_factory=RequestFlags)
    settings: Mapping[str, Any] = field(default_factory=dict)
    """Session settings kept with a history item (no content)."""


class LiveSession:
    """One socket's transcription: validated, decided and opened on creation."""

    def __init__(self, ctx: RequestContext, ask: LiveAsk) -> None:
        self.ctx = ctx
        self.ask = ask
        self.session_id = uuid.uuid4().hex
        first = resolve_transcriber(ctx, ask.model)
        check_mode(first.info, Mode.STREAMING)
        chain = routing.candidates(ctx, first, Mode.STREAMING, ctx.engines.transcriber)
        self.decision, self._engines = routing.decide(ctx, ask.flags, chain, Mode.STREAMING)
        self.transcriber = self._engines[0]
        admit_live(ctx.ticket, self.transcriber)
        self._pcm = PcmStream(ask.sample_rate, ask.encoding)
        interval = ctx.settings.stt.realtime_partial_interval
        self._options = dataclasses.replace(
            ask.options, partial_interval=interval, zero_retention=self.decision.zero_retention
        )
        self._stream = self.transcriber.open_stream(self._options)
        self._closed = False
        self._committed: list[str] = []
        self._max_seconds = ctx.settings.stt.realtime_max_session_seconds
        # The session's audio (16 kHz, 16-bit) is gathered only when history will keep it.
        self._recording: bytearray | None = bytearray() if ctx.keeps_input_audio else None
        self.ended = False
        """The session stopped on its own (a ``Failed`` event said why)."""

    @property
    def audio_seconds(self) -> float:
        """Audio received so far."""
        return self._stream.audio_seconds

    def started(self) -> Started:
        return Started(self.session_id)

    async def start(self) -> None:
        """Reach the engine now (an upstream provider's socket opens here, not at the first
        audio), moving on to a fallback when the provider cannot be reached."""
        for index, engine in enumerate(self._engines):
            if index:
                admit_live(self.ctx.ticket, engine)
                routing.move_on(self.ctx, self.transcriber, engine, Mode.STREAMING)
                self.transcriber = engine
                self._stream = engine.open_stream(self._options)
            start = getattr(self._stream, "start", None)
            if start is None:
                return
            try:
                await start()
                return
            except routing.UPSTREAM_ERRORS:
                if index == len(self._engines) - 1:
                    raise

    async def keep_alive(self) -> None:
        """The client is still there without audio: keep an upstream socket open."""
        keep_alive = getattr(self._stream, "keep_alive", None)
        if keep_alive is not None and not self._closed:
            await keep_alive()

    async def feed(self, audio: Sensitive[bytes]) -> list[Event]:
        """Raw PCM in the session's rate and encoding; the events it caused."""
        data = audio.reveal()
        if not data or self.ended:
            return []
        samples = self._pcm.push(data)
        if self._recording is not None:
            self._recording += (samples.clip(-1, 1) * 32767).astype("<i2").tobytes()
        events = self._events(await self._stream.feed(Sensitive(samples.astype("<f4").tobytes())))
        if self._stream.audio_seconds > self._max_seconds:
            self.ended = True
            events.append(Failed(SessionTimeLimit()))
        return events

    async def commit(self) -> list[Event]:
        """Close the current utterance now, speech or not."""
        return self._events([await self._stream.commit()])

    def _events(self, heard: list[StreamEvent]) -> list[Event]:
        events: list[Event] = []
        for event in heard:
            if event.kind is StreamEventKind.PARTIAL:
                events.append(Partial(event.transcript))
                continue
            if event.kind is not StreamEventKind.COMMITTED:
                continue
            text = event.transcript.reveal().text
            if text and self.ctx.retaining:
                self._committed.append(text)
            self.ctx.usage.add_output(len(text), "characters")
            events.append(Committed(event.transcript))
        return events

    async def end_input(self) -> list[Event]:
        """No more audio: the last utterance's committed transcript, if speech was pending."""
        if self._closed:
            return []
        self._closed = True
        return self._events(await self._stream.close())

    async def finish(self) -> None:
        """The socket is over: meter it, and keep what the decision allows."""
        if not self._closed:
            # Whatever was still pending is dropped: the client is gone or has closed.
            self._closed = True
            abort = getattr(self._stream, "abort", None)
            await (abort() if abort is not None else self._stream.close())
        self.ctx.usage.add_input(round(self._stream.audio_seconds, 3), "audio_seconds")
        if not self.ctx.usage.output_unit:
            self.ctx.usage.add_output(0, "characters")
        text = " ".join(self._committed)
        self._committed.clear()
        if self.ctx.retaining and text:
            recording = None
            if self._recording is not None:
                recording = Sensitive(
                    wav_header(TARGET_RATE, len(self._recording)) + self._recording
                )
            await self.ctx.retain(
                HistoryContent(
                    source=HistorySource.STT,
                    model_id=self.transcriber.info.model_id,
                    text=Sensitive(text),
                    audio=recording,
                    content_type="audio/wav" if recording is not None else None,
                    settings=dict(self.ask.settings),
                )
            )
        self._recording = None
