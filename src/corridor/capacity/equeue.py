"""Electronic queue at road checkpoints: hour slots for trucks, and tickets a checkpoint verifies
without a network.

Modelled on Kazakhstan's CarGoRuqsat queue (Qoldau.kz, source ``cap-qoldau-equeue``): a carrier
books the date and hour of a crossing for one truck and pays a fee in monthly calculation indices
(MCI), with a faster tier. The ticket is the booking's facts signed with Ed25519: the checkpoint
holds only the platform's public key, so a forged or altered ticket fails even with no connection.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from corridor.capacity.errors import CapacityError
from corridor.capacity.model import CrossingCapacity

PREFIX = "CQ1"


class FeeTier(StrEnum):
    STANDARD = "standard"
    PRIORITY = "priority"


#: Fee per tier in MCI (1 MCI standard, 100 MCI for the faster tier; cap-qoldau-equeue).
FEE_MCI = {FeeTier.STANDARD: 1, FeeTier.PRIORITY: 100}
#: Value of one MCI in 2025, KZT (cap-qoldau-equeue).
MCI_KZT_2025 = 3932

_PLATE = re.compile(r"^[A-Z0-9][A-Z0-9 \-]{2,14}$")


@dataclass(frozen=True)
class Truck:
    plate: str
    driver: str
    transit_declaration: str | None


def check_truck(plate: str, driver: str, transit_declaration: str | None) -> Truck:
    """The truck's details, normalised, or CapacityError naming the bad field."""
    plate_n = " ".join(plate.upper().split())
    if not _PLATE.fullmatch(plate_n):
        raise CapacityError(
            "invalid",
            "plate",
            "3-15 letters, digits, spaces or hyphens, starting with a letter or digit",
        )
    driver_n = " ".join(driver.split())
    if not 2 <= len(driver_n) <= 100 or any(ord(c) < 32 for c in driver):
        raise CapacityError("invalid", "driver", "the driver's name, 2-100 printable characters")
    decl = (transit_declaration or "").strip().upper() or None
    if decl is not None and not re.fullmatch(r"[A-Z0-9]{8,22}", decl):
        raise CapacityError(
            "invalid",
            "transit_declaration",
            "a transit declaration number (MRN): 8-22 letters or digits",
        )
    return Truck(plate_n, driver_n, decl)


def slot_start(day: date, hour: int, now: datetime) -> datetime:
    """Start of the hour slot; refuses hours out of range and slots that have already ended."""
    if not 0 <= hour <= 23:
        raise CapacityError("invalid", "hour", "an hour of the day, 0-23 (UTC)")
    start = datetime.combine(day, time(hour), tzinfo=UTC)
    if start > now + timedelta(days=60):
        raise CapacityError("invalid", "date", "slots open at most 60 days ahead")
    if start + timedelta(hours=1) <= now:
        raise CapacityError("departed", "date", f"the slot {start.isoformat()} is over")
    return start


def check_road(crossing: CrossingCapacity | None, crossing_id: str) -> CrossingCapacity:
    """The crossing, if trucks can book it; a rail-only crossing has no lane to queue for."""
    if crossing is None:
        raise CapacityError("not_found", "checkpoint", f"no checkpoint {crossing_id!r}")
    if not crossing.road_lanes:
        raise CapacityError("invalid", "checkpoint", f"{crossing_id} has no road lane (rail only)")
    if not crossing.equeue:
        raise CapacityError(
            "invalid", "checkpoint", f"{crossing_id} does not run an electronic queue"
        )
    return crossing


@dataclass(frozen=True)
class Ticket:
    """What a signed ticket states; every field is covered by the signature."""

    ticket_id: str
    checkpoint: str
    slot_start: str  # ISO 8601, UTC
    plate: str
    driver: str
    transit_declaration: str | None
    tier: str
    fee_mci: int
    issued_at: str
    key_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(ticket: Ticket) -> bytes:
    return json.dumps(asdict(ticket), sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(ticket: Ticket, key: Ed25519PrivateKey) -> str:
    """``CQ1.<payload>.<signature>``, both base64url: short enough for a QR code."""
    payload = _canonical(ticket)
    return f"{PREFIX}.{_b64(payload)}.{_b64(key.sign(payload))}"


def verify(token: str, keys: dict[str, Ed25519PublicKey]) -> Ticket:
    """The ticket, if ``token`` was signed by one of ``keys`` and not changed since; else CapacityError."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise CapacityError(
            "invalid_ticket", "ticket", f"not a ticket (expected {PREFIX}.payload.signature)"
        )
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
        ticket = Ticket(**json.loads(payload))
    except (ValueError, TypeError):
        raise CapacityError(
            "invalid_ticket", "ticket", "the ticket is damaged (cannot be decoded)"
        ) from None
    key = keys.get(ticket.key_id)
    if key is None:
        raise CapacityError(
            "invalid_ticket", "ticket", f"signed with an unknown key {ticket.key_id!r}"
        )
    if _canonical(ticket) != payload:
        raise CapacityError("invalid_ticket", "ticket", "the payload is not in canonical form")
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        raise CapacityError(
            "invalid_ticket", "ticket", "the signature does not match: forged or altered ticket"
        ) from None
    return ticket


def qr_svg(token: str) -> str:
    """The ticket as a QR code (SVG text) for a phone screen or a print-out."""
    import segno

    return str(segno.make(token, error="m").svg_inline(scale=4))


def qr_png(token: str) -> bytes:
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(token, error="m").save(buffer, kind="png", scale=4)
    return buffer.getvalue()


def no_show(start: datetime, grace_min: float, checked_in: bool, now: datetime) -> bool:
    """A ticket whose truck has not arrived by the end of its hour plus the grace period."""
    return not checked_in and now >= start + timedelta(hours=1, minutes=grace_min)
