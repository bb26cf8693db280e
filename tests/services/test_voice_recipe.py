"""A workspace voice's recipe: base voice, optional Kokoro pack and shaping, round-tripped;
the bare packs stored before recipes existed still read as Kokoro voices."""

from __future__ import annotations

import numpy as np
import pytest

from sottovoce.audio.shaping import Shaping
from sottovoce.engines.kokoro_packs import DIMS, ROWS, to_bytes
from sottovoce.engines.voices import HEART, KOKORO, KUMO
from sottovoce.services.voice_recipe import Recipe, from_bytes


def test_a_recipe_round_trips() -> None:
    pack = to_bytes(np.ones((ROWS, DIMS), np.float32))
    for recipe in (Recipe(HEART, None, Shaping(0.9, 1.0)), Recipe(KUMO, pack, Shaping(1.2, 1.1))):
        again = from_bytes(recipe.to_bytes())
        assert again.base == recipe.base and again.pack == recipe.pack
        assert again.shaping == recipe.shaping


def test_a_bare_pack_is_an_unshaped_kokoro_voice() -> None:
    pack = to_bytes(np.zeros((ROWS, DIMS), np.float32))
    recipe = from_bytes(pack)
    assert recipe.base.model_id == KOKORO and recipe.pack == pack
    assert recipe.shaping.neutral


def test_shaping_out_of_range_is_clipped_on_reading() -> None:
    recipe = from_bytes(Recipe(HEART, None, Shaping(9.0, 0.1)).to_bytes())
    assert recipe.shaping.pitch <= 1.5 and recipe.shaping.formant >= 0.8


@pytest.mark.parametrize("bad", [b"", b'SVR1\x05\x00{"base"', b"x" * 100])
def test_other_bytes_are_no_recipe(bad: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the one error from_bytes raises)
        from_bytes(bad)
