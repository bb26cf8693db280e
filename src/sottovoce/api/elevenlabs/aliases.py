"""ElevenLabs' model and voice names that SDK examples use, served by the local engines.

``eleven_multilingual_v2``, ``eleven_flash_v2_5``... speak with the default TTS model and the
``scribe`` models transcribe with the default STT model, so an SDK's defaults keep working; the
premade voice ids of the docs (George, Rachel, Adam, Sarah...) reach the local voice.
"""

from __future__ import annotations

from sottovoce.engines.voices import DEFAULT_VOICE_ID

TTS_MODEL_PREFIX = "eleven_"
STT_MODELS = frozenset({"scribe_v1", "scribe_v1_experimental", "scribe_v2", "scribe_v2_realtime"})
EXAMPLE_VOICE_IDS = (
    "JBFqnCBsd6RMkjVDRZzb",
    "21m00Tcm4TlvDq8ikWAM",
    "pNInz6obpgDQGcFmaJgB",
    "EXAVITQu4vr4xnSDxMaL",
    "TX3LPaxmHKxFdv7VOQHJ",
    "XrExE9yKIg1WjnnlVkGX",
    "nPczCjzI2devNBz1zQrb",
    "onwK4e9ZLuTAKqWW03F9",
)


def tts_model(name: str | None) -> str | None:
    """The registry model for a TTS model name (``None``: the default)."""
    return None if not name or name.startswith(TTS_MODEL_PREFIX) else name


def stt_model(name: str | None) -> str | None:
    """The registry model for an STT model name (``None``: the default)."""
    return None if not name or name in STT_MODELS else name


def voice(voice_id: str | None) -> str | None:
    """The local voice for an example voice id; other ids are looked up as they are."""
    return DEFAULT_VOICE_ID if voice_id in EXAMPLE_VOICE_IDS else voice_id
