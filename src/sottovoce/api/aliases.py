"""The names a vendor's SDK examples use for models and voices, served by the local engines.

Each surface declares one :class:`Aliases`: which of its vendor's TTS and STT model names mean
"the default model" (so an SDK's defaults keep working), and which example voice ids reach the
local voice. Names it does not know are passed on as they are, to be looked up in the registry
and the voice table (and refused there with a 404 if unknown).
"""

from __future__ import annotations

from dataclasses import dataclass

from sottovoce.engines.voices import DEFAULT_VOICE_ID


@dataclass(frozen=True)
class Aliases:
    tts_prefixes: tuple[str, ...] = ()
    """Model names starting with one of these speak with the default TTS model."""
    stt_models: frozenset[str] = frozenset()
    """These model names transcribe with the default STT model."""
    voices: frozenset[str] = frozenset()
    """Example voice ids (compared case-insensitively) that reach the local voice."""

    def tts_model(self, name: str | None) -> str | None:
        """The registry model for a TTS model name (``None``: the default)."""
        return None if not name or name.startswith(self.tts_prefixes) else name

    def stt_model(self, name: str | None) -> str | None:
        """The registry model for an STT model name (``None``: the default)."""
        return None if not name or name in self.stt_models else name

    def voice(self, voice_id: str | None) -> str | None:
        """The local voice for an example voice id; other ids are looked up as they are."""
        known = voice_id is not None and voice_id.lower() in self.voices
        return DEFAULT_VOICE_ID if known else voice_id


def lowered(*names: str) -> frozenset[str]:
    return frozenset(name.lower() for name in names)
