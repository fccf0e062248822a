"""The EPCIS XML converter on small hand-worked documents: the mapping, the writer, the refusals."""

from __future__ import annotations

import pytest
from lxml import etree

from corridor.tracking import schema
from corridor.tracking import xml as epcis_xml
from corridor.tracking.capture import STANDARD_CONTEXT
from corridor.tracking.errors import TrackingError

HEAD = (
    '<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" '
    'creationDate="2026-03-01T10:00:00Z" xmlns:rail="urn:example:rail" '
    'xmlns:acme="https://acme.example/ns" xmlns:cbvmda="urn:epcglobal:cbv:mda" '
    'xmlns:gs1="https://other.example/gs1">'
)
TAIL = "</epcis:EPCISDocument>"


def doc(events: str) -> bytes:
    return f"{HEAD}<EPCISBody><EventList>{events}</EventList></EPCISBody>{TAIL}".encode()


OBJECT_EVENT = """
<ObjectEvent>
  <eventTime>2026-03-01T10:00:00.000+04:00</eventTime>
  <eventTimeZoneOffset>+04:00</eventTimeZoneOffset>
  <eventID>urn:uuid:11111111-2222-4333-8444-555555555555</eventID>
  <certificationInfo>https://cert.example/1</certificationInfo>
  <epcList><epc>urn:epc:id:sgtin:4012345.011111.1</epc><epc>urn:epc:id:sgtin:4012345.011111.2</epc></epcList>
  <action>ADD</action>
  <bizStep>urn:epcglobal:cbv:bizstep:departing</bizStep>
  <disposition>urn:epcglobal:cbv:disp:in_transit</disposition>
  <readPoint><id>urn:epc:id:sgln:4012345.00001.0</id></readPoint>
  <bizLocation><id>urn:epc:id:sgln:4012345.00002.0</id><acme:gate>7</acme:gate></bizLocation>
  <bizTransactionList>
    <bizTransaction type="urn:epcglobal:cbv:btt:bol">urn:epcglobal:cbv:bt:4012345000009:BL1</bizTransaction>
    <bizTransaction>https://acme.example/order/9</bizTransaction>
  </bizTransactionList>
  <quantityList>
    <quantityElement><epcClass>urn:epc:class:lgtin:4012345.011111.L1</epcClass><quantity>2.50</quantity><uom>KGM</uom></quantityElement>
    <quantityElement><epcClass>urn:epc:class:lgtin:4012345.011111.L2</epcClass></quantityElement>
  </quantityList>
  <sourceList><source type="urn:epcglobal:cbv:sdt:owning_party">urn:epc:id:pgln:4012345.00000</source></sourceList>
  <destinationList><destination type="urn:epcglobal:cbv:sdt:location">urn:epc:id:sgln:4012345.00009.0</destination></destinationList>
  <sensorElementList>
    <sensorElement>
      <sensorMetadata time="2026-03-01T09:00:00Z" deviceID="urn:epc:id:giai:4000001.1" acme:batch="B7"/>
      <sensorReport type="gs1:Temperature" value="26.0" uom="CEL" booleanValue="false"/>
      <sensorReport type="gs1:Molar_concentration" value="0.18" uom="C35"/>
      <acme:note>cold chain</acme:note>
    </sensorElement>
  </sensorElementList>
  <persistentDisposition><unset>urn:epcglobal:cbv:disp:completeness_inferred</unset><set>urn:epcglobal:cbv:disp:completeness_verified</set></persistentDisposition>
  <ilmd><cbvmda:lotNumber>LOT1</cbvmda:lotNumber><acme:grade>A</acme:grade></ilmd>
  <extension><rail:wagon>58</rail:wagon></extension>
  <rail:train><rail:axles>12</rail:axles><rail:wagon>1</rail:wagon><rail:wagon>2</rail:wagon></rail:train>
</ObjectEvent>
"""

EXPECTED = {
    "type": "ObjectEvent",
    "eventTime": "2026-03-01T10:00:00.000+04:00",
    "eventTimeZoneOffset": "+04:00",
    "eventID": "urn:uuid:11111111-2222-4333-8444-555555555555",
    "certificationInfo": "https://cert.example/1",
    "epcList": ["urn:epc:id:sgtin:4012345.011111.1", "urn:epc:id:sgtin:4012345.011111.2"],
    "action": "ADD",
    "bizStep": "departing",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0"},
    "bizLocation": {"id": "urn:epc:id:sgln:4012345.00002.0", "acme:gate": "7"},
    "bizTransactionList": [
        {"type": "bol", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:BL1"},
        {"bizTransaction": "https://acme.example/order/9"},
    ],
    "quantityList": [
        {"epcClass": "urn:epc:class:lgtin:4012345.011111.L1", "quantity": 2.5, "uom": "KGM"},
        {"epcClass": "urn:epc:class:lgtin:4012345.011111.L2"},
    ],
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
    "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:4012345.00009.0"}],
    "sensorElementList": [
        {
            "sensorMetadata": {
                "time": "2026-03-01T09:00:00Z",
                "deviceID": "urn:epc:id:giai:4000001.1",
                "acme:batch": "B7",
            },
            "sensorReport": [
                # 26.0 is the JSON number 26; a word GS1's schema knows loses its prefix ...
                {"type": "Temperature", "value": 26, "uom": "CEL", "booleanValue": False},
                # ... one it does not know keeps it (same IRI once expanded).
                {"type": "gs1:Molar_concentration", "value": 0.18, "uom": "C35"},
            ],
            "acme:note": "cold chain",
        }
    ],
    "persistentDisposition": {"unset": ["completeness_inferred"], "set": ["completeness_verified"]},
    "ilmd": {"cbvmda:lotNumber": "LOT1", "acme:grade": "A"},
    "rail:wagon": "58",
    "rail:train": {"rail:axles": "12", "rail:wagon": ["1", "2"]},
}


def test_an_object_event_maps_field_by_field():
    document = epcis_xml.document_from_xml(doc(OBJECT_EVENT))
    assert document["type"] == "EPCISDocument"
    assert document["creationDate"] == "2026-03-01T10:00:00Z"
    assert document["epcisBody"]["eventList"] == [EXPECTED]
    # Each namespace once, closed by a delimiter; cbvmda is GS1's own prefix (no entry); the
    # document's "gs1" prefix is not used for anything here.
    assert document["@context"] == [
        STANDARD_CONTEXT,
        {"acme": "https://acme.example/ns/", "rail": "urn:example:rail:"},
    ]
    assert schema.validate(document) == []


def test_a_prefix_gs1_already_uses_is_renamed_and_the_default_namespace_gets_one():
    events = """<ObjectEvent xmlns:gs1="https://other.example/gs1/">
      <eventTime>2026-03-01T10:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
      <epcList/><action>OBSERVE</action>
      <gs1:mine>1</gs1:mine><theirs xmlns="https://default.example/">2</theirs>
    </ObjectEvent>"""
    document = epcis_xml.document_from_xml(doc(events))
    event = document["epcisBody"]["eventList"][0]
    assert event["ns1:mine"] == "1"
    assert event["ns2:theirs"] == "2"
    assert event["epcList"] == []
    assert document["@context"][1] == {
        "ns1": "https://other.example/gs1/",
        "ns2": "https://default.example/",
    }


def test_other_event_types_error_declarations_and_extension_event_types():
    events = """
    <AggregationEvent>
      <eventTime>2026-03-01T10:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
      <errorDeclaration>
        <declarationTime>2026-03-02T10:00:00Z</declarationTime>
        <reason>urn:epcglobal:cbv:er:incorrect_data</reason>
        <correctiveEventIDs><correctiveEventID>urn:uuid:1</correctiveEventID></correctiveEventIDs>
        <acme:why>typo</acme:why>
      </errorDeclaration>
      <parentID>urn:epc:id:sscc:4012345.0000000001</parentID>
      <childEPCs><epc>urn:epc:id:sgtin:4012345.011111.1</epc></childEPCs>
      <action>ADD</action>
    </AggregationEvent>
    <TransformationEvent>
      <eventTime>2026-03-01T10:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
      <inputEPCList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></inputEPCList>
      <outputQuantityList><quantityElement><epcClass>urn:epc:class:lgtin:4012345.011111.L</epcClass><quantity>3</quantity></quantityElement></outputQuantityList>
      <transformationID>urn:epc:id:gdti:4012345.00001.1</transformationID>
    </TransformationEvent>
    <extension><acme:WeighingEvent><eventTime>2026-03-01T10:00:00Z</eventTime></acme:WeighingEvent></extension>
    """
    aggregation, transformation, weighing = epcis_xml.document_from_xml(doc(events))["epcisBody"][
        "eventList"
    ]
    assert aggregation["errorDeclaration"] == {
        "declarationTime": "2026-03-02T10:00:00Z",
        "reason": "incorrect_data",
        "correctiveEventIDs": ["urn:uuid:1"],
        "acme:why": "typo",
    }
    assert aggregation["childEPCs"] == ["urn:epc:id:sgtin:4012345.011111.1"]
    assert transformation["outputQuantityList"] == [
        {"epcClass": "urn:epc:class:lgtin:4012345.011111.L", "quantity": 3}
    ]
    assert transformation["transformationID"] == "urn:epc:id:gdti:4012345.00001.1"
    assert weighing == {"type": "acme:WeighingEvent", "eventTime": "2026-03-01T10:00:00Z"}


def test_a_single_event_may_be_posted_bare():
    raw = b"""<ObjectEvent xmlns:acme="https://acme.example/ns#">
      <eventTime>2026-03-01T10:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
      <epcList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList><action>OBSERVE</action>
      <acme:x>1</acme:x></ObjectEvent>"""
    event = epcis_xml.event_from_xml(raw)
    assert event["@context"] == [STANDARD_CONTEXT, {"acme": "https://acme.example/ns#"}]
    assert event["acme:x"] == "1"
    assert event["type"] == "ObjectEvent"
    with pytest.raises(TrackingError, match="one event"):
        epcis_xml.event_from_xml(doc(OBJECT_EVENT + OBJECT_EVENT))


def _query(events: list[dict]) -> dict:
    return {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T10:00:00.000Z",
        "epcisBody": {
            "queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": events}}
        },
    }


def test_answers_are_written_as_xsd_valid_query_documents_and_read_back_the_same():
    document = epcis_xml.document_from_xml(doc(OBJECT_EVENT))
    stored = {
        **EXPECTED,
        "recordTime": "2026-03-01T10:00:01.000Z",
        "@context": document["@context"][1:],
    }
    raw = epcis_xml.query_document_to_xml(_query([stored]))
    root = etree.fromstring(raw)
    assert root.tag == "{urn:epcglobal:epcis-query:xsd:2}EPCISQueryDocument"
    epcis_xml.validate(root)  # GS1's XSD accepts it
    # CBV words are written as the XML binding's URNs, GS1 sensor words with gs1:.
    event = root.find(".//ObjectEvent")
    assert event.findtext("bizStep") == "urn:epcglobal:cbv:bizstep:departing"
    assert event.find(".//sensorReport").get("type") == "gs1:Temperature"
    assert event.find(".//bizTransaction").get("type") == "urn:epcglobal:cbv:btt:bol"
    assert event.find("{https://acme.example/ns/}note") is None  # it belongs to the sensorElement
    back = epcis_xml.document_from_xml(raw)
    assert back["type"] == "EPCISQueryDocument"
    assert back["epcisBody"]["queryResults"]["queryName"] == "SimpleEventQuery"
    (again,) = back["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert again == {k: v for k, v in stored.items() if k != "@context"}
    assert back["@context"] == document["@context"]


def test_a_field_with_no_xml_form_is_not_acceptable_rather_than_a_crash():
    event = {**EXPECTED, "acme:1bad": "x", "@context": [{"acme": "https://acme.example/ns/"}]}
    with pytest.raises(TrackingError) as caught:
        epcis_xml.query_document_to_xml(_query([event]))
    assert caught.value.code == "not_acceptable"
    assert "acme:1bad" in caught.value.field
    control = {**EXPECTED, "acme:note": "bell \u0007", "@context": [{"acme": {"@id": "urn:a:"}}]}
    with pytest.raises(TrackingError) as caught:
        epcis_xml.query_document_to_xml(_query([EXPECTED, control]))
    assert caught.value.code == "not_acceptable"
    assert caught.value.field.endswith("eventList[1]")


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
 creationDate="2026-03-01T10:00:00Z"><EPCISBody><EventList/></EPCISBody>&x;</epcis:EPCISDocument>"""
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)
EXTERNAL_DTD = b'<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><d/>'


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        (b"", "/", "empty"),
        (b"<epcis:EPCISDocument", "line 1", "not well-formed"),
        (b"<a><b></a>", "line 1", "not well-formed"),
        (XXE, "/", "DTD declarations"),
        (LAUGHS, "/", "DTD declarations"),
        (EXTERNAL_DTD, "/", "external DTD"),
        (b"<a>" * 70 + b"</a>" * 70, "/a/a/a", "nested deeper than 64"),
        (b'<x xmlns="urn:other"/>', "/", "capture takes"),
    ],
)
def test_unsafe_or_malformed_xml_is_refused_by_name(raw, field, reason):
    with pytest.raises(TrackingError) as caught:
        epcis_xml.document_from_xml(raw)
    assert caught.value.code == "invalid"
    assert caught.value.field.startswith(field)
    assert reason in caught.value.reason


def test_a_schema_invalid_event_is_named_by_index_xpath_and_line():
    good = OBJECT_EVENT
    bad = OBJECT_EVENT.replace("<action>ADD</action>", "<action>MOVE</action>")
    with pytest.raises(TrackingError) as caught:
        epcis_xml.document_from_xml(doc(good + bad))
    problem = caught.value.problems[0]
    assert problem.index == 1
    assert "/EventList/ObjectEvent[2]/action" in problem.field
    assert "line" in problem.field
    assert "MOVE" in problem.reason
    # Asked for all of them, every bad event is named.
    with pytest.raises(TrackingError) as caught:
        epcis_xml.document_from_xml(doc(bad + good + bad), all_errors=True)
    assert [p.index for p in caught.value.problems] == [0, 2]
