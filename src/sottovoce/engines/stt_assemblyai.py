"""AssemblyAI transcription upstream: the async API for files, the v3 socket live.

The key goes as a bare ``Authorization`` header. A file is uploaded (``POST /v2/upload``),
transcribed (``POST /v2/transcript``), polled until done (``GET /v2/transcript/{id}``), then
deleted at once (``DELETE /v2/transcript/{id}``): AssemblyAI keeps an async transcript until it
is deleted, which is why its declaration for files is ``retains`` by default. For this API
``timeout_s`` bounds the whole transcription as well as each call.

Live audio goes to ``WS /v3/ws`` (on ``streaming_url``) as raw 16-bit frames; ``Turn``
messages are partials until ``end_of_turn``, ``ForceEndpoint`` commits, ``Terminate`` ends
(``Termination`` is the last message). A model whose name says ``streaming`` is AssemblyAI's
``speech_model`` live; any other is its ``speech_model`` for files (live sessions then use
AssemblyAI's default streaming model).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from websockets.asyncio.client import ClientConnection

from sottovoce.config import SpeechProvider
from sottovoce.engines.base import (
    StreamOptions,
    Transcript,
    TranscriptionRequest,
    TranscriptionStream,
    Word,
)
from sottovoce.engines.upstream_link import (
    RATE,
    ProviderLink,
    number,
    seconds,
    transcript_of,
    wav16,
)
from sottovoce.engines.upstream_stream import SocketStream
from sottovoce.engines.upstream_stt import UpstreamTranscriber
from sottovoce.privacy.sensitive import Sensitive

POLL_S = (0.05, 0.1, 0.2, 0.5, 1.0)
"""Waits between two polls of an async transcript (the last repeats)."""


def assemblyai_link(provider: SpeechProvider) -> ProviderLink:
    key = provider.api_key.get_secret_value() if provider.api_key else None
    return ProviderLink(provider, {"Authorization": key} if key else {})


def _words(items: list[dict[str, Any]] | None) -> list[Word]:
    return [
        Word(
            text=" " + str(w.get("text") or ""),
            start=round(number(w.get("start")) / 1000, 3),
            end=round(number(w.get("end")) / 1000, 3),
            probability=number(w.get("confidence"), 1.0),
        )
        for w in items or []
    ]


class AssemblyAITranscriber(UpstreamTranscriber):
    @property
    def live_model(self) -> bool:
        return "streaming" in self.model

    def __init__(self, provider: SpeechProvider, model: str, link: ProviderLink) -> None:
        super().__init__(provider, model, link)
        self._cleanups: set[asyncio.Future[None]] = set()

    async def transcribe(self, request: TranscriptionRequest) -> Sensitive[Transcript]:
        audio = request.audio.reveal()
        created: list[str] = []
        try:
            async with asyncio.timeout(self.link.timeout_s):
                done = await self._run(audio, request.language, created)
        except TimeoutError:
            raise self.link.timed_out() from None
        finally:
            if created:
                await self._delete(created[0])
        if done.get("status") != "completed":
            raise self.link.reported()
        return Sensitive(
            transcript_of(
                _words(done.get("words")),
                str(done.get("text") or ""),
                language=str(done.get("language_code") or request.language or "en"),
                duration=number(done.get("audio_duration")) or seconds(audio),
            )
        )

    async def _run(self, audio: bytes, language: str | None, created: list[str]) -> dict[str, Any]:
        upload = await self.link.json("POST", "/v2/upload", content=wav16(audio))
        body: dict[str, Any] = {"audio_url": upload.get("upload_url"), "punctuate": True}
        if not self.live_model:
            body["speech_model"] = self.model
        if language:
            body["language_code"] = language
        reply = await self.link.json("POST", "/v2/transcript", json=body)
        transcript_id = reply.get("id")
        if (
            not isinstance(transcript_id, str)
            or not transcript_id.isascii()
            or "/" in transcript_id
        ):
            raise self.link.malformed()
        created.append(transcript_id)
        return await self._poll(transcript_id)

    async def _delete(self, transcript_id: str) -> None:
        """An async transcript stays upstream until it is deleted: delete it now, even if the
        request that made it is being cancelled."""

        async def delete() -> None:
            with contextlib.suppress(Exception):
                await self.link.request("DELETE", f"/v2/transcript/{transcript_id}")

        cleanup = asyncio.ensure_future(delete())
        self._cleanups.add(cleanup)
        cleanup.add_done_callback(self._cleanups.discard)
        await asyncio.shield(cleanup)

    async def _poll(self, transcript_id: str) -> dict[str, Any]:
        for attempt in range(1_000_000):
            reply = await self.link.json("GET", f"/v2/transcript/{transcript_id}")
            if reply.get("status") in ("completed", "error"):
                return reply
            await asyncio.sleep(POLL_S[min(attempt, len(POLL_S) - 1)])
        raise self.link.timed_out()  # pragma: no cover - the timeout comes first

    def open_stream(self, options: StreamOptions) -> TranscriptionStream:
        return AssemblyAIStream(self, options)


class AssemblyAIStream(SocketStream):
    def __init__(self, model: AssemblyAITranscriber, options: StreamOptions) -> None:
        super().__init__(model.link, options)
        self.model = model
        self._language = options.language or "en"

    async def open(self) -> ClientConnection:
        query: dict[str, object] = {"sample_rate": RATE, "encoding": "pcm_s16le"}
        if self.model.live_model:
            query["speech_model"] = self.model.model
        if not self.options.commit_on_silence:
            # A turn then ends only when asked (ForceEndpoint), within AssemblyAI's limit.
            query["max_turn_silence"] = 10_000
        else:
            query["max_turn_silence"] = int(self.options.silence_seconds * 1000)
        return await self.link.connect("/v3/ws", query)

    def commit_message(self) -> str:
        return json.dumps({"type": "ForceEndpoint"})

    def end_message(self) -> str:
        return json.dumps({"type": "Terminate"})

    def keep_alive_message(self) -> str:
        return json.dumps({"type": "KeepAlive"})

    def handle(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            return
        data = json.loads(message)
        kind = data.get("type")
        if kind == "Turn":
            words = _words(data.get("words"))
            text = str(data.get("transcript") or "")
            duration = words[-1].end if words else self.audio_seconds
            if not data.get("end_of_turn"):
                text = text or " ".join(w.text.strip() for w in words)
                self.partial(transcript_of(words, text, language=self._language, duration=duration))
                return
            self.final(transcript_of(words, text, language=self._language, duration=duration))
            self.committed()
        elif kind == "Termination":
            self.finished()
        elif kind == "Error" or "error" in data:
            raise self.link.reported()
