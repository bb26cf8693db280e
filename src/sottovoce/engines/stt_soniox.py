"""Soniox transcription upstream: its real-time socket, live audio only.

Written from Soniox's public WebSocket API reference, and not tested against Soniox itself
(sottovoce does not serve Soniox's API, so no second server can play it). The socket is
``/transcribe-websocket`` on ``streaming_url`` (``wss://stt-rt.soniox.com``); the key goes as
``Authorization: Bearer`` on the handshake (and, for older servers, in the first message).
The first message configures the session (model, raw ``pcm_s16le`` 16 kHz mono, language hints,
endpoint detection); audio follows as binary frames; ``{"type": "finalize"}`` commits (Soniox
answers with a final ``<fin>`` token); an empty frame ends the stream (the last reply carries
``"finished": true``). Replies carry ``tokens`` (``text``, ``start_ms``, ``end_ms``,
``confidence``, ``is_final``): final tokens are sent once, non-final ones are the guess so far;
``<end>`` marks the end of an utterance. Errors are ``{"error_code", "error_message"}``, then a
close. Soniox processes real-time audio in memory: streaming is declared ``none``.
"""

from __future__ import annotations

import json
from typing import Any

from websockets.asyncio.client import ClientConnection

from sottovoce.config import SpeechProvider
from sottovoce.engines.base import StreamOptions, Transcript, TranscriptionStream, Word
from sottovoce.engines.upstream_link import RATE, ProviderLink, number, transcript_of
from sottovoce.engines.upstream_stream import SocketStream
from sottovoce.engines.upstream_stt import UpstreamTranscriber
from sottovoce.privacy.providers import Mode

END, FIN = "<end>", "<fin>"


def soniox_link(provider: SpeechProvider) -> ProviderLink:
    key = provider.api_key.get_secret_value() if provider.api_key else None
    return ProviderLink(provider, {"Authorization": f"Bearer {key}"} if key else {})


class SonioxTranscriber(UpstreamTranscriber):
    modes = (Mode.STREAMING,)

    def open_stream(self, options: StreamOptions) -> TranscriptionStream:
        return SonioxStream(self, options)


def _word(token: dict[str, Any]) -> Word:
    return Word(
        text=str(token.get("text") or ""),
        start=round(number(token.get("start_ms")) / 1000, 3),
        end=round(number(token.get("end_ms")) / 1000, 3),
        probability=number(token.get("confidence"), 1.0),
    )


class SonioxStream(SocketStream):
    commit_always_answered = True

    def __init__(self, model: SonioxTranscriber, options: StreamOptions) -> None:
        super().__init__(model.link, options)
        self.model = model
        self._final: list[Word] = []
        self._language = options.language or "en"

    async def open(self) -> ClientConnection:
        ws = await self.link.connect("/transcribe-websocket")
        config: dict[str, Any] = {
            "model": self.model.model,
            "audio_format": "pcm_s16le",
            "sample_rate": RATE,
            "num_channels": 1,
            "enable_endpoint_detection": self.options.commit_on_silence,
        }
        if self.link.key:
            config["api_key"] = self.link.key
        if self.options.language:
            config["language_hints"] = [self.options.language.split("-")[0]]
        async with self.link.calling():
            await ws.send(json.dumps(config))
        return ws

    def commit_message(self) -> str:
        return json.dumps({"type": "finalize"})

    def end_message(self) -> bytes:
        return b""

    def keep_alive_message(self) -> str:
        return json.dumps({"type": "keepalive"})

    def _utterance(self, words: list[Word]) -> Transcript:
        text = "".join(w.text for w in words)
        spaced = _spaced(words)
        duration = words[-1].end if words else self.audio_seconds
        return transcript_of(spaced, text, language=self._language, duration=duration)

    def handle(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            return
        data = json.loads(message)
        if data.get("error_code") is not None:
            raise self.link.reported()
        guess: list[Word] = []
        for token in data.get("tokens") or []:
            text = token.get("text")
            if text in (END, FIN):
                self.final(self._utterance(self._final))
                self._final = []
                if text == FIN:
                    self.committed()
            elif token.get("is_final"):
                self._final.append(_word(token))
            else:
                guess.append(_word(token))
        if guess:
            self.partial(self._utterance([*self._final, *guess]))
        if data.get("finished"):
            self.final(self._utterance(self._final))
            self._final = []
            self.finished()


def _spaced(tokens: list[Word]) -> list[Word]:
    """Soniox tokens are pieces of words (spaces included): whole words, each led by a space."""
    words: list[Word] = []
    for token in tokens:
        starts_word = token.text.startswith(" ") or not words
        if starts_word:
            words.append(Word(" " + token.text.strip(), token.start, token.end, token.probability))
        else:
            last = words[-1]
            words[-1] = Word(last.text + token.text, last.start, token.end, last.probability)
    return [w for w in words if w.text.strip()]
