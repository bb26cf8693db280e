"""Which engines the server loads at start-up, and which wait for their first request."""

from __future__ import annotations

from pathlib import Path

import anyio

from sottovoce.config import EngineSettings, Settings
from sottovoce.engines.hibari import HibariSynthesizer
from sottovoce.engines.registry import EngineRegistry, build_registry


def test_the_extra_voices_wait_for_their_first_request_unless_asked(tmp_path: Path) -> None:
    default = build_registry(Settings(data_dir=tmp_path))
    assert default.on_demand == {"local/hibari", "local/kokoro"}
    # Everything else the default routes use is preloaded.
    preloaded = {m.model_id for m in default.models() if m.provider.local} - default.on_demand
    assert {"local/piper", "local/whisper-base", "local/smollm2-135m-instruct"} <= preloaded
    every = Settings(data_dir=tmp_path, engines=EngineSettings(preload_extra_voices=True))
    assert build_registry(every).on_demand == frozenset()


def test_load_all_leaves_the_on_demand_engines_unloaded() -> None:
    hibari = HibariSynthesizer(threads=1)
    registry = EngineRegistry([hibari])
    registry.on_demand = frozenset({"local/hibari"})
    anyio.run(registry.load_all)
    assert hibari._tts is None
    registry.on_demand = frozenset()
    anyio.run(registry.load_all)
    assert hibari._tts is not None
