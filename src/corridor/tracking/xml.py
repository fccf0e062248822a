"""EPCIS 2.0 XML: read a capture into the JSON-LD form the capture pipeline takes, write answers back.

Why a converter rather than a second pipeline: the standard defines one event model with two
bindings, and Corridor stores the JSON-LD one. An XML document is therefore parsed safely,
validated against GS1's XSD (shipped unchanged in ``data/epcis/xsd/``), turned into the JSON-LD
document GS1's JSON/XML mapping gives, and captured by exactly the code that captures JSON, with the
same limits, rules and errors. Query answers go the other way.

The mapping, in short:

- standard elements become the JSON keys of the same name; lists (``epcList``, ``quantityList``,
  ``bizTransactionList``, ``sourceList`` ...) become arrays; ``quantity`` and the numeric sensor
  attributes become JSON numbers, ``booleanValue`` a boolean;
- CBV URNs become the bare words of the JSON binding (``urn:epcglobal:cbv:bizstep:receiving`` is
  ``receiving``; ``gs1:Temperature`` is ``Temperature``), and back on output;
- an element or attribute in another namespace becomes ``prefix:localName`` with that prefix bound
  in the document's ``@context`` to the namespace, closed by ``/`` (``:`` for a URN) when it does not
  end in a delimiter, as GS1's JSON twins of its XML examples do: JSON-LD 1.1 only expands a prefix
  whose IRI ends in one. Prefixes of GS1's context keep their meaning (``cbvmda`` is
  ``urn:epcglobal:cbv:mda`` in XML); a prefix GS1's context already uses for something else is
  renamed ``ns1``, ``ns2`` ... Answers in XML use the prefix IRI as the namespace;
- the ``<extension>`` and ``<baseExtension>`` wrappers of EPCIS 1.x style are unwrapped: what they
  hold belongs to the element that holds them (the JSON binding has no wrappers);
- values of user elements are text, as in GS1's JSON examples (``xsi:type`` is not carried);
  a user element with children or attributes becomes an object, repeated elements an array.

The EPCIS header (Standard Business Document Header, master data) is checked by the XSD but not
kept: the repository stores events.

Safety: lxml parses without network access, DTD loading or entity expansion; any entity
declaration or reference is refused, and nesting deeper than ``max_depth`` is refused, each as a
:class:`TrackingError` (400) naming the line and XPath, never a crash.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import orjson
from lxml import etree

from corridor.settings import PACKAGE_DATA_DIR
from corridor.tracking.capture import STANDARD_CONTEXT
from corridor.tracking.errors import Problem, TrackingError

XSD_DIR = PACKAGE_DATA_DIR / "epcis" / "xsd"
CONTEXT_PATH = PACKAGE_DATA_DIR / "epcis" / "epcis-context.jsonld"
SCHEMA_PATH = PACKAGE_DATA_DIR / "epcis" / "EPCIS-JSON-Schema.json"
EPCIS_NS = "urn:epcglobal:epcis:xsd:2"
QUERY_NS = "urn:epcglobal:epcis-query:xsd:2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
#: Deepest element nesting accepted (GS1's deepest example nests 9).
MAX_DEPTH = 64
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
XML_MEDIA_TYPES = ("application/xml", "text/xml")

# CBV vocabulary: the URN prefix that the XML binding writes before the JSON binding's bare word.
_BIZSTEP = "urn:epcglobal:cbv:bizstep:"
_DISP = "urn:epcglobal:cbv:disp:"
_BTT = "urn:epcglobal:cbv:btt:"
_SDT = "urn:epcglobal:cbv:sdt:"
_ER = "urn:epcglobal:cbv:er:"
_GS1 = "gs1:"
_GS1_IRI = "https://gs1.org/voc/"
#: XML namespaces whose JSON-LD prefix IRI is spelled differently in GS1's context.
_XML_NS_OF_PREFIX = {"cbvmda": "urn:epcglobal:cbv:mda"}

_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_TEXT_FIELDS = (
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "certificationInfo",
    "action",
    "parentID",
    "transformationID",
)
_REPORT_NUMBERS = ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue")

#: Element order of each event type in GS1's XSD (a sequence: the order is part of validity).
_BASE_ORDER = (
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "errorDeclaration",
    "certificationInfo",
)
_TAIL = ("sourceList", "destinationList", "sensorElementList", "persistentDisposition")
_WHERE = ("bizStep", "disposition", "readPoint", "bizLocation")
ORDER: dict[str, tuple[str, ...]] = {
    "ObjectEvent": (
        "epcList",
        "action",
        *_WHERE,
        "bizTransactionList",
        "quantityList",
        *_TAIL,
        "ilmd",
    ),
    "AggregationEvent": (
        "parentID",
        "childEPCs",
        "action",
        *_WHERE,
        "bizTransactionList",
        "childQuantityList",
        *_TAIL,
    ),
    "TransactionEvent": (
        "bizTransactionList",
        "parentID",
        "epcList",
        "action",
        *_WHERE,
        "quantityList",
        *_TAIL,
    ),
    "TransformationEvent": (
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        *_WHERE,
        "bizTransactionList",
        *_TAIL,
        "ilmd",
    ),
    "AssociationEvent": (
        "parentID",
        "childEPCs",
        "childQuantityList",
        "action",
        *_WHERE,
        "bizTransactionList",
        *_TAIL,
    ),
}
_EXTERNAL_DTD = re.compile(rb"<!DOCTYPE[^>\[]*\b(SYSTEM|PUBLIC)\b")
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


# -- the standard context's prefixes -----------------------------------------------------------


@cache
def _standard_terms() -> dict[str, str]:
    """Every term GS1's (protected) context defines, with its IRI where it is a plain prefix."""
    context = orjson.loads(CONTEXT_PATH.read_bytes())["@context"]
    terms: dict[str, str] = {}
    for key, value in context.items():
        if key.startswith("@"):
            continue
        terms[key] = value if isinstance(value, str) and value.endswith(("/", ":", "#")) else ""
    return terms


@cache
def _standard_prefix_of_ns() -> dict[str, str]:
    found = {iri: term for term, iri in _standard_terms().items() if iri}
    for prefix, ns in _XML_NS_OF_PREFIX.items():
        found[ns] = prefix
    return found


def prefix_iri(ns: str) -> str:
    """The JSON-LD prefix IRI of an XML namespace: JSON-LD 1.1 only uses a term as a prefix when
    its IRI ends in a delimiter, so ``http://ns.example.com/epcis`` becomes
    ``http://ns.example.com/epcis/`` (as in GS1's JSON twins of its XML examples) and a URN gets
    a ``:``; the IRI of ``<example:myField>`` is then ``http://ns.example.com/epcis/myField``."""
    if ns.endswith(("/", "#", ":", "?", "=")):
        return ns
    return ns + (":" if ns.lower().startswith("urn:") else "/")


def _ns_of_prefix(prefix: str, context: dict[str, str]) -> str | None:
    if prefix in _XML_NS_OF_PREFIX:
        return _XML_NS_OF_PREFIX[prefix]
    if prefix in context:
        return context[prefix]
    return _standard_terms().get(prefix) or None


# -- safe parsing and the XSD ------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    # A parser is not shared between threads (lxml's rule), so one is made per document.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def parse(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The root element of ``raw``, or TrackingError: malformed, entities, DTDs, too deep."""
    if not raw.strip():
        raise TrackingError("invalid", "/", "the body is empty")
    # Refused before libxml2 reads them at all (the checks after parsing catch other encodings).
    if b"<!ENTITY" in raw or b"<!ELEMENT" in raw:
        raise TrackingError(
            "invalid", "/", "DTD declarations (entities, elements) are not accepted"
        )
    if _EXTERNAL_DTD.search(raw[:4096]):
        raise TrackingError("invalid", "/", "an external DTD is not accepted")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        reason = str(exc.msg or exc)[:300]
        raise TrackingError("invalid", f"line {line}", f"not well-formed XML: {reason}") from None
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if docinfo.system_url or docinfo.public_id:
        raise TrackingError("invalid", "/", "an external DTD is not accepted")
    if dtd is not None and (any(True for _ in dtd.iterentities()) or dtd.elements()):
        raise TrackingError(
            "invalid", "/", "DTD declarations (entities, elements) are not accepted"
        )
    for entity in root.iter(etree.Entity):
        raise TrackingError(
            "invalid", _where(entity.getparent()), "entity references are not accepted"
        )
    # libxml2 finds an element below max_depth levels (XPath, in C) faster than a walk here.
    too_deep = root.xpath("/*" + "/*" * max_depth)
    if too_deep:
        raise TrackingError(
            "invalid", _where(too_deep[0]), f"nested deeper than {max_depth} levels"
        )
    return root


def _where(element: Any) -> str:
    if element is None:
        return "/"
    return f"{element.getroottree().getpath(element)} (line {element.sourceline})"


_SCHEMAS = threading.local()


def _schema() -> Any:
    """GS1's XSD (the query schema, which imports the event one), one instance per thread."""
    schema = getattr(_SCHEMAS, "schema", None)
    if schema is None:
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        tree = etree.parse(str(XSD_DIR / "EPCglobal-epcis-query-2_0.xsd"), parser)
        schema = etree.XMLSchema(tree)
        _SCHEMAS.schema = schema
    return schema


def _event_elements(root: Any) -> list[Any]:
    """The event elements of a document, in order (through EventList ``<extension>`` wrappers)."""
    found: list[Any] = []
    for event_list in root.iter("EventList"):
        for child in event_list:
            if child.tag == "extension":
                found.extend(c for c in child if isinstance(c.tag, str))
            elif isinstance(child.tag, str):
                found.append(child)
    return found


def validate(root: Any, all_errors: bool = False) -> None:
    """Refuse a document GS1's XSD refuses, naming the event (by index), its XPath and line."""
    schema = _schema()
    if schema.validate(root):
        return
    events = _event_elements(root)
    lines = [e.sourceline or 0 for e in events]
    problems: list[Problem] = []
    for error in schema.error_log:
        index = None
        for i, line in enumerate(lines):
            if line <= error.line:
                index = i
            else:
                break
        if index is not None and error.line > _last_line(events[index]):
            index = None
        message = error.message[:300]
        problems.append(Problem(f"{error.path} (line {error.line})", message, index))
        if not all_errors or len(problems) >= 100:
            break
    raise TrackingError("invalid", problems[0].field, problems[0].reason, problems)


def _last_line(element: Any) -> int:
    last = element.sourceline or 0
    for child in element.iter():
        last = max(last, child.sourceline or 0)
    return last


# -- XML to JSON-LD ----------------------------------------------------------------------------


def _number(text: str, where: str) -> int | float:
    """A JSON number: integral values as integers (26.0 and 26 are one JSON number)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise TrackingError("invalid", where, f"not a number: {text[:40]!r}") from None
    if not value.is_finite():
        raise TrackingError("invalid", where, "numbers must be finite")
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    result = float(value)
    if not math.isfinite(result):
        raise TrackingError("invalid", where, "numbers must be finite")
    return result


@cache
def _words(definition: str) -> frozenset[str]:
    """The bare words GS1's JSON schema knows for a vocabulary (e.g. ``bizStep``)."""
    schema = orjson.loads(SCHEMA_PATH.read_bytes())["definitions"][definition]
    return frozenset(w for option in schema.get("anyOf", []) for w in option.get("enum", []))


def _short(text: str | None, prefix: str, definition: str) -> str:
    """The JSON binding's bare word for a CBV URN it knows; any other value unchanged (an
    unknown word would not pass GS1's JSON schema, and the URN keeps its meaning)."""
    value = (text or "").strip()
    word = value[len(prefix) :]
    return word if value.startswith(prefix) and word in _words(definition) else value


def _sensor_word(text: str, definition: str) -> str:
    for prefix in (_GS1, _GS1_IRI):
        word = text[len(prefix) :]
        if text.startswith(prefix) and word in _words(definition):
            return word
    return text


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Add ``value`` under ``key``; a repeated key becomes an array (repeated XML elements)."""
    if key not in target:
        target[key] = value
    elif isinstance(target[key], list) and target.get(f"\x00{key}"):
        target[key].append(value)
    else:
        target[key] = [target[key], value]
        target[f"\x00{key}"] = True


Convert = Callable[[Any], Any]


def _items(convert: Convert) -> Convert:
    """A converter of a list element: each child element converted."""

    def each(element: Any) -> list[Any]:
        return [convert(c) for c in element if isinstance(c.tag, str)]

    return each


def _finish(target: dict[str, Any]) -> dict[str, Any]:
    for key in [k for k in target if k.startswith("\x00")]:
        del target[key]
    return target


class _Reader:
    """One document's conversion: it collects the namespaces it meets into the ``@context``."""

    def __init__(self) -> None:
        self.prefixes: dict[str, str] = {}  # namespace -> prefix
        self.context: dict[str, str] = {}  # prefix -> namespace (beyond GS1's context)
        self._standard: dict[str, Any] | None = None

    def key(self, element_or_qname: Any, hint: str | None) -> str:
        qname = etree.QName(element_or_qname)
        if qname.namespace is None:
            return str(qname.localname)
        return f"{self.prefix(qname.namespace, hint)}:{qname.localname}"

    def prefix(self, ns: str, hint: str | None) -> str:
        known = _standard_prefix_of_ns().get(ns) or self.prefixes.get(ns)
        if known:
            return known
        iri = prefix_iri(ns)
        if iri in _standard_prefix_of_ns():
            return _standard_prefix_of_ns()[iri]
        taken = set(self.context) | set(_standard_terms())
        prefix = hint if hint and hint not in taken and _NCNAME.match(hint) else None
        n = 1
        while prefix is None or prefix in taken:
            prefix, n = f"ns{n}", n + 1
        self.prefixes[ns] = prefix
        self.context[prefix] = iri
        return prefix

    def attribute_key(self, element: Any, name: str) -> str:
        qname = etree.QName(name)
        if qname.namespace is None:
            return str(qname.localname)
        hint = next((p for p, n in element.nsmap.items() if n == qname.namespace and p), None)
        return f"{self.prefix(qname.namespace, hint)}:{qname.localname}"

    def user_attributes(self, element: Any, target: dict[str, Any], skip: tuple[str, ...]) -> None:
        for name, value in element.attrib.items():
            if etree.QName(name).namespace in (XSI_NS, XML_NS) or name in skip:
                continue
            _put(target, self.attribute_key(element, name), value)

    def user(self, element: Any) -> Any:
        """A user-defined element: text, or an object of its attributes and children."""
        children = [c for c in element if isinstance(c.tag, str)]
        attributes = [n for n in element.attrib if etree.QName(n).namespace not in (XSI_NS, XML_NS)]
        if not children and not attributes:
            return element.text or ""
        value: dict[str, Any] = {}
        self.user_attributes(element, value, ())
        for child in children:
            _put(value, self.key(child, child.prefix), self.user(child))
        if (element.text or "").strip() and not children:
            value["#text"] = element.text
        return _finish(value)

    def members(self, element: Any, target: dict[str, Any], standard: dict[str, Any]) -> None:
        """Fill ``target`` from ``element``'s children: standard ones through ``standard``
        (local name -> converter), ``<extension>`` wrappers unwrapped, others as user fields."""
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag[0] != "{" and tag in ("extension", "baseExtension"):
                self.members(child, target, standard)
            elif tag[0] != "{" and tag in standard:
                _put(target, tag, standard[tag](child))
            else:
                _put(target, self.key(child, child.prefix), self.user(child))
        _finish(target)

    def vocabulary_object(self, element: Any, fields: dict[str, Any]) -> dict[str, Any]:
        value: dict[str, Any] = {}
        self.user_attributes(element, value, ())
        self.members(element, value, fields)
        return value

    def location(self, element: Any) -> dict[str, Any]:
        return self.vocabulary_object(element, {"id": _text})

    def quantity(self, element: Any) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name == "quantity":
                if child.get(f"{{{XSI_NS}}}nil") in ("true", "1"):
                    continue
                value["quantity"] = _number(child.text or "", _where(child))
            elif name in ("epcClass", "uom"):
                value[name] = _text(child)
        return value

    def typed(self, element: Any, field: str, prefix: str, vocabulary: str) -> dict[str, Any]:
        value: dict[str, Any] = {}
        if element.get("type") is not None:
            value["type"] = _short(element.get("type"), prefix, vocabulary)
        value[field] = _text(element)
        return value

    def error_declaration(self, element: Any) -> dict[str, Any]:
        return self.vocabulary_object(
            element,
            {
                "declarationTime": _text,
                "reason": lambda e: _short(_text(e), _ER, "error-reason"),
                "correctiveEventIDs": lambda e: [_text(c) for c in e if isinstance(c.tag, str)],
            },
        )

    def sensor_metadata(self, element: Any) -> dict[str, Any]:
        value: dict[str, Any] = {}
        self.user_attributes(element, value, ())
        return value

    def sensor_report(self, element: Any) -> dict[str, Any]:
        value: dict[str, Any] = {}
        self.user_attributes(element, value, ())
        for name in _REPORT_NUMBERS:
            if name in value:
                value[name] = _number(value[name], f"{_where(element)}/@{name}")
        for name, definition in (("type", "measurementType"), ("exception", "sensorAlertType")):
            if name in value:
                value[name] = _sensor_word(value[name], definition)
        if "booleanValue" in value:
            value["booleanValue"] = value["booleanValue"].strip() in ("true", "1")
        return value

    def sensor_element(self, element: Any) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            qname = etree.QName(child)
            if qname.namespace is None and qname.localname == "sensorMetadata":
                value["sensorMetadata"] = self.sensor_metadata(child)
            elif qname.namespace is None and qname.localname == "sensorReport":
                value.setdefault("sensorReport", []).append(self.sensor_report(child))
            elif qname.namespace is None and qname.localname == "extension":
                self.members(child, value, {})
            else:
                _put(value, self.key(child, child.prefix), self.user(child))
        return _finish(value)

    def persistent_disposition(self, element: Any) -> dict[str, Any]:
        value: dict[str, list[str]] = {}
        for child in element:
            if isinstance(child.tag, str):
                value.setdefault(etree.QName(child).localname, []).append(
                    _short(_text(child), _DISP, "disposition")
                )
        return value

    def event(self, element: Any) -> dict[str, Any]:
        qname = etree.QName(element)
        kind = qname.localname if qname.namespace is None else self.key(element, element.prefix)
        body: dict[str, Any] = {"type": kind}
        self.user_attributes(element, body, ())
        self.members(element, body, self.standard)
        return body

    @property
    def standard(self) -> dict[str, Any]:
        """The converters of an event's standard elements (built once per document)."""
        if self._standard is not None:
            return self._standard
        standard: dict[str, Any] = {name: _text for name in _TEXT_FIELDS}
        standard.update({name: _items(_text) for name in _EPC_LISTS})
        standard.update({name: _items(self.quantity) for name in _QUANTITY_LISTS})
        standard.update(
            {
                "bizStep": lambda e: _short(_text(e), _BIZSTEP, "bizStep"),
                "disposition": lambda e: _short(_text(e), _DISP, "disposition"),
                "readPoint": self.location,
                "bizLocation": self.location,
                "bizTransactionList": _items(
                    lambda c: self.typed(c, "bizTransaction", _BTT, "bizTransaction-type")
                ),
                "sourceList": _items(lambda c: self.typed(c, "source", _SDT, "source-dest-type")),
                "destinationList": _items(
                    lambda c: self.typed(c, "destination", _SDT, "source-dest-type")
                ),
                "sensorElementList": lambda e: [
                    self.sensor_element(c)
                    for c in e
                    if isinstance(c.tag, str) and etree.QName(c).localname == "sensorElement"
                ],
                "persistentDisposition": self.persistent_disposition,
                "ilmd": lambda e: self.vocabulary_object(e, {}),
                "errorDeclaration": self.error_declaration,
            }
        )
        self._standard = standard
        return standard

    def context_list(self) -> list[Any]:
        return [STANDARD_CONTEXT, dict(self.context)] if self.context else [STANDARD_CONTEXT]


def _envelope(root: Any) -> tuple[str, Any]:
    qname = etree.QName(root)
    if qname == etree.QName(EPCIS_NS, "EPCISDocument"):
        return "EPCISDocument", root
    if qname == etree.QName(QUERY_NS, "EPCISQueryDocument"):
        return "EPCISQueryDocument", root
    raise TrackingError(
        "invalid",
        _where(root),
        f"capture takes an epcis:EPCISDocument or epcisq:EPCISQueryDocument ({EPCIS_NS}), "
        f"not {qname.localname}",
    )


def to_document(root: Any) -> dict[str, Any]:
    """The JSON-LD EPCISDocument (or EPCISQueryDocument) of a parsed, validated XML document."""
    kind, _ = _envelope(root)
    reader = _Reader()
    events = [reader.event(e) for e in _event_elements(root)]
    document: dict[str, Any] = {
        "type": kind,
        "schemaVersion": root.get("schemaVersion", "2.0"),
        "creationDate": root.get("creationDate", ""),
    }
    if kind == "EPCISDocument":
        document["epcisBody"] = {"eventList": events}
    else:
        results = next(root.iter(f"{{{QUERY_NS}}}QueryResults"), None)
        query: dict[str, Any] = {}
        if results is not None:
            for name in ("queryName", "subscriptionID"):
                found = results.find(name)
                if found is not None:
                    query[name] = _text(found)
        query["resultsBody"] = {"eventList": events}
        document["epcisBody"] = {"queryResults": query}
    document["@context"] = reader.context_list()
    return document


def document_from_xml(
    raw: bytes, max_depth: int = MAX_DEPTH, all_errors: bool = False
) -> dict[str, Any]:
    """Parse, validate and convert an XML EPCISDocument: the JSON-LD document capture takes."""
    root = parse(raw, max_depth)
    _envelope(root)
    validate(root, all_errors)
    return to_document(root)


def event_from_xml(raw: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """One event posted alone (``POST /events``): a bare event element such as ``<ObjectEvent>``,
    or a document holding exactly one; the JSON-LD event with its ``@context``."""
    root = parse(raw, max_depth)
    qname = etree.QName(root)
    if qname.namespace is None and qname.localname in EVENT_TYPES:
        shell = etree.Element(
            f"{{{EPCIS_NS}}}EPCISDocument",
            schemaVersion="2.0",
            creationDate="2000-01-01T00:00:00Z",
            nsmap={"epcis": EPCIS_NS},
        )
        etree.SubElement(etree.SubElement(shell, "EPCISBody"), "EventList").append(root)
        root = shell
    else:
        _envelope(root)
    validate(root)
    document = to_document(root)
    events = (
        document["epcisBody"]["eventList"]
        if "eventList" in document["epcisBody"]
        else document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    )
    if len(events) != 1:
        raise TrackingError("invalid", "/", f"POST /events takes one event, not {len(events)}")
    return {"@context": document["@context"], **events[0]}


def capture_bytes(raw: bytes, max_depth: int, all_errors: bool, single: bool) -> bytes:
    """The JSON bytes the JSON capture pipeline takes, for an XML body (run off the event loop)."""
    if single:
        return orjson.dumps(event_from_xml(raw, max_depth))
    return orjson.dumps(document_from_xml(raw, max_depth, all_errors))


# -- JSON-LD to XML ----------------------------------------------------------------------------


def _long(value: Any, prefix: str) -> str:
    text = _scalar(value)
    return prefix + text if text and ":" not in text else text


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if value is None:
        return ""
    return str(value)


def _contexts(value: Any) -> Iterator[dict[str, str]]:
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict):
            found = {}
            for key, value in entry.items():
                if isinstance(value, dict):  # an expanded term definition: {"@id": ...}
                    value = value.get("@id")
                if isinstance(value, str) and not key.startswith("@"):
                    found[key] = value
            yield found


class _Writer:
    """Writes one query document; ``nsmap`` gathers the user namespaces for the root element."""

    def __init__(self) -> None:
        self.nsmap: dict[str, str] = {}

    def qname(self, key: str, context: dict[str, str], where: str) -> str:
        """The Clark name ``{namespace}local`` of a JSON key (``prefix:local``, an IRI or a plain
        local name)."""
        if ":" not in key:
            ns, local = None, key
        else:
            prefix, rest = key.split(":", 1)
            ns = _ns_of_prefix(prefix, context)
            if ns is not None and not rest.startswith("//"):
                local = rest
                if prefix not in self.nsmap and ns not in self.nsmap.values():
                    self.nsmap[prefix] = ns
            else:
                cut = max(key.rfind("/"), key.rfind("#"), key.rfind(":"))
                ns, local = key[: cut + 1], key[cut + 1 :]
        if not _NCNAME.match(local):
            raise TrackingError(
                "not_acceptable",
                where,
                f"the field {key!r} has no XML form; ask for application/ld+json",
            )
        return f"{{{ns}}}{local}" if ns else local

    def user(self, parent: Any, key: str, value: Any, context: dict[str, str], where: str) -> None:
        if isinstance(value, list):
            for item in value:
                self.user(parent, key, item, context, where)
            return
        element = etree.SubElement(parent, self.qname(key, context, where))
        if isinstance(value, dict):
            # Text beside other keys came from an element with attributes (see _Reader.user).
            text = "#text" in value
            for k, v in value.items():
                if k == "#text":
                    element.text = _scalar(v)
                elif text and not isinstance(v, dict | list):
                    element.set(self.qname(k, context, f"{where}.{k}"), _scalar(v))
                elif not k.startswith("@"):
                    self.user(element, k, v, context, f"{where}.{k}")
        else:
            element.text = _scalar(value)

    def attributes(
        self, element: Any, value: dict[str, Any], context: dict[str, str], where: str
    ) -> None:
        for key, item in value.items():
            if isinstance(item, dict | list):
                raise TrackingError(
                    "not_acceptable",
                    f"{where}.{key}",
                    "a structured value here has no XML form; ask for application/ld+json",
                )
            element.set(self.qname(key, context, f"{where}.{key}"), _scalar(item))

    def text(self, parent: Any, name: str, value: Any) -> None:
        etree.SubElement(parent, name).text = _scalar(value)

    def standard(
        self, parent: Any, name: str, value: Any, context: dict[str, str], where: str
    ) -> None:
        sub = etree.SubElement
        if name in _EPC_LISTS:
            element = sub(parent, name)
            for epc in value or []:
                self.text(element, "epc", epc)
        elif name in _QUANTITY_LISTS:
            element = sub(parent, name)
            for item in value or []:
                q = sub(element, "quantityElement")
                self.text(q, "epcClass", item.get("epcClass"))
                if "quantity" in item:
                    self.text(q, "quantity", item["quantity"])
                    if "uom" in item:
                        self.text(q, "uom", item["uom"])
        elif name == "bizStep":
            self.text(parent, name, _long(value, _BIZSTEP))
        elif name == "disposition":
            self.text(parent, name, _long(value, _DISP))
        elif name in ("readPoint", "bizLocation"):
            element = sub(parent, name)
            self.text(element, "id", value.get("id"))
            self.users(element, value, ("id",), context, f"{where}")
        elif name == "bizTransactionList":
            element = sub(parent, name)
            for item in value or []:
                self.typed(element, "bizTransaction", item, _BTT)
        elif name in ("sourceList", "destinationList"):
            element = sub(parent, name)
            field = name.removesuffix("List")
            for item in value or []:
                self.typed(element, field, item, _SDT)
        elif name == "sensorElementList":
            element = sub(parent, name)
            for i, item in enumerate(value or []):
                self.sensor_element(element, item, context, f"{where}[{i}]")
        elif name == "persistentDisposition":
            element = sub(parent, name)
            for part in ("unset", "set"):
                for item in value.get(part, []):
                    self.text(element, part, _long(item, _DISP))
        elif name == "ilmd":
            element = sub(parent, name)
            self.users(element, value, (), context, where)
        elif name == "errorDeclaration":
            element = sub(parent, name)
            if "declarationTime" in value:
                self.text(element, "declarationTime", value["declarationTime"])
            if "reason" in value:
                self.text(element, "reason", _long(value["reason"], _ER))
            if "correctiveEventIDs" in value:
                ids = sub(element, "correctiveEventIDs")
                for item in value["correctiveEventIDs"]:
                    self.text(ids, "correctiveEventID", item)
            self.users(
                element,
                value,
                ("declarationTime", "reason", "correctiveEventIDs"),
                context,
                where,
            )
        elif name == "certificationInfo":
            for item in value if isinstance(value, list) else [value]:
                self.text(parent, name, item)
        else:
            self.text(parent, name, value)

    def typed(self, parent: Any, name: str, item: dict[str, Any], prefix: str) -> None:
        element = etree.SubElement(parent, name)
        element.text = _scalar(item.get(name))
        if "type" in item:
            element.set("type", _long(item["type"], prefix))

    def sensor_element(
        self, parent: Any, value: dict[str, Any], context: dict[str, str], where: str
    ) -> None:
        element = etree.SubElement(parent, "sensorElement")
        if "sensorMetadata" in value:
            metadata = etree.SubElement(element, "sensorMetadata")
            self.attributes(metadata, value["sensorMetadata"], context, f"{where}.sensorMetadata")
        for i, report in enumerate(value.get("sensorReport", [])):
            shown = dict(report)
            for name in ("type", "exception"):
                if name in shown and ":" not in str(shown[name]):
                    shown[name] = _GS1 + str(shown[name])
            self.attributes(
                etree.SubElement(element, "sensorReport"),
                shown,
                context,
                f"{where}.sensorReport[{i}]",
            )
        self.users(element, value, ("sensorMetadata", "sensorReport"), context, where)

    def users(
        self,
        parent: Any,
        value: dict[str, Any],
        skip: tuple[str, ...],
        context: dict[str, str],
        where: str,
    ) -> None:
        for key, item in value.items():
            if key not in skip and not key.startswith("@"):
                self.user(parent, key, item, context, f"{where}.{key}")

    def event(self, parent: Any, event: dict[str, Any], where: str) -> None:
        context: dict[str, str] = {}
        for entry in _contexts(event.get("@context")):
            context.update(entry)
        kind = str(event.get("type", ""))
        order = ORDER.get(kind)
        if order is None:  # an extension event type sits in EventList's <extension>
            holder = etree.SubElement(parent, "extension")
            element = etree.SubElement(holder, self.qname(kind, context, f"{where}.type"))
            order = ()
        else:
            element = etree.SubElement(parent, kind)
        for name in (*_BASE_ORDER, *order):
            if name in event:
                self.standard(element, name, event[name], context, f"{where}.{name}")
        known = {"type", "@context", *_BASE_ORDER, *order}
        self.users(element, event, tuple(known), context, where)


def query_document_to_xml(document: dict[str, Any]) -> bytes:
    """An EPCISQueryDocument (the JSON-LD form query answers take) as EPCIS 2.0 XML."""
    writer = _Writer()
    results = document["epcisBody"]["queryResults"]
    holder = etree.Element("EventList")
    for i, event in enumerate(results["resultsBody"]["eventList"]):
        where = f"$.epcisBody.queryResults.resultsBody.eventList[{i}]"
        try:
            writer.event(holder, event, where)
        except TrackingError:  # (a ValueError too)
            raise
        except ValueError:  # lxml refuses text XML cannot carry (control characters)
            raise TrackingError(
                "not_acceptable",
                where,
                "this event holds text XML cannot carry; ask for application/ld+json",
            ) from None
    nsmap = {"epcis": EPCIS_NS, "epcisq": QUERY_NS}
    for prefix, ns in writer.nsmap.items():
        if prefix not in nsmap and ns not in nsmap.values():
            nsmap[prefix] = ns
    root = etree.Element(
        f"{{{QUERY_NS}}}EPCISQueryDocument",
        nsmap=nsmap,
        schemaVersion=str(document.get("schemaVersion", "2.0")),
        creationDate=str(document.get("creationDate", "")),
    )
    body = etree.SubElement(root, "EPCISBody")
    query = etree.SubElement(body, f"{{{QUERY_NS}}}QueryResults")
    etree.SubElement(query, "queryName").text = str(results.get("queryName", ""))
    if results.get("subscriptionID"):
        etree.SubElement(query, "subscriptionID").text = str(results["subscriptionID"])
    etree.SubElement(query, "resultsBody").append(holder)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def capture_job_to_xml(job: dict[str, Any]) -> bytes:
    """A capture job (``GET /capture/{captureID}``) as the XSD's ``epcis:EPCISCaptureJob``."""
    root = etree.Element(
        f"{{{EPCIS_NS}}}EPCISCaptureJob",
        nsmap={"epcis": EPCIS_NS},
        captureID=str(job["captureID"]),
        running=_scalar(bool(job["running"])),
        success=_scalar(bool(job["success"])),
    )
    etree.SubElement(root, "captureErrorBehaviour").text = job.get(
        "captureErrorBehaviour", "rollback"
    )
    for name in ("createdAt", "finishedAt"):
        if job.get(name):
            etree.SubElement(root, name).text = _xsd_time(str(job[name]))
    if job.get("errors"):
        errors = etree.SubElement(root, "errors")
        for item in job["errors"]:
            error = etree.SubElement(errors, "error")
            etree.SubElement(error, "type").text = "epcisException:ValidationException"
            etree.SubElement(error, "title").text = str(item.get("reason", ""))
            detail = f"event {item.get('index')}: {item.get('field')}"
            etree.SubElement(error, "detail").text = detail
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def _xsd_time(value: str) -> str:
    """An ISO time as the XSD's DateTimeStamp wants it (a zone is required)."""
    if value.endswith("Z") or re.search(r"[+-]\d\d:\d\d$", value):
        return value
    return value + "Z"
