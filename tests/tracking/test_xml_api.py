"""EPCIS XML over real HTTP on SQLite and PostgreSQL: capture, answers, negotiation, refusals."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from corridor.api import create_app
from corridor.settings import Settings
from corridor.tracking import xml as epcis_xml
from tests.api.conftest import ADMIN, Api
from tests.tracking.test_xml import LAUGHS, XXE

CAPTURE = "/api/v1/epcis/capture"
EVENTS = "/api/v1/epcis/events"
XML = {"Content-Type": "application/xml"}
ACCEPT_XML = {"Accept": "application/xml"}


@pytest.fixture
def api(seeded, tmp_path):
    settings = Settings(var_dir=tmp_path, epcis_max_body_mb=0.5, alert_debounce_s=3600)
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        yield Api(client, seeded.passwords, seeded.db)


def event(n: int, extra: str = "") -> str:
    return f"""<ObjectEvent>
      <eventTime>2026-03-01T10:0{n}:00.000Z</eventTime>
      <eventTimeZoneOffset>+04:00</eventTimeZoneOffset>
      <eventID>urn:uuid:0b7d3ab7-0000-4000-8000-00000000000{n}</eventID>
      <epcList><epc>urn:epc:id:sscc:4012345.000000000{n}</epc></epcList>
      <action>OBSERVE</action>
      <bizStep>urn:epcglobal:cbv:bizstep:departing</bizStep>
      <readPoint><id>urn:epc:id:sgln:4012345.00001.0</id></readPoint>
      {extra}
    </ObjectEvent>"""


def document(*events: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" '
        'xmlns:rail="https://rail.example/epcis" schemaVersion="2.0" '
        'creationDate="2026-03-01T10:00:00Z"><EPCISBody><EventList>'
        + "".join(events)
        + "</EventList></EPCISBody></epcis:EPCISDocument>"
    ).encode()


def answer_events(response) -> list:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    epcis_xml.validate(root)  # every XML answer is valid under GS1's XSD
    return epcis_xml.to_document(root)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def stored_count(api, admin) -> int:
    answer = api.client.get(EVENTS, headers=admin)
    assert answer.status_code == 200, answer.text
    return len(answer.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def test_xml_capture_goes_through_the_job_flow_and_answers_in_both_forms(api):
    admin = api.headers(ADMIN)
    wagon = "<rail:wagon>58</rail:wagon>"
    raw = document(event(1, wagon), event(2))
    response = api.client.post(CAPTURE, content=raw, headers={**admin, **XML})
    assert response.status_code == 202, response.text
    assert response.json()["result"]["captured"] == 2
    location = response.headers["Location"]
    # The job, as JSON and as the XSD's EPCISCaptureJob.
    job = api.client.get(location, headers={**admin, **ACCEPT_XML})
    assert job.status_code == 200
    root = etree.fromstring(job.content)
    epcis_xml.validate(root)
    assert root.get("success") == "true"
    assert root.get("running") == "false"
    # Queried back as JSON: the converted event, with its namespace kept in its @context.
    found = api.client.get(EVENTS, headers=admin).json()["epcisBody"]["queryResults"]
    first = next(e for e in found["resultsBody"]["eventList"] if "rail:wagon" in e)
    assert first["bizStep"] == "departing"
    assert first["rail:wagon"] == "58"
    assert first["@context"] == [{"rail": "https://rail.example/epcis/"}]
    # ... and as XML, where the same event comes back with its element and a recordTime.
    events = answer_events(api.client.get(EVENTS, headers={**admin, **ACCEPT_XML}))
    assert sorted(e["eventID"] for e in events) == [
        "urn:uuid:0b7d3ab7-0000-4000-8000-000000000001",
        "urn:uuid:0b7d3ab7-0000-4000-8000-000000000002",
    ]
    again = next(e for e in events if "rail:wagon" in e)
    assert again["recordTime"].endswith("Z")
    assert {k: v for k, v in again.items() if k != "recordTime"} == {
        k: v for k, v in first.items() if k not in ("recordTime", "@context")
    }
    # The same document again: idempotent (duplicates, nothing new), as for JSON.
    repeat = api.client.post(CAPTURE, content=raw, headers={**admin, **XML})
    assert repeat.status_code == 202
    assert repeat.json()["result"] == {
        "captured": 0,
        "corrected": 0,
        "duplicates": 2,
        "duplicateEvents": repeat.json()["result"]["duplicateEvents"],
    }
    # Other content under a stored eventID is a 409 naming the event, as for JSON.
    clash = api.client.post(
        CAPTURE,
        content=document(event(1).replace("OBSERVE", "ADD")),
        headers={**admin, **XML},
    )
    assert clash.status_code == 409, clash.text
    assert clash.json()["errors"][0]["index"] == 0


def test_every_event_answering_endpoint_speaks_xml(api):
    admin = api.headers(ADMIN)
    raw = document(event(1), event(2))
    assert api.client.post(CAPTURE, content=raw, headers={**admin, **XML}).status_code == 202
    ident = quote("urn:uuid:0b7d3ab7-0000-4000-8000-000000000001", safe="")
    epc = quote("urn:epc:id:sscc:4012345.0000000001", safe="")
    assert (
        api.client.post(
            "/api/v1/epcis/queries",
            json={"name": "departures", "query": {"EQ_bizStep": "departing"}},
            headers=admin,
        ).status_code
        == 201
    )
    for path, count in [
        (EVENTS, 2),
        (f"{EVENTS}/{ident}", 1),
        (f"/api/v1/epcis/epcs/{epc}/events", 1),
        ("/api/v1/epcis/eventTypes/ObjectEvent/events", 2),
        ("/api/v1/epcis/bizSteps/departing/events", 2),
        ("/api/v1/epcis/queries/departures/events", 2),
    ]:
        assert len(answer_events(api.client.get(path, headers={**admin, **ACCEPT_XML}))) == count
    # text/xml is answered as text/xml; JSON wins ties and */*; q-values decide.
    for accept in ("text/xml", "text/*"):
        text = api.client.get(EVENTS, headers={**admin, "Accept": accept})
        assert text.headers["content-type"].startswith("text/xml"), accept
    for accept, kind in [
        ("*/*", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("application/json;q=0.5, application/xml", "application/xml"),
        ("application/xml;q=0.4, application/json;q=0.9", "application/json"),
    ]:
        answer = api.client.get(EVENTS, headers={**admin, "Accept": accept})
        assert answer.headers["content-type"].startswith(kind), accept
    # Resources without an XML form stay JSON-only: 406 when only XML is acceptable.
    assert (
        api.client.get("/api/v1/epcis/eventTypes", headers={**admin, **ACCEPT_XML}).status_code
        == 406
    )
    assert api.client.get(EVENTS, headers={**admin, "Accept": "text/csv"}).status_code == 406


def test_post_events_takes_a_bare_xml_event(api):
    admin = api.headers(ADMIN)
    raw = event(3, "<rail:axles xmlns:rail='https://rail.example/epcis'>12</rail:axles>").encode()
    response = api.client.post(EVENTS, content=raw, headers={**admin, "Content-Type": "text/xml"})
    assert response.status_code == 201, response.text
    ident = "urn:uuid:0b7d3ab7-0000-4000-8000-000000000003"
    assert response.headers["Location"].endswith(quote(ident, safe=""))
    (back,) = answer_events(
        api.client.get(response.headers["Location"], headers={**admin, **ACCEPT_XML})
    )
    assert back["rail:axles"] == "12"
    assert back["eventID"] == ident


def test_discovery_advertises_xml(api):
    for path in (CAPTURE, EVENTS):
        options = api.client.options(path)
        assert options.status_code == 204
        assert "application/xml" in options.headers["Accept-Post"]
        assert options.headers["GS1-CBV-XML-Format"] == "Always_URN"


BAD = [
    ("malformed", document(event(1))[:-20], "line 1"),
    ("xxe", XXE, "/"),
    ("billion laughs", LAUGHS, "/"),
    ("too deep", b"<a>" * 70 + b"</a>" * 70, "/a/a/a"),
    ("not an EPCIS document", b"<html><body/></html>", "/html"),
]


@pytest.mark.parametrize(("name", "raw", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_xml_is_a_named_400_and_stores_nothing(api, name, raw, field):
    admin = api.headers(ADMIN)
    response = api.client.post(CAPTURE, content=raw, headers={**admin, **XML})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"].startswith(field)
    assert stored_count(api, admin) == 0


def test_a_schema_invalid_event_names_its_index_and_xpath_and_nothing_is_stored(api):
    admin = api.headers(ADMIN)
    bad = event(2).replace("<action>OBSERVE</action>", "<action>TELEPORT</action>")
    response = api.client.post(CAPTURE, content=document(event(1), bad), headers={**admin, **XML})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["index"] == 1
    assert "/EventList/ObjectEvent[2]/action" in error["path"]
    assert "TELEPORT" in error["message"]
    job = api.client.get(response.headers["Location"], headers=admin).json()
    assert job["success"] is False
    assert job["errors"][0]["index"] == 1
    # The XSD governs XML, so what it accepts and GS1's JSON schema would not (a sensorReport
    # without type) is not refused by the JSON schema; the repository's own rules still apply
    # after conversion, and name the JSON path, as for JSON: an unknown shipment reference.
    untyped = "<sensorElementList><sensorElement><sensorReport value='1'/></sensorElement></sensorElementList>"
    shipment = (
        "<bizTransactionList><bizTransaction>urn:corridor:shipment:nope</bizTransaction>"
        "</bizTransactionList>"
    )
    refused = api.client.post(
        CAPTURE, content=document(event(1, untyped), event(2, shipment)), headers={**admin, **XML}
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert (error["index"], error["path"]) == (1, "$.epcisBody.eventList[1].bizTransactionList")
    assert stored_count(api, admin) == 0
    taken = api.client.post(CAPTURE, content=document(event(1, untyped)), headers={**admin, **XML})
    assert taken.status_code == 202, taken.text
    assert stored_count(api, admin) == 1
    # The same for an XML event posted alone; GS1's JSON schema still governs JSON.
    alone = event(3, untyped)
    assert api.client.post(EVENTS, content=alone, headers={**admin, **XML}).status_code == 201
    as_json = epcis_xml.event_from_xml(event(4, untyped).encode())
    json_refused = api.client.post(EVENTS, json=as_json, headers=admin)
    assert json_refused.status_code == 400, json_refused.text
    assert "sensorReport" in json_refused.json()["errors"][0]["path"]
    assert stored_count(api, admin) == 2
    # Too large: 413 before anything is parsed; other bodies: 415.
    big = document(*[event(1)] * 2000)
    assert api.client.post(CAPTURE, content=big, headers={**admin, **XML}).status_code == 413
    assert (
        api.client.post(
            CAPTURE, content=b"x", headers={**admin, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )


def test_large_xml_documents_are_converted_and_captured_in_another_process(seeded, tmp_path):
    """Above ``epcis_process_mb`` the XML conversion, like the capture, runs in a worker process."""
    settings = Settings(var_dir=tmp_path, epcis_process_mb=0.0)
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        api = Api(client, seeded.passwords, seeded.db)
        admin = api.headers(ADMIN)
        good = client.post(CAPTURE, content=document(event(1), event(2)), headers={**admin, **XML})
        assert good.status_code == 202, good.text
        assert good.json()["result"]["captured"] == 2
        bad = event(3).replace("OBSERVE", "WATCH")
        refused = client.post(CAPTURE, content=document(event(4), bad), headers={**admin, **XML})
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["index"] == 1
        assert stored_count(api, admin) == 2
