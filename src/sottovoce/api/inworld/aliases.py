"""Inworld's names: the ``inworld-tts`` models speak with the default TTS model, and the voices
of Inworld's docs reach the local voice."""

from __future__ import annotations

from sottovoce.api.aliases import Aliases, lowered

VOICES = (
    "Ashley", "Alex", "Craig", "Dennis", "Deborah", "Edward", "Elizabeth", "Hades", "Julia",
    "Mark", "Olivia", "Priya", "Ronald", "Sarah", "Theodore", "Timothy", "Wendy",
)  # fmt: skip
ALIASES = Aliases(tts_prefixes=("inworld-tts-",), voices=lowered(*VOICES))


def stt_model(model_id: str | None) -> str | None:
    """Inworld's STT model ids are ``provider/model`` already: its own (``inworld/...``) is
    the default model; another (``groq/whisper-large-v3``, ``assemblyai/...``) routes to the
    configured provider of that name (404 if there is none)."""
    return None if not model_id or model_id.startswith("inworld/") else model_id
