"""Conformance of the XML binding: every GS1 XML example GS1's XSD accepts, over real HTTP.

Each document in ``gs1xml/`` (GS1's ``XML/`` examples, unchanged) is checked against GS1's XSD,
captured with ``Content-Type: application/xml``, and queried back as JSON-LD and as XML. After
JSON-LD expansion (pyld, GS1's context served from the package):

- what comes back, in either form, equals the direct conversion of the XML document, field by
  field (the repository's ``recordTime`` and the hash eventIDs it gives events without one are left
  out); every XML answer is valid under GS1's XSD;
- where GS1 ships the same event in ``JSON/`` (``TWINS``), the conversion equals GS1's JSON. GS1
  writes some times in another zone in its JSON twins (``+01:00`` in XML, ``Z`` in JSON), so
  date-time literals are compared as instants there, and GS1's JSON twins carry hash eventIDs
  their XML originals lack, which are left out.

Two XML examples pass the XSD but not GS1's JSON schema (``BEYOND_JSON_SCHEMA``): the XSD is the
schema that governs the XML binding, so the repository does not apply the JSON schema to events
that came as XML, and these two round-trip like the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from pyld import jsonld
from sqlalchemy import delete

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store.models import EpcisEpc, EpcisEvent
from corridor.tracking import schema
from corridor.tracking import xml as epcis_xml
from corridor.tracking.capture import STANDARD_CONTEXT, events_of
from corridor.tracking.events import event_id
from tests.api.conftest import ADMIN, Api
from tests.tracking.test_conformance import _canonical, _expanded, _loader

HERE = Path(__file__).parent
EXAMPLES = sorted((HERE / "gs1xml").glob("*.xml"))
CAPTURE = "/api/v1/epcis/capture"
EVENTS = "/api/v1/epcis/events"

#: (XML example, event index) -> (GS1's JSON example of the same event, event index).
TWINS = {
    **{
        ("AssociationEvent__AssociationEventExamples.xml", i): (
            f"AssociationEvent__AssociationEvent-{letter}.jsonld",
            0,
        )
        for i, letter in [(0, "a"), (1, "b"), (2, "c"), (3, "d"), (4, "e"), (5, "f"), (7, "h")]
    },
    **{
        ("Mimasu__Example-associatonEvent-sensor.xml", i): (
            f"AssociationEvent__AssociationEvent-{letter}.jsonld",
            0,
        )
        for i, letter in [(0, "a"), (1, "b"), (2, "c"), (3, "d"), (4, "e"), (7, "h")]
    },
    ("Example-TransactionEvent-2020_07_03y.xml", 0): (
        "Example-TransactionEvents-2020_07_03y.jsonld",
        0,
    ),
    ("Example_9.6.1-ObjectEvent-2020_06_18a.xml", 0): ("Example_9.6.1-ObjectEvent.jsonld", 0),
    ("Example_9.6.1-ObjectEvent-2020_06_18a.xml", 1): ("Example_9.6.1-ObjectEvent.jsonld", 1),
    ("Mimasu__Example1.xml", 0): ("Example_9.6.1-ObjectEvent.jsonld", 0),
    ("Mimasu__Example1.xml", 1): ("Example_9.6.1-ObjectEvent.jsonld", 1),
    ("Mimasu__Example3.xml", 0): ("Example_9.6.3-AggregationEvent.jsonld", 0),
    ("Mimasu__Example4.xml", 0): ("Example_9.6.4-TransformationEvent.jsonld", 0),
    ("WithSensorData__SensorDataExamples.xml", 0): ("WithSensorData__SensorDataExample1.jsonld", 0),
    ("WithSensorData__SensorDataExamples.xml", 1): ("WithSensorData__SensorDataExample2.jsonld", 0),
    ("WithSensorData__SensorDataExamples.xml", 2): ("WithSensorData__SensorDataExample3.jsonld", 0),
    ("WithSensorData__SensorDataExamples.xml", 4): ("WithSensorData__SensorDataExample5.jsonld", 0),
}
#: XSD-valid examples GS1's JSON schema would refuse: (event index, JSON path of the first problem).
BEYOND_JSON_SCHEMA = {
    # The JSON schema has no persistentDisposition on AggregationEvent; the XSD has.
    "Example-PersistentDisposition.xml": (0, "$.epcisBody.eventList[0]"),
    # The JSON schema requires a sensorReport's type; the XSD does not.
    "WithSensorData__SensorDataExamples.xml": (
        8,
        "$.epcisBody.eventList[8].sensorElementList[0].sensorReport[0]",
    ),
}


@pytest.fixture
def api(seeded, tmp_path):
    settings = Settings(var_dir=tmp_path, alert_debounce_s=3600)
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        yield Api(client, seeded.passwords, seeded.db)


def _number_form(value: Any) -> Any:
    """26.0 and 26 are one JSON number (Python's json tells them apart)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _number_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number_form(v) for v in value]
    return value


def _comparable(event: dict[str, Any], given_ids: set[str]) -> dict[str, Any]:
    """An event without what the repository adds: recordTime, and hash IDs it gave."""
    return {
        k: v
        for k, v in event.items()
        if k != "recordTime" and not (k == "eventID" and v not in given_ids)
    }


def _instants(value: Any) -> Any:
    if isinstance(value, dict):
        kind = value.get("@type")
        if isinstance(kind, str) and kind.endswith(("#dateTimeStamp", "#dateTime")):
            when = datetime.fromisoformat(str(value["@value"]).replace("Z", "+00:00"))
            return {"@type": kind, "@value": when.astimezone(UTC).isoformat()}
        return {
            k: _instants(v)
            for k, v in value.items()
            if not (k == "@id" and str(v).startswith("ni:///"))
        }
    if isinstance(value, list):
        return [_instants(v) for v in value]
    return value


def _as_instants(context: Any, event: dict[str, Any]) -> str:
    node = {k: v for k, v in _number_form(event).items() if k != "@context"}
    node["@context"] = context
    return _canonical(_instants(jsonld.expand(node, {"documentLoader": _loader})))


def _stored_form(event: dict[str, Any]) -> str:
    """An answered event expanded with GS1's context and its own (kept) @context entries."""
    return _expanded([STANDARD_CONTEXT], _number_form(event))


def _xml_events(response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    epcis_xml.validate(root)  # GS1's XSD accepts every XML answer
    back = epcis_xml.to_document(root)
    extras = back["@context"][1:]
    return [
        {**e, "@context": extras} if extras else e
        for e in back["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    ]


def test_gs1_xml_twins_convert_to_gs1_json():
    compared = 0
    for (xml_name, i), (json_name, j) in TWINS.items():
        converted = epcis_xml.document_from_xml((HERE / "gs1xml" / xml_name).read_bytes())
        original = orjson.loads((HERE / "gs1" / json_name).read_bytes())
        theirs, _ = events_of(original)
        ours = converted["epcisBody"]["eventList"][i]
        assert _as_instants(converted["@context"], ours) == _as_instants(
            original["@context"], theirs[j]
        ), (xml_name, i, json_name)
        compared += 1
    assert compared == len(TWINS) == 24


def test_every_xsd_valid_gs1_xml_example_is_captured_and_answered_in_both_forms(api):
    admin = api.headers(ADMIN)
    captured = 0
    for path in EXAMPLES:
        raw = path.read_bytes()
        epcis_xml.validate(epcis_xml.parse(raw))  # GS1's XSD accepts every one of them
        converted = epcis_xml.document_from_xml(raw)
        with api.db.write_session() as s:
            s.execute(delete(EpcisEpc))
            s.execute(delete(EpcisEvent))
        response = api.client.post(
            CAPTURE, content=raw, headers={**admin, "Content-Type": "application/xml"}
        )
        if path.name in BEYOND_JSON_SCHEMA:
            # GS1's JSON schema refuses an event of the conversion (a JSON client could not send
            # it), yet the XSD accepts the document, and the XSD is what governs XML.
            events = converted["epcisBody"]["eventList"]
            first = next(
                p
                for i, e in enumerate(events)
                for p in schema.validate_event(e, f"$.epcisBody.eventList[{i}]", i)
            )
            assert (first.index, first.field) == BEYOND_JSON_SCHEMA[path.name], path.name
        assert response.status_code == 202, (path.name, response.text)
        captured += 1
        extras = converted["@context"][1:]
        sent = converted["epcisBody"]["eventList"]
        given = {e["eventID"] for e in sent if "eventID" in e}
        # One event per eventID: an error declaration in the same document replaces the event
        # it declares erroneous (GS1's AssociationEvent examples do this).
        kept: dict[str, dict[str, Any]] = {}
        for e in sent:
            ident = event_id({**e, "@context": extras} if extras else e)
            if ident not in kept or "errorDeclaration" in e:
                kept[ident] = {**e, "@context": extras} if extras else e
        expected = sorted(_stored_form(_comparable(e, given)) for e in kept.values())
        as_json = api.client.get(EVENTS, params={"perPage": 1000}, headers=admin)
        assert as_json.status_code == 200, as_json.text
        stored = as_json.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert all(e["recordTime"].endswith("Z") and e["eventID"] for e in stored)
        assert sorted(_stored_form(_comparable(e, given)) for e in stored) == expected, path.name
        as_xml = api.client.get(
            EVENTS, params={"perPage": 1000}, headers={**admin, "Accept": "application/xml"}
        )
        answered = _xml_events(as_xml)
        assert sorted(_stored_form(_comparable(e, given)) for e in answered) == expected, path.name
    # GS1 ships 28 XML event documents; its XSD accepts all of them, and all are captured.
    assert len(EXAMPLES) == 28
    assert captured == len(EXAMPLES)
