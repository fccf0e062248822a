"""The dispatch board from the database: departures with their counters, waiting stock at the
ports from tracking events, alerts, and webhook delivery of capacity notices.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from corridor.capacity.crossings import UNIT as CROSSING_UNIT
from corridor.capacity.crossings import crossing_key
from corridor.capacity.dispatch import HeatMap, Line, PortAlert, heat_map, port_alerts, waiting_at
from corridor.capacity.model import Unit
from corridor.store.accounts import now as clock
from corridor.store.capacity import Context, board_lines
from corridor.store.capacity_tables import CapNotice, CapSlot, QueueSlot
from corridor.store.db import Database
from corridor.store.models import EpcisEpc, EpcisEvent, Webhook
from corridor.webhooks import http_client, post
from corridor.webhooks.guard import Network as IpNetwork

#: How far back waiting stock is charted.
HISTORY_DAYS = 14
#: Tracking events older than this before the chart are ignored (a box waits weeks at most).
LOOKBACK_DAYS = 60
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Board:
    start: datetime
    days: int
    lines: list[Line]
    heat: HeatMap
    waiting: dict[str, int]  # containers waiting at each port now
    history: list[tuple[date, dict[str, int]]]  # waiting stock at 00:00 UTC of each past day
    daily_capacity: dict[str, float]  # containers a day the ferries leaving each port can take
    alerts: list[PortAlert]


def _box_slots(line: Line) -> float:
    """Containers a departure can take: one per wagon, one per 2 TEU (a 40-ft box; cap-est-units)."""
    return line.capacity / 2 if line.unit == Unit.TEU.value else float(line.capacity)


def _tracking(session: Session, since: datetime) -> list[tuple[str, datetime, str, str | None]]:
    rows = session.execute(
        select(EpcisEpc.epc, EpcisEvent.event_time, EpcisEvent.biz_step, EpcisEvent.node_id)
        .join(EpcisEvent, EpcisEvent.event_id == EpcisEpc.event_id)
        .where(
            EpcisEvent.event_time >= since,
            EpcisEvent.error_declared.is_(False),
            EpcisEpc.role == "epc",  # the boxes themselves, not parents or business transactions
        )
    ).all()
    return [(r[0], r[1], r[2] or "", r[3]) for r in rows]


def _checkpoint_days(session: Session, ctx: Context, start: datetime, days: int) -> list[Line]:
    """One line per e-queue checkpoint and day: trucks booked against trucks per hour x 24."""
    day0 = start.replace(hour=0)
    booked: dict[tuple[str, date], int] = {}
    for checkpoint, starts_at, count in session.execute(
        select(QueueSlot.checkpoint, QueueSlot.starts_at, QueueSlot.booked).where(
            QueueSlot.starts_at >= day0, QueueSlot.starts_at < day0 + timedelta(days=days)
        )
    ).all():
        key = (checkpoint, starts_at.date())
        booked[key] = booked.get(key, 0) + int(count)
    out = []
    for crossing in ctx.data.crossings.values():
        if not crossing.equeue:
            continue
        for i in range(days):
            day = day0 + timedelta(days=i)
            out.append(
                Line(
                    "crossing",
                    f"{crossing.crossing}|{day:%Y%m%d}",
                    crossing.crossing,
                    "e-queue",
                    crossing.crossing,
                    "road",
                    day,
                    "trucks",
                    crossing.trucks_per_hour * 24,
                    booked.get((crossing.crossing, day.date()), 0),
                    0,
                    0,
                )
            )
    return out


def _rail_crossing_days(session: Session, ctx: Context, start: datetime, days: int) -> list[Line]:
    """One line per rail border crossing and day: train paths held against trains per day."""
    day0 = start.replace(hour=0)
    rows = {
        r.id: r
        for r in session.scalars(
            select(CapSlot).where(
                CapSlot.kind == "crossing",
                CapSlot.departure >= day0,
                CapSlot.departure < day0 + timedelta(days=days),
            )
        )
    }
    out = []
    for crossing in ctx.data.crossings.values():
        if crossing.trains_per_day <= 0:
            continue
        border = ctx.network.crossings.get(crossing.crossing)
        link = ctx.network.links.get(border.at) if border is not None else None
        for i in range(days):
            day = day0 + timedelta(days=i)
            key = crossing_key(crossing.crossing, day)
            row = rows.get(key)
            out.append(
                Line(
                    "crossing",
                    key,
                    crossing.crossing,
                    row.operator if row else (link.operator if link else "") or crossing.crossing,
                    link.from_node if link else crossing.crossing,
                    link.to_node if link else "rail",
                    day,
                    CROSSING_UNIT,
                    row.capacity if row else crossing.trains_per_day,
                    row.held if row else 0,
                    row.confirmed if row else 0,
                    0,
                )
            )
    return out


def board(
    session: Session, ctx: Context, days: int, threshold_days: float, now: datetime | None = None
) -> Board:
    """The next ``days`` of departures and the ports' waiting stock against their ferry capacity."""
    now = now or clock()
    start = now.replace(minute=0, second=0, microsecond=0)
    lines = (
        board_lines(session, ctx, start, days)
        + _rail_crossing_days(session, ctx, start, days)
        + _checkpoint_days(session, ctx, start, days)
    )
    day0 = start.date()
    heat = heat_map(lines, [day0 + timedelta(days=i) for i in range(days)])
    ports = set(ctx.data.ports)
    events = _tracking(session, now - timedelta(days=HISTORY_DAYS + LOOKBACK_DAYS))
    waiting = waiting_at(events, now, ports)
    history = []
    for back in range(HISTORY_DAYS, -1, -1):
        moment = datetime.combine(day0 - timedelta(days=back), datetime.min.time(), now.tzinfo)
        history.append((moment.date(), waiting_at(events, moment, ports)))
    capacity = {
        port: sum(
            _box_slots(line) for line in lines if line.kind == "sailing" and line.from_node == port
        )
        / days
        for port in sorted(ports)
    }
    return Board(
        start,
        days,
        lines,
        heat,
        waiting,
        history,
        capacity,
        port_alerts(waiting, capacity, threshold_days),
    )


def deliver_notices(
    db: Database,
    backoff_s: float = 30.0,
    client: httpx.Client | None = None,
    allowed: Iterable[IpNetwork] = (),
) -> int:
    """POST due capacity notices (promoted, declined, moved, expired) to the forwarders' webhooks.

    Each notice is claimed (pending -> sending) in one UPDATE before it is sent, so two rounds
    running at once never send it twice; failures are retried with exponential back-off. Delivery
    is the shared one (corridor.webhooks): HMAC-signed, internal targets refused unless
    ``allowed``, and only a class of failure kept, never the target's answer.
    """
    nets = list(allowed)
    delivered = 0
    with db.session() as s:
        due = list(
            s.scalars(
                select(CapNotice.id).where(
                    CapNotice.status == "pending", CapNotice.next_attempt_at <= clock()
                )
            )
        )
    if not due:  # most rounds: no client (building its TLS context costs tens of ms of CPU)
        return 0
    http = client or http_client()
    try:
        for notice_id in due:
            with db.session() as s:
                claimed = s.execute(
                    update(CapNotice)
                    .where(CapNotice.id == notice_id, CapNotice.status == "pending")
                    .values(status="sending")
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue
            with db.session() as s:
                notice = s.get(CapNotice, notice_id)
                assert notice is not None
                hooks = list(
                    s.scalars(
                        select(Webhook).where(Webhook.organisation_id == notice.organisation_id)
                    )
                )
                if not hooks:
                    notice.status = "no_webhook"
                    continue
                errors = []
                body = json.dumps({"capacity": notice.body}).encode()
                for hook in hooks:
                    outcome = post(http, hook.url, body, hook.secret or "", nets)
                    if not outcome.ok:
                        errors.append(f"{hook.url}: {outcome.error}")
                notice.attempts += 1
                if not errors:
                    notice.status = "delivered"
                    delivered += 1
                elif notice.attempts >= MAX_ATTEMPTS:
                    notice.status, notice.last_error = "failed", "; ".join(errors)[:300]
                else:
                    notice.status, notice.last_error = "pending", "; ".join(errors)[:300]
                    notice.next_attempt_at = clock() + timedelta(
                        seconds=backoff_s * 2 ** (notice.attempts - 1)
                    )
    finally:
        if client is None:
            http.close()
    return delivered
