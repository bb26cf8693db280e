"""The vendors' format names map to the right codec and rate; bad ones get a helpful 422."""

import pytest

from sottovoce.audio.formats import Codec, cartesia_format, elevenlabs_format, openai_format
from sottovoce.errors import InvalidRequest


def test_elevenlabs_names() -> None:
    assert elevenlabs_format(None).codec is Codec.MP3
    fmt = elevenlabs_format("mp3_44100_192")
    assert (fmt.sample_rate, fmt.bit_rate) == (44100, 192_000)
    assert elevenlabs_format("pcm_24000").codec is Codec.PCM_S16LE
    assert elevenlabs_format("ulaw_8000").codec is Codec.MULAW
    assert elevenlabs_format("alaw_8000").codec is Codec.ALAW
    assert elevenlabs_format("opus_48000_96").codec is Codec.OPUS


def test_unsupported_names_list_the_supported_ones() -> None:
    with pytest.raises(InvalidRequest) as info:
        elevenlabs_format("mp3_1_2")
    assert (info.value.code, info.value.fields) == ("invalid_request", ("output_format",))
    # The message is for people: it lists the choices, and never repeats the bad value.
    assert "pcm_16000" in info.value.message
    assert "mp3_1_2" not in info.value.message
    with pytest.raises(InvalidRequest) as info:
        openai_format("ogg")
    assert (info.value.code, info.value.fields) == ("invalid_request", ("response_format",))
    assert "flac" in info.value.message


def test_openai_defaults_to_mp3_and_pcm_is_24khz() -> None:
    assert openai_format(None).codec is Codec.MP3
    assert openai_format("pcm").sample_rate == 24000


def test_cartesia_objects() -> None:
    raw = {"container": "raw", "encoding": "pcm_mulaw", "sample_rate": 8000}
    assert cartesia_format(raw).codec is Codec.MULAW
    mp3 = cartesia_format({"container": "mp3", "sample_rate": 44100, "bit_rate": 128000})
    assert (mp3.codec, mp3.bit_rate) == (Codec.MP3, 128000)
    assert cartesia_format({"container": "wav", "sample_rate": 16000}).codec is Codec.WAV
    with pytest.raises(InvalidRequest):
        cartesia_format({"container": "mp3", "sample_rate": 44100}, raw_only=True)
    with pytest.raises(InvalidRequest):
        cartesia_format({"container": "raw", "encoding": "pcm_s8", "sample_rate": 8000})
    with pytest.raises(InvalidRequest):
        cartesia_format({"container": "raw", "encoding": "pcm_s16le", "sample_rate": 12345})
    with pytest.raises(InvalidRequest):
        cartesia_format(None)
