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


def test_whole_floats_are_integers_as_in_json_schema() -> None:
    """The OpenAPI document says ``integer``: JSON Schema counts 16000.0 as one."""
    mp3 = output_format({"container": "mp3", "sample_rate": 44100.0, "bit_rate": 128000.0})
    assert (mp3.sample_rate, mp3.bit_rate) == (44100, 128000)
    for bad in ({"sample_rate": 44100.5}, {"sample_rate": True}, {"bit_rate": 128000.5}):
        with pytest.raises(InvalidRequest):
            output_format({"container": "mp3", "sample_rate": 44100, **bad})
