"""Validation of EPCIS 2.0 JSON/JSON-LD against GS1's current JSON schema, event by event.

The schema ships as data: ``data/epcis/EPCIS-JSON-Schema.json``, GS1 EPCIS 2.0 JSON Schema
(``$id`` https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json, Apache-2.0), copied unchanged from the
gs1/EPCIS repository at commit 2b888befbc071e1c2d388e027b30149b3f51dcef (2023-05-16), with its
JSON-LD context ``epcis-context.jsonld``.

Why per event: the document envelope is checked with an empty eventList, then each event against
the schema's own ``EPCIS-Document-Event`` definition. A problem then names the event by index,
validation stops at the first bad event unless every problem is asked for (so a 50 MB document
with one bad event is rejected in the time it takes to reach it), and ``jsonschema-rs`` (compiled)
keeps a 1,000-event document in the milliseconds.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema_rs

from corridor.settings import PACKAGE_DATA_DIR
from corridor.tracking.errors import Problem

SCHEMA_PATH = PACKAGE_DATA_DIR / "epcis" / "EPCIS-JSON-Schema.json"
CONTEXT_PATH = PACKAGE_DATA_DIR / "epcis" / "epcis-context.jsonld"


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@cache
def _document_validator() -> Any:
    return jsonschema_rs.Draft7Validator(_schema(), validate_formats=True)


@cache
def _event_validator() -> Any:
    sub = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": _schema()["definitions"],
        "$ref": "#/definitions/EPCIS-Document-Event",
    }
    return jsonschema_rs.Draft7Validator(sub, validate_formats=True)


def _path(prefix: str, parts: list[str | int]) -> str:
    out = prefix
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _cbv_urn_hint(value: Any) -> str | None:
    """Why a CBV URN is refused, and what to write instead.

    The URN (``urn:epcglobal:cbv:bizstep:departing``) is the XML binding's spelling; GS1's JSON
    schema refuses it on purpose (its ``vocab-other-uri`` excludes ``urn:epcglobal:cbv``) and wants
    the bare word, so the raw "not valid under any of the schemas" message would leave a user who
    converts from XML guessing.
    """
    if not isinstance(value, str) or not value.startswith("urn:epcglobal:cbv:"):
        return None
    word = value.rsplit(":", 1)[-1]
    return (
        f"{value!r} is the XML binding's CBV URN; EPCIS 2.0 JSON-LD takes the bare word "
        f"{word!r} (or https://ref.gs1.org/cbv/...), as GS1's JSON schema requires"
    )


def _problems(
    validator: Any, value: Any, prefix: str, index: int | None, limit: int
) -> list[Problem]:
    found = []
    for error in validator.iter_errors(value):
        message = _cbv_urn_hint(error.instance) or error.message
        message = message if len(message) < 300 else message[:297] + "..."
        found.append(Problem(_path(prefix, list(error.instance_path)), message, index))
        if len(found) >= limit:
            break
    return found


def validate_envelope(document: Any, limit: int = 10) -> list[Problem]:
    """Problems of the document itself, its events left out (each is checked by validate_event)."""
    if not isinstance(document, dict):
        return [Problem("$", "an EPCIS document is a JSON object")]
    shell = dict(document)
    for key in ("epcisBody",):
        body = shell.get(key)
        if isinstance(body, dict):
            inner = dict(body)
            if isinstance(inner.get("eventList"), list):
                inner["eventList"] = []
            results = inner.get("queryResults")
            if isinstance(results, dict) and isinstance(results.get("resultsBody"), dict):
                rb = dict(results["resultsBody"])
                if isinstance(rb.get("eventList"), list):
                    rb["eventList"] = []
                inner["queryResults"] = {**results, "resultsBody": rb}
            shell[key] = inner
    validator = _document_validator()
    if validator.is_valid(shell):
        return []
    return _problems(validator, shell, "$", None, limit)


def validate_event(event: Any, prefix: str, index: int, limit: int = 10) -> list[Problem]:
    """Problems of one event of a document's eventList (empty when it conforms)."""
    validator = _event_validator()
    if validator.is_valid(event):
        return []
    return _problems(validator, event, prefix, index, limit)


def validate_single(event: Any, limit: int = 10) -> list[Problem]:
    """Problems of an event posted on its own (``POST /events``): it must carry its ``@context``."""
    validator = _document_validator()
    if validator.is_valid(event):
        return []
    return _problems(validator, event, "$", 0, limit)


def validate(document: Any, limit: int = 10) -> list[Problem]:
    """Every problem of a whole document, up to ``limit`` (for the CLI and tests)."""
    validator = _document_validator()
    if validator.is_valid(document):
        return []
    return _problems(validator, document, "$", None, limit)
