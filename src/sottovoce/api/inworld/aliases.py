"""Inworld's names: the ``inworld-tts`` models speak with the default TTS model, and the voices
of Inworld's docs reach the local voice."""

from __future__ import annotations

from sottovoce.api.aliases import Aliases, lowered

VOICES = (
    "Ashley", "Alex", "Craig", "Dennis", "Deborah", "Edward", "Elizabeth", "Hades", "Julia",
    "Mark", "Olivia", "Priya", "Ronald", "Sarah", "Theodore", "Timothy", "Wendy",
)  # fmt: skip
ALIASES = Aliases(tts_prefixes=("inworld-tts-",), voices=lowered(*VOICES))
