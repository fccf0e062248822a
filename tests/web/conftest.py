"""Browser tests: a real server on loopback and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corridor.api import create_app
from corridor.settings import Settings
from corridor.web import STATIC_DIR
from tests.servers import running

#: Debian's chromium-headless-shell, the engine Playwright itself runs headless tests on: the same
#: Blink and V8 as Chromium without the desktop browser around them, about a third less CPU per
#: page here (the browser tests took 64-66 s of CPU with it, 81-92 s with full Chromium). Its
#: /usr/bin entry is a shell script that does not exec, so the binary is named. Full Chromium is
#: the fallback where only it is installed.
CHROMIUM = next(
    (
        path
        for path in ("/usr/lib/chromium/chromium-headless-shell", shutil.which("chromium"))
        if path and Path(path).exists()
    ),
    "/usr/lib/chromium/chromium-headless-shell",
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _leaflet_built() -> None:
    if not (STATIC_DIR / "vendor" / "leaflet" / "leaflet.js").is_file():
        pytest.fail(
            "Leaflet is not built into the dashboard: run 'python3 dev.py test' (it installs it from npm)"
        )


@pytest.fixture
def server(tmp_path, demo_template) -> Iterator[tuple[str, dict[str, str]]]:
    """The dashboard and API on a loopback port over a fresh copy of the seeded demo."""
    _leaflet_built()
    db = demo_template.copy(tmp_path)
    with running(create_app(Settings(var_dir=tmp_path), db)) as live:
        yield live.url, demo_template.logins
    db.dispose()


#: Chromium flags: no GPU, no network or update traffic of its own (the platform works offline).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Chromium:
    """One Chromium (and one Playwright driver) for a run of consecutive browser tests.

    Launching costs about 1 s of CPU (Chromium's processes and Playwright's Node.js driver), and
    the browser tests of several modules usually run back to back on a test worker. It is closed
    before the first test that is not a browser test: Playwright's sync API keeps an asyncio loop
    running in the main thread while it is open, and a test that calls asyncio.run() would fail
    on it. Isolation between tests comes from contexts, which `browser` closes after each test.
    """

    def __init__(self) -> None:
        self._playwright: Any = None
        self.instance: Any = None

    def get(self) -> Any:
        if self.instance is None:
            if not Path(CHROMIUM).exists():
                if os.environ.get("CI"):
                    pytest.fail(f"Chromium not found at {CHROMIUM} (.ci/run installs it)")
                pytest.skip(
                    f"Chromium not found at {CHROMIUM}: apt-get install chromium-headless-shell"
                )
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright()
            driver = self._playwright.__enter__()
            self.instance = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return self.instance

    def close(self) -> None:
        if self._playwright is not None:
            try:
                if self.instance is not None:
                    self.instance.close()
            finally:
                self._playwright.__exit__(None, None, None)
                self._playwright = self.instance = None


_CHROMIUM = _Chromium()


def _uses_browser(item: Any) -> bool:
    return item is not None and "browser" in getattr(item, "fixturenames", ())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Iterator[None]:
    """After the test's own teardown (its contexts closed), close the shared Chromium unless the
    next test in this process uses it too."""
    try:
        return (yield)
    finally:
        if not _uses_browser(nextitem):
            _CHROMIUM.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    """This process's Chromium; every context and page the test opened is closed after it, so no
    cookie, storage or open page reaches the next test."""
    instance = _CHROMIUM.get()
    yield instance
    for context in list(instance.contexts):
        context.close()


def login(page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#planner-view:not([hidden])")
