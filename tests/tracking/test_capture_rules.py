"""The capture rules on plain data: stamps, ids, context, duplicates by index, references, rights."""

from datetime import UTC, datetime

import pytest

from corridor.tracking.capture import check_references, may_correct, prepare
from corridor.tracking.errors import TrackingError

T = datetime(2026, 3, 3, 8, 0, 0, 123456, tzinfo=UTC)
CTX = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://ex.org/"}]


def event(**extra):
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": ["urn:epc:id:bic:CRDU0000001"],
        "action": "OBSERVE",
        "bizStep": "departing",
        **extra,
    }


def doc(*events, context=CTX):
    return {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T10:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def test_stamps_ids_and_context():
    prepared = prepare(doc(event(), event(eventID="urn:uuid:1", **{"ex:note": "x"})), T)
    first, second = (f.body for f in prepared.facts)
    assert first["recordTime"] == "2026-03-03T08:00:00.123Z"
    assert first["eventID"].startswith("ni:///sha-256;")
    assert second["eventID"] == "urn:uuid:1"
    assert first["@context"] == [{"ex": "https://ex.org/"}]  # only what GS1's context lacks
    plain = prepare(doc(event(), context=CTX[:1]), T)
    assert "@context" not in plain.facts[0].body


def test_duplicates_reported_by_index_and_conflicts_refused():
    a = event(eventID="urn:uuid:a")
    prepared = prepare(doc(a, event(eventID="urn:uuid:b"), dict(a)), T)
    assert prepared.duplicates == [(2, 0)]
    assert [f.event_id for f in prepared.facts] == ["urn:uuid:a", "urn:uuid:b"]
    with pytest.raises(TrackingError) as caught:
        prepare(doc(a, {**a, "action": "ADD"}), T)
    assert caught.value.code == "conflict"
    assert caught.value.problems[0].index == 1


def test_first_bad_event_stops_unless_all_errors_asked():
    bad = [event(action="WATCH"), event(), event(eventTime="yesterday")]
    with pytest.raises(TrackingError) as first:
        prepare(doc(*bad), T)
    assert {p.index for p in first.value.problems} == {0}
    with pytest.raises(TrackingError) as every:
        prepare(doc(*bad), T, all_errors=True)
    assert sorted({p.index for p in every.value.problems}) == [0, 2]


def test_out_of_range_times_and_extension_types():
    with pytest.raises(TrackingError) as caught:
        prepare(doc(event(eventTime="9999-12-31T23:59:59-14:00")), T)
    assert caught.value.field == "$.epcisBody.eventList[0].eventTime"
    # An extension event type valid under the schema is captured, not refused.
    extension = {
        "type": "ex:CustomsEvent",
        "eventTime": "2026-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
    }
    assert prepare(doc(extension), T).facts[0].event_type == "ex:CustomsEvent"


def test_references_and_rights():
    shipped = event(
        bizTransactionList=[{"type": "bol", "bizTransaction": "urn:corridor:shipment:s1"}],
        bizLocation={"id": "urn:corridor:node:aktau_port"},
    )
    prepared = prepare(doc(shipped), T)
    check_references(prepared, "forwarder", "org1", {"s1": "org1"}, {"aktau_port"})
    with pytest.raises(TrackingError) as foreign:
        check_references(prepared, "forwarder", "org2", {"s1": "org1"}, {"aktau_port"})
    assert foreign.value.code == "unknown_reference"
    check_references(prepared, "carrier", "org2", {"s1": "org1"}, {"aktau_port"})
    with pytest.raises(TrackingError):
        check_references(prepared, "carrier", "org2", {"s1": "org1"}, {"baku"})
    assert may_correct("org1", "org1")
    assert not may_correct("org1", "org2")


def test_a_schema_checked_document_skips_only_the_json_schema_per_event():
    """An XML capture was checked against GS1's XSD: GS1's JSON schema is not applied to its
    events (the XSD accepts a sensorReport without type; the JSON schema does not), but the
    envelope check and the repository's own rules are."""
    untyped = event(sensorElementList=[{"sensorReport": [{"value": 1}]}])
    with pytest.raises(TrackingError) as caught:
        prepare(doc(untyped), T)
    assert caught.value.field.startswith("$.epcisBody.eventList[0].sensorElementList")
    taken = prepare(doc(untyped), T, schema_checked=True)
    assert taken.facts[0].body["sensorElementList"] == [{"sensorReport": [{"value": 1}]}]
    with pytest.raises(TrackingError) as envelope:
        prepare({**doc(untyped), "schemaVersion": None}, T, schema_checked=True)
    assert envelope.value.field == "$.schemaVersion"
    with pytest.raises(TrackingError) as rule:
        prepare(doc(event(eventTime="9999-12-31T23:59:59-14:00")), T, schema_checked=True)
    assert rule.value.field == "$.epcisBody.eventList[0].eventTime"
    a = event(eventID="urn:uuid:a")
    with pytest.raises(TrackingError) as conflict:
        prepare(doc(a, {**a, "action": "ADD"}), T, schema_checked=True)
    assert conflict.value.code == "conflict"
    with pytest.raises(TrackingError) as limit:
        prepare(doc(event(), event()), T, max_events=1, schema_checked=True)
    assert limit.value.code == "too_large"
