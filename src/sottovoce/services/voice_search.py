"""The search behind approximate voice matching: which built-in voice, shaped how (and, for
Kokoro, blended how), sounds most like a speaker's samples to the speaker encoder.

A candidate is a built-in voice (Piper's Joe, hibari's Heart, Kokoro's packs), its pitch and
formant shaping (:mod:`sottovoce.audio.shaping`) and, for Kokoro, optionally a blend of the
shipped packs (:mod:`sottovoce.engines.kokoro_packs`). Each candidate speaks a fixed text and
is scored by the encoder's cosine similarity to the samples minus a penalty for a median pitch
away from theirs. The budget (``evaluations``) counts scored candidates, spent in three steps:

1. every built-in voice, as it is (each base voice is synthesized once and kept: shaping a
   kept rendering costs no synthesis);
2. shaping: the three best voices with their pitch moved to the samples' median pitch (and the
   formants a little up or down), then CMA-ES (``cma``) over pitch and formants of the best
   two, half the shaping budget each;
3. when the best so far is a Kokoro pack, CMA-ES over the pack blend and its shaping together
   (each candidate a synthesis); otherwise the rest of the budget goes on shaping.

The best few are then checked for intelligibility (local Whisper on another sentence); the
best one that passes is kept, else the best unshaped built-in voice.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
import numpy as np
import numpy.typing as npt

from sottovoce.audio.shaping import FORMANT_RANGE, PITCH_RANGE, UNSHAPED, Shaping, shape
from sottovoce.engines.base import SynthesisRequest, Transcriber, TranscriptionRequest
from sottovoce.engines.kokoro import KokoroSynthesizer
from sottovoce.engines.kokoro_packs import BOUNDS, PACK_NAMES, PARAMS, to_bytes
from sottovoce.engines.registry import EngineRegistry
from sottovoce.engines.speaker import SAMPLE_RATE, SpeakerEncoder
from sottovoce.engines.voices import KOKORO, Voice
from sottovoce.privacy.sensitive import Sensitive
from sottovoce.services.voice_recipe import Recipe

SCORE_TEXT = (
    "The quick brown fox jumps over the lazy dog, then it runs back home again. "
    "We should be there by noon, if the weather holds and the roads stay clear."
)
CHECK_TEXT = "Please call Stella and ask her to bring these things with her from the store."
PITCH_WEIGHT = 0.15
"""Score lost per octave between the candidate's median pitch and the samples'."""
MAX_CHECK_WER = 0.25
CHECKED = 3
"""Best candidates checked for intelligibility, best first."""
SHAPED_BASES = 3
"""Built-in voices whose shaping is tried before the search narrows to the best."""

Floats = npt.NDArray[np.float32]
Progress = Callable[[float], Awaitable[None]]


def median_f0(samples: Floats, rate: int = SAMPLE_RATE) -> float | None:
    """Median pitch (Hz, 60-400) of the voiced frames, by YIN (the cumulative mean normalised
    difference, its first dip under 0.15); ``None`` if fewer than three frames are voiced.
    Plain autocorrelation mistakes a strong low first formant for a pitch period."""
    low, high = int(rate / 400), int(rate / 60)
    width = high
    audio = np.asarray(samples, np.float64).reshape(-1)
    found: list[float] = []
    for start in range(0, audio.size - width - high, width // 2):
        x = audio[start : start + width + high]
        head = x[:width]
        if float(np.dot(head, head)) < 1e-4 * width:
            continue
        shifted = np.lib.stride_tricks.sliding_window_view(x, width)[: high + 1]
        diff = ((shifted - head) ** 2).sum(axis=1)
        running = np.cumsum(diff[1:]) / np.arange(1, high + 1)
        normalised = diff[1:] / np.maximum(running, 1e-12)  # index i: lag i + 1
        dips = np.nonzero(normalised[low - 1 :] < 0.15)[0]
        if dips.size == 0:
            continue
        lag = low - 1 + int(dips[0])
        while lag + 1 < normalised.size and normalised[lag + 1] < normalised[lag]:
            lag += 1
        found.append(rate / (lag + 1))
    return float(np.median(found)) if len(found) >= 3 else None


def to_16k(audio: Floats, rate: int) -> Floats:
    if rate == SAMPLE_RATE or audio.size == 0:
        return audio.astype(np.float32)
    positions = np.arange(0, audio.size, rate / SAMPLE_RATE)
    resampled: Floats = np.interp(positions, np.arange(audio.size), audio).astype(np.float32)
    return resampled


def word_error_rate(said: str, heard: str) -> float:
    ref = re.findall(r"[a-z']+", said.lower())
    hyp = re.findall(r"[a-z']+", heard.lower())
    row = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, b in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (a != b))
    return row[-1] / max(1, len(ref))


@dataclass(frozen=True)
class Candidate:
    base: Voice
    shaping: Shaping = UNSHAPED
    blend: tuple[float, ...] | None = None
    """Kokoro pack blend weights (``PARAMS`` numbers), or the base's own voice."""


@dataclass(frozen=True)
class Match:
    recipe: Recipe
    similarity: float
    """Speaker similarity of the kept voice to the samples."""
    start_similarity: float
    """Of the nearest built-in voice as it is."""
    evaluations: int


@dataclass
class Matcher:
    """The search for one speaker; renders are kept per (voice, blend, text)."""

    engines: EngineRegistry
    encoder: SpeakerEncoder
    reference: Floats
    """The samples, 16 kHz mono."""
    bases: tuple[Voice, ...]
    _renders: dict[tuple[str, tuple[float, ...] | None, str], tuple[Floats, int]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.target = self.encoder.embed(self.reference)
        self.target_f0 = median_f0(self.reference)

    @property
    def kokoro(self) -> KokoroSynthesizer:
        engine = self.engines.synthesizer(KOKORO)
        assert isinstance(engine, KokoroSynthesizer)
        return engine

    async def speak(self, candidate: Candidate, text: str) -> tuple[Floats, int]:
        """The candidate's audio for ``text`` (mono floats, at its engine's rate), shaped."""
        key = (candidate.base.voice_id, candidate.blend, text)
        if key not in self._renders:
            engine = self.engines.synthesizer(candidate.base.model_id)
            style = None
            if candidate.blend is not None:
                pack = self.kokoro.space.blend(np.asarray(candidate.blend))
                style = Sensitive(to_bytes(pack))
            request = SynthesisRequest(Sensitive(text), candidate.base.engine_voice, style=style)
            pcm = b"".join([c.pcm.reveal() async for c in engine.synthesize(request)])
            audio: Floats = (np.frombuffer(pcm, "<i2") / 32768).astype(np.float32)
            self._renders[key] = (audio, engine.sample_rate)
        rendered, rate = self._renders[key]
        shaped = await anyio.to_thread.run_sync(
            shape, rendered, rate, candidate.shaping, abandon_on_cancel=True
        )
        return shaped, rate

    def score(self, audio: Floats, rate: int) -> tuple[float, float]:
        """(score, similarity) of a candidate's audio (blocking)."""
        samples = to_16k(audio, rate)
        similarity = float(np.dot(self.encoder.embed(samples), self.target))
        penalty = 0.0
        f0 = median_f0(samples)
        if f0 is not None and self.target_f0 is not None:
            penalty = PITCH_WEIGHT * abs(math.log2(f0 / self.target_f0))
        return similarity - penalty, similarity

    def pitch_towards(self, base_audio: Floats, rate: int) -> float:
        """The pitch ratio that moves a voice's median pitch to the samples'."""
        f0 = median_f0(to_16k(base_audio, rate))
        if f0 is None or self.target_f0 is None:
            return 1.0
        return float(np.clip(self.target_f0 / f0, *PITCH_RANGE))


@dataclass
class _Search:
    matcher: Matcher
    budget: int
    total: int
    progress: Progress
    tried: list[tuple[float, float, Candidate]] = field(default_factory=list)

    @property
    def left(self) -> int:
        return self.budget - len(self.tried)

    async def evaluate(self, candidate: Candidate) -> float:
        audio, rate = await self.matcher.speak(candidate, SCORE_TEXT)
        score, similarity = await anyio.to_thread.run_sync(
            self.matcher.score, audio, rate, abandon_on_cancel=True
        )
        self.tried.append((score, similarity, candidate))
        await self.progress(len(self.tried) / self.total)
        return score

    def best(self, where: Callable[[Candidate], bool] = lambda c: True) -> Candidate | None:
        found = [t for t in self.tried if where(t[2])]
        return max(found, key=lambda t: t[0])[2] if found else None

    async def cma(
        self,
        start: list[float],
        bounds: tuple[list[float], list[float]],
        stds: list[float],
        make: Callable[[npt.NDArray[np.float64]], Candidate],
        budget: int,
    ) -> None:
        with warnings.catch_warnings():
            # cma warns on import that matplotlib (for its plots) is missing: not needed here.
            warnings.simplefilter("ignore", UserWarning)
            import cma

        options = {
            "bounds": [bounds[0], bounds[1]],
            "CMA_stds": stds,
            "popsize": 6 if len(start) <= 2 else 8,
            "seed": 1 + len(self.tried),
            # No output, and above all no log files (cma writes outcmaes/ by default).
            "verbose": -9,
            "verb_log": 0,
            "verb_disp": 0,
            "maxfevals": budget,
        }
        es = cma.CMAEvolutionStrategy(start, 1.0, options)
        while budget > 0 and not es.stop():
            batch = es.ask()
            # The last generation may be cut short by the budget: scored, never told.
            scores = [-(await self.evaluate(make(np.asarray(x)))) for x in batch[:budget]]
            budget -= len(scores)
            if len(scores) == len(batch):
                es.tell(batch, scores)


def _reshaped(leader: Candidate) -> Callable[[npt.NDArray[np.float64]], Candidate]:
    return lambda x: Candidate(leader.base, _shaping(x), leader.blend)


def _log2(shaping: Shaping) -> list[float]:
    return [math.log2(shaping.pitch), math.log2(shaping.formant)]


def _shaping(x: npt.NDArray[np.float64]) -> Shaping:
    return Shaping(float(2 ** x[0]), float(2 ** x[1])).clipped()


SHAPING_BOUNDS = (
    [math.log2(PITCH_RANGE[0]), math.log2(FORMANT_RANGE[0])],
    [math.log2(PITCH_RANGE[1]), math.log2(FORMANT_RANGE[1])],
)


async def match_voice(
    matcher: Matcher, transcriber: Transcriber | None, evaluations: int, progress: Progress
) -> Match:
    """Search ``evaluations`` candidates and keep the best one that is still intelligible.
    ``progress`` gets the fraction done (and may raise to stop)."""
    budget = max(1, evaluations)
    total = budget + (CHECKED if transcriber is not None else 0)
    search = _Search(matcher, budget, total, progress)
    for voice in matcher.bases[:budget]:
        await search.evaluate(Candidate(voice))
    plain = sorted(search.tried, key=lambda t: -t[0])
    start_similarity, start = plain[0][1], plain[0][2]
    for _score, _similarity, candidate in plain[:SHAPED_BASES]:
        audio, rate = await matcher.speak(candidate, SCORE_TEXT)
        pitch = matcher.pitch_towards(audio, rate)
        for formant in (1.0, 0.92, 1.08):
            if search.left > 0:
                await search.evaluate(Candidate(candidate.base, Shaping(pitch, formant)))
    best = search.best()
    kokoro_best = search.best(lambda c: c.base.engine_voice in PACK_NAMES)
    blends = best is not None and best.base.model_id == KOKORO and kokoro_best is not None
    if best is not None and search.left > 0:
        shaping_budget = search.left // 2 if blends else search.left
        # The two nearest voices after seeding each get a share: the fit clips are short, and
        # the runner-up often carries over to other recordings as well as the best.
        leaders: list[Candidate] = []
        for _score, _similarity, candidate in sorted(search.tried, key=lambda t: -t[0]):
            if all(candidate.base != c.base for c in leaders):
                leaders.append(candidate)
        shares = [shaping_budget - shaping_budget // 2, shaping_budget // 2]
        for leader, share in zip(leaders[:2], shares, strict=False):
            await search.cma(
                _log2(leader.shaping),
                SHAPING_BOUNDS,
                [0.15, 0.1],
                _reshaped(leader),
                share if len(leaders) > 1 else shaping_budget,
            )
    if blends and kokoro_best is not None and search.left > 0:
        space = matcher.kokoro.space
        pack_base = kokoro_best.base
        params = list(space.params_of(pack_base.engine_voice))
        low, high = [BOUNDS[0]] * PARAMS, [BOUNDS[1]] * PARAMS

        def blended(x: npt.NDArray[np.float64]) -> Candidate:
            weights = tuple(float(w) for w in x[:PARAMS])
            return Candidate(pack_base, _shaping(x[PARAMS:]), weights)

        await search.cma(
            params + _log2(kokoro_best.shaping),
            (low + SHAPING_BOUNDS[0], high + SHAPING_BOUNDS[1]),
            [0.25] * PARAMS + [0.1, 0.07],
            blended,
            search.left,
        )
    ranked = sorted(search.tried, key=lambda t: -t[0])
    kept = (start_similarity, start)
    if transcriber is None:
        kept = (ranked[0][1], ranked[0][2])
    else:
        seen: list[Candidate] = []
        for _score, similarity, candidate in ranked:
            if candidate in seen:
                continue
            seen.append(candidate)
            if await _intelligible(matcher, transcriber, candidate):
                kept = (similarity, candidate)
                break
            await progress(min(1.0, (len(search.tried) + len(seen)) / total))
            if len(seen) >= CHECKED:
                break
    return Match(_recipe(matcher, kept[1]), kept[0], start_similarity, len(search.tried))


def _recipe(matcher: Matcher, candidate: Candidate) -> Recipe:
    pack = None
    if candidate.blend is not None:
        pack = to_bytes(matcher.kokoro.space.blend(np.asarray(candidate.blend)))
    return Recipe(candidate.base, pack, candidate.shaping.clipped())


async def _intelligible(matcher: Matcher, transcriber: Transcriber, candidate: Candidate) -> bool:
    audio, rate = await matcher.speak(candidate, CHECK_TEXT)
    samples = to_16k(audio, rate)
    heard = await transcriber.transcribe(
        TranscriptionRequest(audio=Sensitive(samples.astype("<f4").tobytes()), language="en")
    )
    return word_error_rate(CHECK_TEXT, heard.reveal().text) <= MAX_CHECK_WER
