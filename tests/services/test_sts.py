"""Speech-to-speech groups words into phrases at the pauses and tightens them to the sound."""

from __future__ import annotations

import numpy as np

from sottovoce.engines.base import Word
from sottovoce.services.sts import Phrase, loudness, phrases, snapped


def test_words_are_grouped_at_pauses() -> None:
    words = (Word(" Hello", 0.0, 0.4), Word(" there.", 0.45, 0.8),
             Word(" How", 1.5, 1.7), Word(" are", 1.72, 1.9), Word(" you?", 1.92, 2.2))  # fmt: skip
    assert phrases(words) == [Phrase("Hello there.", 0.0, 0.8), Phrase("How are you?", 1.5, 2.2)]


def test_long_runs_are_cut_every_few_words() -> None:
    words = tuple(Word(f" w{i}", i * 0.2, i * 0.2 + 0.15) for i in range(30))
    assert [len(p.text.split()) for p in phrases(words)] == [14, 14, 2]


def test_a_phrase_starting_in_silence_is_moved_to_the_sound() -> None:
    rate = 16000
    audio = np.zeros(rate * 2, np.float32)
    audio[int(1.2 * rate) : int(1.8 * rate)] = 0.5  # the sound: 1.2 s to 1.8 s
    tightened = snapped(Phrase("hi", 0.9, 1.8), loudness(audio, rate))
    assert abs(tightened.start - 1.2) < 0.02 and abs(tightened.end - 1.8) < 0.02
