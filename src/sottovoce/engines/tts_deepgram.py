"""Deepgram speech upstream (Aura): ``POST /v1/speak`` for one reply, ``WS /v1/speak`` for
streamed requests; raw ``linear16`` at 24 kHz, ``mip_opt_out=true`` always, the key as
``Authorization: Token``. The model names the voice (``aura-2-thalia-en``): a request's voice
is not sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sottovoce.engines.base import AudioChunk, SynthesisRequest
from sottovoce.engines.upstream_tts import RATE, PcmChunks, UpstreamSynthesizer, pcm_of
from sottovoce.privacy.providers import Mode


class DeepgramSynthesizer(UpstreamSynthesizer):
    speed_range = (0.7, 1.5)

    def _query(self, request: SynthesisRequest, *, socket: bool) -> dict[str, Any]:
        query: dict[str, Any] = {
            "model": self.model,
            "encoding": "linear16",
            "sample_rate": RATE,
            "mip_opt_out": "true",
        }
        if not socket:
            query["container"] = "none"
        if request.speed != 1.0:
            query["speed"] = request.speed
        return query

    def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        if request.mode is Mode.STREAMING:
            return self._socket(request)
        return self._http(request)

    async def _http(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        params = self._query(request, socket=False)
        body = {"text": request.text.reveal()}
        async for chunk in pcm_of(self.link.chunks("POST", "/v1/speak", params=params, json=body)):
            yield chunk

    async def _socket(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        ws = await self.link.connect("/v1/speak", self._query(request, socket=True))
        pcm = PcmChunks()
        try:
            async with self.link.calling():
                await ws.send(json.dumps({"type": "Speak", "text": request.text.reveal()}))
                await ws.send(json.dumps({"type": "Flush"}))
                while True:
                    message = await self.link.receive(ws)
                    if isinstance(message, bytes):
                        if (chunk := pcm.chunk(message)) is not None:
                            yield chunk
                        continue
                    kind = json.loads(message).get("type")
                    if kind == "Flushed":
                        await ws.send(json.dumps({"type": "Close"}))
                        return
                    if kind == "Error":
                        raise self.link.reported()
        except (ValueError, TypeError, AttributeError):
            raise self.link.malformed() from None
        finally:
            await ws.close()
