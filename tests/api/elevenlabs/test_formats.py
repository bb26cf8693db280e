"""ElevenLabs' format names map to the right codec and rate; bad ones get a helpful 422."""

import pytest

from sottovoce.api.elevenlabs.formats import output_format
from sottovoce.audio.formats import Codec
from sottovoce.errors import InvalidRequest


def test_elevenlabs_names() -> None:
    assert output_format(None).codec is Codec.MP3
    fmt = output_format("mp3_44100_192")
    assert (fmt.sample_rate, fmt.bit_rate) == (44100, 192_000)
    assert output_format("pcm_24000").codec is Codec.PCM_S16LE
    assert output_format("ulaw_8000").codec is Codec.MULAW
    assert output_format("alaw_8000").codec is Codec.ALAW
    assert output_format("opus_48000_96").codec is Codec.OPUS


def test_unsupported_names_list_the_supported_ones() -> None:
    with pytest.raises(InvalidRequest) as info:
        output_format("mp3_1_2")
    assert (info.value.code, info.value.fields) == ("invalid_request", ("output_format",))
    # The message is for people: it lists the choices, and never repeats the bad value.
    assert "pcm_16000" in info.value.message
    assert "mp3_1_2" not in info.value.message
