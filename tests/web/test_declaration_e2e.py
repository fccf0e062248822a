"""The forwarder amends a lodged transit declaration on the shipment page, in Chromium.

The API's field error appears next to the field it names (in the page's language), the amended
goods, seals and guarantee show once saved, and the signed log lists the amendment.
"""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from corridor.store.seed import DEMO_DECLARABLE
from tests.web.conftest import ARTIFACTS, login
from tests.web.test_dashboard_e2e import _serious_violations
from tests.web.test_roles_e2e import LRN, _lodge

FORWARDER = "forwarder@demo.corridor"


def _amend(page: Any, hs: str, seals: str, amount: str) -> None:
    page.fill("#d-hs", hs)
    page.fill("#d-seals", seals)
    page.fill("#d-guarantee-amount", amount)
    page.click("#d-submit")


def test_lodge_then_amend_with_a_field_error_first(server, browser):
    url, logins = server
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, url, FORWARDER, logins[FORWARDER])
    _lodge(page)
    page.wait_for_selector("#sh-decl-log li:has-text('lodged')")
    assert "version 1" in page.inner_text("#sh-customs")

    page.click("#d-amend-open")
    page.wait_for_selector("#declaration-form:not([hidden])")
    assert page.input_value("#d-hs") == "220830"  # the form holds the declaration as it stands
    assert page.evaluate("document.getElementById('d-lrn').readOnly") is True
    assert page.evaluate("document.activeElement.id") == "d-hs"
    # 010000 passes the browser's pattern but is no HS subheading: the API names the field.
    _amend(page, "010000", "CN-SEAL-2, CN-SEAL-3", "25000")
    page.wait_for_selector("#d-hs-error")
    assert "010000 is not a subheading of the HS nomenclature" in page.inner_text("#d-hs-error")
    assert page.get_attribute("#d-hs", "aria-invalid") == "true"
    assert page.get_attribute("#d-hs", "aria-describedby") == "d-hs-error"
    assert page.evaluate("document.getElementById('d-hs').nextElementSibling.id") == "d-hs-error"
    assert page.inner_text("#declaration-error") == ""
    assert _serious_violations(page) == []

    _amend(page, "220860", "CN-SEAL-2, CN-SEAL-3", "25000")  # vodka
    page.wait_for_selector("#sh-goods:has-text('220860')")
    page.wait_for_selector("#sh-decl-log li:has-text('amended')")
    assert page.is_hidden("#declaration-form")
    assert "CSQU3054383 (CN-SEAL-2, CN-SEAL-3)" in page.inner_text("#sh-containers")
    assert "25,000" in page.inner_text("#sh-guarantee")
    assert "version 2" in page.inner_text("#sh-customs")
    log = page.locator("#sh-decl-log li").all_inner_texts()
    assert [entry.split(": ")[1].split(" · ")[0] for entry in log] == [
        "amended",
        "lodged",
        "drafted",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "declaration-amended.png"), full_page=True)
    assert _serious_violations(page) == []

    # What the page shows is what is stored.
    with httpx.Client(base_url=url + "api/v1") as api:
        token = api.post(
            "/auth/login", json={"email": FORWARDER, "password": logins[FORWARDER]}
        ).json()["token"]
        api.headers["Authorization"] = f"Bearer {token}"
        (declaration,) = [d for d in api.get("/customs/declarations").json() if d["lrn"] == LRN]
    assert declaration["version"] == 2
    assert declaration["declaration"]["goods"][0]["hs_code"] == "220860"
    assert declaration["declaration"]["containers"][0]["seals"] == ["CN-SEAL-2", "CN-SEAL-3"]
    assert declaration["declaration"]["guarantee"]["amount"] == 25000
    assert errors == []
    context.close()


def test_api_errors_in_russian(server, browser):
    url, logins = server
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#login-view:not([hidden])")
    page.select_option("#lang-select", "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.fill("#login-email", FORWARDER)
    page.fill("#login-password", "not the password")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:not(:empty)")
    assert "неверный адрес электронной почты или пароль" in page.inner_text("#login-error")

    page.fill("#login-password", logins[FORWARDER])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#planner-view:not([hidden])")
    _lodge(page)
    page.click("#d-amend-open")
    _amend(page, "010000", "CN-SEAL-2", "20000")
    page.wait_for_selector("#d-hs-error")
    assert page.inner_text("#d-hs-error") == "010000 не является субпозицией номенклатуры ГС"
    assert "Изменить" not in page.inner_text("#d-submit")
    assert page.inner_text("#d-submit") == "Сохранить изменения"
    assert DEMO_DECLARABLE in page.inner_text("#sh-reference")
    assert _serious_violations(page) == []
    context.close()
