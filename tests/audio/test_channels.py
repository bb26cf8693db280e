"""Telling a call with one party per channel from one scene recorded on several channels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from sottovoce.audio.channels import peak_correlation, separate_speakers
from sottovoce.audio.decode import decode_container
from sottovoce.privacy.sensitive import Sensitive
from tests.spoken import join, multichannel_wav, resample, silence, speak

Samples = npt.NDArray[np.float32]


def at_16k(text: str) -> Samples:
    return resample(speak(text), 16000).astype(np.float32) / 32768.0


@pytest.fixture(scope="module")
def agent() -> Samples:
    return at_16k("Thank you for calling the clinic, how can I help you today?")


@pytest.fixture(scope="module")
def caller() -> Samples:
    return at_16k("I would like to move my appointment to next Thursday morning.")


def same_length(*channels: Samples) -> list[Samples]:
    n = max(c.size for c in channels)
    return [np.pad(c, (0, n - c.size)) for c in channels]


def delayed(samples: Samples, seconds: float, gain: float = 1.0) -> Samples:
    return np.concatenate([np.zeros(int(seconds * 16000), np.float32), samples * gain])


def test_two_parties_talking_over_each_other_are_separate(agent: Samples, caller: Samples) -> None:
    assert separate_speakers(same_length(agent, caller))


def test_two_parties_taking_turns_with_some_bleed_are_separate(
    agent: Samples, caller: Samples
) -> None:
    left, right = same_length(agent, delayed(caller, agent.size / 16000))
    assert separate_speakers([left + 0.05 * right, right + 0.05 * left])


def test_one_voice_on_two_channels_is_one_scene(agent: Samples) -> None:
    assert not separate_speakers([agent, agent.copy()])
    # A spaced pair: the far microphone hears it 5 ms later, quieter, over its own hiss.
    hiss = np.random.default_rng(7).normal(0, 0.002, agent.size + 80).astype(np.float32)
    assert not separate_speakers(same_length(agent, delayed(agent, 0.005, 0.5) + hiss))
    # Phase-inverted wiring is still the same sound.
    assert not separate_speakers([agent, -agent])


def test_a_silent_or_single_channel_has_nothing_to_split(agent: Samples) -> None:
    assert not separate_speakers([agent, np.zeros_like(agent)])
    assert not separate_speakers([agent, agent * 1e-3])  # 60 dB down: crosstalk only
    assert not separate_speakers([agent])
    assert not separate_speakers([])


def test_three_channels_split_only_when_all_differ(agent: Samples, caller: Samples) -> None:
    third = at_16k("The pharmacy closes at six on Saturdays.")
    assert separate_speakers(same_length(agent, caller, third))
    assert not separate_speakers(same_length(agent, caller, agent))


def test_peak_correlation_finds_a_delayed_copy_within_the_lag(agent: Samples) -> None:
    copy = delayed(agent, 0.01)[: agent.size]
    assert peak_correlation(agent, copy, max_lag=200) > 0.9
    assert peak_correlation(agent, copy, max_lag=100) < 0.5  # 160 samples: outside the window
    assert peak_correlation(agent, np.zeros_like(agent), max_lag=10) == 0.0


def test_decoding_keeps_two_to_five_channels_apart() -> None:
    a, b = speak("Left channel words."), speak("Right channel, other words.")
    stereo = decode_container(
        Sensitive(multichannel_wav(a, join(silence(0.2, b.rate), b))), max_seconds=60
    )
    assert stereo.source_channels == 2
    left, right = stereo.channel_arrays()
    assert left.size == right.size == stereo.array().size
    # The left channel is silent where only the right one still talks, and the other way round.
    assert np.abs(left[:1600]).max() > 0.01 and np.abs(right[:1600]).max() < 1e-3
    mono = decode_container(Sensitive(multichannel_wav(a)), max_seconds=60)
    assert mono.source_channels == 1 and mono.channels == ()
    six = decode_container(Sensitive(multichannel_wav(*[a] * 6)), max_seconds=60)
    assert six.source_channels == 6 and six.channels == ()
