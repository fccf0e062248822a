"""E-queue tickets: Ed25519 signatures that a checkpoint verifies offline, and truck checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from corridor.capacity import CapacityError
from corridor.capacity.equeue import (
    FEE_MCI,
    FeeTier,
    Ticket,
    check_road,
    check_truck,
    no_show,
    qr_svg,
    sign,
    slot_start,
    verify,
)
from corridor.capacity.model import CrossingCapacity

KEY = Ed25519PrivateKey.generate()
KEYS = {"k1": KEY.public_key()}
TICKET = Ticket(
    ticket_id="t1",
    checkpoint="x-khorgos",
    slot_start="2026-12-02T10:00:00+00:00",
    plate="123 ABC 02",
    driver="A. Driver",
    transit_declaration=None,
    tier="standard",
    fee_mci=1,
    issued_at="2026-12-01T09:00:00+00:00",
    key_id="k1",
)


def test_a_signed_ticket_verifies_with_the_public_key_only():
    assert verify(sign(TICKET, KEY), KEYS) == TICKET


def _reencode(token: str, **changes: object) -> str:
    prefix, payload, sig = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data.update(changes)
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return f"{prefix}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{sig}"


@pytest.mark.parametrize(
    "token",
    [
        _reencode(sign(TICKET, KEY), plate="999 ZZZ 02"),  # altered
        sign(TICKET, Ed25519PrivateKey.generate()),  # forged with another key
        "CQ1.bm90IGpzb24.AAAA",  # damaged
        "hello",
        _reencode(sign(TICKET, KEY), key_id="nobody"),
    ],
)
def test_forged_altered_or_damaged_tickets_fail(token):
    with pytest.raises(CapacityError) as exc:
        verify(token, KEYS)
    assert (exc.value.code, exc.value.field) == ("invalid_ticket", "ticket")


def test_qr_code_is_svg():
    svg = qr_svg(sign(TICKET, KEY))
    assert svg.lstrip().startswith("<svg")
    assert "</svg>" in svg


@pytest.mark.parametrize(
    ("plate", "driver", "decl", "field"),
    [
        ("!", "A. Driver", None, "plate"),
        ("123 ABC 02", "A", None, "driver"),
        ("123 ABC 02", "A. Driver", "bad-mrn", "transit_declaration"),
    ],
)
def test_bad_truck_details_name_the_field(plate, driver, decl, field):
    with pytest.raises(CapacityError) as exc:
        check_truck(plate, driver, decl)
    assert exc.value.field == field


def test_truck_details_are_normalised():
    truck = check_truck(" 123  abc 02 ", "A.  Driver", "26kz0000123456789a")
    assert (truck.plate, truck.driver, truck.transit_declaration) == (
        "123 ABC 02",
        "A. Driver",
        "26KZ0000123456789A",
    )


def test_rail_only_crossings_have_no_queue():
    rail = CrossingCapacity(
        crossing="x-bolashak", trains_per_day=8, road_lanes=0, trucks_per_hour=0, source=("e",)
    )
    with pytest.raises(CapacityError) as exc:
        check_road(rail, "x-bolashak")
    assert (exc.value.field, "road lane" in exc.value.reason) == ("checkpoint", True)


def test_slot_hours_and_no_shows():
    now = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    assert slot_start(date(2026, 12, 1), 10, now) == datetime(2026, 12, 1, 10, tzinfo=UTC)
    for hour, field in ((24, "hour"), (9, "date")):
        with pytest.raises(CapacityError) as exc:
            slot_start(date(2026, 12, 1), hour, now)
        assert exc.value.field == field
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert not no_show(start, 30, False, start + timedelta(minutes=89))
    assert no_show(start, 30, False, start + timedelta(minutes=90))
    assert not no_show(start, 30, True, start + timedelta(hours=5))


def test_fees_follow_the_published_tiers():
    # 1 MCI standard, 100 MCI for the faster tier (cap-qoldau-equeue).
    assert FEE_MCI == {FeeTier.STANDARD: 1, FeeTier.PRIORITY: 100}
