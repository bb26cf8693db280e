"""OpenAI speech upstream: ``POST {base_url}/audio/speech`` with ``response_format: pcm``
(24 kHz), streamed as it arrives, the key as ``Authorization: Bearer``. One call serves both
modes (the reply is a stream either way)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sottovoce.engines.base import AudioChunk, SynthesisRequest
from sottovoce.engines.upstream_tts import UpstreamSynthesizer, pcm_of


class OpenAISynthesizer(UpstreamSynthesizer):
    speed_range = (0.25, 4.0)

    async def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        body: dict[str, Any] = {
            "model": self.model,
            "input": request.text.reveal(),
            "voice": self.voice(request.voice_id),
            "response_format": "pcm",
        }
        if request.speed != 1.0:
            body["speed"] = request.speed
        async for chunk in pcm_of(self.link.chunks("POST", "/audio/speech", json=body)):
            yield chunk
