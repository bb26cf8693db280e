"""A real headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by Selenium.

Chromium gets a fresh profile (``--user-data-dir``) and HOME of its own under the test's
temporary directory, so what it keeps can be searched afterwards and nothing lands in the real
HOME. The background-networking flags keep it from calling out (its connections are refused
here anyway). Every console message is collected: a test ends by asserting there were no
errors, which also catches failed requests ("Failed to load resource") and CSP violations.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.polling import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
    "--window-size=1280,800",
)


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


@dataclass
class Browser:
    root: Path
    driver: webdriver.Chrome
    base_url: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def profile(self) -> Path:
        return self.root / "profile"

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    def open(self, fragment: str = "") -> None:
        self.driver.get(f"{self.base_url}/{fragment}")

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def by_id(self, element_id: str) -> WebElement:
        return self.driver.find_element(By.ID, element_id)

    def text_of(self, element_id: str) -> str:
        """The element's whole text, read in one go (safe while the page rebuilds it)."""
        text: str = self.js(
            "const e = document.getElementById(arguments[0]); return e ? e.textContent : ''",
            element_id,
        )
        return text

    def js(self, script: str, *args: object) -> Any:
        return self.driver.execute_script(script, *args)

    def js_async(self, script: str, *args: object) -> Any:
        """``script`` ends by calling ``done(value)`` (the last argument)."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];" + script, *args
        )

    def wait_text(self, element_id: str, what: str, timeout: float = 60) -> str:
        """Wait until the element's text is not empty; return it."""

        def text() -> str:
            found = self.driver.find_elements(By.ID, element_id)
            return str(found[0].text) if found else ""

        return wait_for(text, what, timeout=timeout, interval=0.1)

    def wait_heard(
        self, shown: str, heard: Callable[[str], bool], *, error: str, timeout: float = 120
    ) -> str:
        """Wait until the transcript in ``#shown`` passes ``heard``; return it. An error the
        page shows in ``#error`` fails at once; a timeout names what the page had (partial and
        committed text, its error, console messages), so a slow machine and a broken page are
        told apart."""

        def state() -> dict[str, str]:
            found: dict[str, str] = self.js(
                "const t = (i) => (document.getElementById(i) || {}).textContent || '';"
                "return {shown: t(arguments[0]), error: t(arguments[1]),"
                " partial: t(arguments[0].replace('committed', 'partial'))}",
                shown,
                error,
            )
            return found

        deadline = time.monotonic() + timeout
        while True:
            now = state()
            if heard(now["shown"]):
                return now["shown"]
            if now["error"] or time.monotonic() > deadline:
                raise AssertionError(
                    f"no transcript in #{shown} after {timeout:g} s: {now}, "
                    f"console: {[m['message'] for m in self.console()][-10:]}"
                )
            time.sleep(0.25)

    def wait_visible(self, element_id: str, visible: bool = True, timeout: float = 30) -> None:
        wait_for(
            lambda: self.by_id(element_id).is_displayed() == visible,
            f"#{element_id} {'shown' if visible else 'hidden'}",
            timeout=timeout,
            interval=0.05,
        )

    def sign_in(self, key: str) -> None:
        """Sign in afresh (a key already in this tab is forgotten first). Console messages from
        before are set aside: each test checks its own."""
        self.console()
        self.open()
        self.js("sessionStorage.clear()")
        self.driver.refresh()
        self.wait_visible("page-sign-in")
        field_ = self.by_id("api-key")
        field_.clear()
        field_.send_keys(key)
        self.find("#sign-in-form button[type=submit]").click()
        self.wait_visible("nav")

    def sign_out(self) -> None:
        self.by_id("sign-out").click()
        self.wait_visible("page-sign-in")

    def go(self, page: str) -> None:
        self.js("location.hash = arguments[0]", page)
        self.wait_visible(f"page-{page}")

    def console(self) -> list[dict[str, Any]]:
        """Every console message since the browser started (kept across calls)."""
        self.messages.extend(self.driver.get_log("browser"))
        return self.messages

    def errors(self, allowed: tuple[str, ...] = ()) -> list[str]:
        """Console errors (failed requests and CSP violations included) not yet checked."""
        new = self.driver.get_log("browser")
        self.messages.extend(new)
        return [
            m["message"]
            for m in new
            if m["level"] == "SEVERE" and not any(a in m["message"] for a in allowed)
        ]

    def screenshot(self, directory: Path, name: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def quit(self) -> None:
        with contextlib.suppress(WebDriverException):
            self.driver.quit()


def launch(root: Path, base_url: str, extra_flags: tuple[str, ...] = ()) -> Browser:
    if not chromium_available():
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    home = root / "home"
    for d in (root / "profile", root / "downloads", home):
        d.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={root / 'profile'}", *extra_flags):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TMPDIR": str(root),
        "PATH": "/usr/bin:/bin",
    }
    # Beside the browser's directory, not in it: the driver logs the keys a test types.
    driver_log = root.parent / f"{root.name}-chromedriver.log"
    service = Service(executable_path=CHROMEDRIVER, env=env, log_output=str(driver_log))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior",
        {"behavior": "allow", "downloadPath": str(root / "downloads")},
    )
    return Browser(root, driver, base_url)


def remove_profile(browser: Browser) -> None:
    shutil.rmtree(browser.root, ignore_errors=True)
