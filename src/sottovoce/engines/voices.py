"""The voice table: every id a client may send, mapped to a voice this server can speak.

One local voice ships (Piper's en_US "joe", medium quality). So that the vendors' SDK examples
work unchanged, the table also answers to the ids those examples use: OpenAI's voice names,
a few well-known ElevenLabs premade voice ids and Cartesia example voice ids. Listings show the
local voices only, each under its own id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sottovoce.errors import UnknownVoice

OPENAI_VOICE_NAMES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
    "verse", "marin", "cedar",
)  # fmt: skip

# ElevenLabs premade voices used in its docs and SDK examples (George, Rachel, Adam, Sarah...).
ELEVENLABS_EXAMPLE_IDS = (
    "JBFqnCBsd6RMkjVDRZzb",
    "21m00Tcm4TlvDq8ikWAM",
    "pNInz6obpgDQGcFmaJgB",
    "EXAVITQu4vr4xnSDxMaL",
    "TX3LPaxmHKxFdv7VOQHJ",
    "XrExE9yKIg1WjnnlVkGX",
    "nPczCjzI2devNBz1zQrb",
    "onwK4e9ZLuTAKqWW03F9",
)
# Voices in Cartesia's docs and SDK examples.
CARTESIA_EXAMPLE_IDS = (
    "a0e99841-438c-4a64-b679-ae501e7d6091",
    "694f9389-aac1-45b6-b726-9d9369183238",
    "6ccbfb76-1fc6-48f7-b71d-91ac6298247b",
    "bf0a246a-8642-498a-9950-80c35e9276b5",
)


@dataclass(frozen=True)
class Voice:
    voice_id: str
    name: str
    model_id: str
    """The registry id of the engine that speaks it."""
    language: str = "en"
    accent: str = "american"
    gender: str = "male"
    description: str = ""
    aliases: tuple[str, ...] = field(default=())


JOE = Voice(
    voice_id="piperJoeEnUsMedium01",
    name="Joe",
    model_id="local/piper",
    description="Piper en_US joe (medium quality, 22.05 kHz), a calm American male voice.",
    aliases=(
        "joe",
        "en_US-joe-medium",
        *OPENAI_VOICE_NAMES,
        *ELEVENLABS_EXAMPLE_IDS,
        *CARTESIA_EXAMPLE_IDS,
    ),
)


class VoiceTable:
    def __init__(self, voices: tuple[Voice, ...] = (JOE,)) -> None:
        self.voices = voices
        self._by_key: dict[str, Voice] = {}
        for voice in voices:
            for key in (voice.voice_id, voice.name, *voice.aliases):
                self._by_key.setdefault(key.lower(), voice)

    def resolve(self, voice_id: str | None) -> Voice:
        """The voice for an id, a name or an alias (case-insensitive); ``UnknownVoice`` else."""
        voice = self._by_key.get((voice_id or "").strip().lower())
        if voice is None:
            raise UnknownVoice(fields=("voice_id",))
        return voice

    def get(self, voice_id: str) -> Voice | None:
        """The listed voice with exactly this id (no aliases), for ``GET /voices/{id}``."""
        return next((v for v in self.voices if v.voice_id == voice_id), None)


DEFAULT_VOICES = VoiceTable()
"""The voices this server speaks (immutable data, no I/O)."""
