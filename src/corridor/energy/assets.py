"""Assets that can fail, and outages: which model components an asset is, and when it is out.

An asset is a pipeline (all its segments), an interconnector or cable, a gas supply (a field's
production or an import route) or a country's fleet of one technology (``BG.nuclear``). Kept free of
PyPSA so that the CLI and the API can check an outage before anything heavy is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from corridor.energy.data import EnergyData
from corridor.energy.errors import EnergyError

HOURS = 8760


@dataclass(frozen=True)
class Asset:
    """One asset and the model components it stands for."""

    asset_id: str
    kind: str  # pipeline, interconnector, supply, plant
    name: str
    region: str
    links: tuple[str, ...] = ()
    generators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outage:
    """Asset ``asset_id`` unavailable for hours ``first`` to ``last`` (inclusive) of the year."""

    asset_id: str
    first: int = 0
    last: int = HOURS - 1

    @property
    def hours(self) -> int:
        return self.last - self.first + 1


def gas_link(segment_id: str) -> str:
    return f"pipe {segment_id}"


def cable_link(asset_id: str) -> str:
    return f"cable {asset_id}"


def plant_component(country: str, technology: str) -> str:
    return f"{country} {technology}"


def supply_generator(supply_id: str) -> str:
    return f"supply {supply_id}"


def assets(data: EnergyData) -> dict[str, Asset]:
    """Every asset of the (scenario-applied) data, by id."""
    region = {c: k.region for c, k in data.countries.items()}
    out: dict[str, Asset] = {}
    for asset_id, segs in data.pipeline_assets().items():
        first = next(s for s in segs if s.entry)
        out[asset_id] = Asset(
            asset_id,
            "pipeline",
            first.name.split(" (")[0],
            region[data.buses[first.bus1].country],
            links=tuple(gas_link(s.segment_id) for s in segs),
        )
    for asset_id, cab in data.interconnectors.items():
        out[asset_id] = Asset(
            asset_id,
            "interconnector",
            cab.name,
            region[data.buses[cab.bus1].country],
            links=(cable_link(asset_id),),
        )
    for sid, sup in data.gas_supply.items():
        if sup.kind != "scarcity":
            out[sid] = Asset(
                sid,
                "supply",
                sup.name,
                region[data.buses[sup.bus].country],
                generators=(supply_generator(sid),),
            )
    for (country, tech), mw in data.generation.items():
        if mw <= 0:
            continue
        comp = plant_component(country, tech)
        aid = f"{country}.{tech}"
        if tech == "gas":
            out[aid] = Asset(
                aid, "plant", f"{country} gas-fired fleet", region[country], links=(comp,)
            )
        else:
            out[aid] = Asset(
                aid, "plant", f"{country} {tech} fleet", region[country], generators=(comp,)
            )
    return out


def n1_candidates(data: EnergyData) -> list[str]:
    """Assets whose single loss the n-1 sweep tries: pipelines, cables and nuclear stations.

    These fail as one unit. A country's whole gas, coal or hydro fleet or its whole gas production
    is many plants and fields: it stays available to ``--outage`` but is not a single contingency.
    """
    out: list[str] = []
    for aid, asset in assets(data).items():
        if asset.kind in ("pipeline", "interconnector") or (
            asset.kind == "plant" and aid.endswith(".nuclear")
        ):
            out.append(aid)
    return sorted(out)


def hour_of_year(value: str, year: int, field: str) -> int:
    """Hour index (0-8759) of an ISO date or date-time within ``year``; errors name the field."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise EnergyError("invalid", field, f"not an ISO date: {value!r}") from None
    start = datetime(year, 1, 1, tzinfo=when.tzinfo)
    hour = int((when - start) / timedelta(hours=1))
    if not 0 <= hour <= HOURS:
        raise EnergyError("invalid", field, f"{value} is outside the scenario year {year}")
    return hour


def make_outage(
    data: EnergyData, year: int, asset_id: str, start: str | None = None, end: str | None = None
) -> Outage:
    """A checked outage: the asset exists in this scenario and the window lies in its year.

    ``end`` is exclusive (``--from 2025-01-01 --to 2025-02-01`` is all of January).
    """
    known = assets(data)
    if asset_id not in known:
        close = sorted(a for a in known if asset_id.lower() in a.lower())[:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise EnergyError(
            "not_found", "asset", f"unknown asset {asset_id!r} in this scenario{hint}"
        )
    first = hour_of_year(start, year, "from") if start else 0
    last = hour_of_year(end, year, "to") - 1 if end else HOURS - 1
    last = min(last, HOURS - 1)
    if last < first:
        raise EnergyError("invalid", "to", "the outage must end after it starts")
    return Outage(asset_id, first, last)
