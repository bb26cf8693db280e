"""What every upstream transcription model shares: its id, its modes, its provider's link.

An upstream model is addressed as ``provider/model`` and reports its provider's declaration
per mode (:func:`~sottovoce.engines.upstream_link.provider_info`), which the retention policy
reads before any audio leaves. Each provider's module subclasses :class:`UpstreamTranscriber`
with the calls its API takes.
"""

from __future__ import annotations

from sottovoce.config import SpeechProvider
from sottovoce.engines.base import (
    ModelInfo,
    StreamOptions,
    Transcript,
    TranscriptionRequest,
    TranscriptionStream,
)
from sottovoce.engines.upstream_link import ProviderLink, language_code, provider_info
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive


class UpstreamTranscriber:
    modes: tuple[Mode, ...] = (Mode.SYNC, Mode.STREAMING)
    """How this provider's API can be called."""

    def __init__(self, provider: SpeechProvider, model: str, link: ProviderLink) -> None:
        self.provider = provider
        self.model = model
        self.link = link
        self.info = ModelInfo(
            model_id=f"{provider.provider_name}/{model}",
            capability="stt",
            provider=provider_info(provider),
            display_name=f"{model} ({provider.kind})",
            languages=(),
            modes=self.modes,
        )

    def load(self) -> None:
        """Nothing to load: the provider is only contacted when a request needs it."""

    def check_language(self, language: str | None) -> str | None:
        return language_code(language)

    async def transcribe(self, request: TranscriptionRequest) -> Sensitive[Transcript]:
        raise _unsupported("files")

    def open_stream(self, options: StreamOptions) -> TranscriptionStream:
        raise _unsupported("live audio")


def _unsupported(what: str) -> InvalidRequest:
    return InvalidRequest(f"This model does not transcribe {what}.", fields=["model"])
