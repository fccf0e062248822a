"""The capacity page in a real browser: book, watch the line confirm it live, board, e-queue."""

from __future__ import annotations

from playwright.sync_api import expect


def _login(page, url: str, email: str, password: str) -> None:
    page.goto(url)
    page.fill("#cap-email", email)
    page.fill("#cap-password", password)
    page.click("#cap-login-form button[type=submit]")
    page.wait_for_selector("#cap-main:not([hidden])")
    page.wait_for_selector("#sailings-table tbody tr td")


def test_book_confirm_live_board_and_e_queue(server, browser):
    root, logins = server
    url = root + "capacity.html"
    errors: list[str] = []
    fwd = browser.new_page(viewport={"width": 1400, "height": 900})
    fwd.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(fwd, url, "forwarder@demo.corridor", logins["forwarder@demo.corridor"])
    # Free capacity of the next Aktau - Alat sailings, then a hold on the first one.
    assert fwd.locator("#sailings-table tbody tr").count() >= 10
    fwd.click("#sailings-table tbody tr:first-child button")
    fwd.select_option("#book-cargo", "40GP")
    fwd.fill("#book-items", "2")
    fwd.click("#book-form button[type=submit]")
    fwd.wait_for_selector("#book-error .ok")
    assert "held" in fwd.inner_text("#book-error")
    fwd.wait_for_selector("#bookings-table tbody tr td .badge")
    assert fwd.inner_text("#bookings-table tbody tr:first-child .badge") == "held"
    # An itinerary: every managed leg held at once.
    fwd.click("#itinerary-form button[type=submit]")
    fwd.wait_for_selector("#it-result h4", timeout=60_000)
    assert fwd.locator("#it-result li .badge").count() >= 2
    # The dispatch board: heat map and waiting-stock chart.
    assert fwd.locator("#heat tr").count() >= 2
    assert fwd.locator("#waiting-chart polyline").count() >= 1
    expect(fwd.locator("#live")).to_have_text("live: on")
    # The ferry line's login confirms; the forwarder's page updates without a reload.
    line = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    _login(line, url, "ferry.asco@demo.corridor", logins["ferry.asco@demo.corridor"])
    line.wait_for_selector("#bookings-table button[data-act=confirm]")
    line.click("#bookings-table button[data-act=confirm] >> nth=0")
    line.wait_for_selector("#bookings-table .badge:text('confirmed')")
    fwd.wait_for_selector("#bookings-table .badge:text('confirmed')", timeout=15_000)
    # E-queue: a ticket with its QR code, verified; an altered one is not.
    fwd.click("#queue-form button[type=submit]")
    fwd.wait_for_selector("#ticket .qr svg")
    fwd.click("#verify-form button[type=submit]")
    fwd.wait_for_selector("#verify-result .ok")
    token = fwd.input_value("#v-ticket")
    head, payload, sig = token.split(".")
    fwd.fill("#v-ticket", f"{head}.{payload}.{sig[:-2]}{'AA' if sig[-2:] != 'AA' else 'BB'}")
    fwd.click("#verify-form button[type=submit]")
    fwd.wait_for_selector("#verify-result .error")
    assert "ticket" in fwd.inner_text("#verify-result")
    assert errors == []
