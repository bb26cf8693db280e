"""Each surface maps its vendor's example names to the local engines, and only its own."""

import pytest

from sottovoce.api.aliases import Aliases
from sottovoce.api.cartesia.aliases import ALIASES as CARTESIA
from sottovoce.api.elevenlabs.aliases import ALIASES as ELEVENLABS
from sottovoce.api.inworld.aliases import ALIASES as INWORLD
from sottovoce.api.openai.aliases import ALIASES as OPENAI
from sottovoce.engines.voices import JOE, VoiceTable
from sottovoce.errors import UnknownVoice


@pytest.mark.parametrize(
    ("aliases", "voice_id"),
    [(OPENAI, "alloy"), (OPENAI, "Nova"), (ELEVENLABS, "JBFqnCBsd6RMkjVDRZzb"),
     (CARTESIA, "a0e99841-438c-4a64-b679-ae501e7d6091"), (INWORLD, "Ashley")],
)  # fmt: skip
def test_sdk_example_ids_reach_the_local_voice(aliases: Aliases, voice_id: str) -> None:
    assert VoiceTable().resolve(aliases.voice(voice_id)) is JOE


@pytest.mark.parametrize("voice_id", ["", None, "nobody", "alloy2"])
def test_unknown_ids_are_refused(voice_id: str | None) -> None:
    with pytest.raises(UnknownVoice):
        VoiceTable().resolve(OPENAI.voice(voice_id))


def test_an_example_id_of_one_vendor_is_not_an_alias_of_another() -> None:
    with pytest.raises(UnknownVoice):
        VoiceTable().resolve(ELEVENLABS.voice("alloy"))


@pytest.mark.parametrize(
    ("aliases", "tts", "stt"),
    [(ELEVENLABS, "eleven_multilingual_v2", "scribe_v1"), (OPENAI, "gpt-4o-mini-tts", "whisper-1"),
     (CARTESIA, "sonic-2", "ink-whisper"), (INWORLD, "inworld-tts-1.5-max", None)],
)  # fmt: skip
def test_vendor_model_names_mean_the_default_model(
    aliases: Aliases, tts: str, stt: str | None
) -> None:
    assert aliases.tts_model(tts) is None
    assert aliases.stt_model(stt) is None
    assert aliases.tts_model("local/piper") == "local/piper"
    assert aliases.stt_model("someone/else") == "someone/else"
