"""Voice design steers by the description's words; a preview id carries numbers, not words."""

from __future__ import annotations

import pytest

from sottovoce.errors import UnknownVoice
from sottovoce.services.voice_design import DesignParams, steer


def test_gender_pitch_age_and_pace_words_move_the_voice() -> None:
    man, woman = steer("a calm man", 1), steer("a woman", 1)
    assert man.gender > 0.8 > 0.2 > woman.gender
    assert steer("a deep voiced man", 1).gender > man.gender
    assert steer("a bright high woman", 1).gender < woman.gender
    assert steer("a fast talker", 1).speed > 1 > steer("a slow, calm narrator", 1).speed
    assert steer("an old woman", 1).gender > woman.gender


def test_unknown_words_change_nothing_and_seeds_change_the_identity() -> None:
    assert steer("zzz qqq", 3) == steer("", 3)
    assert steer("a woman", 1).identity != steer("a woman", 2).identity
    assert abs(sum(steer("a woman", 5).identity) - 1) < 1e-6


def test_a_preview_id_round_trips_and_holds_no_words() -> None:
    params = steer("a gravelly old sailor named Bob", 7)
    voice_id = params.to_id()
    assert "Bob" not in voice_id and "sailor" not in voice_id
    again = DesignParams.from_id(voice_id)
    assert again.gender == pytest.approx(params.gender, abs=1e-3)
    assert again.speed == pytest.approx(params.speed)


@pytest.mark.parametrize("bad", ["", "gv_", "gv_bm90IGpzb24=", "gv_WzEwLCBbXSwgMV0=", "abc"])
def test_made_up_preview_ids_are_no_voice(bad: str) -> None:
    # An id that no preview gave is an unknown voice (404 voice_not_found), as the OpenAPI
    # document says: any string is a well-formed id.
    with pytest.raises(UnknownVoice):
        DesignParams.from_id(bad)
