"""OpenAI's names: ``tts-1``, ``gpt-4o-mini-tts``... speak with the default TTS model,
``whisper-1`` and the ``gpt-4o-*transcribe`` models transcribe with the default STT model, and
every OpenAI voice name reaches the local voice."""

from __future__ import annotations

from sottovoce.api.aliases import Aliases, lowered

VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
    "verse", "marin", "cedar",
)  # fmt: skip
ALIASES = Aliases(
    tts_prefixes=("tts-1", "gpt-4o-mini-tts", "gpt-4o-tts"),
    # OpenAI's names, and Groq's (its API is OpenAI's: a Groq client can point here too).
    stt_models=frozenset(
        {
            "whisper-1",
            "gpt-4o-transcribe",
            "gpt-4o-mini-transcribe",
            "whisper-large-v3",
            "whisper-large-v3-turbo",
            "distil-whisper-large-v3-en",
        }
    ),
    voices=lowered(*VOICES),
)
