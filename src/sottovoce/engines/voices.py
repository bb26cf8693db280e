"""The voice table: the built-in voices this server speaks, by id, name or alias.

Voices come from three engines: Piper (``joe``), hibari (``heart``) and Kokoro-82M (its shipped
Japanese style packs speaking English, and a pack designed from them). Each voice says which
engine speaks it, under which of the engine's own names, and what a listing shows about it
(gender, age, accent, description, licence). The ids the vendors' SDK examples use are mapped
to the default voice by each vendor's surface before they reach this table. Voices a workspace
designs or matches live in the database (``store/voices.py``), not here.

Measured by ``bench/voices.py``: Joe, Kumo (male) and Heart, Alpha (female) are four different
people to the speaker encoder (cosine similarity below 0.6 for every pair); Gongitsune is close
to Heart and Alpha (about 0.66), Daichi a variant of Kumo (about 0.9).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sottovoce.errors import UnknownVoice

PIPER, HIBARI, KOKORO = "local/piper", "local/hibari", "local/kokoro"


@dataclass(frozen=True)
class Voice:
    voice_id: str
    name: str
    model_id: str
    """The registry id of the engine that speaks it."""
    engine_voice: str = ""
    """The engine's own name for it (a Piper voice, hibari's ``heart``, a Kokoro pack)."""
    language: str = "en"
    accent: str = "american"
    gender: str = "male"
    age: str = "middle_aged"
    description: str = ""
    licence: str = ""
    """Licence of the voice's weights."""
    aliases: tuple[str, ...] = field(default=())
    category: str = "premade"
    """``premade`` (built in), ``generated`` (designed) or ``cloned`` (matched to samples)."""


JOE = Voice(
    voice_id="piperJoeEnUsMedium01",
    name="Joe",
    model_id=PIPER,
    engine_voice="joe",
    description="Piper en_US joe (medium quality, 22.05 kHz), a calm American male voice.",
    licence="CC0-1.0",
    aliases=("joe", "en_US-joe-medium"),
)
HEART = Voice(
    voice_id="hibariHeartEnUs01",
    name="Heart",
    model_id=HIBARI,
    engine_voice="heart",
    gender="female",
    age="young",
    description="hibari heart (24 kHz), a warm young American female voice.",
    licence="Apache-2.0",
    aliases=("heart", "af_heart"),
)
KUMO = Voice(
    voice_id="kokoroKumoJa01",
    name="Kumo",
    model_id=KOKORO,
    engine_voice="jm_kumo",
    accent="japanese",
    age="young",
    description="Kokoro-82M jm_kumo (24 kHz): a Japanese male voice speaking English.",
    licence="Apache-2.0",
    aliases=("kumo", "jm_kumo"),
)
GONGITSUNE = Voice(
    voice_id="kokoroGongitsuneJa01",
    name="Gongitsune",
    model_id=KOKORO,
    engine_voice="jf_gongitsune",
    accent="japanese",
    gender="female",
    age="young",
    description="Kokoro-82M jf_gongitsune (24 kHz): a Japanese female voice speaking English.",
    licence="Apache-2.0",
    aliases=("gongitsune", "jf_gongitsune"),
)
ALPHA = Voice(
    voice_id="kokoroAlphaJa01",
    name="Alpha",
    model_id=KOKORO,
    engine_voice="jf_alpha",
    accent="japanese",
    gender="female",
    age="young",
    description="Kokoro-82M jf_alpha (24 kHz): a brighter Japanese female voice speaking English.",
    licence="Apache-2.0",
    aliases=("alpha", "jf_alpha"),
)
DAICHI = Voice(
    voice_id="kokoroDaichiDesigned01",
    name="Daichi",
    model_id=KOKORO,
    engine_voice="deep_kumo",
    accent="japanese",
    description=(
        "Designed from Kokoro packs: Kumo's style moved down the male/female axis, a lower "
        "and slower-sounding male voice (close to Kumo: a variant, not another person)."
    ),
    licence="Apache-2.0",
    aliases=("daichi", "deep_kumo"),
)
BUILT_IN = (JOE, HEART, KUMO, GONGITSUNE, ALPHA, DAICHI)
DEFAULT_VOICE_ID = JOE.voice_id
"""The local voice that the vendors' example voice ids reach."""


class VoiceTable:
    def __init__(self, voices: tuple[Voice, ...] = BUILT_IN) -> None:
        self.voices = voices
        self._by_key: dict[str, Voice] = {}
        for voice in voices:
            for key in (voice.voice_id, voice.name, *voice.aliases):
                self._by_key.setdefault(key.lower(), voice)

    def find(self, voice_id: str | None) -> Voice | None:
        """The voice for an id, a name or an alias (case-insensitive), or ``None``."""
        return self._by_key.get((voice_id or "").strip().lower())

    def resolve(self, voice_id: str | None) -> Voice:
        """The voice for an id, a name or an alias (case-insensitive); ``UnknownVoice`` else."""
        voice = self.find(voice_id)
        if voice is None:
            raise UnknownVoice(fields=("voice_id",))
        return voice

    def get(self, voice_id: str) -> Voice | None:
        """The listed voice with exactly this id (no aliases), for ``GET /voices/{id}``."""
        return next((v for v in self.voices if v.voice_id == voice_id), None)


DEFAULT_VOICES = VoiceTable()
"""The voices this server speaks (immutable data, no I/O)."""
