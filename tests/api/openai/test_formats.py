"""OpenAI's response_format names map to the right codec and rate; bad ones get a helpful 422."""

import pytest

from sottovoce.api.openai.formats import output_format
from sottovoce.audio.formats import Codec
from sottovoce.errors import InvalidRequest


def test_unsupported_names_list_the_supported_ones() -> None:
    with pytest.raises(InvalidRequest) as info:
        output_format("ogg")
    assert (info.value.code, info.value.fields) == ("invalid_request", ("response_format",))
    assert "flac" in info.value.message


def test_openai_defaults_to_mp3_and_pcm_is_24khz() -> None:
    assert output_format(None).codec is Codec.MP3
    assert output_format("pcm").sample_rate == 24000
