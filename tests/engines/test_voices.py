import pytest

from sottovoce.engines.voices import JOE, VoiceTable
from sottovoce.errors import UnknownVoice


@pytest.mark.parametrize("voice_id", ["piperJoeEnUsMedium01", "joe", "Joe", "en_US-joe-medium"])
def test_local_ids_and_names_reach_the_local_voice(voice_id: str) -> None:
    assert VoiceTable().resolve(voice_id) is JOE


@pytest.mark.parametrize("voice_id", ["", None, "nobody", "alloy"])
def test_unknown_ids_are_refused(voice_id: str | None) -> None:
    with pytest.raises(UnknownVoice):
        VoiceTable().resolve(voice_id)
