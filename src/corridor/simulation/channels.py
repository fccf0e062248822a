"""Customs channel shares per country, derived from the customs risk configuration itself.

The simulation does not invent how often a train is stopped: it runs the project's own selectivity
(:func:`corridor.customs.risk.assess` over ``customs_risk_profiles.csv``) on a representative cargo
mix (``data/simulation/cargo_mix.csv``), with and without AEO status, at the offices of each country.
When an authority edits its profiles, the simulated inspection load follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from corridor.customs.declaration import DeclarationBody
from corridor.customs.examples import example_declaration
from corridor.customs.risk import Channel, Profile, assess, load_profiles
from corridor.simulation.parameters import MixItem


@dataclass(frozen=True)
class Shares:
    green: float
    yellow: float
    red: float


def _body(item: MixItem, aeo: bool) -> DeclarationBody:
    data = example_declaration(aeo=aeo)
    mass = 20_000.0
    data["goods"] = [
        {
            "hs_code": item.hs_code,
            "description": item.id,
            "packages": 10,
            "gross_kg": mass,
            "net_kg": mass,
            "value": round(mass * item.value_usd_per_kg, 2),
            "currency": "USD",
            "origin_country": item.origin_country,
        }
    ]
    return DeclarationBody.model_validate(data)


def channel_shares(country: str, mix: tuple[MixItem, ...], profiles: list[Profile]) -> Shares:
    """Share-weighted channel frequencies at offices in ``country`` for the cargo mix."""
    totals = {Channel.GREEN: 0.0, Channel.YELLOW: 0.0, Channel.RED: 0.0}
    weight = sum(item.share for item in mix) or 1.0
    for item in mix:
        for aeo, share in ((True, item.aeo_share), (False, 1.0 - item.aeo_share)):
            channel = assess(_body(item, aeo), profiles, country, incidents=0).channel
            totals[channel] += item.share * share / weight
    return Shares(totals[Channel.GREEN], totals[Channel.YELLOW], totals[Channel.RED])


@lru_cache(maxsize=8)
def shares_by_country(
    countries: tuple[str, ...], mix: tuple[MixItem, ...], network_dir: Path
) -> dict[str, Shares]:
    """Shares for each country (cached: every replication of a run asks the same question)."""
    profiles = load_profiles(network_dir / "customs_risk_profiles.csv")
    return {c: channel_shares(c, mix, profiles) for c in countries}
