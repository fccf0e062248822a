"""The simulation page in a real browser: run a scenario as a job, compare two, see the plots."""

from __future__ import annotations

from tests.web.conftest import ARTIFACTS, login
from tests.web.test_dashboard_e2e import _serious_violations

FORWARDER = "forwarder@demo.corridor"


def test_run_and_compare_scenarios(server, browser):
    url, logins = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "simulation.html")
    page.wait_for_selector("#sim-login:not([hidden])")  # not logged in: sent to the dashboard
    login(page, url, FORWARDER, logins[FORWARDER])
    page.goto(url + "simulation.html")
    page.wait_for_selector("#sim-a option[value='wb-2030']", state="attached")
    page.select_option("#sim-a", "wb-2030")
    assert "demand x2.444" in page.inner_text("#sim-changes")
    page.select_option("#sim-a", "base-2024")
    page.select_option("#sim-b", "aktau-storm")
    page.fill("#sim-days", "5")
    page.click("#sim-run")
    page.wait_for_selector("#sim-diff-card:not([hidden])", timeout=90_000)
    assert "vessels:" in page.inner_text("#sim-bottlenecks")
    assert page.locator("#sim-transit svg circle").count() >= 16
    assert "aktau-storm" in page.inner_text("#sim-diff")
    page.screenshot(path=str(ARTIFACTS / "e2e-simulation.png"), full_page=True)
    assert _serious_violations(page) == []
    assert errors == []
