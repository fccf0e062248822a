"""GS1 event hash IDs: a hand-worked pre-hash string, and the properties the algorithm promises."""

import hashlib

from corridor.tracking.hashid import event_hash_id, pre_hash

EVENT = {
    "type": "ObjectEvent",
    "eventTime": "2020-03-04T11:00:30.000+01:00",
    "eventTimeZoneOffset": "+01:00",
    "epcList": ["urn:epc:id:sgtin:4012345.011111.2", "urn:epc:id:sgtin:4012345.011111.1"],
    "action": "OBSERVE",
    "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
    "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"},
}


def test_pre_hash_by_hand():
    # Fields in GS1's order; the list sorted; time in UTC with milliseconds; CBV as web URI.
    assert pre_hash(EVENT) == (
        "eventType=ObjectEvent"
        "eventTime=2020-03-04T10:00:30.000Z"
        "eventTimeZoneOffset=+01:00"
        "epcList=urn:epc:id:sgtin:4012345.011111.1"
        "epcList=urn:epc:id:sgtin:4012345.011111.2"
        "action=OBSERVE"
        "bizStep=https://ref.gs1.org/cbv/BizStep-shipping"
        "readPoint=urn:epc:id:sgln:4012345.00001.0"
    )
    digest = hashlib.sha256(pre_hash(EVENT).encode()).hexdigest()
    assert event_hash_id(EVENT) == f"ni:///sha-256;{digest}?ver=CBV2.0"


def test_same_event_same_id_whatever_the_spelling():
    respelled = {
        **EVENT,
        "eventTime": "2020-03-04T10:00:30Z",
        "epcList": list(reversed(EVENT["epcList"])),
        "bizStep": "shipping",
        "recordTime": "2024-01-01T00:00:00Z",
        "eventID": "urn:uuid:ignored",
    }
    assert event_hash_id(respelled) == event_hash_id(EVENT)
    assert event_hash_id({**EVENT, "action": "ADD"}) != event_hash_id(EVENT)
