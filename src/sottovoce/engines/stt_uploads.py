"""Transcription upstream by file upload: OpenAI's API (``openai``, and ``groq``, which speaks
it) and ElevenLabs' Scribe. Files only: these APIs have no socket here.

OpenAI and Groq: ``POST {base_url}/audio/transcriptions`` (multipart, ``verbose_json`` with
word timestamps), key as ``Authorization: Bearer``. ElevenLabs: ``POST /v1/speech-to-text``
(multipart), key as ``xi-api-key``, and ``enable_logging=false`` on every zero-retention
request: without it ElevenLabs keeps the transcript in its history.
"""

from __future__ import annotations

from typing import Any

from sottovoce.config import SpeechProvider
from sottovoce.engines.base import Transcript, TranscriptionRequest, Word
from sottovoce.engines.upstream_link import ProviderLink, number, seconds, transcript_of, wav16
from sottovoce.engines.upstream_stt import UpstreamTranscriber
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive

# OpenAI's verbose_json names the language in English.
_LANGUAGES = {"english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it"}


def bearer_link(provider: SpeechProvider) -> ProviderLink:
    key = provider.api_key.get_secret_value() if provider.api_key else None
    return ProviderLink(provider, {"Authorization": f"Bearer {key}"} if key else {})


def elevenlabs_link(provider: SpeechProvider) -> ProviderLink:
    key = provider.api_key.get_secret_value() if provider.api_key else None
    return ProviderLink(provider, {"xi-api-key": key} if key else {})


class OpenAITranscriber(UpstreamTranscriber):
    modes = (Mode.SYNC,)

    async def transcribe(self, request: TranscriptionRequest) -> Sensitive[Transcript]:
        audio = request.audio.reveal()
        fields: dict[str, str | list[str]] = {
            "model": self.model,
            "response_format": "verbose_json",
            "timestamp_granularities[]": ["word", "segment"],
        }
        if request.language:
            fields["language"] = request.language
        if request.prompt is not None:
            fields["prompt"] = request.prompt.reveal()
        if request.temperature is not None:
            fields["temperature"] = str(request.temperature)
        reply = await self.link.json(
            "POST",
            "/audio/transcriptions",
            data=fields,
            files={"file": ("audio.wav", wav16(audio), "audio/wav")},
        )
        language = str(reply.get("language") or request.language or "en").lower()
        words = [
            Word(
                text=" " + str(w.get("word") or "").strip(),
                start=round(number(w.get("start")), 3),
                end=round(number(w.get("end")), 3),
            )
            for w in reply.get("words") or []
        ]
        return Sensitive(
            transcript_of(
                words,
                str(reply.get("text") or ""),
                language=_LANGUAGES.get(language, language),
                duration=number(reply.get("duration")) or seconds(audio),
            )
        )


class ElevenLabsTranscriber(UpstreamTranscriber):
    modes = (Mode.SYNC,)

    async def transcribe(self, request: TranscriptionRequest) -> Sensitive[Transcript]:
        audio = request.audio.reveal()
        fields: dict[str, Any] = {"model_id": self.model, "timestamps_granularity": "word"}
        if request.language:
            fields["language_code"] = request.language
        params = {"enable_logging": "false"} if request.zero_retention else {}
        reply = await self.link.json(
            "POST",
            "/v1/speech-to-text",
            params=params,
            data=fields,
            files={"file": ("audio.wav", wav16(audio), "audio/wav")},
        )
        words = [
            Word(
                text=" " + str(w.get("text") or "").strip(),
                start=round(number(w.get("start")), 3),
                end=round(number(w.get("end")), 3),
            )
            for w in reply.get("words") or []
            if w.get("type", "word") == "word"
        ]
        return Sensitive(
            transcript_of(
                words,
                str(reply.get("text") or ""),
                language=str(reply.get("language_code") or request.language or "en"),
                duration=number(reply.get("audio_duration_secs")) or seconds(audio),
            )
        )
