"""Risk assessment and selectivity: each declaration gets a channel per office, with the reasons.

Profiles are data (``customs_risk_profiles.csv`` in the dataset), configured by each authority:
a profile applies everywhere or only at the offices of one country. Each matching profile adds
points; AEO status takes some off. The score picks the channel: green (release), yellow
(documents check) or red (physical inspection). The result is ready at lodging, before the
consignment reaches any office (pre-arrival).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from corridor.customs.declaration import DeclarationBody


class Channel(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


YELLOW_FROM = 30
RED_FROM = 60
AEO_BONUS = -25
HISTORY_POINTS = 20  # per past incident of the holder


@dataclass(frozen=True)
class Profile:
    id: str
    country: str  # "" = every country
    kind: str  # hs_prefix | origin | value_per_kg_below | value_per_kg_above
    match: str
    points: int
    reason: str


def load_profiles(path: Path) -> list[Profile]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Profile(
                r["id"],
                r["country"].strip().upper(),
                r["kind"],
                r["match"],
                int(r["points"]),
                r["reason"],
            )
            for r in csv.DictReader(handle)
        ]


@dataclass(frozen=True)
class Assessment:
    channel: Channel
    score: int
    reasons: tuple[str, ...]


def _hit(body: DeclarationBody, p: Profile) -> bool:
    if p.kind == "hs_prefix":
        return any(item.hs_code.startswith(p.match) for item in body.goods)
    if p.kind == "origin":
        return any(item.origin_country in p.match.split(";") for item in body.goods)
    if p.kind in ("value_per_kg_below", "value_per_kg_above"):
        chapter, _, limit = p.match.partition(":")
        below = p.kind.endswith("below")
        for item in body.goods:
            if item.hs_code.startswith(chapter):
                per_kg = item.value / item.net_kg
                if (below and per_kg < float(limit)) or (not below and per_kg > float(limit)):
                    return True
    return False


def assess_countries(
    body: DeclarationBody, profiles: list[Profile], countries: Iterable[str], incidents: int
) -> dict[str, Assessment]:
    """The channel at offices in each of ``countries``; each profile is matched once."""
    hits = [p for p in profiles if _hit(body, p)]
    return {
        c: _score(body, [p for p in hits if not p.country or p.country == c], incidents)
        for c in countries
    }


def assess(
    body: DeclarationBody, profiles: list[Profile], country: str, incidents: int
) -> Assessment:
    """The channel at an office in ``country`` for this declaration."""
    return assess_countries(body, profiles, [country], incidents)[country]


def _score(body: DeclarationBody, hits: list[Profile], incidents: int) -> Assessment:
    score = 0
    reasons: list[str] = []
    for p in hits:
        score += p.points
        reasons.append(f"{p.reason} (+{p.points})")
    if incidents:
        score += HISTORY_POINTS * incidents
        reasons.append(f"holder has {incidents} past incident(s) (+{HISTORY_POINTS * incidents})")
    if body.holder.aeo:
        score += AEO_BONUS
        reasons.append(f"holder is an Authorised Economic Operator ({AEO_BONUS})")
    channel = (
        Channel.RED
        if score >= RED_FROM
        else Channel.YELLOW
        if score >= YELLOW_FROM
        else Channel.GREEN
    )
    if not reasons:
        reasons.append("no risk profile matched")
    return Assessment(channel, score, tuple(reasons))
