"""Reading and writing notices. Amending and closing are conditional updates on the version and
the status, so of two owners acting on the same version exactly one wins; every version is kept."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from corridor.disruptions import (
    DisruptionError,
    Notice,
    NoticeDraft,
    NoticeStatus,
    Publisher,
    check_amendment,
    check_draft,
    check_ownership,
    port_operators,
)
from corridor.network import Network
from corridor.store.accounts import Principal
from corridor.store.disruptions_tables import (
    NoticeElementRow,
    NoticeRow,
    NoticeSubscriptionRow,
    NoticeVersionRow,
    OrganisationOperatorRow,
)
from corridor.store.models import Organisation, OrgKind

_BODY_FIELDS = ("elements", "texts", "capacity_factor", "equeue_limit_per_day")


def _notice(row: NoticeRow, issuer_name: str) -> Notice:
    return Notice.model_validate(
        {
            **row.body,
            "id": row.id,
            "kind": row.kind,
            "severity": row.severity,
            "starts_at": row.starts_at,
            "expected_end": row.expected_end,
            "issuer_org": row.issuer_org,
            "issuer_name": issuer_name,
            "status": row.status,
            "version": row.version,
            "actual_end": row.actual_end,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def _body(draft: NoticeDraft) -> dict[str, Any]:
    dumped = draft.model_dump(mode="json")
    return {k: dumped[k] for k in _BODY_FIELDS}


def _names(s: Session, org_ids: set[str]) -> dict[str, str]:
    if not org_ids:
        return {}
    rows = s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids)))
    return {i: n for i, n in rows}


def _record(s: Session, notice: Notice, action: str, user_id: str) -> None:
    s.add(
        NoticeVersionRow(
            notice_id=notice.id,
            version=notice.version,
            action=action,
            notice=notice.model_dump(mode="json"),
            changed_by=user_id,
            changed_at=notice.updated_at,
        )
    )


def _elements(s: Session, notice_id: str, draft: NoticeDraft) -> None:
    s.execute(delete(NoticeElementRow).where(NoticeElementRow.notice_id == notice_id))
    s.add_all(NoticeElementRow(notice_id=notice_id, element=str(e)) for e in draft.elements)


def publish(s: Session, organisation_id: str, user_id: str, draft: NoticeDraft) -> Notice:
    now = datetime.now(UTC)
    row = NoticeRow(
        id=uuid.uuid4().hex,
        issuer_org=organisation_id,
        kind=draft.kind.value,
        severity=draft.severity.value,
        status=NoticeStatus.ACTIVE.value,
        version=1,
        starts_at=draft.starts_at,
        expected_end=draft.expected_end,
        actual_end=None,
        body=_body(draft),
        created_at=now,
        updated_at=now,
    )
    s.add(row)
    s.flush()
    _elements(s, row.id, draft)
    notice = _notice(row, _names(s, {organisation_id})[organisation_id])
    _record(s, notice, "published", user_id)
    return notice


def get(s: Session, notice_id: str) -> Notice | None:
    row = s.get(NoticeRow, notice_id)
    if row is None:
        return None
    return _notice(row, _names(s, {row.issuer_org})[row.issuer_org])


def _stale(notice_id: str, version: int) -> DisruptionError:
    return DisruptionError(
        "conflict",
        "version",
        f"notice {notice_id} is no longer at version {version} or is closed; reload it and retry",
    )


def amend(s: Session, notice_id: str, version: int, draft: NoticeDraft, user_id: str) -> Notice:
    """Replace the notice's content if it is still active and at ``version``."""
    now = datetime.now(UTC)
    moved = s.execute(
        update(NoticeRow)
        .where(
            NoticeRow.id == notice_id,
            NoticeRow.version == version,
            NoticeRow.status == NoticeStatus.ACTIVE.value,
        )
        .values(
            version=version + 1,
            severity=draft.severity.value,
            starts_at=draft.starts_at,
            expected_end=draft.expected_end,
            body=_body(draft),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise _stale(notice_id, version)
    _elements(s, notice_id, draft)
    s.expire_all()
    notice = get(s, notice_id)
    assert notice is not None
    _record(s, notice, "amended", user_id)
    return notice


def close(s: Session, notice_id: str, version: int, actual_end: datetime, user_id: str) -> Notice:
    """End the notice at ``actual_end`` (its window then ends there for every effect)."""
    moved = s.execute(
        update(NoticeRow)
        .where(
            NoticeRow.id == notice_id,
            NoticeRow.version == version,
            NoticeRow.status == NoticeStatus.ACTIVE.value,
        )
        .values(
            version=version + 1,
            status=NoticeStatus.CLOSED.value,
            actual_end=actual_end,
            updated_at=datetime.now(UTC),
        )
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise _stale(notice_id, version)
    s.expire_all()
    notice = get(s, notice_id)
    assert notice is not None
    _record(s, notice, "closed", user_id)
    return notice


def listing(
    s: Session,
    *,
    status: NoticeStatus | None = None,
    elements: Sequence[str] = (),
    issuer: str | None = None,
    limit: int = 500,
) -> list[Notice]:
    """Notices, newest change first, filtered by status, any of ``elements`` and issuer."""
    query = select(NoticeRow).order_by(NoticeRow.updated_at.desc()).limit(limit)
    if status is not None:
        query = query.where(NoticeRow.status == status.value)
    if issuer is not None:
        query = query.where(NoticeRow.issuer_org == issuer)
    if elements:
        ids = select(NoticeElementRow.notice_id).where(NoticeElementRow.element.in_(elements))
        query = query.where(NoticeRow.id.in_(ids))
    rows = list(s.scalars(query))
    names = _names(s, {r.issuer_org for r in rows})
    return [_notice(r, names[r.issuer_org]) for r in rows]


def history(s: Session, notice_id: str) -> list[tuple[str, str, datetime, Notice]]:
    """(action, changed_by, changed_at, the notice as it was) for every version, oldest first."""
    rows = s.scalars(
        select(NoticeVersionRow)
        .where(NoticeVersionRow.notice_id == notice_id)
        .order_by(NoticeVersionRow.version)
    )
    return [(r.action, r.changed_by, r.changed_at, Notice.model_validate(r.notice)) for r in rows]


def changes_after(s: Session, cursor: int, limit: int = 200) -> list[tuple[int, str, Notice]]:
    """Versions recorded after ``cursor`` (a notice_versions id), in order: (id, action, notice)."""
    rows = s.scalars(
        select(NoticeVersionRow)
        .where(NoticeVersionRow.id > cursor)
        .order_by(NoticeVersionRow.id)
        .limit(limit)
    )
    return [(r.id, r.action, Notice.model_validate(r.notice)) for r in rows]


def last_change(s: Session) -> int:
    row = s.scalar(select(NoticeVersionRow.id).order_by(NoticeVersionRow.id.desc()).limit(1))
    return int(row or 0)


# -- carrier operators ----------------------------------------------------------------------
def operators_of(s: Session, organisation_id: str) -> frozenset[str]:
    return frozenset(
        s.scalars(
            select(OrganisationOperatorRow.operator).where(
                OrganisationOperatorRow.organisation_id == organisation_id
            )
        )
    )


def set_operators(s: Session, organisation_id: str, operators: Sequence[str]) -> frozenset[str]:
    s.execute(
        delete(OrganisationOperatorRow).where(
            OrganisationOperatorRow.organisation_id == organisation_id
        )
    )
    wanted = sorted({o.strip() for o in operators if o.strip()})
    s.add_all(OrganisationOperatorRow(organisation_id=organisation_id, operator=o) for o in wanted)
    s.flush()
    return frozenset(wanted)


# -- subscriptions --------------------------------------------------------------------------
def subscribe(
    s: Session, organisation_id: str, wanted: dict[str, Any], url: str | None
) -> NoticeSubscriptionRow:
    row = NoticeSubscriptionRow(
        id=uuid.uuid4().hex,
        organisation_id=organisation_id,
        filter=wanted,
        url=url,
        secret=secrets.token_hex(32),
        cursor=last_change(s),
        created_at=datetime.now(UTC),
    )
    s.add(row)
    s.flush()
    return row


def subscriptions(s: Session, organisation_id: str | None = None) -> list[NoticeSubscriptionRow]:
    query = select(NoticeSubscriptionRow).order_by(NoticeSubscriptionRow.created_at)
    if organisation_id is not None:
        query = query.where(NoticeSubscriptionRow.organisation_id == organisation_id)
    return list(s.scalars(query))


def unsubscribe(s: Session, organisation_id: str, subscription_id: str) -> bool:
    gone = s.execute(
        delete(NoticeSubscriptionRow).where(
            NoticeSubscriptionRow.id == subscription_id,
            NoticeSubscriptionRow.organisation_id == organisation_id,
        )
    )
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def advance(s: Session, subscription_id: str, old: int, new: int) -> bool:
    """Move a subscription's cursor from ``old`` to ``new``; False if another worker moved it."""
    moved = s.execute(
        update(NoticeSubscriptionRow)
        .where(NoticeSubscriptionRow.id == subscription_id, NoticeSubscriptionRow.cursor == old)
        .values(cursor=new)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


# -- acting as a user: the domain's checks, then the write (shared by the API and the CLI) ----
_PORTS = port_operators()


def publisher(s: Session, who: Principal) -> Publisher:
    return Publisher(
        organisation_id=who.organisation_id,
        kind=who.kind.value,
        country=who.country,
        operators=operators_of(s, who.organisation_id),
    )


def _checked(s: Session, network: Network, who: Principal, draft: NoticeDraft) -> None:
    check_draft(draft, network)
    check_ownership(publisher(s, who), draft, network, _PORTS)


def owned(s: Session, who: Principal, notice_id: str) -> Notice:
    """The notice, if ``who`` issued it (or is the administrator)."""
    notice = get(s, notice_id)
    if notice is None:
        raise DisruptionError("not_found", "notice_id", f"no notice {notice_id!r}")
    if notice.issuer_org != who.organisation_id and who.kind is not OrgKind.ADMIN:
        raise DisruptionError(
            "forbidden", "notice_id", "only the issuing organisation may change it"
        )
    return notice


def publish_as(s: Session, network: Network, who: Principal, draft: NoticeDraft) -> Notice:
    _checked(s, network, who, draft)
    return publish(s, who.organisation_id, who.user_id, draft)


def amend_as(
    s: Session, network: Network, who: Principal, notice_id: str, version: int, draft: NoticeDraft
) -> Notice:
    check_amendment(owned(s, who, notice_id), draft)
    _checked(s, network, who, draft)
    return amend(s, notice_id, version, draft, who.user_id)


def close_as(
    s: Session, who: Principal, notice_id: str, version: int, actual_end: datetime | None
) -> Notice:
    notice = owned(s, who, notice_id)
    if notice.status is NoticeStatus.CLOSED:
        raise DisruptionError("conflict", "status", f"notice {notice_id} is already closed")
    end = actual_end or datetime.now(UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    if end < notice.starts_at:
        raise DisruptionError("invalid", "actual_end", "a notice cannot end before it starts")
    return close(s, notice_id, version, end, who.user_id)
