"""Cartesia's output_format objects map to the right codec and rate; bad ones get a 422."""

import pytest

from sottovoce.api.cartesia.formats import output_format
from sottovoce.audio.formats import Codec
from sottovoce.errors import InvalidRequest


def test_cartesia_objects() -> None:
    raw = {"container": "raw", "encoding": "pcm_mulaw", "sample_rate": 8000}
    assert output_format(raw).codec is Codec.MULAW
    mp3 = output_format({"container": "mp3", "sample_rate": 44100, "bit_rate": 128000})
    assert (mp3.codec, mp3.bit_rate) == (Codec.MP3, 128000)
    assert output_format({"container": "wav", "sample_rate": 16000}).codec is Codec.WAV
    with pytest.raises(InvalidRequest):
        output_format({"container": "mp3", "sample_rate": 44100}, raw_only=True)
    with pytest.raises(InvalidRequest):
        output_format({"container": "raw", "encoding": "pcm_s8", "sample_rate": 8000})
    with pytest.raises(InvalidRequest):
        output_format({"container": "raw", "encoding": "pcm_s16le", "sample_rate": 12345})
    with pytest.raises(InvalidRequest):
        output_format(None)
