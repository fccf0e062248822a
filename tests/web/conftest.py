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

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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


@pytest.fixture(scope="module")
def _chromium() -> Iterator[Any]:
    """One Chromium per test module; each test works in contexts of its own (see `browser`).

    Not longer-lived: Playwright's sync API keeps an asyncio loop running in the main thread while
    it is open, and tests of other modules that call asyncio.run() would fail on it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM} (.ci/run installs it)")
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def browser(_chromium) -> Iterator[Any]:
    """The Chromium of this process; every context and page the test opened is closed after it,
    so no cookie, storage or open page reaches the next test."""
    yield _chromium
    for context in list(_chromium.contexts):
        context.close()


def login(page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#planner-view:not([hidden])")
