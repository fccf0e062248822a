"""Russian everywhere: every dashboard text comes from a catalogue, and the catalogues agree.

Two guards. Without a browser: en.json and ru.json hold the same keys with the same {parameters},
and every key the pages and scripts name exists. In Chromium: each page, opened in Russian with
the role that sees most of it, shows no English UI text. A text node counts as English UI when it
holds an English function word ("the", "of", "your" ...) or an English catalogue text that Russian
words differently; data (place, line and organisation names, codes) is marked ``translate="no"``,
the HTML attribute for text that a translation leaves alone.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from corridor.web import STATIC_DIR
from tests.web.conftest import ARTIFACTS
from tests.web.test_dashboard_e2e import _serious_violations

I18N = STATIC_DIR / "i18n"
PARAM = re.compile(r"\{(\w+)\}")


def catalogue(code: str) -> dict[str, str]:
    return dict(json.loads((I18N / f"{code}.json").read_text(encoding="utf-8")))


def test_every_language_has_every_key_with_the_same_parameters():
    english = catalogue("en")
    listed = json.loads((I18N / "index.json").read_text(encoding="utf-8"))
    assert set(listed) >= {"en", "ru"}
    for code in listed:
        other = catalogue(code)
        assert sorted(set(english) - set(other)) == [], f"{code}.json lacks these keys"
        assert sorted(set(other) - set(english)) == [], f"{code}.json has keys en.json lacks"
        for key, text in english.items():
            assert set(PARAM.findall(other[key])) == set(PARAM.findall(text)), (code, key)
            assert other[key].strip(), (code, key)


def _named_keys() -> set[str]:
    """Keys the pages (data-i18n*) and scripts (t("...") with a literal key) name."""
    keys: set[str] = set()
    for page in STATIC_DIR.glob("*.html"):
        keys |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', page.read_text()))
    for script in STATIC_DIR.glob("*.js"):
        keys |= set(re.findall(r'\bt\("([a-z_]+(?:\.[A-Za-z0-9_]+)+)"', script.read_text()))
    return keys


def test_every_key_a_page_or_script_names_exists():
    missing = sorted(_named_keys() - set(catalogue("en")))
    assert missing == []


#: English words that UI sentences cannot do without, and place or company names rarely hold.
FUNCTION_WORDS = (
    "the|of|and|to|for|in|on|with|your|you|is|are|not|no|yet|this|at|by|from|per|or|be|has|"
    "have|will|may|can|all|any|each|when|then|than|its|it|an|a|log|out|show|run|book|save"
)

SCAN = """([functionWords, englishOnly]) => {
  const words = new RegExp(`\\\\b(${functionWords})\\\\b`, "i");
  const english = new Set(englishOnly);
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest("script, style, code, [translate=no], .leaflet-container, [hidden]")) continue;
    if (el.closest("select") && !el.closest("option[data-i18n]")) continue;  // options filled from data
    if (!el.getClientRects().length && !el.closest("svg")) continue;  // not shown
    if (english.has(text) || (/[A-Za-z]{2,}/.test(text) && words.test(text))) found.push(`${el.tagName.toLowerCase()}#${el.id}: ${text.slice(0, 80)}`);
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
    if (el.closest("[translate=no], .leaflet-container, [hidden]")) continue;
    for (const attr of ["aria-label", "title", "placeholder"]) {
      const text = (el.getAttribute(attr) || "").trim();
      if (text && (english.has(text) || words.test(text))) found.push(`${el.tagName.toLowerCase()}#${el.id}[${attr}]: ${text.slice(0, 80)}`);
    }
  }
  return found;
}"""


def _english_only() -> list[str]:
    """Catalogue texts that Russian words differently (an English one on a Russian page is a slip)."""
    en, ru = catalogue("en"), catalogue("ru")
    return sorted({en[k] for k in en if en[k] != ru[k] and len(en[k]) > 3})


def _token(url: str, logins: dict[str, str], email: str) -> str:
    answer = httpx.post(
        url + "api/v1/auth/login", json={"email": email, "password": logins[email]}, timeout=30
    )
    return str(answer.json()["token"])


def _russian_page(browser: Any, token: str | None) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    script = "localStorage.setItem('corridor-lang', 'ru');"
    if token:
        script += f"localStorage.setItem('corridor-token', {json.dumps(token)});"
    context.add_init_script(script)
    return context, context.new_page()


def _english_on(page: Any) -> list[str]:
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.wait_for_load_state("networkidle")
    return list(page.evaluate(SCAN, [FUNCTION_WORDS, _english_only()]))


#: (role, page address, what to wait for once it has loaded its data)
PAGES = [
    (None, "", "#login-view:not([hidden])"),
    ("forwarder@demo.corridor", "#planner", "#planner-view:not([hidden])"),
    ("forwarder@demo.corridor", "#shipments", "#shipments-table tbody tr"),
    ("customs.az@demo.corridor", "#customs", "#customs-view:not([hidden])"),
    ("admin@demo.corridor", "admin.html", "#admin-view:not([hidden])"),
    ("forwarder@demo.corridor", "capacity.html", "#sailings-table tbody tr td"),
    ("port.aktau@demo.corridor", "notices.html", "#publish-card:not([hidden])"),
    ("forwarder@demo.corridor", "simulation.html", "#sim-a option"),
    (None, "no-such-page", "h1"),
]


@pytest.mark.parametrize(("email", "address", "ready"), PAGES, ids=[p[1] or "login" for p in PAGES])
def test_no_english_ui_text_in_russian(server, browser, email, address, ready):
    url, logins = server
    context, page = _russian_page(browser, _token(url, logins, email) if email else None)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + address)
    page.wait_for_selector(ready, state="attached")
    found = _english_on(page)
    name = (address or "login").replace("#", "").replace(".html", "").replace("/", "-")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ru-{name}.png"), full_page=True)
    assert found == [], "\n".join(found)
    assert _serious_violations(page) == []
    assert errors == []
    context.close()


def test_the_shipment_page_in_russian(server, browser):
    """The shipment page with a lodged declaration: timeline, customs, log, all in Russian."""
    url, logins = server
    email = "forwarder@demo.corridor"
    token = _token(url, logins, email)
    shipments = httpx.get(
        url + "api/v1/shipments", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    context, page = _russian_page(browser, token)
    page.goto(url + f"#shipment/{shipments[0]['id']}")
    page.wait_for_selector("#sh-reference:not(:empty)")
    page.wait_for_selector("#sh-legs tbody tr")
    found = _english_on(page)
    assert found == [], "\n".join(found)
    context.close()


def test_the_scanner_finds_hard_coded_english(server, browser):
    """The guard itself: English put into a Russian page is found, data marked as such is not."""
    url, _ = server
    context, page = _russian_page(browser, None)
    page.goto(url)
    page.wait_for_selector("#login-view:not([hidden])")
    page.evaluate(
        """() => {
        const p = document.createElement('p'); p.id = 'slip'; p.textContent = 'Enter your password';
        const d = document.createElement('p'); d.translate = false; d.textContent = 'Port of Baku';
        document.querySelector('#login-view').append(p, d);
    }"""
    )
    assert _english_on(page) == ["p#slip: Enter your password"]
    context.close()


def test_russian_is_the_language_of_the_catalogue_texts():
    """A cheap check that ru.json was translated, not copied: most texts hold Cyrillic."""
    ru = catalogue("ru")
    cyrillic = [k for k, v in ru.items() if re.search("[\u0400-\u04ff]", v)]
    same = [k for k, v in ru.items() if v == catalogue("en")[k]]
    assert len(cyrillic) / len(ru) > 0.9
    # Texts equal in both are codes and symbols (TEU, USD, %), never a sentence.
    assert all(len(catalogue("en")[k].split()) <= 3 for k in same), same
