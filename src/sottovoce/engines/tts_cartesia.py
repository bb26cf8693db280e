"""Cartesia speech upstream: ``POST /tts/bytes`` for one reply, ``WS /tts/websocket`` for
streamed requests; raw ``pcm_s16le`` at 24 kHz, the key as ``X-API-Key`` with a
``Cartesia-Version``. Cartesia's zero retention is switched on for a whole organisation by
contract: its declaration is ``retains`` unless the operator declares ``zdr-by-agreement``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sottovoce.config import SpeechProvider
from sottovoce.engines.base import AudioChunk, SynthesisRequest
from sottovoce.engines.upstream_link import ProviderLink
from sottovoce.engines.upstream_tts import RATE, PcmChunks, UpstreamSynthesizer, pcm_of
from sottovoce.privacy.providers import Mode

VERSION = "2026-08-14"
_FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE}


def cartesia_link(provider: SpeechProvider) -> ProviderLink:
    headers = {"Cartesia-Version": VERSION}
    if provider.api_key is not None:
        headers["X-API-Key"] = provider.api_key.get_secret_value()
    return ProviderLink(provider, headers)


class CartesiaSynthesizer(UpstreamSynthesizer):
    speed_range = (0.6, 1.5)

    def _body(self, request: SynthesisRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model_id": self.model,
            "transcript": request.text.reveal(),
            "voice": {"mode": "id", "id": self.voice(request.voice_id)},
            "output_format": _FORMAT,
        }
        if request.language:
            body["language"] = request.language
        if request.speed != 1.0:
            body["generation_config"] = {"speed": request.speed}
        return body

    def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        if request.mode is Mode.STREAMING:
            return self._socket(request)
        return self._http(request)

    async def _http(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        async for chunk in pcm_of(self.link.chunks("POST", "/tts/bytes", json=self._body(request))):
            yield chunk

    async def _socket(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        ws = await self.link.connect("/tts/websocket", {"cartesia_version": VERSION})
        context = uuid.uuid4().hex
        pcm = PcmChunks()
        try:
            async with self.link.calling():
                body = {**self._body(request), "context_id": context, "continue": False}
                await ws.send(json.dumps(body))
                while True:
                    message = await self.link.receive(ws)
                    data = json.loads(message)
                    kind = data.get("type") if isinstance(data, dict) else None
                    if kind == "chunk" and data.get("data"):
                        chunk = pcm.chunk(base64.b64decode(data["data"]))
                        if chunk is not None:
                            yield chunk
                    elif kind == "done":
                        return
                    elif kind == "error" or kind is None:
                        raise self.link.reported()
        except (ValueError, TypeError):
            raise self.link.malformed() from None
        finally:
            await ws.close()
