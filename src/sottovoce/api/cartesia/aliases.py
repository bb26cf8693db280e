"""Cartesia's model names and the voice ids of its docs, served by the local engines: the
``sonic`` models speak with the default TTS model, ``ink-whisper`` transcribes with the default
STT model, and the example voice ids reach the local voice."""

from __future__ import annotations

from sottovoce.engines.voices import DEFAULT_VOICE_ID

TTS_MODEL_PREFIX = "sonic"
STT_MODELS = frozenset({"ink-whisper"})
EXAMPLE_VOICE_IDS = frozenset(
    {
        "a0e99841-438c-4a64-b679-ae501e7d6091",
        "694f9389-aac1-45b6-b726-9d9369183238",
        "6ccbfb76-1fc6-48f7-b71d-91ac6298247b",
        "bf0a246a-8642-498a-9950-80c35e9276b5",
    }
)


def tts_model(name: str | None) -> str | None:
    return None if not name or name.startswith(TTS_MODEL_PREFIX) else name


def stt_model(name: str | None) -> str | None:
    return None if not name or name in STT_MODELS else name


def voice(voice_id: str | None) -> str | None:
    return DEFAULT_VOICE_ID if voice_id in EXAMPLE_VOICE_IDS else voice_id
