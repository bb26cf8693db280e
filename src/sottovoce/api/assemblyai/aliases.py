"""AssemblyAI's names: its speech models (``best``, ``nano``, ``universal``, ``slam-1``,
``universal-streaming-english``...) transcribe with the default model; a registry id
(``provider/model``) routes to that engine. Its language codes (``en_us``) are read as the
language they name (``en``)."""

from __future__ import annotations


def stt_model(name: str | None) -> str | None:
    return name if name and "/" in name else None


def language(code: str | None) -> str | None:
    return code.split("_")[0] if code else None
