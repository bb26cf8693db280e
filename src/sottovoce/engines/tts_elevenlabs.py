"""ElevenLabs speech upstream: ``POST /v1/text-to-speech/{voice}/stream`` for one reply, and
the ``stream-input`` socket for streamed requests; raw ``pcm_24000`` either way, the key as
``xi-api-key``.

Every zero-retention request carries ``enable_logging=false``: ElevenLabs' zero retention
mode, without which it keeps the text and audio in its history. An account not allowed that
mode is refused by ElevenLabs, and the request fails (502) rather than being kept.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from sottovoce.engines.base import AudioChunk, SynthesisRequest
from sottovoce.engines.upstream_tts import PcmChunks, UpstreamSynthesizer, pcm_of
from sottovoce.privacy.providers import Mode


class ElevenLabsSynthesizer(UpstreamSynthesizer):
    speed_range = (0.7, 1.2)

    def _query(self, request: SynthesisRequest) -> dict[str, str]:
        query = {"output_format": "pcm_24000"}
        if request.zero_retention:
            query["enable_logging"] = "false"
        return query

    def _settings(self, request: SynthesisRequest) -> dict[str, Any]:
        return {"speed": request.speed} if request.speed != 1.0 else {}

    def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        if request.mode is Mode.STREAMING:
            return self._socket(request)
        return self._http(request)

    async def _http(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        body: dict[str, Any] = {"text": request.text.reveal(), "model_id": self.model}
        if settings := self._settings(request):
            body["voice_settings"] = settings
        if request.language:
            body["language_code"] = request.language
        path = f"/v1/text-to-speech/{self.voice(request.voice_id)}/stream"
        async for chunk in pcm_of(
            self.link.chunks("POST", path, params=self._query(request), json=body)
        ):
            yield chunk

    async def _socket(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        path = f"/v1/text-to-speech/{self.voice(request.voice_id)}/stream-input"
        ws = await self.link.connect(path, {"model_id": self.model, **self._query(request)})
        pcm = PcmChunks()
        try:
            async with self.link.calling():
                first: dict[str, Any] = {"text": " "}
                if settings := self._settings(request):
                    first["voice_settings"] = settings
                await ws.send(json.dumps(first))
                text = request.text.reveal().rstrip() + " "
                await ws.send(json.dumps({"text": text, "flush": True}))
                await ws.send(json.dumps({"text": ""}))
                while True:
                    message = await self.link.receive(ws)
                    data = json.loads(message)
                    if not isinstance(data, dict) or "error" in data or "message" in data:
                        raise self.link.reported()
                    if data.get("audio"):
                        chunk = pcm.chunk(base64.b64decode(data["audio"]))
                        if chunk is not None:
                            yield chunk
                    if data.get("isFinal"):
                        return
        except (ValueError, TypeError):
            raise self.link.malformed() from None
        finally:
            await ws.close()
