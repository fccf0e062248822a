"""The notices page in a real browser: a port publishes a storm closure, a reader sees it arrive live,
the forwarder sees its shipment hit, and the port ends the notice."""

from __future__ import annotations

from tests.web.conftest import ARTIFACTS, login

PORT = "port.aktau@demo.corridor"


def test_publish_read_live_and_end(server, browser):
    url, logins = server
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    reader = browser.new_page(viewport={"width": 1200, "height": 800})
    reader.on("pageerror", lambda exc: errors.append(str(exc)))
    reader.goto(url + "notices.html")  # no login: notices are public
    reader.wait_for_selector("#live:has-text('live')")
    assert reader.is_hidden("#publish-card")

    port = browser.new_page(viewport={"width": 1200, "height": 800})
    port.on("pageerror", lambda exc: errors.append(str(exc)))
    login(port, url, PORT, logins[PORT])
    port.goto(url + "notices.html")
    port.wait_for_selector("#publish-card:not([hidden])")
    port.fill("#p-elements", "node:alat_port")  # not the port's own: refused, named
    port.fill("#p-from", "2026-03-03T00:00")
    port.fill("#p-until", "2026-03-06T00:00")
    port.fill("#p-text-en", "Storm warning: port closed")
    port.click("#p-submit")
    port.wait_for_selector("#publish-error:has-text('elements.0')")
    port.fill("#p-elements", "node:aktau_port")
    port.select_option("#p-severity", "severe")
    port.fill("#p-text-ru", "Шторм: порт закрыт")
    port.click("#p-submit")
    port.wait_for_selector(".notice.severe:has-text('Storm warning')")

    reader.wait_for_selector(".notice.severe:has-text('Storm warning')", timeout=10_000)
    reader.select_option("#lang", "ru")
    reader.wait_for_selector(".notice:has-text('Шторм')")
    reader.screenshot(path=str(ARTIFACTS / "e2e-notices.png"))

    # The dispatch board shows the notice in force and the lines it hits.
    board = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    board.goto(url + "capacity.html")
    board.fill("#cap-email", "ferry.asco@demo.corridor")
    board.fill("#cap-password", logins["ferry.asco@demo.corridor"])
    board.click("#cap-login-form button[type=submit]")
    board.wait_for_selector("#board-notices .alert:has-text('closure')")
    assert "lines hit" in board.inner_text("#board-notices")
    assert "aktau_port" in board.inner_text("#board-notices")

    port.once("dialog", lambda dialog: dialog.accept())
    port.click("[data-close]")
    port.wait_for_selector(".notice:has-text('(ended)')", state="detached")
    assert errors == []
