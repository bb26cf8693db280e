"""Deepgram's names: a TTS model name (``aura-2-thalia-en``) is also its voice. Every ``aura``
model speaks with the default TTS model, and the English Aura voices of Deepgram's SDK reach
the local voice; another ``aura`` name is an unknown voice (404)."""

from __future__ import annotations

from sottovoce.api.aliases import Aliases, lowered

_AURA_1 = (
    "angus", "arcas", "asteria", "athena", "helios", "hera", "luna", "orion", "orpheus",
    "perseus", "stella", "zeus",
)  # fmt: skip
_AURA_2 = (
    "amalthea", "andromeda", "apollo", "arcas", "aries", "asteria", "athena", "atlas",
    "aurora", "callista", "cora", "cordelia", "delia", "draco", "electra", "harmonia",
    "helena", "hera", "hermes", "hyperion", "iris", "janus", "juno", "jupiter", "luna",
    "mars", "minerva", "neptune", "odysseus", "ophelia", "orion", "orpheus", "pandora",
    "phoebe", "pluto", "saturn", "selene", "thalia", "theia", "vesta", "zeus",
)  # fmt: skip
DEFAULT_MODEL = "aura-2-thalia-en"
"""What Deepgram speaks with when no ``model`` is given."""

ALIASES = Aliases(
    tts_prefixes=("aura-",),
    voices=lowered(*(f"aura-{n}-en" for n in _AURA_1), *(f"aura-2-{n}-en" for n in _AURA_2)),
)


def voice_of(model: str) -> str | None:
    """The voice a Deepgram model name asks for: an Aura name is its own voice; any other
    model (a registry id such as ``local/piper``) speaks with the default voice."""
    return ALIASES.voice(model) if model.startswith("aura") else ALIASES.voice(DEFAULT_MODEL)


def stt_model(name: str | None) -> str | None:
    """The registry model for a Deepgram transcription model name: a Deepgram name
    (``nova-3``, ``base``, ``flux-general-en``...) is the default model; a registry id
    (``provider/model``) is itself."""
    return name if name and "/" in name else None
