"""hibari is locked to the voice inside its wheel: it speaks without opening a socket, and a
request for any other hibari voice (which hibari itself would download) is refused first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    opened = []

    def hook(event, args):
        if event.startswith(("socket.", "urllib.")) or event == "http.client.connect":
            opened.append(event)
            raise RuntimeError("network use: " + event)

    sys.addaudithook(hook)
    from sottovoce.engines.base import SynthesisRequest
    from sottovoce.engines.hibari import HibariSynthesizer
    from sottovoce.errors import UnknownVoice
    from sottovoce.privacy.sensitive import Sensitive

    # No event loop here: asyncio's own self-pipe is a socket pair.
    engine = HibariSynthesizer()
    audio = engine.render("Hello there. How are you?")
    assert audio.size > 24000 * 0.5, audio.size
    step = engine.synthesize(SynthesisRequest(Sensitive("Hi."), "emma")).__anext__()
    try:
        step.send(None)
    except UnknownVoice:
        pass
    else:
        raise AssertionError("another hibari voice was not refused")
    print("quiet" if not opened else opened)
    """
)


def test_hibari_speaks_its_bundled_voice_without_any_socket() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "quiet"


def test_the_hook_would_catch_a_socket() -> None:
    """The negative control: the same hook does see a socket being made."""
    probe = SCRIPT.split("from sottovoce")[0] + "import socket\nsocket.socket()\n"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode != 0
    assert "network use: socket.__new__" in result.stderr
