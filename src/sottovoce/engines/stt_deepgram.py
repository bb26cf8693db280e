"""Deepgram transcription upstream: ``POST /v1/listen`` for files, ``WS /v1/listen`` live.

The key goes as ``Authorization: Token``. Every request carries ``mip_opt_out=true``
(Deepgram's opt-out of its model improvement programme); audio goes as a 16 kHz WAV (files) or
raw ``linear16`` frames (live). Live results are gathered per utterance: interim results become
partials, the final pieces of an utterance are committed together when Deepgram says the
speech ended (``speech_final``, ``UtteranceEnd``) or a ``Finalize`` was answered
(``from_finalize``).
"""

from __future__ import annotations

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


def deepgram_link(provider: SpeechProvider) -> ProviderLink:
    key = provider.api_key.get_secret_value() if provider.api_key else None
    return ProviderLink(provider, {"Authorization": f"Token {key}"} if key else {})


def _words(alternative: dict[str, Any]) -> list[Word]:
    return [
        Word(
            text=" " + str(w.get("punctuated_word") or w.get("word") or ""),
            start=round(number(w.get("start")), 3),
            end=round(number(w.get("end")), 3),
            probability=number(w.get("confidence"), 1.0),
        )
        for w in alternative.get("words") or []
    ]


class DeepgramTranscriber(UpstreamTranscriber):
    def query(self, language: str | None) -> dict[str, object]:
        return {
            "model": self.model,
            "language": language,
            "punctuate": True,
            "smart_format": True,
            "mip_opt_out": True,
        }

    async def transcribe(self, request: TranscriptionRequest) -> Sensitive[Transcript]:
        reply = await self.link.json(
            "POST",
            "/v1/listen",
            params={k: _param(v) for k, v in self.query(request.language).items() if v},
            content=wav16(request.audio.reveal()),
            headers={"Content-Type": "audio/wav"},
        )
        try:
            channel = reply["results"]["channels"][0]
            alternative = channel["alternatives"][0]
            language = channel.get("detected_language") or request.language or "en"
            duration = number((reply.get("metadata") or {}).get("duration"))
            text = str(alternative.get("transcript") or "")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self.link.malformed() from None
        words = _words(alternative)
        duration = duration or seconds(request.audio.reveal())
        return Sensitive(transcript_of(words, text, language=str(language), duration=duration))

    def open_stream(self, options: StreamOptions) -> TranscriptionStream:
        return DeepgramStream(self, options)


class DeepgramStream(SocketStream):
    def __init__(self, model: DeepgramTranscriber, options: StreamOptions) -> None:
        super().__init__(model.link, options)
        self.model = model
        self._pending: list[Transcript] = []
        self._language = options.language or "en"

    async def open(self) -> ClientConnection:
        silence_ms = int(self.options.silence_seconds * 1000)
        query = {
            **self.model.query(self.options.language),
            "encoding": "linear16",
            "sample_rate": RATE,
            "channels": 1,
            "interim_results": True,
            "endpointing": silence_ms if self.options.commit_on_silence else False,
        }
        return await self.link.connect("/v1/listen", query)

    def commit_message(self) -> str:
        return json.dumps({"type": "Finalize"})

    def end_message(self) -> str:
        return json.dumps({"type": "CloseStream"})

    def keep_alive_message(self) -> str:
        return json.dumps({"type": "KeepAlive"})

    def _transcript(self, message: dict[str, Any]) -> Transcript:
        alternative = message["channel"]["alternatives"][0]
        start = number(message.get("start"))
        return transcript_of(
            _words(alternative),
            str(alternative.get("transcript") or ""),
            language=self._language,
            duration=round(start + number(message.get("duration")), 3),
        )

    def _flush(self) -> None:
        if self._pending:
            parts = [t for t in self._pending if t.text]
            self._pending = []
            if parts:
                words = [w for t in parts for w in t.words]
                text = " ".join(t.text for t in parts)
                self.final(
                    transcript_of(words, text, language=self._language, duration=parts[-1].duration)
                )

    def handle(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            return
        data = json.loads(message)
        kind = data.get("type")
        if kind == "Results":
            heard = self._transcript(data)
            if not data.get("is_final"):
                sofar = [*self._pending, heard]
                text = " ".join(t.text for t in sofar if t.text)
                words = [w for t in sofar for w in t.words]
                self.partial(
                    transcript_of(words, text, language=self._language, duration=heard.duration)
                )
                return
            self._pending.append(heard)
            if data.get("speech_final") or data.get("from_finalize"):
                self._flush()
            if data.get("from_finalize"):
                self.committed()
        elif kind == "UtteranceEnd":
            self._flush()
        elif kind == "Metadata":
            self._flush()
            self.finished()
        elif kind == "Error":
            raise self.link.reported()


def _param(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
