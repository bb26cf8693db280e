"""Bare faster-whisper on the shared clips, with the engine's own settings: the machine's floor.

Prints the real-time factor of ``WhisperModel.transcribe`` called directly (int8, beam 5, VAD,
language en, 2 threads), so ``bench/stt.py``'s figures can be read against what this machine
gives without sottovoce at all. Run: ``.venv/bin/python bench/stt_bare.py [--speech DIR]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from faster_whisper import WhisperModel  # noqa: E402
from faster_whisper.audio import decode_audio  # noqa: E402

from sottovoce.engines.whisper_weights import WHISPER_BASE, load_model_files  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speech", type=Path, default=ROOT.parent / "shared" / "speech")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    args = parser.parse_args()
    manifest = args.speech / "manifest.tsv"
    if not manifest.exists():
        print(f"skipped: {manifest} not found (the shared speech clips are not here)")
        return
    clips = [line.split("\t")[0] for line in manifest.read_text().splitlines()[1:] if line]
    audio = {c: decode_audio(str(args.speech / c), sampling_rate=16000) for c in clips}
    seconds = sum(len(a) for a in audio.values()) / 16000
    model = WhisperModel(
        "base",
        device="cpu",
        compute_type="int8",
        cpu_threads=args.threads,
        files=load_model_files(WHISPER_BASE),
    )
    list(model.transcribe(audio[clips[0]], language="en")[0])  # warm-up
    started = time.perf_counter()
    for clip in clips:
        segments, _ = model.transcribe(
            audio[clip], language="en", beam_size=args.beam, vad_filter=True
        )
        list(segments)
    rtf = (time.perf_counter() - started) / seconds
    print(
        f"bare faster-whisper int8, beam {args.beam}, VAD, {args.threads} threads: "
        f"RTF {rtf:.3f} over {seconds:.1f} s of audio (engines.md reference machine: 0.164)"
    )


if __name__ == "__main__":
    main()
