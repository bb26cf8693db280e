"""Every engine loads and runs without writing a file into TMPDIR or the home directory.

A subprocess gets a fresh, empty HOME and TMPDIR, imports the engines (and their native
libraries: onnxruntime, CTranslate2, llama.cpp, espeak-ng through Piper), loads each one and
runs it once (the voices of Piper, hibari and Kokoro, and the speaker encoder too). Afterwards
both directories must still be empty. onnxruntime 1.29 and newer write
telemetry files into exactly these places on import unless ``ORT_DISABLE_TELEMETRY`` was set
first, which importing ``sottovoce.engines`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import os
    import anyio
    from sottovoce.config import Settings
    from sottovoce.engines.registry import build_registry
    from sottovoce.engines.base import SynthesisRequest, TranscriptionRequest, ChatRequest
    from sottovoce.engines.base import ChatMessage
    from sottovoce.privacy.sensitive import Sensitive
    import onnxruntime, faster_whisper, ctranslate2, piper, hibari  # noqa: native libraries
    import numpy as np

    assert os.environ["ORT_DISABLE_TELEMETRY"] == "1"
    registry = build_registry(Settings(data_dir=os.environ["DATA"]))

    async def main():
        await registry.load_all()
        piper_engine = registry.synthesizer("local/piper")
        pcm = b"".join([
            c.pcm.reveal()
            async for c in piper_engine.synthesize(SynthesisRequest(Sensitive("Hello."), "joe"))
        ])
        assert pcm
        for model, voice in (("local/hibari", "heart"), ("local/kokoro", "jm_kumo")):
            engine = registry.synthesizer(model)
            request = SynthesisRequest(Sensitive("Hi."), voice)
            assert b"".join([c.pcm.reveal() async for c in engine.synthesize(request)])
        registry.speaker_encoder.embed(np.zeros(16000, np.float32))
        whisper = registry.transcriber("local/whisper-base")
        samples = Sensitive(bytes(4 * 16000))
        await whisper.transcribe(TranscriptionRequest(audio=samples, language="en"))
        tiny = registry.transcriber("local/whisper-tiny.en")  # the voice agents' fast model
        await tiny.transcribe(TranscriptionRequest(audio=samples, language="en"))
        whisper.vad_model()
        chat = registry.chat_model("local/smollm2-135m-instruct")
        ask = ChatRequest(messages=(ChatMessage("user", Sensitive("Hi")),), max_tokens=2)
        [d async for d in chat.stream(ask)]

    anyio.run(main)
    # Checked again after exit, but also now: a library that cleans up at exit still wrote.
    assert os.listdir(os.environ["TMPDIR"]) == [], os.listdir(os.environ["TMPDIR"])
    assert os.listdir(os.environ["HOME"]) == [], os.listdir(os.environ["HOME"])
    print("ran")
    """
)


def test_loading_and_running_every_engine_writes_nothing_in_home_or_tmpdir(
    tmp_path: Path,
) -> None:
    home, tmp, data = tmp_path / "home", tmp_path / "tmp", tmp_path / "data"
    for d in (home, tmp, data):
        d.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOTTOVOCE_", "ORT_", "XDG_")) and k not in ("HOME", "TMPDIR")
    }
    env.update({"HOME": str(home), "TMPDIR": str(tmp), "DATA": str(data), "HF_HUB_OFFLINE": "1"})
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ran"
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == []
    assert sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*")) == []
