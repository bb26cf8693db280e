"""A live transcription whose server goes away is said on the page: the microphone does not just
go quiet. A server of its own (this test kills it, so the socket closes with no message, 1006),
and a Chromium whose fake microphone plays a recording."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from tests.conftest import ServerFactory
from tests.harness import Creds, RunningServer
from tests.polling import wait_for
from tests.web.browser import Browser
from tests.web.conftest import speech_wav, with_microphone


@pytest.fixture(scope="module")
def own(start_server: ServerFactory) -> RunningServer:
    server: RunningServer = start_server()
    return server


@pytest.fixture(scope="module")
def listener(own: RunningServer) -> Creds:
    return own.create_workspace("listener")


@pytest.fixture(scope="module")
def browser(
    own: RunningServer, listener: Creds, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    recording = tmp_path_factory.mktemp("recording") / "spoken.wav"
    recording.write_bytes(speech_wav(own, listener.api_key))
    started = with_microphone(tmp_path_factory.mktemp("browser"), own.url, recording)
    yield started
    started.quit()


def test_a_session_whose_server_goes_away_is_shown_and_the_microphone_released(
    own: RunningServer, browser: Browser, listener: Creds
) -> None:
    browser.sign_in(listener.api_key)
    browser.go("playground")
    browser.by_id("mic-start").click()
    wait_for(lambda: browser.by_id("mic-stop").is_enabled(), "the session open")
    os.killpg(own.proc.pid, signal.SIGKILL)
    shown = browser.wait_text("mic-error", "the page saying the transcription stopped")
    assert "1006" in shown  # closed abnormally: no close frame came
    wait_for(lambda: browser.by_id("mic-start").is_enabled(), "the microphone released")
    assert not browser.by_id("mic-stop").is_enabled()
    assert browser.errors() == []
