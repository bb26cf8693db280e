"""What the engine tests share: ``whisper``, one local Whisper engine per module, loaded where it
can be seen to write nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sottovoce.config import SttSettings
from sottovoce.engines.whisper import WhisperTranscriber


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> WhisperTranscriber:
    engine = WhisperTranscriber(SttSettings(), threads=2)
    # Loading must not write anything: point every cache and temp location at empty folders.
    home = tmp_path_factory.mktemp("home")
    saved = {k: os.environ.get(k) for k in ("HF_HOME", "TMPDIR", "XDG_CACHE_HOME")}
    os.environ.update({"HF_HOME": str(home), "TMPDIR": str(home), "XDG_CACHE_HOME": str(home)})
    try:
        engine.load()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert list(Path(home).rglob("*")) == []
    return engine
