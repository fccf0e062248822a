"""The customs rules directly (no database, no API): guarantee, holds, checks, incidents, replay."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from corridor.customs.declaration import DeclarationBody
from corridor.customs.examples import example_declaration
from corridor.customs.lifecycle import Action, Party, Progress, State
from corridor.customs.rules import (
    CustomsError,
    DutyRate,
    Facts,
    GuaranteeState,
    ReplayError,
    check_guarantee,
    decide,
    load_duty_rates,
    office_index,
    party_for,
    replay,
)
from corridor.settings import PACKAGE_DATA_DIR
from tests.customs.test_lifecycle import STOPS

BODY = DeclarationBody.model_validate(example_declaration())  # USD 40,000, guarantee 10,000
RATES = {"KZ": DutyRate("KZ", 0.12, 0.08, "test"), "AZ": DutyRate("AZ", 0.18, 0.08, "test")}


def facts(**changes: object) -> Facts:
    base = Facts(
        state=State.LODGED,
        progress=Progress(0, False, False),
        stops=STOPS,
        channels={},
        held=None,
        guarantee=GuaranteeState.REGISTERED,
        incidents=0,
        body=BODY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_guarantee_covers_the_duties_at_risk_of_the_accepting_country():
    # 20 % of USD 40,000 = USD 8,000 at risk: a guarantee of 8,000 covers it, 7,999.99 does not.
    rate = DutyRate("KZ", 0.12, 0.08, "test")
    check_guarantee(
        BODY.model_copy(update={"guarantee": BODY.guarantee.model_copy(update={"amount": 8000})}),
        rate,
    )
    short = BODY.model_copy(
        update={"guarantee": BODY.guarantee.model_copy(update={"amount": 7999.99})}
    )
    with pytest.raises(CustomsError) as caught:
        check_guarantee(short, rate)
    assert caught.value.field == "guarantee.amount"
    assert (
        "below the duties at risk 8,000.00 (20% of the declared value in KZ)" in caught.value.reason
    )
    with pytest.raises(CustomsError, match="no duty rate"):
        check_guarantee(BODY, None)


def test_accepting_holds_the_guarantee_and_cancelling_releases_it():
    accepted = decide(facts(), Action.ACCEPT, Party.CUSTOMS, 0, {}, RATES, [])
    assert (accepted.state, accepted.guarantee) == (State.ACCEPTED, GuaranteeState.HELD)
    cancelled = decide(
        facts(state=State.ACCEPTED, guarantee=GuaranteeState.HELD),
        Action.CANCEL,
        Party.HOLDER,
        None,
        {},
        RATES,
        [],
    )
    assert (cancelled.state, cancelled.guarantee) == (State.CANCELLED, GuaranteeState.RELEASED)


def test_a_not_conform_check_holds_the_goods_at_that_office():
    at_exit = facts(state=State.RELEASED, progress=Progress(1, True, False))
    checked = decide(at_exit, Action.CHECK, Party.CUSTOMS, 1, {"result": "not_conform"}, RATES, [])
    assert checked.held == 1
    held = facts(state=State.RELEASED, progress=checked.progress, held=1)
    with pytest.raises(CustomsError, match="held there"):
        decide(held, Action.PASS, Party.CUSTOMS, 1, {}, RATES, [])
    with pytest.raises(CustomsError, match="'conform' or 'not_conform'"):
        decide(at_exit, Action.CHECK, Party.CUSTOMS, 1, {"result": "maybe"}, RATES, [])


def test_incidents_are_counted_and_their_kind_checked():
    moving = facts(state=State.RELEASED, progress=Progress(1, False, False), incidents=2)
    assert (
        decide(
            moving, Action.INCIDENT, Party.HOLDER, None, {"kind": "seal_broken"}, RATES, []
        ).incidents
        == 3
    )
    with pytest.raises(CustomsError) as caught:
        decide(moving, Action.INCIDENT, Party.HOLDER, None, {"kind": "theft"}, RATES, [])
    assert caught.value.field == "details.kind"


def test_who_acts_and_where():
    assert party_for("customs", False) is Party.CUSTOMS
    assert party_for("forwarder", True) is Party.HOLDER
    with pytest.raises(CustomsError) as caught:
        party_for("forwarder", False)
    assert caught.value.code == "forbidden"
    assert office_index(STOPS, "entry", "AZ") == 2
    with pytest.raises(CustomsError, match="acts only at offices in KZ"):
        office_index(STOPS, "entry", "KZ")
    with pytest.raises(CustomsError, match="not on this declaration's itinerary"):
        office_index(STOPS, "elsewhere", "KZ")


def test_replaying_the_records_gives_what_the_live_rules_gave():
    steps = [
        (Action.ACCEPT, Party.CUSTOMS, 0, {}),
        (Action.RELEASE, Party.CUSTOMS, 0, {}),
        (Action.ARRIVE, Party.CUSTOMS, 1, {}),
        (Action.INCIDENT, Party.HOLDER, None, {"kind": "accident"}),
        (Action.CHECK, Party.CUSTOMS, 1, {"result": "conform"}),
        (Action.PASS, Party.CUSTOMS, 1, {}),
        (Action.ARRIVE, Party.CUSTOMS, 2, {}),
    ]
    live = facts()
    records = [(1, "draft", None, {}), (2, "lodge", None, {})]
    for seq, (action, party, index, details) in enumerate(steps, start=3):
        d = decide(live, action, party, index, details, RATES, [])
        live = replace(
            live,
            state=d.state,
            progress=d.progress,
            held=d.held,
            guarantee=d.guarantee,
            incidents=d.incidents,
        )
        records.append((seq, action.value, index, details))
    derived = replay(records, destination=len(STOPS) - 1)
    assert (derived.state, derived.position, derived.arrived, derived.checked) == (
        live.state,
        live.progress.position,
        live.progress.arrived,
        live.progress.checked,
    )
    assert (derived.guarantee, derived.incidents, derived.held, derived.last_seq) == (
        GuaranteeState.HELD,
        1,
        None,
        9,
    )
    with pytest.raises(ReplayError) as caught:
        replay([(1, "draft", None, {}), (2, "release", 0, {})], destination=3)
    assert caught.value.seq == 2


def test_duty_rates_come_from_data_and_bad_rows_are_named(tmp_path: Path):
    rates = load_duty_rates(PACKAGE_DATA_DIR / "customs_duty_rates.csv")
    assert all(r.source for r in rates.values())
    assert rates["KZ"].share == pytest.approx(0.20)
    bad = tmp_path / "rates.csv"
    bad.write_text("country,vat_share,import_duty_share,source\nKZ,0.12,0.08,x\nAZ,1.5,0,x\n")
    with pytest.raises(ValueError, match=r"rates\.csv line 3: vat_share"):
        load_duty_rates(bad)
