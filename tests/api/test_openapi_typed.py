"""The OpenAPI document types every success answer: a model, or a documented media type.

Walks every operation of ``/api/v1/openapi.json``: each 2xx answer with a body must declare its
media type and a schema, and that schema, followed through its ``$ref``s, must not fall back to an
untyped value (``{}``, a bare ``object``, or ``additionalProperties: true``) where a model belongs.
A field is free-form only when a standard or the job kind makes it so; those are listed in
``FREE_FORM`` with the reason, so that any new untyped answer fails here.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store.db import Database

#: Schema locations (component.field, or "component" for the whole model) that are free-form.
FREE_FORM = {
    # EPCIS 2.0 documents, events and capture errors are JSON-LD whose shape the GS1 standard
    # defines (and extends with user vocabularies); they are checked against the standard's own
    # JSON Schema on capture, not by an OpenAPI model.
    "EpcisDocumentModel": "EPCIS 2.0 JSON-LD document (GS1 schema)",
    "EpcisDocumentModel.epcisBody": "EPCIS 2.0 JSON-LD body (GS1 schema)",
    "CaptureJob.errors": "EPCIS capture errors as the standard's problem details",
    "CaptureJob.result": "EPCIS capture result, as the standard defines it",
    "CaptureSummary.duplicateEvents": "EPCIS events, JSON-LD",
    # A job's result and error depend on its kind (a simulation, an energy run, ...); each kind's
    # result has its own typed endpoint (/simulation/runs/{id}/..., /energy/runs/{run}).
    "JobOut.result": "depends on the job kind",
    "JobOut.error": "depends on the job kind",
    # The planner's query echoed back as given (every optional filter the request may carry).
    "RouteResponse.query": "the request's query, echoed",
    "CapacityRouteOut.query": "the request's query, echoed",
    # Scenario comparison tables whose columns are the compared scenarios' own metrics.
    "DiffOut.od_p50_d": "columns are the scenarios' metrics",
    "DiffOut.utilisation": "columns are the scenarios' metrics",
    "DiffOut.bottleneck_a": "a scenario's metrics",
    "DiffOut.bottleneck_b": "a scenario's metrics",
}

TYPED_KEYS = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const")


@pytest.fixture(scope="module")
def document(_sqlite_template, tmp_path_factory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("openapi")
    shutil.copyfile(_sqlite_template.location, home / "corridor.db")
    db = Database(f"sqlite:///{home / 'corridor.db'}")
    try:
        return create_app(Settings(var_dir=home), db).openapi()
    finally:
        db.dispose()


def untyped(schema: Any, components: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Locations under ``schema`` that are untyped, as "Component.field" or the operation."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return untyped(components[name], components, name, seen | {name})
    if where in FREE_FORM:
        return []
    if not any(key in schema for key in TYPED_KEYS):
        return [where]  # {} or a schema with only a title: Any
    found: list[str] = []
    extra = schema.get("additionalProperties")
    if schema.get("type") == "object" and (
        extra is True or (extra is None and not schema.get("properties"))
    ):
        found.append(where)
    for name, field in schema.get("properties", {}).items():
        base = where.split(".")[0]
        found += untyped(field, components, f"{base}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += untyped(schema[key], components, where, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += untyped(option, components, where, seen)
    return found


def operations(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, status, answer)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status, answer in operation.get("responses", {}).items()
        if status.startswith("2")
    ]


def test_every_success_answer_has_a_media_type_and_a_schema(document):
    missing = []
    for method, path, status, answer in operations(document):
        if status == "204":
            assert not answer.get("content"), (method, path, "a 204 has no body")
            continue
        content = answer.get("content") or {}
        if not content:
            missing.append(f"{method} {path} {status}: no content")
        for media, body in content.items():
            if not body.get("schema"):
                missing.append(f"{method} {path} {status} {media}: no schema")
    assert missing == []
    assert len(operations(document)) >= 100


def test_no_success_answer_is_an_untyped_object_where_a_model_belongs(document):
    components = document["components"]["schemas"]
    found = set()
    for method, path, _, answer in operations(document):
        for media, body in (answer.get("content") or {}).items():
            for where in untyped(body.get("schema"), components, f"{method} {path}", set()):
                found.add(f"{where} ({media})")
    assert sorted(found) == []


def test_the_walker_finds_what_it_must():
    """The check above can fail: untyped shapes are found, typed and listed ones are not."""
    components = {
        "Out": {"type": "object", "properties": {"a": {"type": "string"}, "b": {}}},
        "Loose": {"type": "object", "additionalProperties": True},
        "JobOut": {"type": "object", "properties": {"result": {}}},
    }
    assert untyped({"$ref": "#/components/schemas/Out"}, components, "op", set()) == ["Out.b"]
    assert untyped({"$ref": "#/components/schemas/Loose"}, components, "op", set()) == ["Loose"]
    assert untyped({"type": "object"}, components, "op", set()) == ["op"]
    assert untyped({"type": "array", "items": {}}, components, "op", set()) == ["op"]
    assert untyped({"$ref": "#/components/schemas/JobOut"}, components, "op", set()) == []
    typed = {"type": "object", "additionalProperties": {"type": "number"}}
    assert untyped(typed, components, "op", set()) == []


def test_every_free_form_exception_still_exists(document):
    """A listed exception whose model was typed or removed goes from the list."""
    components = document["components"]["schemas"]
    for where in FREE_FORM:
        model, _, field = where.partition(".")
        assert model in components, where
        assert not field or field in components[model].get("properties", {}), where
