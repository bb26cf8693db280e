"""The console's workspace and proof pages in a real browser: the ZDR switch and the server's
refusals, member keys, and the audit run from the page.

One server and one Chromium (no microphone: nothing here speaks) for the module; each test
ends with no console error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import Creds, RunningServer
from tests.polling import wait_for
from tests.web.browser import Browser, launch


@pytest.fixture(scope="module")
def browser(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    started = launch(tmp_path_factory.mktemp("browser"), server.url)
    yield started
    started.quit()


def test_an_admin_switches_zdr_and_history_gives_way_to_the_reason(
    browser: Browser, admin: Creds, artefacts: Path
) -> None:
    browser.sign_in(admin.api_key)
    browser.go("admin")
    wait_for(lambda: browser.finds("#admin-keys tr"), "the key list")
    wait_for(lambda: browser.finds("#admin-usage h4"), "the usage charts")
    browser.screenshot(artefacts, "workspace")
    browser.js("document.getElementById('admin-usage').scrollIntoView()")
    browser.screenshot(artefacts, "workspace-usage")
    browser.js("window.scrollTo(0, 0)")
    browser.by_id("admin-zdr").click()
    wait_for(
        lambda: (
            "zdr_enabled" in browser.js("return document.getElementById('admin-audit').textContent")
        ),
        "the change in the audit log",
    )
    browser.go("history")
    browser.wait_visible("history-zdr")
    assert not browser.by_id("history-list").is_displayed()
    assert browser.by_id("who-zdr").text == "zero data retention"
    browser.screenshot(artefacts, "history-zdr")

    browser.go("admin")
    wait_for(lambda: browser.by_id("admin-zdr").is_selected(), "the switch shown on")
    browser.by_id("admin-zdr").click()
    wait_for(lambda: not browser.by_id("admin-zdr").is_selected(), "the switch shown off")
    # The page may be left only once the server has taken the change (it is then in the log).
    wait_for(
        lambda: (
            browser.js("return document.getElementById('admin-audit').textContent").count(
                "zdr_enabled"
            )
            >= 2
        ),
        "the second change in the audit log",
    )
    browser.go("history")
    browser.wait_visible("history-list")
    assert browser.errors() == []


def test_zdr_on_a_free_plan_shows_the_servers_reason(
    browser: Browser, server: RunningServer
) -> None:
    free = server.create_workspace("free", plan="free")
    browser.sign_in(free.api_key)
    browser.go("admin")
    browser.by_id("admin-zdr").click()
    message = browser.wait_text("admin-error", "the refusal")
    assert "enterprise" in message.lower()
    wait_for(lambda: not browser.by_id("admin-zdr").is_selected(), "the switch back off")
    assert [e for e in browser.errors() if "status of 403" not in e] == []


def test_a_member_key_made_in_the_console_sees_no_admin_controls(
    browser: Browser, admin: Creds, server: RunningServer
) -> None:
    browser.sign_in(admin.api_key)
    browser.go("admin")
    wait_for(lambda: browser.finds("#admin-keys tr"), "the key list")
    before = len(browser.finds("#admin-keys tr"))
    browser.find("#admin-key-form button").click()
    member_key = browser.wait_text("admin-new-key-value", "the new key")
    wait_for(lambda: len(browser.finds("#admin-keys tr")) == before + 1, "the key listed")

    browser.sign_out()
    assert browser.js("return sessionStorage.length") == 0
    browser.sign_in(member_key)
    assert not browser.by_id("nav-admin").is_displayed()
    browser.js("location.hash = 'admin'")
    browser.wait_visible("page-playground")
    assert not browser.by_id("page-admin").is_displayed()
    refused = httpx.get(f"{server.url}/v1/workspace/keys", headers={"xi-api-key": member_key})
    assert refused.status_code == 403
    assert browser.errors() == []


def test_the_audit_runs_from_the_proof_page(
    browser: Browser, server: RunningServer, artefacts: Path
) -> None:
    zdr = server.create_workspace("auditor", zdr=True)
    browser.sign_in(zdr.api_key)
    browser.go("proof")
    browser.by_id("proof-audit-only").send_keys("tts.openai")
    browser.by_id("proof-audit-go").click()
    wait_for(
        lambda: "PASS" in browser.text_of("proof-audit-state"), "the audit's pass", timeout=300
    )
    results = browser.text_of("proof-audit-results")
    assert "tts.openai" in results and "kept in history (expected)" in results
    assert "LEAK" not in results
    browser.screenshot(artefacts, "proof-audit")
    browser.by_id("proof-audit-download").click()
    report = wait_for(
        lambda: list(browser.downloads.glob("sottovoce-audit*.json")), "the report saved"
    )
    assert json.loads(report[0].read_text())["ok"] is True
    assert browser.errors() == []
