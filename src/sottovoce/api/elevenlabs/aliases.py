"""ElevenLabs' names: ``eleven_multilingual_v2``, ``eleven_flash_v2_5``... speak with the
default TTS model, the ``scribe`` models transcribe with the default STT model, and the premade
voice ids of the docs (George, Rachel, Adam, Sarah...) reach the local voice."""

from __future__ import annotations

from sottovoce.api.aliases import Aliases, lowered

ALIASES = Aliases(
    tts_prefixes=("eleven_",),
    stt_models=frozenset(
        {"scribe_v1", "scribe_v1_experimental", "scribe_v2", "scribe_v2_realtime"}
    ),
    voices=lowered(
        "JBFqnCBsd6RMkjVDRZzb",
        "21m00Tcm4TlvDq8ikWAM",
        "pNInz6obpgDQGcFmaJgB",
        "EXAVITQu4vr4xnSDxMaL",
        "TX3LPaxmHKxFdv7VOQHJ",
        "XrExE9yKIg1WjnnlVkGX",
        "nPczCjzI2devNBz1zQrb",
        "onwK4e9ZLuTAKqWW03F9",
    ),
)
