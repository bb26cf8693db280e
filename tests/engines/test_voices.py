import pytest

from sottovoce.engines.voices import JOE, VoiceTable
from sottovoce.errors import UnknownVoice


@pytest.mark.parametrize(
    "voice_id",
    ["piperJoeEnUsMedium01", "joe", "Joe", "alloy", "JBFqnCBsd6RMkjVDRZzb",
     "a0e99841-438c-4a64-b679-ae501e7d6091"],
)  # fmt: skip
def test_sdk_example_ids_reach_the_local_voice(voice_id: str) -> None:
    assert VoiceTable().resolve(voice_id) is JOE


@pytest.mark.parametrize("voice_id", ["", None, "nobody", "alloy2"])
def test_unknown_ids_are_refused(voice_id: str | None) -> None:
    with pytest.raises(UnknownVoice):
        VoiceTable().resolve(voice_id)
