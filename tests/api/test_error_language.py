"""API error texts follow Accept-Language where a catalogue has them, English otherwise.

The Russian expectations are written out by hand here, not read from the catalogue, so a
catalogue that drifts (a lost key, a template that no longer matches its English) fails.
"""

from __future__ import annotations

import json
import re

import pytest

from corridor.api import language
from tests.api.conftest import FORWARDER
from tests.api.test_customs_amend import KZ, lodge

WRONG = {"email": FORWARDER, "password": "not the password"}


def login_error(api, accept: str | None):
    headers = {"Accept-Language": accept} if accept is not None else {}
    return api.client.post("/api/v1/auth/login", json=WRONG, headers=headers)


def test_russian_english_and_unknown_languages(api):
    ru = login_error(api, "ru")
    assert ru.status_code == 401
    assert ru.headers["Content-Language"] == "ru"
    assert ru.json()["error"] == {
        "code": "unauthorized",
        "field": "password",
        "reason": "неверный адрес электронной почты или пароль",
    }
    for accept in (None, "en", "de", "zz-ZZ", "*", ""):
        en = login_error(api, accept)
        assert en.headers["Content-Language"] == "en", accept
        assert en.json()["error"]["reason"] == "wrong e-mail or password", accept
    assert "Accept-Language" in ru.headers["Vary"]


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("en;q=0.3, ru;q=0.8", "ru"),
        ("ru;q=0.8, en", "en"),  # no q means 1
        ("ru;q=0, en;q=0.1", "en"),  # q=0: not acceptable
        ("de-DE, ru-RU;q=0.5, en;q=0.4", "ru"),  # German is not offered; region subtags ignored
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),  # what a Russian browser sends
        ("fr, *;q=0.1", "en"),
        ("ru;q=abc", "en"),
        ("RU", "ru"),
    ],
)
def test_q_values(accept, chosen):
    assert language.negotiate(accept) == chosen


def test_validation_errors_are_templates_with_the_validators_parameters(api):
    missing = api.client.post(
        "/api/v1/auth/login", json={"email": FORWARDER}, headers={"Accept-Language": "ru"}
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "password"
    assert missing.json()["error"]["reason"] == "Обязательное поле"
    fwd = api.headers(FORWARDER)
    decl = lodge(api.client, "/api/v1", fwd)
    body = dict(decl["declaration"], transport_means="")
    short = api.client.post(
        f"/api/v1/customs/declarations/{decl['id']}/amend",
        json={"version": 1, "declaration": body},
        headers={**fwd, "Accept-Language": "ru"},
    )
    assert short.status_code == 422
    assert short.json()["error"]["field"] == "declaration.transport_means"
    assert short.json()["error"]["reason"] == "Строка должна содержать не менее 1 символов"
    # A domain validator's reason, with the value as parameter.
    bad_hs = dict(decl["declaration"], goods=[dict(decl["declaration"]["goods"][0], hs_code="1")])
    hs = api.client.post(
        f"/api/v1/customs/declarations/{decl['id']}/amend",
        json={"version": 1, "declaration": bad_hs},
        headers={**fwd, "Accept-Language": "ru"},
    )
    assert hs.json()["error"]["reason"] == "'1' не является 6-значной субпозицией ТН ВЭД (ГС)"  # noqa: RUF001


def test_not_found_and_conflict_states_name_their_values_in_russian(api):
    fwd = {**api.headers(FORWARDER), "Accept-Language": "ru"}
    gone = api.client.get("/api/v1/customs/declarations/nope", headers=fwd)
    assert gone.status_code == 404
    assert gone.json()["error"]["reason"] == "нет декларации 'nope'"
    decl = lodge(api.client, "/api/v1", api.headers(FORWARDER))
    kz = {**api.headers(KZ), "Accept-Language": "ru"}
    early = api.client.post(
        f"/api/v1/customs/declarations/{decl['id']}/actions",
        json={"action": "release", "office_id": decl["offices"][0]["id"]},
        headers=kz,
    )
    assert early.status_code == 409
    assert early.json()["error"]["reason"] == (
        "действие «выпустить» невозможно для декларации в состоянии «подана»: "
        "в этом состоянии разрешено: accept, amend, cancel, reject"
    )
    english = api.client.post(
        f"/api/v1/customs/declarations/{decl['id']}/actions",
        json={"action": "release", "office_id": decl["offices"][0]["id"]},
        headers={**kz, "Accept-Language": "en"},
    )
    assert english.json()["error"]["reason"] == (
        "cannot release a declaration in state lodged: "
        "allowed in this state: accept, amend, cancel, reject"
    )
    stale = api.client.post(
        f"/api/v1/customs/declarations/{decl['id']}/amend",
        json={"version": 5, "declaration": decl["declaration"]},
        headers=fwd,
    )
    assert stale.json()["error"]["reason"] == (
        "декларация уже в версии 1, а не 5; загрузите её заново"  # noqa: RUF001
    )


def test_a_reason_without_translation_stays_english():
    assert language.reason("a reason nobody catalogued", "ru") == "a reason nobody catalogued"


def test_every_catalogue_has_the_english_keys_and_placeholders():
    english = json.loads((language.CATALOGUES / "errors.en.json").read_text(encoding="utf-8"))
    params = re.compile(r"\{(\w+)\}")
    files = sorted(language.CATALOGUES.glob("errors.*.json"))
    assert len(files) >= 2
    for path in files:
        other = json.loads(path.read_text(encoding="utf-8"))
        for section in ("validation", "reasons"):
            assert set(other[section]) == set(english[section]), (path.name, section)
            for key, text in english[section].items():
                assert set(params.findall(other[section][key])) == set(params.findall(text)), (
                    path.name,
                    key,
                )
