"""The voice table: the voices this server speaks, by id, name or alias.

One local voice ships (Piper's en_US "joe", medium quality). The ids the vendors' SDK examples
use (OpenAI's voice names, ElevenLabs premade ids, Cartesia example ids) are mapped to a local
voice by each vendor's surface, before they reach this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sottovoce.errors import UnknownVoice


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
    aliases=("joe", "en_US-joe-medium"),
)
DEFAULT_VOICE_ID = JOE.voice_id
"""The local voice that the vendors' example voice ids reach."""


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
