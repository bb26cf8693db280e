"""The console in a real browser: sign in, the playground, history (the workspace and proof
pages: ``test_console_workspace``).

One server and one Chromium for the module (the fake microphone plays a recording made by the
local TTS). Each test ends with no console error: failed requests and CSP violations are
console errors too.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import pytest

from tests.harness import Creds, RunningServer
from tests.polling import wait_for
from tests.web.browser import Browser
from tests.web.conftest import SPOKEN_WORDS

UNAUTHORIZED = "status of 401"


def heard(text: str) -> bool:
    """Words of the spoken sentence are in the transcript (two: the fake microphone may
    start in the middle of it)."""
    lowered = text.lower()
    return sum(word in lowered for word in SPOKEN_WORDS) >= 2


def history_rows(browser: Browser) -> list[str]:
    # Read in one go: the table is rebuilt after a delete.
    ids: list[str] = browser.js(
        "return [...document.querySelectorAll('#history-rows tr')].map((r) => r.dataset.id)"
    )
    return ids


def test_the_console_is_served_with_a_strict_policy_and_no_caching(server: RunningServer) -> None:
    for path in ("/", "/console/app.js", "/console/style.css"):
        reply = httpx.get(server.url + path)
        assert reply.status_code == 200
        assert reply.headers["cache-control"] == "no-store"
        policy = reply.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
    # No file outside the web folder, and API replies are not cached either.
    assert httpx.get(server.url + "/console/..%2Fapp.py").status_code == 404
    assert httpx.get(server.url + "/console/nope.js").status_code == 404
    assert httpx.get(server.url + "/healthz").headers["cache-control"] == "no-store"
    refused = httpx.get(server.url + "/v1/history", headers={"xi-api-key": "sv_nope"})
    assert (refused.status_code, refused.headers["cache-control"]) == (401, "no-store")


def test_a_wrong_key_is_refused_and_the_right_one_signs_in(
    browser: Browser, admin: Creds, artefacts: Path
) -> None:
    browser.open()
    browser.wait_visible("page-sign-in")
    browser.screenshot(artefacts, "sign-in")
    browser.by_id("api-key").send_keys("sv_not-a-key")
    browser.find("#sign-in-form button[type=submit]").click()
    assert "not valid" in browser.wait_text("sign-in-error", "the refusal")
    assert browser.js("return sessionStorage.length") == 0
    assert [e for e in browser.errors() if UNAUTHORIZED not in e] == []

    browser.sign_in(admin.api_key)
    browser.wait_visible("nav-admin")
    assert browser.js("return Object.keys(sessionStorage)") == ["sottovoce.api_key"]
    assert browser.errors() == []


def test_speech_is_synthesized_streamed_and_played(browser: Browser, admin: Creds) -> None:
    browser.sign_in(admin.api_key)
    browser.go("playground")
    wait_for(lambda: browser.finds("#tts-voice option"), "the voice library")
    labels = [o.text for o in browser.finds("#tts-voice option")]
    assert any(label.startswith("Joe (") and "male" in label for label in labels)
    browser.find("#tts-voice option[value='piperJoeEnUsMedium01']").click()
    for fmt in ("mp3_44100_128", "wav_24000"):
        browser.find(f"#tts-format option[value='{fmt}']").click()
        browser.js("document.getElementById('tts-audio').removeAttribute('src')")
        browser.by_id("tts-go").click()
        duration = wait_for(
            lambda: browser.js(
                "const a = document.getElementById('tts-audio');"
                "return a.src && isFinite(a.duration) && a.duration > 0 ? a.duration : null"
            ),
            f"a playable {fmt} audio element",
            timeout=90,
        )
        assert 1.0 < duration < 20.0
        wait_for(
            lambda: browser.js("return document.getElementById('tts-audio').currentTime > 0"),
            "playback",
        )
    assert browser.by_id("tts-error").text == ""
    assert browser.errors() == []

    # Audio lives in an object URL only until the next one replaces it.
    # (Loaded as media: the policy lets pages fetch nothing but the server itself.)
    fetch = (
        "const a = new Audio(); a.onloadedmetadata = () => done(true);"
        "a.onerror = () => done('revoked'); a.src = arguments[0];"
    )
    first = browser.js("return document.getElementById('tts-audio').src")
    assert first.startswith("blob:") and browser.js_async(fetch, first) is True
    browser.by_id("tts-preview").click()
    wait_for(
        lambda: browser.js("return document.getElementById('tts-audio').src") != first,
        "the preview",
        timeout=90,
    )
    assert browser.js_async(fetch, first) == "revoked"
    assert browser.errors(allowed=(first,)) == []


def test_a_dialogue_is_spoken_by_two_voices(browser: Browser, admin: Creds) -> None:
    browser.sign_in(admin.api_key)
    browser.go("playground")
    wait_for(lambda: len(browser.finds("#dialogue-voice-2 option")) > 1, "the voices")
    voices = browser.js(
        "return ['dialogue-voice-1', 'dialogue-voice-2']"
        ".map((id) => document.getElementById(id).value)"
    )
    assert voices[0] != voices[1]
    browser.by_id("dialogue-go").click()
    wait_for(
        lambda: browser.js(
            "const a = document.getElementById('dialogue-audio');"
            "return isFinite(a.duration) && a.duration > 1"
        ),
        "the dialogue playing",
        timeout=90,
    )
    assert browser.by_id("dialogue-error").text == ""
    assert browser.errors() == []


def test_an_uploaded_file_is_transcribed(browser: Browser, admin: Creds, recording: Path) -> None:
    browser.sign_in(admin.api_key)
    browser.go("playground")
    browser.by_id("stt-file").send_keys(str(recording))
    browser.by_id("stt-go").click()
    assert heard(browser.wait_text("stt-result", "the transcript", timeout=120))
    assert browser.errors() == []


def test_the_voice_changer_speaks_a_recording_in_another_voice(
    browser: Browser, admin: Creds, recording: Path
) -> None:
    browser.sign_in(admin.api_key)
    browser.go("playground")
    wait_for(lambda: browser.finds("#tts-voice option"), "the voice library")
    browser.find("#tts-voice option[value='hibariHeartEnUs01']").click()
    browser.by_id("sts-file").send_keys(str(recording))
    browser.by_id("sts-go").click()
    wait_for(
        lambda: browser.js(
            "const a = document.getElementById('sts-audio');"
            "return isFinite(a.duration) && a.duration > 1"
        ),
        "the changed voice playing",
        timeout=120,
    )
    assert browser.by_id("sts-error").text == ""
    assert browser.errors() == []


def test_the_microphone_is_transcribed_live(browser: Browser, admin: Creds) -> None:
    browser.sign_in(admin.api_key)
    browser.go("playground")
    browser.by_id("mic-start").click()
    # The fake microphone may start anywhere in its loop.
    browser.wait_heard("mic-committed", heard, error="mic-error")
    browser.by_id("mic-stop").click()
    wait_for(lambda: browser.by_id("mic-start").is_enabled(), "the microphone released")
    assert browser.by_id("mic-error").text == ""
    assert browser.errors() == []


def test_an_agent_is_made_and_talked_to_through_the_microphone(
    browser: Browser, admin: Creds
) -> None:
    browser.sign_in(admin.api_key)
    browser.go("playground")
    browser.find("#agent-new summary").click()
    browser.by_id("agent-create").click()
    wait_for(lambda: browser.by_id("agent-talk").is_enabled(), "the agent listed")
    browser.by_id("agent-talk").click()

    def lines() -> list[tuple[str, str]]:
        found: list[list[str]] = browser.js(
            "return [...document.querySelectorAll('#agent-log li')]"
            ".map((li) => [li.className, li.textContent])"
        )
        return [(who, text) for who, text in found]

    def answered() -> list[tuple[str, str]] | None:
        said = lines()
        users = [i for i, (who, text) in enumerate(said) if who == "user" and heard(text)]
        if users and any(who == "assistant" for who, _ in said[users[0] + 1 :]):
            return said
        return None

    said = wait_for(answered, "the caller heard and answered", timeout=180)
    assert said[0] == ("assistant", "Hello, how can I help?")
    browser.by_id("agent-hang-up").click()
    wait_for(lambda: browser.by_id("agent-talk").is_enabled(), "the call over")
    assert browser.by_id("agent-error").text == ""
    assert browser.errors() == []


def test_an_admin_sets_an_agents_privacy(browser: Browser, admin: Creds) -> None:
    browser.sign_in(admin.api_key)
    browser.go("admin")
    row = "#admin-agents tr"
    wait_for(lambda: browser.finds(row), "the agent made above")
    browser.find(f"{row} input[data-setting=zero_retention_mode]").click()
    browser.find(f"{row} [data-action=save]").click()
    wait_for(lambda: ".zero_retention_mode" in browser.text_of("admin-audit"), "the change audited")
    wait_for(
        lambda: browser.js(
            "const b = document.querySelector("
            "'#admin-agents input[data-setting=zero_retention_mode]'); return b && b.checked"
        ),
        "the setting shown as stored",
    )
    assert browser.by_id("agents-error").text == ""
    assert browser.errors() == []


def test_chat_streams_an_answer(browser: Browser, admin: Creds) -> None:
    browser.sign_in(admin.api_key)
    browser.go("playground")
    wait_for(lambda: browser.finds("#chat-model option"), "the chat models")
    browser.by_id("chat-input").send_keys("Say hello.")
    browser.by_id("chat-go").click()
    wait_for(
        lambda: browser.js(
            "const a = document.querySelector('#chat-log li.assistant');"
            "return a && a.textContent.trim() && !document.getElementById('chat-go').disabled"
        ),
        "an answer",
        timeout=120,
    )
    assert [li.get_attribute("class") for li in browser.finds("#chat-log li")] == [
        "user",
        "assistant",
    ]
    assert browser.by_id("chat-error").text == ""
    assert browser.errors() == []


def test_history_lists_plays_downloads_and_deletes(
    browser: Browser, server: RunningServer, admin: Creds, artefacts: Path
) -> None:
    browser.sign_in(admin.api_key)
    browser.go("history")
    rows = wait_for(lambda: history_rows(browser), "history rows")
    browser.screenshot(artefacts, "history")
    spoken = [r for r in rows if browser.finds(f"tr[data-id='{r}'] [data-action=play]")]
    assert len(spoken) >= 2  # the two syntheses above
    first = browser.find(f"#history-rows tr[data-id='{spoken[0]}']")
    rows = spoken
    first.find_element("css selector", "[data-action=play]").click()
    wait_for(
        lambda: browser.js(
            "const a = document.getElementById('history-audio');"
            "return isFinite(a.duration) && a.duration > 0"
        ),
        "the history item playing",
    )
    first.find_element("css selector", "[data-action=download]").click()
    saved = wait_for(lambda: list(browser.downloads.glob(f"{rows[0]}.*")), "the downloaded file")
    assert saved[0].stat().st_size > 1000

    first.find_element("css selector", "[data-action=delete]").click()
    wait_for(lambda: rows[0] not in history_rows(browser), "the row gone")
    gone = httpx.get(f"{server.url}/v1/history/{rows[0]}", headers={"xi-api-key": admin.api_key})
    assert gone.status_code == 404

    # Several at once: one zip.
    two = rows[1:3]
    assert len(two) == 2  # the second synthesis, the dialogue or the voice changer
    for item in two:
        browser.find(f"#history-rows tr[data-id='{item}'] input[type=checkbox]").click()
    browser.by_id("history-download-selected").click()
    (archive,) = wait_for(lambda: list(browser.downloads.glob("history*.zip")), "the zip")
    with zipfile.ZipFile(archive) as opened:
        assert sorted(n.split(".")[0] for n in opened.namelist()) == sorted(two)

    # Search: only the dialogue says "whisper".
    browser.by_id("history-search").send_keys("whisper")
    browser.find("#history-search-form button[type=submit]").click()
    wait_for(lambda: len(history_rows(browser)) == 1, "one item found")
    assert "whisper" in browser.text_of("history-rows")
    assert browser.errors() == []


@pytest.mark.parametrize("page", ["playground", "history", "proof"])
def test_every_page_opens_without_errors(
    browser: Browser, admin: Creds, artefacts: Path, page: str
) -> None:
    browser.sign_in(admin.api_key)
    browser.go(page)
    if page == "proof":
        wait_for(lambda: browser.finds("#proof-models tr"), "the model list")
    browser.screenshot(artefacts, f"{page}-page")
    assert browser.errors() == []
