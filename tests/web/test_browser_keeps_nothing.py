"""The browser keeps nothing either: after the playground's flows under zero retention, no
trace of their content is in the browser's profile directory or its storage APIs, and none on
the server. A negative control proves the profile search finds what a page does store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.harness import RunningServer, marker_forms, new_canary
from tests.polling import wait_for
from tests.web.browser import Browser, launch
from tests.web.conftest import SPOKEN_WORDS

STORAGE = """
const names = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
return {
  local: Object.keys(localStorage),
  session: Object.keys(sessionStorage),
  cookies: document.cookie,
  indexeddb: names,
  caches: await caches.keys(),
};
"""


def storage(browser: Browser) -> dict[str, object]:
    found: dict[str, object] = browser.js_async(
        f"(async () => {{ {STORAGE} }})().then(done, (e) => done(String(e)));"
    )
    return found


def traces(root: Path, marker: str) -> list[str]:
    """Every file under ``root`` holding the marker in any of its forms."""
    forms = marker_forms(marker)
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        found += [f"{path.relative_to(root)} ({name})" for name, f in forms.items() if f in data]
    return found


@pytest.fixture
def fresh_browser(
    server: RunningServer, recording: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Browser]:
    # A short path: Chromium's singleton socket lives there, and socket paths are short.
    root = tmp_path_factory.mktemp("b")
    return root, launch(
        root,
        server.url,
        (
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={recording}",
        ),
    )


def test_after_the_playground_under_zdr_the_browser_and_server_hold_no_marker(
    server: RunningServer, fresh_browser: tuple[Path, Browser], recording: Path, tmp_path: Path
) -> None:
    root, browser = fresh_browser
    workspace = server.create_workspace("zdr-console", zdr=True)
    marker = new_canary()
    upload = tmp_path / f"{marker}.wav"
    shutil.copy(recording, upload)
    try:
        browser.sign_in(workspace.api_key)
        browser.go("playground")
        wait_for(lambda: browser.finds("#tts-voice option"), "the voice library")
        text = browser.by_id("tts-text")
        text.clear()
        text.send_keys(f"Hello {marker}, goodbye.")
        browser.by_id("tts-go").click()
        wait_for(
            lambda: browser.js(
                "const a = document.getElementById('tts-audio');"
                "return isFinite(a.duration) && a.duration > 0"
            ),
            "the speech played",
            timeout=90,
        )
        browser.by_id("stt-file").send_keys(str(upload))
        browser.by_id("stt-go").click()
        browser.wait_text("stt-result", "the transcript", timeout=120)
        browser.by_id("mic-start").click()
        # The fake microphone may start anywhere in its loop: wait for a word of it.
        browser.wait_heard(
            "mic-committed", lambda t: any(w in t.lower() for w in SPOKEN_WORDS), error="mic-error"
        )
        browser.by_id("mic-stop").click()
        wait_for(lambda: browser.by_id("mic-start").is_enabled(), "the microphone released")
        # Design and matching keep their material: refused, with the server's reason.
        browser.by_id("design-go").click()
        assert "retention" in browser.wait_text("design-error", "the design refused").lower()
        browser.by_id("clone-files").send_keys(str(upload))
        browser.by_id("clone-go").click()
        assert "retention" in browser.wait_text("clone-error", "matching refused").lower()
        browser.go("history")
        browser.wait_visible("history-zdr")

        kept = storage(browser)
        assert kept == {
            "local": [],
            "session": ["sottovoce.api_key"],
            "cookies": "",
            "indexeddb": [],
            "caches": [],
        }
        assert browser.errors(allowed=("status of 403",)) == []
    finally:
        browser.quit()  # the profile is written out as the browser closes
    assert traces(root, marker) == []
    server.wait_for_usage(workspace.workspace_id, 2, product="stt")  # file and socket
    assert server.find_marker(marker) == []


def test_the_profile_search_finds_what_a_page_stores(
    server: RunningServer, fresh_browser: tuple[Path, Browser]
) -> None:
    # The negative control: a page that does write to storage is caught by the same search.
    root, browser = fresh_browser
    marker = new_canary()
    try:
        browser.open()
        browser.js("localStorage.setItem('probe', arguments[0])", marker)
        assert storage(browser)["local"] == ["probe"]
    finally:
        browser.quit()
    assert traces(root, marker) != []
