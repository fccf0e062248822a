"""What a capture is allowed to store: the rules between an EPCIS document and the repository.

Pure functions over plain data (the store reads owners and stored events, then calls these), so
the rules are tested on their own:

- the document conforms to GS1's schema, checked event by event; the first bad event stops the
  check unless every problem is asked for. A document that arrived as XML was checked against
  GS1's XSD already (``schema_checked``): the XSD governs that binding, and GS1's JSON schema
  differs from it (it has no persistentDisposition on AggregationEvent, it requires a
  sensorReport's ``type``), so its per-event check is skipped there; everything else applies;
- every event gets ``recordTime`` (when the repository received it), and an ``eventID`` (GS1's
  event hash) when it has none;
- the document's own ``@context`` entries beyond GS1's are kept on each event, so an answer
  expands to the same IRIs as the capture did;
- the same eventID twice in one document: identical content is one event (the repeat is reported
  by index), different content is a conflict, unless the repeat is its error declaration;
- references: a forwarder's events name one of its own shipments; shipment and node references
  must exist; only the organisation that captured an event may declare it erroneous.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from corridor.tracking import schema
from corridor.tracking.errors import Problem, TrackingError
from corridor.tracking.events import Fact, to_fact

STANDARD_CONTEXTS = frozenset(
    {
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
STANDARD_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


@dataclass
class Prepared:
    """The events of a document ready to store, each once, in document order."""

    facts: list[Fact] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # position of each fact in the eventList
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (index, index it repeats)


def events_of(document: Any) -> tuple[list[Any], str]:
    """The eventList of an EPCISDocument or EPCISQueryDocument, and its JSON path."""
    if not isinstance(document, dict):
        raise TrackingError("invalid", "$", "an EPCIS document is a JSON object")
    kind = document.get("type")
    body = document.get("epcisBody")
    if kind == "EPCISDocument" and isinstance(body, dict):
        events = body.get("eventList")
        path = "$.epcisBody.eventList"
    elif kind == "EPCISQueryDocument" and isinstance(body, dict):
        results = body.get("queryResults", {})
        events = (
            results.get("resultsBody", {}).get("eventList") if isinstance(results, dict) else None
        )
        path = "$.epcisBody.queryResults.resultsBody.eventList"
    else:
        raise TrackingError(
            "invalid", "$.type", "capture takes an EPCISDocument or EPCISQueryDocument"
        )
    if not isinstance(events, list):
        raise TrackingError("invalid", path, "the document has no eventList")
    return events, path


def extra_context(context: Any) -> list[Any]:
    """The entries of a document's ``@context`` beyond GS1's standard one (kept on each event)."""
    entries = context if isinstance(context, list) else [context]
    return [
        c for c in entries if c is not None and not (isinstance(c, str) and c in STANDARD_CONTEXTS)
    ]


def canonical(body: Mapping[str, Any]) -> bytes:
    """Event content compared for sameness: everything but the repository's ``recordTime``."""
    return orjson.dumps(
        {k: v for k, v in body.items() if k != "recordTime"}, option=orjson.OPT_SORT_KEYS
    )


def prepare(
    document: Any,
    record_time: datetime,
    *,
    all_errors: bool = False,
    max_events: int = 100_000,
    progress: Callable[[float, str], None] | None = None,
    schema_checked: bool = False,
) -> Prepared:
    """Validate ``document`` and return its events, stamped and identified, or TrackingError.

    ``schema_checked``: the events were validated against GS1's XSD (an XML capture), so GS1's
    JSON schema is not applied to them; the envelope check and every rule below still are.
    """
    problems = schema.validate_envelope(document)
    if problems:
        raise TrackingError("invalid", problems[0].field, problems[0].reason, problems)
    events, path = events_of(document)
    if len(events) > max_events:
        raise TrackingError(
            "too_large", path, f"at most {max_events} events per document (capture limit)"
        )
    extras = extra_context(document.get("@context"))
    stamp = record_time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{record_time.microsecond // 1000:03d}Z"
    prepared = Prepared()
    first: dict[str, int] = {}  # eventID -> its position in prepared.facts
    errors: list[Problem] = []
    step = max(1, len(events) // 20)
    for i, event in enumerate(events):
        at = f"{path}[{i}]"
        found = [] if schema_checked else schema.validate_event(event, at, i)
        if not found and not isinstance(event, dict):
            found = [Problem(at, "an EPCIS event is a JSON object", i)]
        if not found:
            body = dict(event)
            if extras and "@context" not in body:
                body["@context"] = extras
            try:
                fact = to_fact(body, at)
            except TrackingError as exc:
                found = [Problem(exc.field or at, exc.reason, i)]
        if found:
            errors += found
            if not all_errors or len(errors) >= 1000:
                break
            continue
        # The fact holds ``body`` itself: stamping it here stamps what is stored.
        body["eventID"] = fact.event_id
        body["recordTime"] = stamp
        if fact.event_id in first:
            j = first[fact.event_id]
            earlier = prepared.facts[j]
            if canonical(earlier.body) == canonical(body):
                prepared.duplicates.append((i, prepared.indexes[j]))
                continue
            if fact.error_declaration:
                prepared.facts[j] = fact  # the original and its error declaration: keep the latter
                continue
            errors.append(
                Problem(
                    f"{at}.eventID",
                    f"eventList[{prepared.indexes[j]}] has the same eventID with other content",
                    i,
                )
            )
            if not all_errors:
                break
            continue
        first[fact.event_id] = len(prepared.facts)
        prepared.facts.append(fact)
        prepared.indexes.append(i)
        if progress is not None and i % step == 0:
            progress(0.5 * i / max(1, len(events)), f"validated {i} of {len(events)} events")
    if errors:
        code = (
            "conflict"
            if all(p.field.endswith(".eventID") and "same eventID" in p.reason for p in errors)
            else "invalid"
        )
        raise TrackingError(code, errors[0].field, errors[0].reason, errors)
    return prepared


def check_references(
    prepared: Prepared,
    role: str,
    organisation_id: str,
    owners: Mapping[str, str],
    nodes: Iterable[str],
) -> None:
    """Refuse events naming unknown shipments or nodes, or shipments that are not the caller's.

    ``owners`` maps each named shipment that exists to its organisation; ``role`` is the caller's
    organisation kind (forwarder, carrier, customs, admin).
    """
    known_nodes = set(nodes)
    problems: list[Problem] = []
    for fact, i in zip(prepared.facts, prepared.indexes, strict=True):
        at = f"$.epcisBody.eventList[{i}]"
        for sid in fact.shipments:
            if sid not in owners or (role == "forwarder" and owners[sid] != organisation_id):
                problems.append(Problem(f"{at}.bizTransactionList", f"unknown shipment {sid!r}", i))
        if fact.node is not None and fact.node not in known_nodes:
            problems.append(
                Problem(f"{at}.bizLocation", f"unknown corridor place {fact.place!r}", i)
            )
        if role == "forwarder" and not fact.shipments:
            problems.append(
                Problem(
                    f"{at}.bizTransactionList",
                    "a forwarder's events name one of its shipments (urn:corridor:shipment:<id>)",
                    i,
                )
            )
        if len(problems) >= 50:
            break
    if problems:
        raise TrackingError("unknown_reference", problems[0].field, problems[0].reason, problems)


def may_correct(stored_by: str, organisation_id: str) -> bool:
    """Only the organisation that captured an event may declare it erroneous (tenant isolation)."""
    return stored_by == organisation_id


def single_event_document(event: Any, *, schema_checked: bool = False) -> dict[str, Any]:
    """An event posted alone (``POST /events``) wrapped as the one-event document it stands for.

    ``schema_checked``: the event came as XML and passed GS1's XSD, which governs it instead of
    GS1's JSON schema.
    """
    if not isinstance(event, dict):
        raise TrackingError("invalid", "$", "an EPCIS event is a JSON object")
    problems = [] if schema_checked else schema.validate_single(event)
    if problems:
        raise TrackingError("invalid", problems[0].field, problems[0].reason, problems)
    body = {k: v for k, v in event.items() if k != "@context"}
    return {
        "@context": event.get("@context", [STANDARD_CONTEXT]),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2000-01-01T00:00:00Z",
        "epcisBody": {"eventList": [body]},
    }
