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
from corridor.customs.offices import Office, all_offices
from corridor.customs.rules import DutyRate, load_duty_rates
from corridor.settings import PACKAGE_DATA_DIR
from corridor.store import customs, customs_audit
from corridor.store.keys import trust_bundle
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
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Act only if the declaration is at it"
    )


class AmendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(
        ge=1, le=2**31 - 1, description="The version amended (as read); 409 if it has moved on"
    )
    declaration: DeclarationBody = Field(description="The whole declaration as amended")


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
    version: int = Field(description="1 when made, +1 per operation; an amendment names it")
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
        version=row.version,
        declaration=DeclarationBody.model_validate(row.body),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _ctx(request: Request) -> tuple[Any, Any]:
    return request.app.state.settings.keys_dir, request.app.state.risk_profiles


def _duty_rates(request: Request) -> dict[str, DutyRate]:
    """The duty rates of the dataset the app serves (read once), else the shipped ones."""
    rates: dict[str, DutyRate] | None = getattr(request.app.state, "customs_duty_rates", None)
    if rates is None:
        path = request.app.state.settings.network_dir / "customs_duty_rates.csv"
        rates = load_duty_rates(path if path.is_file() else PACKAGE_DATA_DIR / path.name)
        request.app.state.customs_duty_rates = rates
    return rates


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipment_id: str = Field(min_length=1, max_length=64)
    declaration: DeclarationBody


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    declarations: list[BatchItem] = Field(min_length=1, max_length=customs.MAX_BATCH)
    lodge: bool = Field(default=True, description="Lodge them at once (otherwise drafts).")


class BatchDeclarationOut(BaseModel):
    id: str
    lrn: str
    shipment_id: str
    state: str
    departure_channel: str


class TreeHeadOut(BaseModel):
    size: int = Field(description="Number of log records the head covers")
    root: str = Field(description="RFC 9162 Merkle tree hash of those records, hex")
    timestamp: int = Field(description="Milliseconds since the Unix epoch")
    signatures: list[dict[str, str]] = Field(
        description="authority, key_id and Ed25519 signature of the head's canonical JSON"
    )


class BatchOut(BaseModel):
    declarations: list[BatchDeclarationOut]
    tree_head: TreeHeadOut


def _head_out(head: Any) -> TreeHeadOut:
    return TreeHeadOut(
        size=head.head.size,
        root=head.head.root,
        timestamp=head.head.timestamp,
        signatures=[vars(s) for s in head.signatures],
    )


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
    row = customs.create(
        s, who, network, keys_dir, profiles, body.shipment_id, body.declaration, body.lodge
    )
    return out(row)


@router.post(
    "/declarations/batch",
    response_model=BatchOut,
    status_code=status.HTTP_201_CREATED,
    summary="Declare (and lodge) up to 1,000 booked shipments at once, all or none",
)
def create_batch(
    body: BatchCreate, s: SessionDep, network: NetworkDep, who: PrincipalDep, request: Request
) -> BatchOut:
    keys_dir, profiles = _ctx(request)
    items = [customs.NewDeclaration(i.shipment_id, i.declaration) for i in body.declarations]
    rows = customs.create_many(s, who, network, keys_dir, profiles, items, body.lodge)
    return BatchOut(
        declarations=[BatchDeclarationOut.model_validate(vars(r)) for r in rows],
        tree_head=_head_out(customs.tree_head(s)),
    )


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
            s,
            who,
            keys_dir,
            profiles,
            declaration_id,
            body.action,
            body.office_id,
            body.details,
            _duty_rates(request),
            body.version,
        )
    )


@router.post(
    "/declarations/{declaration_id}/amend",
    response_model=DeclarationOut,
    summary="The holder amends goods, containers and seals, guarantee until customs controls or "
    "releases (409 naming the state; 409 if the version has moved on)",
)
def amend(
    declaration_id: str, body: AmendRequest, s: SessionDep, who: PrincipalDep, request: Request
) -> DeclarationOut:
    keys_dir, profiles = _ctx(request)
    try:
        row = customs.amend(
            s,
            who,
            keys_dir,
            profiles,
            declaration_id,
            body.version,
            body.declaration,
            _duty_rates(request),
        )
    except customs.CustomsError as exc:
        # A rule on the declaration's content names its field as the request spells it.
        if exc.field and exc.field.split(".")[0] in DeclarationBody.model_fields:
            raise customs.CustomsError(exc.code, f"declaration.{exc.field}", exc.reason) from None
        raise
    return out(row)


class ExpectedOut(BaseModel):
    declaration_id: str
    lrn: str
    state: str
    role: str
    arrived: bool = Field(description="The consignment is at this office now")
    channel: str
    score: int
    reasons: list[str]


class KpisOut(BaseModel):
    office_id: str
    declarations: int = Field(description="Declarations with a record at this office")
    released: int = Field(description="Of them, released, passed or discharged here")
    average_hours_to_release: float | None = Field(
        description="Mean hours from arrival (departure: acceptance) to release or pass"
    )
    share_green: float | None = Field(description="Share of those declarations in green here")


@router.get(
    "/offices",
    response_model=list[Office],
    summary="Customs offices on the corridor, optionally of one country",
)
def offices(network: NetworkDep, _: PrincipalDep, country: str | None = None) -> list[Office]:
    return [
        o for o in all_offices(network).values() if country is None or o.country == country.upper()
    ]


@router.get(
    "/offices/{office_id}/expected",
    response_model=list[ExpectedOut],
    summary="Pre-arrival: consignments expected at an office",
)
def expected(
    office_id: str, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> list[ExpectedOut]:
    office = all_offices(network).get(office_id)
    if office is None:
        raise ApiError(404, "not_found", "office_id", f"no office {office_id!r}")
    if who.kind is OrgKind.CUSTOMS and office.country != who.country:
        raise ApiError(
            403, "forbidden", "office_id", f"your authority acts only at offices in {who.country}"
        )
    return [
        ExpectedOut(
            declaration_id=e["declaration"].id,
            lrn=e["declaration"].lrn,
            state=e["declaration"].state,
            role=e["role"],
            arrived=e["arrived"],
            **e["channel"],
        )
        for e in customs.expected_at(s, who, office_id)
    ]


@router.get(
    "/offices/{office_id}/kpis",
    response_model=KpisOut,
    summary="An office's KPIs: time from arrival to release, share green",
)
def office_kpis(office_id: str, s: SessionDep, network: NetworkDep, _: PrincipalDep) -> KpisOut:
    if office_id not in all_offices(network):
        raise ApiError(404, "not_found", "office_id", f"no office {office_id!r}")
    return KpisOut.model_validate(customs.kpis(s, office_id))


class VerifyOut(BaseModel):
    ok: bool
    records: int
    tree_root: str
    first_bad_record: int | None
    reason: str
    declarations: int = Field(description="Declarations whose state was re-derived from the log")
    heads: int = Field(description="Signed tree heads checked against the log")


def _auditor(who: Any) -> None:
    if who.kind not in (OrgKind.ADMIN, OrgKind.CUSTOMS):
        raise ApiError(
            403, "forbidden", None, "customs authorities and the administrator verify the log"
        )


@router.get(
    "/log/verify",
    response_model=VerifyOut,
    summary="Check the shared record: signatures with pinned keys, chain, tree heads, states",
)
def verify_log(s: SessionDep, who: PrincipalDep, request: Request) -> VerifyOut:
    _auditor(who)
    keys_dir, _ = _ctx(request)
    report = customs_audit.verify(s, trust_bundle(s, keys_dir))
    return VerifyOut(
        ok=report.ok,
        records=report.records,
        tree_root=report.root,
        first_bad_record=report.first_bad,
        reason=report.reason,
        declarations=report.declarations,
        heads=report.heads,
    )


@router.get(
    "/log/head",
    response_model=TreeHeadOut,
    summary="The log's current signed tree head (keep it: it shows any later truncation)",
)
def log_head(s: SessionDep, who: PrincipalDep) -> TreeHeadOut:
    _auditor(who)
    return _head_out(customs.tree_head(s))


@router.post(
    "/log/cosign",
    response_model=TreeHeadOut,
    summary="Your authority checks the whole log and cosigns its current tree head",
)
def cosign(s: SessionDep, who: PrincipalDep, request: Request) -> TreeHeadOut:
    if who.kind is not OrgKind.CUSTOMS:
        raise ApiError(403, "forbidden", None, "customs authorities cosign tree heads")
    keys_dir, _ = _ctx(request)
    # The whole log is checked in a read transaction of its own, so that appends go on meanwhile
    # (on SQLite the request's own session holds the write lock); only the signature is written.
    with request.app.state.db.session() as read:
        signed = customs_audit.witness(
            read, keys_dir, who.organisation_id, trust_bundle(read, keys_dir)
        )
    head = customs_audit.keep(s, signed)
    return _head_out(head)


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
