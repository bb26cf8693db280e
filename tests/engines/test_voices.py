import pytest

from sottovoce.engines.voices import BUILT_IN, HEART, JOE, KUMO, VoiceTable
from sottovoce.errors import UnknownVoice


@pytest.mark.parametrize("voice_id", ["piperJoeEnUsMedium01", "joe", "Joe", "en_US-joe-medium"])
def test_local_ids_and_names_reach_the_local_voice(voice_id: str) -> None:
    assert VoiceTable().resolve(voice_id) is JOE


@pytest.mark.parametrize(("voice_id", "voice"), [("heart", HEART), ("jm_kumo", KUMO)])
def test_every_engine_has_its_voices(voice_id: str, voice: object) -> None:
    assert VoiceTable().resolve(voice_id) is voice


@pytest.mark.parametrize("voice_id", ["", None, "nobody", "alloy"])
def test_unknown_ids_are_refused(voice_id: str | None) -> None:
    with pytest.raises(UnknownVoice):
        VoiceTable().resolve(voice_id)


def test_the_table_has_two_women_and_two_men_from_more_than_one_engine() -> None:
    assert sum(v.gender == "female" for v in BUILT_IN) >= 2
    assert sum(v.gender == "male" for v in BUILT_IN) >= 2
    assert len({v.model_id for v in BUILT_IN}) == 3
    assert len({v.voice_id for v in BUILT_IN}) == len(BUILT_IN)
    assert all(v.licence and v.engine_voice and v.description for v in BUILT_IN)
