"""Inworld's model and voice names, served by the local engines: the ``inworld-tts`` models
speak with the default TTS model, and the voices of Inworld's docs reach the local voice."""

from __future__ import annotations

from sottovoce.engines.voices import DEFAULT_VOICE_ID

TTS_MODEL_PREFIX = "inworld-tts-"
EXAMPLE_VOICES = frozenset(
    {
        "ashley", "alex", "craig", "dennis", "deborah", "edward", "elizabeth", "hades",
        "julia", "mark", "olivia", "priya", "ronald", "sarah", "theodore", "timothy", "wendy",
    }
)  # fmt: skip


def tts_model(name: str | None) -> str | None:
    return None if not name or name.startswith(TTS_MODEL_PREFIX) else name


def voice(voice_id: str | None) -> str | None:
    return DEFAULT_VOICE_ID if voice_id and voice_id.lower() in EXAMPLE_VOICES else voice_id
