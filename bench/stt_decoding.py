"""Decoding-settings study for local Whisper base on ../shared/speech (in-process only).

Usage: .venv/bin/python bench/stt_decoding.py [config-name ...]
WER: summed over clips (errors / reference words) after Whisper's English normaliser
(whisper-normalizer's EnglishTextNormalizer, the one the Whisper paper used).
RTF: transcription seconds / audio seconds, decoding excluded, same loaded model for all.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import jiwer
from faster_whisper import WhisperModel
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

from sottovoce.audio.decode import decode_audio
from sottovoce.engines.whisper_weights import load_model_files
from sottovoce.privacy.sensitive import Sensitive

SPEECH = Path(
    os.environ.get("SPEECH_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "speech")
)

BASE: dict[str, Any] = {"language": "en", "beam_size": 5, "vad_filter": True}
CONFIGS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "novad": {"vad_filter": False},
    "beam1": {"beam_size": 1},
    "nocond": {"condition_on_previous_text": False},
    "words": {"word_timestamps": True},
    "notemp": {"temperature": 0.0},
    "vadpad": {"vad_parameters": {"speech_pad_ms": 800, "min_silence_duration_ms": 1000}},
    "vadlow": {"vad_parameters": {"threshold": 0.35}},
    "ts": {"without_timestamps": False},
    "patience2": {"patience": 2.0},
}


def clips() -> list[tuple[Path, str]]:
    manifest = SPEECH / "manifest.tsv"
    out = []
    with manifest.open(newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            ref = row["reference_transcript"]
            if ref.startswith("LEFT:"):
                ref = ref.replace("LEFT:", "").replace("| RIGHT:", " ")
            out.append((SPEECH / row["file"], ref))
    return out


_DIGITS = dict(
    zip(
        "0123456789",
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
        strict=True,
    )
)
_EN = EnglishTextNormalizer()
_BASIC = BasicTextNormalizer()


def spell_digits(text: str) -> str:
    return "".join(f" {_DIGITS[c]} " if c in _DIGITS else c for c in text)


NORMALISERS = {
    "whisper_en": _EN,
    "basic+digits": lambda t: _BASIC(spell_digits(t)),
}


def wer(pairs: list[tuple[str, str]], norm: Any) -> tuple[float, int, int]:
    errors = words = 0
    for ref, hyp in pairs:
        r, h = norm(ref), norm(hyp)
        out = jiwer.process_words(r, h)
        errors += out.substitutions + out.deletions + out.insertions
        words += len(r.split())
    return errors / words, errors, words


def main(names: list[str]) -> None:
    if not SPEECH.is_dir():
        print(f"skipped: {SPEECH} is absent")
        return
    threads = int(os.environ.get("THREADS", "2"))
    model = WhisperModel(
        "whisper-base",
        device="cpu",
        compute_type="int8",
        cpu_threads=threads,
        files=load_model_files(),
    )
    data = [
        (p.name, decode_audio(Sensitive(p.read_bytes()), max_seconds=600), ref)
        for p, ref in clips()
    ]
    model.transcribe(data[0][1].array(), **BASE)  # warm-up
    for name in names or list(CONFIGS):
        opts = {**BASE, **CONFIGS[name]}
        seconds = audio = 0.0
        pairs = []
        for _clip, decoded, ref in data:
            t = time.perf_counter()
            segments, _ = model.transcribe(decoded.array(), **opts)
            hyp = " ".join(s.text for s in segments)
            seconds += time.perf_counter() - t
            audio += decoded.duration
            pairs.append((ref, hyp))
        scores = "  ".join(
            "{} {:.4f} ({}/{})".format(n, *wer(pairs, f)) for n, f in NORMALISERS.items()
        )
        print(f"{name:10s} RTF {seconds / audio:.3f}  WER {scores}", flush=True)
        if os.environ.get("SHOW"):
            for (clip, _, _), (_ref, hyp) in zip(data, pairs, strict=True):
                print(f"   {clip}: {hyp}")


if __name__ == "__main__":
    main(sys.argv[1:])
