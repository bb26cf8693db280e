"""What every upstream speech model shares: its id, its speed range, its voice, raw PCM out.

Every provider is asked for raw 16-bit mono PCM at 24 kHz (the one rate all four APIs can
give), so a request's output format is encoded here, as for the local engines. A voice id
passes through as the client sent it, except the local default voice (which the vendors'
example voices reach through each surface's aliases): that one becomes the provider's
configured ``default_voice``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sottovoce.config import SpeechProvider
from sottovoce.engines.base import AudioChunk, ModelInfo, SynthesisRequest
from sottovoce.engines.upstream_link import ProviderLink, provider_info
from sottovoce.engines.voices import DEFAULT_VOICE_ID
from sottovoce.privacy.sensitive import Sensitive

RATE = 24_000


class UpstreamSynthesizer:
    sample_rate = RATE
    speed_range: tuple[float, float] = (1.0, 1.0)

    def __init__(self, provider: SpeechProvider, model: str, link: ProviderLink) -> None:
        self.provider = provider
        self.model = model
        self.link = link
        self.info = ModelInfo(
            model_id=f"{provider.provider_name}/{model}",
            capability="tts",
            provider=provider_info(provider),
            display_name=f"{model} ({provider.kind})",
            languages=(),
            speed_range=self.speed_range,
        )

    def load(self) -> None:
        """Nothing to load: the provider is only contacted when a request needs it."""

    def voice(self, voice_id: str) -> str:
        if voice_id == DEFAULT_VOICE_ID and self.provider.default_voice:
            return self.provider.default_voice
        return voice_id

    def synthesize(self, request: SynthesisRequest) -> AsyncIterator[AudioChunk]:
        raise NotImplementedError


async def pcm_of(pieces: AsyncIterator[bytes]) -> AsyncIterator[AudioChunk]:
    """Raw PCM arriving in pieces of any length, as audio chunks of whole samples."""
    pcm = PcmChunks()
    async for data in pieces:
        if (chunk := pcm.chunk(data)) is not None:
            yield chunk


class PcmChunks:
    """Raw 16-bit PCM arriving in pieces of any length, cut into whole samples."""

    def __init__(self) -> None:
        self._odd = b""

    def chunk(self, data: bytes) -> AudioChunk | None:
        data = self._odd + data
        whole = len(data) - len(data) % 2
        self._odd = data[whole:]
        return AudioChunk(Sensitive(data[:whole]), RATE) if whole else None
