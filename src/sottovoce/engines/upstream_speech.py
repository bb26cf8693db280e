"""The upstream speech engines of the configured providers: one per model, by vendor API.

Only what the operator configured is built (``speech.providers`` and ``speech.providers_file``);
a provider is never contacted before a request needs it. Each provider has one link (its key
and connection pool), shared by its transcription and speech models.
"""

from __future__ import annotations

from collections.abc import Callable

from sottovoce.config import Settings, SpeechProvider
from sottovoce.engines.stt_assemblyai import AssemblyAITranscriber, assemblyai_link
from sottovoce.engines.stt_deepgram import DeepgramTranscriber, deepgram_link
from sottovoce.engines.stt_soniox import SonioxTranscriber, soniox_link
from sottovoce.engines.stt_uploads import (
    ElevenLabsTranscriber,
    OpenAITranscriber,
    bearer_link,
    elevenlabs_link,
)
from sottovoce.engines.tts_cartesia import CartesiaSynthesizer, cartesia_link
from sottovoce.engines.tts_deepgram import DeepgramSynthesizer
from sottovoce.engines.tts_elevenlabs import ElevenLabsSynthesizer
from sottovoce.engines.tts_openai import OpenAISynthesizer
from sottovoce.engines.upstream_link import ProviderLink
from sottovoce.engines.upstream_stt import UpstreamTranscriber
from sottovoce.engines.upstream_tts import UpstreamSynthesizer

_LINKS: dict[str, Callable[[SpeechProvider], ProviderLink]] = {
    "assemblyai": assemblyai_link,
    "deepgram": deepgram_link,
    "groq": bearer_link,
    "openai": bearer_link,
    "soniox": soniox_link,
    "elevenlabs": elevenlabs_link,
    "cartesia": cartesia_link,
}
_TRANSCRIBERS: dict[str, type[UpstreamTranscriber]] = {
    "assemblyai": AssemblyAITranscriber,
    "deepgram": DeepgramTranscriber,
    "groq": OpenAITranscriber,
    "openai": OpenAITranscriber,
    "soniox": SonioxTranscriber,
    "elevenlabs": ElevenLabsTranscriber,
}
_SYNTHESIZERS: dict[str, type[UpstreamSynthesizer]] = {
    "elevenlabs": ElevenLabsSynthesizer,
    "cartesia": CartesiaSynthesizer,
    "openai": OpenAISynthesizer,
    "deepgram": DeepgramSynthesizer,
}


def upstream_speech_engines(
    settings: Settings,
) -> list[UpstreamTranscriber | UpstreamSynthesizer]:
    """One engine per model of each configured speech provider."""
    engines: list[UpstreamTranscriber | UpstreamSynthesizer] = []
    for provider in settings.speech.all_providers():
        link = _LINKS[provider.kind](provider)
        engines += [_TRANSCRIBERS[provider.kind](provider, m, link) for m in provider.stt_models]
        engines += [_SYNTHESIZERS[provider.kind](provider, m, link) for m in provider.tts_models]
    return engines
