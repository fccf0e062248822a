"""End to end in a real browser (Debian's Chromium driven by Playwright) against a real server."""

from __future__ import annotations

from corridor.customs.examples import example_declaration
from tests.web.conftest import ARTIFACTS, login


def test_plan_book_list_and_isolation(server, browser):
    url, logins = server
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 850})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(url)
    page.fill("#login-email", "forwarder@demo.corridor")
    page.fill("#login-password", "wrong password")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:has-text('wrong e-mail or password')")

    login(page, url, "forwarder@demo.corridor", logins["forwarder@demo.corridor"])
    assert page.locator("#map .leaflet-interactive").count() > 100  # links and nodes drawn
    page.fill("#route-from", "Xi'an International Port (Xinzhu)")
    page.fill("#route-to", "Duisburg (duisport)")
    page.fill("#route-ready", "2026-03-03")
    page.fill("#route-containers", "40")
    page.click("#plan-button")
    page.wait_for_selector("#option-0")
    assert "days" in page.inner_text("#option-0 h3")
    page.click("#compare-button")
    page.wait_for_selector("#compare-table")
    assert page.locator("#compare-table tbody tr").count() == 9
    page.click("#plan-button")
    page.wait_for_selector("#option-0")
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "e2e-planner.png"))
    page.click("#option-0 button.book")
    page.wait_for_selector("#shipments-view:not([hidden]) #shipments-table tbody tr")
    row = page.inner_text("#shipments-table tbody tr")
    assert "Duisburg" in row
    assert "planned" in row
    reference = page.inner_text("#shipments-table tbody tr td:first-child")
    page.screenshot(path=str(ARTIFACTS / "e2e-shipments.png"))
    page.click("#logout")
    page.wait_for_selector("#login-view:not([hidden])")

    login(page, url, "other-forwarder@demo.corridor", logins["other-forwarder@demo.corridor"])
    page.click("#nav-shipments")
    page.wait_for_selector("#shipments-empty:not([hidden])")
    assert reference not in page.inner_text("#shipments-view")
    assert errors == []


def test_customs_officer_releases_a_green_consignment(server, browser):
    import httpx

    url, logins = server
    api = httpx.Client(base_url=url + "api/v1")

    def token(email: str, password: str) -> dict[str, str]:
        answer = api.post("/auth/login", json={"email": email, "password": password}).json()
        return {"Authorization": f"Bearer {answer['token']}"}

    admin = token("admin@demo.corridor", logins["admin@demo.corridor"])
    org = api.post(
        "/admin/organisations",
        json={"name": "KZ customs", "kind": "customs", "country": "KZ"},
        headers=admin,
    ).json()
    api.post(
        "/admin/users",
        json={
            "organisation_id": org["id"],
            "email": "kz@customs.test",
            "name": "KZ officer",
            "password": "kz officer pw",
        },
        headers=admin,
    )
    kz = token("kz@customs.test", "kz officer pw")
    fwd = token("forwarder@demo.corridor", logins["forwarder@demo.corridor"])
    route = {
        "origin": "dostyk",
        "destination": "tbilisi",
        "ready": "2026-03-03T08:00:00Z",
        "containers": 1,
        "via": ["aktau_port"],
        "best": "time",
    }
    shipment = api.post(
        "/shipments", json={"reference": "E2E-C", "route": route}, headers=fwd
    ).json()
    body = example_declaration("E2E-LRN", aeo=False)
    decl = api.post(
        "/customs/declarations",
        json={"shipment_id": shipment["id"], "declaration": body},
        headers=fwd,
    ).json()
    offices = [o["id"] for o in decl["offices"]]
    for action, index in (("accept", 0), ("release", 0), ("arrive", 1), ("pass", 1)):
        response = api.post(
            f"/customs/declarations/{decl['id']}/actions",
            json={"action": action, "office_id": offices[index]},
            headers=kz,
        )
        assert response.status_code == 200, response.text

    page = browser.new_page(viewport={"width": 1400, "height": 850})
    login(page, url, "customs.az@demo.corridor", logins["customs.az@demo.corridor"])
    page.click("#nav-customs")
    page.wait_for_selector("#customs-view:not([hidden])")
    page.select_option("#office-select", offices[2])
    page.wait_for_selector("#expected-table tbody tr:has-text('E2E-LRN')")
    row = page.locator("#expected-table tbody tr", has_text="E2E-LRN")
    assert "green" in row.inner_text()
    row.locator("button.release").click()
    page.wait_for_selector("#office-kpis:has-text('Released here: 1')")
    page.screenshot(path=str(ARTIFACTS / "e2e-customs.png"))
    after = api.get(f"/customs/declarations/{decl['id']}", headers=fwd).json()
    assert after["next_office"] == 3
    api.close()
