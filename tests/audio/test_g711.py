"""G.711 against the reference values of the ITU-T/Sun implementation (as in CPython's audioop)."""

import numpy as np

from sottovoce.audio.g711 import alaw_decode, alaw_encode, mulaw_decode, mulaw_encode

SAMPLES = np.array([0, -1, 1, 100, -100, 1000, -1000, 8000, -8000, 32767, -32768], np.int16)


def test_mulaw_matches_reference_codes() -> None:
    expected = [255, 126, 255, 242, 114, 206, 78, 160, 32, 128, 0]
    assert mulaw_encode(SAMPLES).tolist() == expected


def test_alaw_matches_reference_codes() -> None:
    expected = [213, 85, 213, 211, 83, 250, 122, 138, 10, 170, 42]
    assert alaw_encode(SAMPLES).tolist() == expected


def test_round_trip_error_is_within_the_companding_step() -> None:
    x = np.arange(-32768, 32768, 7, dtype=np.int32).astype(np.int16)
    loud = np.abs(x.astype(np.int32)) > 512
    for encode, decode in ((mulaw_encode, mulaw_decode), (alaw_encode, alaw_decode)):
        y = decode(encode(x)).astype(np.int32)
        relative = np.abs(y - x)[loud] / np.abs(x.astype(np.int32))[loud]
        assert relative.max() < 0.07
        assert np.all(np.sign(y[loud]) == np.sign(x[loud]))


def test_every_code_decodes_to_a_distinct_level() -> None:
    codes = np.arange(256, dtype=np.uint8)
    # mu-law has two zeros (+0 and -0); A-law has none.
    assert len(set(mulaw_decode(codes).tolist())) == 255
    assert len(set(alaw_decode(codes).tolist())) == 256
