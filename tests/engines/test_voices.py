import pytest

from sottovoce.api.cartesia import aliases as cartesia
from sottovoce.api.elevenlabs import aliases as elevenlabs
from sottovoce.api.inworld import aliases as inworld
from sottovoce.api.openai import aliases as openai
from sottovoce.engines.voices import JOE, VoiceTable
from sottovoce.errors import UnknownVoice


@pytest.mark.parametrize("voice_id", ["piperJoeEnUsMedium01", "joe", "Joe", "en_US-joe-medium"])
def test_local_ids_and_names_reach_the_local_voice(voice_id: str) -> None:
    assert VoiceTable().resolve(voice_id) is JOE


@pytest.mark.parametrize(
    ("surface", "voice_id"),
    [(openai, "alloy"), (openai, "Nova"), (elevenlabs, "JBFqnCBsd6RMkjVDRZzb"),
     (cartesia, "a0e99841-438c-4a64-b679-ae501e7d6091"), (inworld, "Ashley")],
)  # fmt: skip
def test_sdk_example_ids_reach_the_local_voice(surface: object, voice_id: str) -> None:
    assert VoiceTable().resolve(surface.voice(voice_id)) is JOE  # type: ignore[attr-defined]


@pytest.mark.parametrize("voice_id", ["", None, "nobody", "alloy2"])
def test_unknown_ids_are_refused(voice_id: str | None) -> None:
    with pytest.raises(UnknownVoice):
        VoiceTable().resolve(openai.voice(voice_id))


def test_an_example_id_of_one_vendor_is_not_an_alias_of_another() -> None:
    with pytest.raises(UnknownVoice):
        VoiceTable().resolve(elevenlabs.voice("alloy"))
