"""Cartesia's names: the ``sonic`` models speak with the default TTS model, ``ink-whisper``
transcribes with the default STT model, and the example voice ids of the docs reach the local
voice."""

from __future__ import annotations

from sottovoce.api.aliases import Aliases, lowered

ALIASES = Aliases(
    tts_prefixes=("sonic",),
    stt_models=frozenset({"ink-whisper"}),
    voices=lowered(
        "a0e99841-438c-4a64-b679-ae501e7d6091",
        "694f9389-aac1-45b6-b726-9d9369183238",
        "6ccbfb76-1fc6-48f7-b71d-91ac6298247b",
        "bf0a246a-8642-498a-9950-80c35e9276b5",
    ),
)
