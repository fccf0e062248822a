"""Every role's work in the dashboard alone, in Debian's Chromium, on a desktop and on a phone.

One declaration of the seeded demo goes from lodging at Xi'an to discharge at Istanbul: the
forwarder lodges it on the shipment page, then the customs authority of each country on the route
(CN, KZ, AZ, GE, TR) logs in, acts at its offices in turn and logs out. The administrator manages
users and tokens. axe-core checks every page; screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store.seed import DEMO_DECLARABLE
from tests.servers import running
from tests.web.conftest import ARTIFACTS, _leaflet_built, login
from tests.web.test_dashboard_e2e import _serious_violations

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LRN = "LRN-ROLES-1"


@pytest.fixture(scope="module")
def corridor(tmp_path_factory, demo_template) -> Iterator[tuple[str, dict[str, str]]]:
    """One server for the whole module over a copy of the seeded demo (the tests build on each
    other's work: the forwarder's declaration is what the officers act on)."""
    _leaflet_built()
    tmp = tmp_path_factory.mktemp("roles")
    db = demo_template.copy(tmp)
    with running(create_app(Settings(var_dir=tmp), db)) as live:
        yield live.url, demo_template.logins
    db.dispose()


def _api(url: str, logins: dict[str, str], email: str) -> httpx.Client:
    client = httpx.Client(base_url=url + "api/v1")
    answer = client.post("/auth/login", json={"email": email, "password": logins[email]})
    client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return client


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391"
        " && !e.closest('.table-scroll')).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    assert width <= PHONE["width"], (width, wide)


def _lodge(page: Any) -> None:
    """The forwarder lodges the transit declaration of the demo shipment on its page."""
    page.click("#nav-shipments")
    page.click(f"#shipments-table a:has-text('{DEMO_DECLARABLE}')")
    page.wait_for_selector("#declaration-form:not([hidden])")
    for field, value in {
        "#d-lrn": LRN,
        "#d-holder-id": "CN9133010000000000",
        "#d-holder-country": "CN",
        "#d-consignor": "Xi'an Machinery Works",
        "#d-consignee": "Istanbul Makina",
        "#d-hs": "220830",  # spirits: a documents check at Azerbaijani offices
        "#d-description": "Whisky in bottles",
        "#d-packages": "4",
        "#d-gross": "12000",
        "#d-net": "11000",
        "#d-value": "90000",
        "#d-container": "CSQU3054383",
        "#d-seals": "CN-SEAL-1",
        "#d-guarantee-ref": "GRN-ROLES",
        "#d-guarantee-amount": "20000",
    }.items():
        if value is None:
            page.check(field)
        else:
            page.fill(field, value)
    page.click("#d-submit")
    page.wait_for_selector("#sh-customs table")


def _login_here(page: Any, email: str, password: str) -> None:
    """Log in on the login screen shown after a logout, without reloading the page."""
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#nav:not([hidden])")


def _queue_row(page: Any, office: str) -> Any:
    page.select_option("#office-select", office)
    page.wait_for_selector(f"#expected-table[data-office='{office}'] tbody tr:has-text('{LRN}')")
    return page.locator(f"#expected-table[data-office='{office}'] tbody tr", has_text=LRN)


def _act_at(page: Any, office: str) -> None:
    """Release (or pass, or discharge) at one office, inspecting first where the channel asks."""
    row = _queue_row(page, office)
    if row.locator("button.inspect").count():
        # Releasing before the inspection is refused (409), and the officer sees why, in the row.
        row.locator("button.release").click()
        page.wait_for_selector(f"#expected-table tr:has-text('{LRN}') .row-error:not(:empty)")
        assert "check" in row.locator(".row-error").inner_text()
        row.locator("button.inspect").click()
        page.wait_for_selector("#inspection-form:not([hidden])")
        page.click("#inspection-submit")
        page.wait_for_selector("#inspection-form", state="hidden")
        row = _queue_row(page, office)
    row.locator("button.release").click()
    page.wait_for_selector(
        f"#expected-table[data-office='{office}'] tbody tr:has-text('{LRN}')", state="detached"
    )


def test_one_declaration_from_lodging_to_discharge_role_by_role(corridor, browser):
    url, logins = corridor
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    login(page, url, "forwarder@demo.corridor", logins["forwarder@demo.corridor"])
    _lodge(page)
    page.screenshot(path=str(ARTIFACTS / "roles-forwarder-lodged.png"), full_page=True)
    fwd = _api(url, logins, "forwarder@demo.corridor")
    declaration = next(d for d in fwd.get("/customs/declarations").json() if d["lrn"] == LRN)
    route = [(o["id"], o["country"]) for o in declaration["offices"]]
    # Spirits score 30 points at Azerbaijani offices (customs_risk_profiles.csv: az-spirits).
    channels = [o["channel"] for o in declaration["offices"]]
    assert channels == ["green"] * 4 + ["yellow"] * 2 + ["green"] * 4
    assert [c for _, c in route] == ["CN", "CN", "KZ", "KZ", "AZ", "AZ", "GE", "GE", "TR", "TR"]
    page.click("#logout")
    page.wait_for_selector("#login-view:not([hidden])")

    previous: set[str] = set()
    for country in ("CN", "KZ", "AZ", "GE", "TR"):
        email = f"customs.{country.lower()}@demo.corridor"
        if country == "GE":
            page.set_viewport_size(PHONE)
        _login_here(page, email, logins[email])
        page.click("#nav-customs")
        page.wait_for_selector(
            "#customs-view:not([hidden]) #office-select option", state="attached"
        )
        offices = page.eval_on_selector_all("#office-select option", "els => els.map(e => e.value)")
        assert not previous & set(offices)  # the last officer's offices went with the logout
        previous = set(offices)
        here = [office for office, c in route if c == country]
        first = _queue_row(page, here[0])
        assert "CSQU3054383" in first.inner_text()
        assert "CN-SEAL-1" in first.inner_text()
        assert "Whisky in bottles" in first.inner_text()
        # The next office of this authority waits for the first one, and says so.
        waiting = _queue_row(page, here[1])
        assert waiting.locator("button").count() == 1  # only the detail link
        assert "Waiting for" in waiting.inner_text()
        assert _serious_violations(page) == []
        if country == "KZ":
            # Two tabs of one officer: the stale one is refused with 409, shown where it acted.
            stale = context.new_page()
            stale.goto(url + "#customs")
            stale_row = _queue_row(stale, here[0])
            _act_at(page, here[0])
            stale_row.locator("button.release").first.click()
            stale.wait_for_selector(f"#expected-table tr:has-text('{LRN}') .row-error:not(:empty)")
            assert "expected at office" in stale_row.locator(".row-error").inner_text()
            stale.close()
            _act_at(page, here[1])
        else:
            for office in here:
                _act_at(page, office)
        page.wait_for_selector(f"#history-table tbody tr:has-text('{LRN}')")
        if country == "GE":
            _no_sideways_scroll(page)
            page.screenshot(path=str(ARTIFACTS / "roles-customs-phone.png"), full_page=True)
            page.set_viewport_size(DESKTOP)
        if country == "TR":
            # Discharged at destination: the detail shows the signed records and verifies them.
            page.click(f"#history-table button.detail:has-text('{LRN}')")
            page.wait_for_selector("#detail-log tbody tr")
            assert page.locator("#detail-log tbody tr").count() >= 10
            page.click("#detail-verify-button")
            page.wait_for_selector("#detail-verify:has-text('verified')")
            checked = page.locator("#detail-log td.verified").all_inner_texts()
            assert set(checked) == {"valid"}
            assert page.locator("#kpi-charts svg").count() == 3
            assert _serious_violations(page) == []
            page.screenshot(path=str(ARTIFACTS / "roles-customs-destination.png"), full_page=True)
        page.click("#logout")
        page.wait_for_selector("#login-view:not([hidden])")
        assert page.eval_on_selector_all("#office-select option", "els => els.length") == 0

    final = fwd.get(f"/customs/declarations/{declaration['id']}").json()
    assert final["state"] == "discharged"
    fwd.close()
    context.close()
    assert errors == []


@pytest.mark.parametrize("name", ["desktop", "phone"])
def test_administrator_creates_a_user_and_revokes_a_token(corridor, browser, name):
    url, logins = corridor
    ARTIFACTS.mkdir(exist_ok=True)
    viewport = DESKTOP if name == "desktop" else PHONE
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "admin.html")
    page.wait_for_selector("#admin-gate:not([hidden])")
    assert _serious_violations(page) == []
    login(page, url, "admin@demo.corridor", logins["admin@demo.corridor"])
    page.click("#nav-admin")
    page.wait_for_selector("#orgs-table tbody tr:has-text('Kazakhstan Temir Zholy')")
    page.wait_for_selector("#audit-table tbody tr, #audit-empty:not([hidden])")

    organisation = f"Georgian Railway ({name} test)"
    page.fill("#org-name", organisation)
    page.select_option("#org-kind", "carrier")
    page.click("#org-submit")
    page.wait_for_selector(f"#orgs-table tbody tr:has-text('{organisation}')")
    assert page.locator("#user-org option:checked").inner_text() == f"{organisation} (carrier)"

    email = f"planner.{name}@silkway.test"
    page.select_option("#user-org", label="Silk Way Forwarding (demo) (forwarder)")
    page.fill("#user-email", email)
    page.fill("#user-name", "New planner")
    page.fill("#user-password", "short")
    page.evaluate("document.getElementById('user-password').removeAttribute('minlength')")
    page.click("#user-submit")
    page.wait_for_selector("#user-error:has-text('password')")  # the API's own reason
    page.fill("#user-password", "a long enough password")
    page.click("#user-submit")
    row = page.locator("#users-table tbody tr", has_text=email)
    row.wait_for()

    row.locator("button.tokens").click()
    page.wait_for_selector("#tokens-card:not([hidden])")
    page.fill("#token-name", "erp")
    page.click("#token-submit")
    page.wait_for_selector("#token-value")
    value = page.inner_text("#token-value")
    me = httpx.get(url + "api/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert me.status_code == 200
    assert me.json()["email"] == email
    page.click("#tokens-table tr[data-name='erp'] button.revoke")
    page.wait_for_selector("#tokens-table tr[data-name='erp']:has-text('revoked')")
    me = httpx.get(url + "api/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert me.status_code == 401

    row.locator("button.disable").click()
    page.wait_for_selector(f"#users-table tr.disabled-user:has-text('{email}')")
    assert _serious_violations(page) == []
    if viewport is PHONE:
        _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / f"roles-admin-{name}.png"), full_page=True)
    context.close()
    assert errors == []
