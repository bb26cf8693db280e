"""The Piper engine, in-process: real weights, real speech, honest alignment."""

import asyncio

import numpy as np
import pytest

from sottovoce.engines.base import AudioChunk, SynthesisRequest, Synthesizer
from sottovoce.engines.piper import PiperSynthesizer
from sottovoce.errors import InvalidRequest
from sottovoce.privacy.providers import Mode
from sottovoce.privacy.sensitive import Sensitive

FOX = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def engine() -> PiperSynthesizer:
    synthesizer = PiperSynthesizer(threads=2)
    synthesizer.load()
    return synthesizer


def run(engine: PiperSynthesizer, text: str, speed: float = 1.0) -> list[AudioChunk]:
    async def collect() -> list[AudioChunk]:
        request = SynthesisRequest(text=Sensitive(text), voice_id="joe", speed=speed)
        return [chunk async for chunk in engine.synthesize(request)]

    return asyncio.run(collect())


def samples(chunks: list[AudioChunk]) -> np.ndarray:
    return np.frombuffer(b"".join(c.pcm.reveal() for c in chunks), "<i2")


def test_it_is_a_synthesizer(engine: PiperSynthesizer) -> None:
    assert isinstance(engine, Synthesizer)
    assert engine.info.model_id == "local/piper"
    # A local engine keeps nothing, in either mode: ZDR requests may use it.
    assert engine.info.provider.covers(Mode.SYNC)
    assert engine.info.provider.covers(Mode.STREAMING)


def test_speech_has_plausible_length_and_energy(engine: PiperSynthesizer) -> None:
    chunks = run(engine, FOX)
    audio = samples(chunks)
    seconds = len(audio) / engine.sample_rate
    # Nine words read aloud: about 2-4 seconds, not silence, not clipped noise.
    assert 1.8 < seconds < 4.5
    rms = np.sqrt(np.mean(audio.astype(np.float64) ** 2))
    assert 1000 < rms < 15000
    # Speech has pauses and voiced parts: loudness varies a lot across 50 ms frames.
    frames = audio[: len(audio) // 1102 * 1102].reshape(-1, 1102).astype(np.float64)
    frame_rms = np.sqrt(np.mean(frames**2, axis=1))
    assert frame_rms.max() > 8 * max(frame_rms.min(), 1.0)


def test_first_piece_is_shorter_than_the_sentence(engine: PiperSynthesizer) -> None:
    chunks = run(engine, FOX)
    assert len(chunks) == 2
    assert len(chunks[0].pcm.reveal()) < len(b"".join(c.pcm.reveal() for c in chunks))


def test_speed_changes_duration(engine: PiperSynthesizer) -> None:
    normal = len(samples(run(engine, "Speed changes how long this takes.")))
    fast = len(samples(run(engine, "Speed changes how long this takes.", speed=2.0)))
    slow = len(samples(run(engine, "Speed changes how long this takes.", speed=0.5)))
    assert fast < 0.7 * normal
    assert slow > 1.5 * normal


@pytest.mark.parametrize("speed", [0.1, 5.0])
def test_absurd_speed_is_refused(engine: PiperSynthesizer, speed: float) -> None:
    with pytest.raises(InvalidRequest):
        run(engine, FOX, speed=speed)


def test_alignment_covers_every_character_in_order(engine: PiperSynthesizer) -> None:
    text = "Hello there, my friend. How are you today?"
    chunks = run(engine, text)
    chars, offset, last_end = [], 0.0, 0.0
    for chunk in chunks:
        assert chunk.alignment is not None
        for ch, start, end in chunk.alignment.reveal():
            chars.append(ch)
            assert start <= end
            assert start + offset >= last_end - 1e-3
            last_end = end + offset
        offset += len(chunk.pcm.reveal()) / 2 / chunk.sample_rate
    assert "".join(chars) == text
    # The last character ends where its phonemes end; only the model's final silence follows.
    assert 0.0 <= offset - last_end < 0.2


def test_alignment_follows_the_model_durations(engine: PiperSynthesizer) -> None:
    # A long word takes longer than a short one: an even spread over characters would not
    # make "extraordinarily" per character slower or faster, the model's durations do.
    (chunk,) = run(engine, "I am extraordinarily happy.")
    assert chunk.alignment is not None
    alignment = chunk.alignment.reveal()
    word_time = {}
    for word in ("I", "am", "extraordinarily", "happy."):
        start = "".join(c for c, _, _ in alignment).index(word)
        word_time[word] = alignment[start + len(word) - 1][2] - alignment[start][1]
    assert word_time["extraordinarily"] > 2 * word_time["am"]
    # Speech starts after the model's leading silence, not at zero.
    assert alignment[0][1] > 0.0


def test_concurrent_streams_both_finish(engine: PiperSynthesizer) -> None:
    async def both() -> list[int]:
        async def one(text: str) -> int:
            request = SynthesisRequest(text=Sensitive(text), voice_id="joe")
            return sum([len(c.pcm.reveal()) async for c in engine.synthesize(request)])

        return list(await asyncio.gather(one(FOX), one("A second, different stream.")))

    sizes = asyncio.run(both())
    assert all(size > 22050 for size in sizes)
