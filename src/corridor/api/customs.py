"""Digital customs over HTTP: declarations, office actions, pre-arrival lists, KPIs, log checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from corridor.api.deps import NetworkDep, PrincipalDep, SessionDep
from corridor.api.errors import ApiError
from corridor.customs.declaration import DeclarationBody
from corridor.customs.lifecycle import Action
from corridor.customs.offices import all_offices
from corridor.store import customs
from corridor.store.models import CustomsDeclaration, OrgKind

router = APIRouter(prefix="/customs", tags=["customs"])


class DeclarationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipment_id: str = Field(min_length=1, max_length=64)
    declaration: DeclarationBody
    lodge: bool = Field(default=True, description="Lodge at once (otherwise it stays a draft).")


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    office_id: str | None = Field(default=None, max_length=120)
    details: dict[str, Any] = Field(default_factory=dict)


class OfficeOut(BaseModel):
    index: int
    id: str
    name: str
    country: str
    role: str
    channel: str
    score: int
    reasons: list[str]


class DeclarationOut(BaseModel):
    id: str
    lrn: str
    shipment_id: str
    holder_org: str
    state: str
    next_office: int
    arrived_at_next: bool
    offices: list[OfficeOut]
    guarantee_state: str
    incidents: int
    declaration: DeclarationBody
    created_at: datetime
    updated_at: datetime


def out(row: CustomsDeclaration) -> DeclarationOut:
    offices = []
    for i, stop in enumerate(row.offices["stops"]):
        risk = row.offices["channels"][str(i)]
        offices.append(
            OfficeOut(
                index=i,
                id=stop["office"]["id"],
                name=stop["office"]["name"],
                country=stop["office"]["country"],
                role=stop["role"],
                channel=risk["channel"],
                score=risk["score"],
                reasons=risk["reasons"],
            )
        )
    return DeclarationOut(
        id=row.id,
        lrn=row.lrn,
        shipment_id=row.shipment_id,
        holder_org=row.holder_org,
        state=row.state,
        next_office=row.position,
        arrived_at_next=row.arrived,
        offices=offices,
        guarantee_state=row.guarantee_state,
        incidents=row.incidents,
        declaration=DeclarationBody.model_validate(row.body),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _ctx(request: Request) -> tuple[Any, Any]:
    return request.app.state.settings.keys_dir, request.app.state.risk_profiles


@router.post(
    "/declarations",
    response_model=DeclarationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Declare a booked shipment for transit (and lodge it)",
)
def create_declaration(
    body: DeclarationCreate, s: SessionDep, network: NetworkDep, who: PrincipalDep, request: Request
) -> DeclarationOut:
    keys_dir, profiles = _ctx(request)
    row = customs.create(s, who, network, keys_dir, profiles, body.shipment_id, body.declaration)
    if body.lodge:
        row = customs.act(s, who, keys_dir, profiles, row.id, Action.LODGE, None, {})
    return out(row)


@router.get(
    "/declarations", response_model=list[DeclarationOut], summary="Declarations you may see"
)
def list_declarations(s: SessionDep, who: PrincipalDep) -> list[DeclarationOut]:
    return [out(row) for row in customs.visible(s, who)]


@router.get(
    "/declarations/{declaration_id}", response_model=DeclarationOut, summary="One declaration"
)
def get_declaration(declaration_id: str, s: SessionDep, who: PrincipalDep) -> DeclarationOut:
    return out(customs.get(s, who, declaration_id))


@router.post(
    "/declarations/{declaration_id}/actions",
    response_model=DeclarationOut,
    summary="Act on a declaration (holder: amend, cancel, incident; customs: accept, reject, "
    "check, release, arrive, pass, discharge)",
)
def act(
    declaration_id: str, body: ActionRequest, s: SessionDep, who: PrincipalDep, request: Request
) -> DeclarationOut:
    keys_dir, profiles = _ctx(request)
    return out(
        customs.act(
            s, who, keys_dir, profiles, declaration_id, body.action, body.office_id, body.details
        )
    )


@router.get("/offices", summary="Customs offices on the corridor, optionally of one country")
def offices(
    network: NetworkDep, _: PrincipalDep, country: str | None = None
) -> list[dict[str, Any]]:
    return [
        o.model_dump()
        for o in all_offices(network).values()
        if country is None or o.country == country.upper()
    ]


@router.get(
    "/offices/{office_id}/expected", summary="Pre-arrival: consignments expected at an office"
)
def expected(
    office_id: str, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> list[dict[str, Any]]:
    office = all_offices(network).get(office_id)
    if office is None:
        raise ApiError(404, "not_found", "office_id", f"no office {office_id!r}")
    if who.kind is OrgKind.CUSTOMS and office.country != who.country:
        raise ApiError(
            403, "forbidden", "office_id", f"your authority acts only at offices in {who.country}"
        )
    return [
        {
            "declaration_id": e["declaration"].id,
            "lrn": e["declaration"].lrn,
            "state": e["declaration"].state,
            "role": e["role"],
            "arrived": e["arrived"],
            **e["channel"],
        }
        for e in customs.expected_at(s, who, office_id)
    ]


@router.get(
    "/offices/{office_id}/kpis",
    summary="An office's KPIs: time from arrival to release, share green",
)
def office_kpis(
    office_id: str, s: SessionDep, network: NetworkDep, _: PrincipalDep
) -> dict[str, Any]:
    if office_id not in all_offices(network):
        raise ApiError(404, "not_found", "office_id", f"no office {office_id!r}")
    return customs.kpis(s, office_id)


@router.get(
    "/log/verify", summary="Check every signature and the whole hash chain of the shared record"
)
def verify_log(s: SessionDep, who: PrincipalDep) -> dict[str, Any]:
    if who.kind not in (OrgKind.ADMIN, OrgKind.CUSTOMS):
        raise ApiError(
            403, "forbidden", None, "customs authorities and the administrator verify the log"
        )
    report = customs.verify(s)
    return {
        "ok": report.ok,
        "records": report.records,
        "tree_root": report.root,
        "first_bad_record": report.first_bad,
        "reason": report.reason,
    }


class LogRecordOut(BaseModel):
    """One signed record of the shared customs log, as the verifier reads it."""

    seq: int
    declaration_id: str
    action: str
    office_id: str | None
    actor_org: str
    actor: str = Field(description="The acting organisation's name")
    key_id: str
    signature: str
    prev_hash: str
    record_hash: str
    created_at: datetime


def _records(rows: list[tuple[Any, str]]) -> list[LogRecordOut]:
    return [
        LogRecordOut(
            seq=e.seq,
            declaration_id=e.declaration_id,
            action=e.action,
            office_id=e.office_id,
            actor_org=e.actor_org,
            actor=name,
            key_id=e.key_id,
            signature=e.signature,
            prev_hash=e.prev_hash,
            record_hash=e.record_hash,
            created_at=e.created_at,
        )
        for e, name in rows
    ]


@router.get(
    "/declarations/{declaration_id}/log",
    response_model=list[LogRecordOut],
    summary="The signed log records of one declaration, newest first",
)
def declaration_log(declaration_id: str, s: SessionDep, who: PrincipalDep) -> list[LogRecordOut]:
    row = customs.get(s, who, declaration_id)
    return _records(customs.log_records(s, declaration_id=row.id, limit=1000))


@router.get(
    "/log",
    response_model=list[LogRecordOut],
    summary="The shared signed log, newest first, paged by seq (customs and administrator)",
)
def log_page(
    s: SessionDep,
    who: PrincipalDep,
    office_id: str | None = Query(default=None, max_length=120),
    before_seq: int | None = Query(default=None, ge=1, le=2**31 - 1),
    limit: int = Query(default=50, ge=1, le=1000),
) -> list[LogRecordOut]:
    if who.kind not in (OrgKind.ADMIN, OrgKind.CUSTOMS):
        raise ApiError(
            403, "forbidden", None, "customs authorities and the administrator read the log"
        )
    return _records(customs.log_records(s, office_id=office_id, before_seq=before_seq, limit=limit))
