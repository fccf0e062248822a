"""Browser tests: a real server on loopback and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from corridor.api import create_app
from corridor.settings import PACKAGE_DATA_DIR, Settings
from corridor.store.db import Database
from corridor.store.seed import prepare
from corridor.web import STATIC_DIR

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, dict[str, str]]]:
    if not (STATIC_DIR / "vendor" / "leaflet" / "leaflet.js").is_file():
        pytest.fail(
            "Leaflet is not built into the dashboard: run 'python3 dev.py test' (it installs it from npm)"
        )
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    logins = {lg.email: lg.password for lg in prepare(db, PACKAGE_DATA_DIR)}
    port = _free_port()
    config = uvicorn.Config(
        create_app(Settings(var_dir=tmp_path), db), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline:
            pytest.fail("server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", logins
    uv.should_exit = True
    thread.join(10)
    db.dispose()


@pytest.fixture
def browser():
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


def login(page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#planner-view:not([hidden])")
