"""The holder amends a lodged transit declaration: what may change, until when, and one winner.

The rule (docs/customs.md): amendable while draft, lodged or accepted, until the office of
departure announces a control (yellow or red channel, or a recorded check) or releases the goods.
"""

from __future__ import annotations

import copy
from collections import Counter

import httpx

from tests.api.conftest import ADMIN, FORWARDER
from tests.api.test_concurrency import BURST, burst
from tests.api.test_customs_api import BODY, ROUTE

KZ = "customs.kz@demo.corridor"


def lodge(client, base: str, fwd: dict[str, str], reference: str = "PO-A") -> dict:
    shipment = client.post(
        f"{base}/shipments", json={"reference": reference, "route": ROUTE}, headers=fwd
    )
    assert shipment.status_code == 201, shipment.text
    created = client.post(
        f"{base}/customs/declarations",
        json={"shipment_id": shipment.json()["id"], "declaration": BODY},
        headers=fwd,
    )
    assert created.status_code == 201, created.text
    return created.json()


def amended(**changes) -> dict:
    body = copy.deepcopy(BODY)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = body
        for p in parents:
            target = target[int(p)] if isinstance(target, list) else target[p]
        target[last] = value
    return body


def amend(client, base, headers, decl, version, body):
    return client.post(
        f"{base}/customs/declarations/{decl['id']}/amend",
        json={"version": version, "declaration": body},
        headers=headers,
    )


def office_act(client, base, headers, decl, action, index=0):
    return client.post(
        f"{base}/customs/declarations/{decl['id']}/actions",
        json={"action": action, "office_id": decl["offices"][index]["id"], "details": {}},
        headers=headers,
    )


def test_goods_containers_seals_and_guarantee_amended_signed_and_reassessed(api):
    c, base, fwd = api.client, "/api/v1", api.headers(FORWARDER)
    decl = lodge(c, base, fwd)
    assert decl["version"] == 1
    assert decl["offices"][0]["channel"] == "green"
    body = amended(
        goods__0__hs_code="240220",  # cigarettes: the tobacco profile adds 35 points
        goods__0__description="Cigarettes",
        containers=[{"number": "CSQU3054383", "seals": ["KZ-0009", "KZ-0010"]}],
        guarantee__amount=650_000,
    )
    answer = amend(c, base, fwd, decl, 1, body)
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert after["version"] == 2
    assert after["state"] == "lodged"
    assert after["declaration"]["goods"][0]["hs_code"] == "240220"
    assert after["declaration"]["containers"] == [
        {"number": "CSQU3054383", "seals": ["KZ-0009", "KZ-0010"]}
    ]
    assert after["declaration"]["guarantee"]["amount"] == 650_000
    # 35 points (tobacco) >= 30: yellow at every office, with the reason named.
    assert {o["channel"] for o in after["offices"]} == {"yellow"}
    assert any("tobacco" in r for r in after["offices"][0]["reasons"])
    log = c.get(f"{base}/customs/declarations/{decl['id']}/log", headers=fwd).json()
    assert [r["action"] for r in log] == ["amend", "lodge", "draft"]
    report = c.get(f"{base}/customs/log/verify", headers=api.headers(ADMIN)).json()
    assert report["ok"] is True, report
    # The answer is what is stored.
    again = c.get(f"{base}/customs/declarations/{decl['id']}", headers=fwd).json()
    assert again["declaration"] == after["declaration"]


def test_an_accepted_green_declaration_is_amendable_until_release(api):
    c, base, fwd, kz = api.client, "/api/v1", api.headers(FORWARDER), api.headers(KZ)
    decl = lodge(c, base, fwd)
    assert office_act(c, base, kz, decl, "accept").status_code == 200
    # Accepted: the guarantee is held against Kazakhstan's 20 % of USD 2.4 M = USD 480,000.
    short = amend(c, base, fwd, decl, 2, amended(guarantee__amount=400_000))
    assert short.status_code == 422, short.text
    assert short.json()["error"]["field"] == "declaration.guarantee.amount"
    ok = amend(c, base, fwd, decl, 2, amended(containers__0__seals=["KZ-0101"]))
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "accepted"
    assert office_act(c, base, kz, ok.json(), "release").status_code == 200
    late = amend(c, base, fwd, decl, 4, amended(containers__0__seals=["KZ-0102"]))
    assert late.status_code == 409, late.text
    error = late.json()["error"]
    assert error["code"] == "conflict"
    assert "released" in error["reason"]
    stored = c.get(f"{base}/customs/declarations/{decl['id']}", headers=fwd).json()
    assert stored["declaration"]["containers"][0]["seals"] == ["KZ-0101"]


def test_a_control_announced_at_departure_stops_amendments(api):
    c, base, fwd, kz = api.client, "/api/v1", api.headers(FORWARDER), api.headers(KZ)
    decl = lodge(c, base, fwd)
    # Lodged: amending into the yellow channel is allowed (the risk is simply re-assessed) ...
    yellow = amend(c, base, fwd, decl, 1, amended(goods__0__hs_code="240220"))
    assert yellow.status_code == 200, yellow.text
    assert office_act(c, base, kz, decl, "accept").status_code == 200
    # ... but once accepted in the yellow channel the control is announced: no more amendments.
    refused = amend(c, base, fwd, decl, 3, amended(goods__0__hs_code="847130"))
    assert refused.status_code == 409, refused.text
    assert "accepted" in refused.json()["error"]["reason"]
    assert "yellow" in refused.json()["error"]["reason"]


def test_bad_amendments_name_the_field_and_change_nothing(api):
    c, base, fwd = api.client, "/api/v1", api.headers(FORWARDER)
    decl = lodge(c, base, fwd)
    cases = {
        "declaration.goods.0.hs_code": amended(goods__0__hs_code="999999"),
        "declaration.containers.0.number": amended(containers__0__number="CSQU3054384"),
        "declaration.lrn": amended(lrn="LRN-OTHER"),
    }
    for field, body in cases.items():
        answer = amend(c, base, fwd, decl, 1, body)
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["error"]["field"] == field, answer.text
    stale = amend(c, base, fwd, decl, 7, BODY)
    assert stale.status_code == 409
    assert stale.json()["error"]["field"] == "version"
    customs = amend(c, base, api.headers(KZ), decl, 1, BODY)
    assert customs.status_code == 403, customs.text
    stored = c.get(f"{base}/customs/declarations/{decl['id']}", headers=fwd).json()
    assert stored["version"] == 1
    assert stored["declaration"] == decl["declaration"]
    log = c.get(f"{base}/customs/declarations/{decl['id']}/log", headers=fwd).json()
    assert [r["action"] for r in log] == ["lodge", "draft"]


def test_fifty_parallel_amendments_of_one_version_have_one_winner(live):
    fwd = live.headers(FORWARDER)
    with httpx.Client(timeout=30) as client:
        decl = lodge(client, live.base, fwd, "PO-BURST")
    bodies = [amended(containers__0__seals=[f"KZ-{i:04d}"]) for i in range(BURST)]
    counter = iter(range(BURST))
    answers = burst(BURST, lambda c: amend(c, live.base, fwd, decl, 1, bodies[next(counter)]))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: BURST - 1}
    (winner,) = [r.json() for r in answers if r.status_code == 200]
    with httpx.Client(timeout=30) as client:
        stored = client.get(f"{live.base}/customs/declarations/{decl['id']}", headers=fwd).json()
        log = client.get(f"{live.base}/customs/declarations/{decl['id']}/log", headers=fwd)
    assert stored["version"] == 2
    assert stored["declaration"] == winner["declaration"]
    assert [r["action"] for r in log.json()] == ["amend", "lodge", "draft"]
