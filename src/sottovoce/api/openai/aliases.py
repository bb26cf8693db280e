"""OpenAI's model and voice names, served by the local engines so SDK examples work unchanged:
``tts-1``, ``gpt-4o-mini-tts``... speak with the default TTS model, ``whisper-1`` and the
``gpt-4o-*transcribe`` models transcribe with the default STT model, and every OpenAI voice name
reaches the local voice."""

from __future__ import annotations

from sottovoce.engines.voices import DEFAULT_VOICE_ID

TTS_MODEL_PREFIXES = ("tts-1", "gpt-4o-mini-tts", "gpt-4o-tts")
STT_MODELS = frozenset({"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"})
VOICE_NAMES = frozenset(
    {
        "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
        "verse", "marin", "cedar",
    }
)  # fmt: skip


def tts_model(name: str | None) -> str | None:
    return None if not name or name.startswith(TTS_MODEL_PREFIXES) else name


def stt_model(name: str | None) -> str | None:
    return None if not name or name in STT_MODELS else name


def voice(name: str | None) -> str | None:
    return DEFAULT_VOICE_ID if name and name.lower() in VOICE_NAMES else name
