"""The discrete-event model of the corridor, built from the network and a scenario.

Cargo moves as *lots* (a train-load of containers or wagons, a few hours' trucks), never as single
containers: that keeps a year of 11 Mt to a few hundred thousand events. A lot is born as a train at
its origin, runs its land stages (line sections, border crossings with customs by risk channel, gauge
change), waits in a port yard for a vessel that sails by the ferry rule, crosses, is transferred and
re-formed into trains until it reaches its destination. Every resource is a
:class:`~corridor.simulation.station.Station` or a vessel, and records what it served.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from corridor.capacity import ferry as ferry_rule
from corridor.capacity.data import load_capacity
from corridor.network import CrossingKind, Network, Service
from corridor.simulation.channels import Shares, shares_by_country
from corridor.simulation.dwell import Dwell, fit
from corridor.simulation.parameters import Parameters
from corridor.simulation.routes import (
    LandStage,
    SeaStage,
    Stage,
    index,
    plan_path,
    stages,
)
from corridor.simulation.scenario import Flow, Scenario
from corridor.simulation.station import Station

HOURS_PER_YEAR = 8760.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12
#: Train arrivals are more regular than Poisson (block trains are planned): gamma gaps with
#: coefficient of variation 1/sqrt(4) = 0.5 (estimate, est-sim-train).
ARRIVAL_SHAPE = 4.0


class Lot:
    """Units of one flow that travel together; split when a vessel or train takes only part."""

    __slots__ = ("created", "flow", "since", "stage", "tonnes", "units")

    def __init__(self, flow: int, units: float, tonnes: float, created: float, stage: int) -> None:
        self.flow = flow
        self.units = units
        self.tonnes = tonnes
        self.created = created
        self.stage = stage
        self.since = created  # when it entered its current yard

    def split(self, units: float) -> Lot:
        """Take ``units`` off this lot into a new one."""
        share = units / self.units
        part = Lot(self.flow, units, self.tonnes * share, self.created, self.stage)
        part.since = self.since
        self.units -= units
        self.tonnes -= part.tonnes
        return part


@dataclass
class FlowPlan:
    index: int
    flow: Flow
    stages: list[Stage]
    tonnes_per_unit: float
    wagons_per_unit: float
    train_units: float


class Yard:
    """Lots waiting at a port (for a vessel or a train); FIFO, with an event on every arrival."""

    def __init__(self, env: simpy.Environment, port: str) -> None:
        self.env = env
        self.port = port
        self.lots: deque[Lot] = deque()
        self.tonnes = 0.0
        self.arrival: simpy.Event = env.event()

    def put(self, lot: Lot) -> None:
        lot.since = self.env.now
        self.lots.append(lot)
        self.tonnes += lot.tonnes
        if not self.arrival.triggered:
            self.arrival.succeed()

    def waiting(self) -> simpy.Event:
        if self.arrival.triggered:
            self.arrival = self.env.event()
        return self.arrival

    def take(self, room: float, size: Callable[[Lot], float | None]) -> tuple[list[Lot], float]:
        """Lots (FIFO among those ``size`` accepts) filling up to ``room`` slots."""
        taken: list[Lot] = []
        used = 0.0
        keep: deque[Lot] = deque()
        while self.lots and room - used > 1e-9:
            lot = self.lots.popleft()
            per_unit = size(lot)
            if per_unit is None:
                keep.append(lot)
                continue
            slots = lot.units * per_unit
            if slots <= room - used + 1e-9:
                taken.append(lot)
                used += slots
                self.tonnes -= lot.tonnes
                continue
            units = math.floor((room - used) / per_unit)
            if units >= 1:
                part = lot.split(units)
                taken.append(part)
                used += units * per_unit
                self.tonnes -= part.tonnes
            keep.append(lot)
            break
        keep.extend(self.lots)
        self.lots = keep
        return taken, used

    def slots(self, size: Callable[[Lot], float | None]) -> float:
        total = 0.0
        for lot in self.lots:
            per = size(lot)
            if per is not None:
                total += lot.units * per
        return total


@dataclass
class VesselLine:
    """All vessels of one service, with what they carried (for throughput and utilisation)."""

    service: Service
    vessels: int
    rule: ferry_rule.FerryRule
    scheduled: bool
    capacity_slots: float
    teu_based: bool
    sailings: int = 0
    slots: dict[str, float] = field(default_factory=dict)  # by departure port
    tonnes: dict[str, float] = field(default_factory=dict)
    load_factor_sum: float = 0.0
    min_cycle_h: float = 0.0
    yard_wait_h: float = 0.0  # unit-hours cargo waited in the yard for this line's vessels
    yard_units: float = 0.0

    def board(self, lots: list[Lot], now: float) -> None:
        for lot in lots:
            self.yard_wait_h += (now - lot.since) * lot.units
            self.yard_units += lot.units


class Model:
    """One replication: build with a network, a scenario, the parameters and a seed, then ``run``."""

    def __init__(
        self,
        network: Network,
        scenario: Scenario,
        params: Parameters,
        seed: int,
        horizon_days: float | None = None,
    ) -> None:
        self.network = network
        self.scenario = scenario
        self.params = params
        self.env = simpy.Environment()
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.warmup = params.value("warmup_days") * 24.0
        days = horizon_days if horizon_days is not None else scenario.horizon_days
        self.horizon = days * 24.0
        self.end = self.warmup + self.horizon
        self.plans = [self._plan(i, f) for i, f in enumerate(scenario.flows)]
        self.stations: dict[str, Station] = {}
        self.yards: dict[tuple[str, str], Yard] = {}
        self.lines: dict[str, VesselLine] = {}
        self.closed: dict[str, list[tuple[float, float]]] = {}
        self.delivered: list[list[tuple[float, float, float]]] = [[] for _ in self.plans]
        self.created_trains = {"container": 0, "wagon": 0}
        self.created_units = {"container": 0.0, "wagon": 0.0, "truck": 0.0}
        self.stock_days: list[float] = []
        self.stock: dict[str, list[float]] = {}
        self.port_flow: dict[str, list[float]] = {}  # port -> [lots, units, tonnes] transferred
        self.link_flow: dict[str, list[float]] = {}  # link -> [trains, tonnes] entering it
        self._apply_scenario()
        countries = sorted({network.nodes[n].country for n in network.nodes})
        self.channels: dict[str, Shares] = shares_by_country(
            tuple(countries), params.mix, network.directory
        )
        lookups = index(network)
        self.border_by_link = lookups.border_by_link
        self.transshipment_by_node = lookups.transshipment_by_node
        self.dwell_fits: dict[str, Dwell] = {
            c.id: fit(c.dwell_h, c.dwell_min_h, c.dwell_max_h) for c in network.crossings.values()
        }

    # ----------------------------------------------------------------- set-up
    def _plan(self, index: int, flow: Flow) -> FlowPlan:
        hops = plan_path(
            self.network, flow.origin, flow.destination, flow.cargo, flow.corridor, flow.via
        )
        if hops is None:  # validated earlier; kept for scenarios built in code
            raise ValueError(f"flow {flow.id}: no route")
        parts = stages(self.network, hops, flow.cargo)
        p = self.params
        tonnes = {
            "container": p.value("tonnes_per_teu"),
            "wagon": p.value("tonnes_per_wagon"),
            "truck": p.value("tonnes_per_truck"),
        }[flow.cargo]
        wagons = {
            "container": p.value("wagons_per_teu"),
            "wagon": 1.0,
            "truck": p.value("wagons_per_truck"),
        }[flow.cargo]
        first = parts[0]
        train_wagons = first.train_wagons if isinstance(first, LandStage) else 57
        return FlowPlan(index, flow, parts, tonnes, wagons, train_wagons / wagons)

    def _apply_scenario(self) -> None:
        sc, p = self.scenario, self.params
        self.link_factor: dict[str, float] = {}
        self.servers: dict[tuple[str, str], int] = {}
        self.capacity: dict[tuple[str, str], float] = {}
        for cap in sc.capacity:
            key = (cap.kind, cap.id)
            if cap.kind == "link":
                self.link_factor[cap.id] = self.link_factor.get(cap.id, 1.0) * (cap.factor or 1.0)
                continue
            base = self.servers.get(key, p.servers_for(cap.kind, cap.id))
            self.servers[key] = cap.servers or max(1, round(base * (cap.factor or 1.0)))
            if cap.capacity_per_year:
                self.capacity[key] = cap.capacity_per_year
        self.dwell_factor: dict[str, float] = {}
        for change in sc.dwell:
            for c in self.network.crossings.values():
                hit = (
                    change.target == c.id
                    or (change.target == "borders" and c.kind is CrossingKind.BORDER)
                    or (change.target == "transshipment" and c.kind is CrossingKind.TRANSSHIPMENT)
                )
                if hit:
                    self.dwell_factor[c.id] = self.dwell_factor.get(c.id, 1.0) * change.factor
        cu = sc.customs
        self.yellow_h = (
            cu.yellow_check_h if cu.yellow_check_h is not None else p.value("yellow_check_h")
        ) * cu.inspection_factor
        self.red_h = (
            cu.red_inspection_h if cu.red_inspection_h is not None else p.value("red_inspection_h")
        ) * cu.inspection_factor
        for dis in sc.disruptions:
            start = self.warmup + dis.start_day * 24.0
            self.closed.setdefault(dis.target, []).append((start, start + dis.days * 24.0))

    def _servers(self, kind: str, ident: str) -> int:
        return self.servers.get((kind, ident), self.params.servers_for(kind, ident))

    def station(self, name: str, kind: str, servers: int) -> Station:
        st = self.stations.get(name)
        if st is None:
            st = Station(self.env, name, kind, servers, self.warmup)
            self.stations[name] = st
        return st

    def yard(self, port: str, target: str) -> Yard:
        key = (port, target)
        y = self.yards.get(key)
        if y is None:
            y = Yard(self.env, port)
            self.yards[key] = y
        return y

    def open_at(self, node: str, t: float) -> float:
        """The first moment at or after ``t`` when ``node`` (a port or a crossing) is open."""
        for start, end in self.closed.get(node, ()):
            if start <= t < end:
                t = end
        return t

    # ------------------------------------------------------------------ demand
    def _rate_units_h(self, plan: FlowPlan, t: float) -> float:
        month = int(((t - self.warmup) % HOURS_PER_YEAR) // HOURS_PER_MONTH) % 12
        yearly = plan.flow.tonnes_per_year / plan.tonnes_per_unit
        return yearly / HOURS_PER_YEAR * self.scenario.seasonality[month]

    def _source(self, plan: FlowPlan) -> Generator[Any, Any, None]:
        env, rng = self.env, self.rng
        cargo = plan.flow.cargo
        if cargo == "truck":
            batch = self.params.value("truck_batch_h")
            while True:
                yield env.timeout(batch)
                n = int(rng.poisson(self._rate_units_h(plan, env.now) * batch))
                if n:
                    self._birth(plan, float(n))
        else:
            while True:
                rate = self._rate_units_h(plan, env.now)
                if rate <= 0:
                    yield env.timeout(HOURS_PER_MONTH)
                    continue
                mean_gap = plan.train_units / rate
                yield env.timeout(float(rng.gamma(ARRIVAL_SHAPE, mean_gap / ARRIVAL_SHAPE)))
                self._birth(plan, plan.train_units)

    def _birth(self, plan: FlowPlan, units: float) -> None:
        now = self.env.now
        lot = Lot(plan.index, units, units * plan.tonnes_per_unit, now, 0)
        if self.warmup <= now < self.end:
            cargo = plan.flow.cargo
            self.created_units[cargo] += units
            if cargo in self.created_trains:
                self.created_trains[cargo] += 1
        stage = plan.stages[0]
        if isinstance(stage, LandStage):
            self.env.process(self._run_land([lot], stage))
        else:
            self._to_port(lot, stage.start)

    # ------------------------------------------------------------- movements
    def _advance(self, lot: Lot) -> None:
        """Send a lot that finished a stage on to the next one (or deliver it)."""
        plan = self.plans[lot.flow]
        lot.stage += 1
        if lot.stage >= len(plan.stages):
            now = self.env.now
            if self.warmup <= now < self.end:
                self.delivered[lot.flow].append((now - lot.created, lot.units, lot.tonnes))
            return
        stage = plan.stages[lot.stage]
        previous = plan.stages[lot.stage - 1]
        if isinstance(stage, SeaStage):
            self._to_port(lot, stage.start)
        elif isinstance(previous, SeaStage):
            self._to_former(lot, stage)
        else:
            self.env.process(self._run_land([lot], stage))

    def _to_port(self, lot: Lot, port: str) -> None:
        self.env.process(self._port_in(lot, port))

    def _transfer(self, lot: Lot, port: str) -> Generator[Any, Any, None]:
        """Rail-ship transfer at a port: the fitted transshipment dwell plus container handling.

        Trucks drive on and off the ro-ro, so they skip it.
        """
        plan = self.plans[lot.flow]
        if plan.flow.cargo == "truck":
            if self.warmup <= self.env.now < self.end:
                count = self.port_flow.setdefault(port, [0.0, 0.0, 0.0])
                count[0] += 1
                count[1] += lot.units
                count[2] += lot.tonnes
            return
        crossing = self.transshipment_by_node.get(port)
        if crossing is not None:  # documents, shunting, handover: a delay, not a scarce resource
            dwell = self.dwell_fits[crossing.id].sample(
                self.rng, self.dwell_factor.get(crossing.id, 1.0)
            )
            yield self.env.timeout(dwell)
        if self.warmup <= self.env.now < self.end:
            count = self.port_flow.setdefault(port, [0.0, 0.0, 0.0])
            count[0] += 1
            count[1] += lot.units
            count[2] += lot.tonnes
        if plan.flow.cargo == "container":
            key = ("container_terminal", port)
            servers = self._servers(*key)
            teu_year = self.capacity.get(key) or self.params.capacity_for(*key) or 5e5
            rate = teu_year / HOURS_PER_YEAR / servers
            st = self.station(f"terminal:{port}", "container_terminal", servers)
            yield from st.serve(lot.units / rate, lot.units, lot.tonnes)

    def _port_in(self, lot: Lot, port: str) -> Generator[Any, Any, None]:
        yield from self._transfer(lot, port)
        stage = self.plans[lot.flow].stages[lot.stage]
        assert isinstance(stage, SeaStage)
        self.yard(port, stage.end).put(lot)

    def _port_out(self, lot: Lot, port: str) -> Generator[Any, Any, None]:
        yield from self._transfer(lot, port)
        self._advance(lot)

    def _to_former(self, lot: Lot, stage: LandStage) -> None:
        key = (stage.start, stage.key)
        fresh = key not in self.yards
        yard = self.yard(*key)
        yard.put(lot)
        if fresh:
            self.env.process(self._former(yard, stage))

    def _former(self, yard: Yard, stage: LandStage) -> Generator[Any, Any, None]:
        """Forms trains in a port yard by the departure rule (load factor or waiting limit)."""
        env = self.env
        rule = ferry_rule.FerryRule(
            self.params.value("train_load_factor"),
            self.params.value("train_max_wait_h"),
            sail_empty=False,
        )
        capacity = float(stage.train_wagons)

        def size(lot: Lot) -> float:
            return self.plans[lot.flow].wagons_per_unit

        while True:
            if not yard.lots:
                yield yard.waiting()
            first = env.now
            while True:
                decision = ferry_rule.decide(
                    min(yard.slots(size), capacity), capacity, env.now - first, rule
                )
                if decision.depart:
                    break
                yield yard.waiting() | env.timeout(ferry_rule.hours_left(env.now - first, rule))
            lots, _ = yard.take(capacity, size)
            if lots:
                env.process(self._run_land(lots, stage))

    def _run_land(self, lots: list[Lot], stage: LandStage) -> Generator[Any, Any, None]:
        """One train over a land stage: line sections, borders with customs, gauge change, stops."""
        env, rng = self.env, self.rng
        units = sum(lot.units for lot in lots)
        tonnes = sum(lot.tonnes for lot in lots)
        background = self.params.value("line_background_share")
        for i, hop in enumerate(stage.hops):
            link = hop.link
            if self.warmup <= env.now < self.end:
                count = self.link_flow.setdefault(link.id, [0.0, 0.0])
                count[0] += 1
                count[1] += tonnes
            if link.capacity_day:
                per_day = link.capacity_day * self.link_factor.get(link.id, 1.0) * (1 - background)
                line = self.station(f"line:{link.id}", "line", 1)
                yield from line.serve(24.0 / per_day, units, tonnes)
            border = self.border_by_link.get(link.id)
            if border is not None and border.dwell_max_h > 0:
                yield from self._cross(border.id, hop.dst, units, tonnes)
            run = (link.running_time_h or 0.0) + stage.stop_dwell[i]
            if i < len(stage.hops) - 1:
                gauge = self.transshipment_by_node.get(hop.dst)
                if gauge is not None and gauge.gauge_change is not None:
                    yield env.timeout(run)
                    run = 0.0
                    st = self.station(
                        f"gauge:{hop.dst}", "gauge_change", self._servers("transshipment", gauge.id)
                    )
                    service = self.dwell_fits[gauge.id].sample(
                        rng, self.dwell_factor.get(gauge.id, 1.0)
                    )
                    yield from st.serve(service, units, tonnes)
            if run:
                yield env.timeout(run)
        for lot in lots:
            self._advance(lot)

    def _cross(
        self, crossing_id: str, entering: str, units: float, tonnes: float
    ) -> Generator[Any, Any, None]:
        """A border crossing: fitted dwell plus customs time by risk channel, on shared tracks."""
        st = self.station(
            f"crossing:{crossing_id}", "crossing", self._servers("crossing", crossing_id)
        )
        t = self.open_at(crossing_id, self.env.now)
        if t > self.env.now:
            yield self.env.timeout(t - self.env.now)
        service = self.dwell_fits[crossing_id].sample(
            self.rng, self.dwell_factor.get(crossing_id, 1.0)
        )
        shares = self.channels[self.network.nodes[entering].country]
        draw = self.rng.random()
        if draw < shares.red:
            service += self.red_h
        elif draw < shares.red + shares.yellow:
            service += self.yellow_h
        yield from st.serve(service, units, tonnes)

    # ----------------------------------------------------------------- vessels
    def _build_lines(self) -> None:
        used: dict[str, Service] = {}
        for plan in self.plans:
            for stage in plan.stages:
                if isinstance(stage, SeaStage):
                    for s in stage.services:
                        used.setdefault(s.id, s)
        p = self.params
        rules = load_capacity(self.network.directory).vessels
        for sid, service in used.items():
            base = p.fleet.get(sid)
            vessels = base.vessels if base else 1
            rule_name = base.rule if base else "loaded"
            lf = base.load_factor if base else 0.85
            wait = base.max_wait_h if base else 48.0
            # The vessel's own rule (data/capacity/vessels.csv), the one the capacity planner
            # estimates departures with, wins over the fleet file's default.
            own = ferry_rule.FerryRule.of(rules.get(sid))
            if not own.scheduled:
                assert own.load_factor is not None
                assert own.max_wait_h is not None
                lf, wait = own.load_factor, own.max_wait_h
            for change in self.scenario.fleet:
                if change.service != sid:
                    continue
                if change.vessels is not None:
                    vessels = change.vessels
                if change.add_vessels is not None:
                    vessels = max(0, vessels + change.add_vessels)
                rule_name = change.rule or rule_name
                lf = change.load_factor or lf
                wait = change.max_wait_h if change.max_wait_h is not None else wait
            teu_based = service.capacity_wagons is None
            cap = float((service.capacity_teu if teu_based else service.capacity_wagons) or 1)
            scheduled = rule_name == "schedule" and bool(service.weekdays)
            rate = p.value(
                "feeder_handling_teu_per_h" if teu_based else "vessel_handling_slots_per_h"
            )
            line = VesselLine(
                service,
                vessels,
                ferry_rule.FerryRule(lf, wait),
                scheduled,
                cap,
                teu_based,
            )
            line.min_cycle_h = 2 * ((service.duration_h or 24.0) + 2 * cap / rate)
            self.lines[sid] = line
            for k in range(vessels):
                self.env.process(self._vessel(line, k, rate))

    def _slot_size(self, line: VesselLine) -> Callable[[Lot], float | None]:
        service = line.service

        def size(lot: Lot) -> float | None:
            plan = self.plans[lot.flow]
            cargo = plan.flow.cargo
            if line.teu_based:
                if cargo == "container":
                    return 1.0
                if service.vehicle == "ropax_ferry":
                    return plan.wagons_per_unit / self.params.value("wagons_per_teu")
                return None
            if cargo == "truck" and service.vehicle != "ropax_ferry":
                return None
            return plan.wagons_per_unit

        return size

    def _next_scheduled(self, service: Service, port: str, t: float) -> float:
        dep = service.departure_time.hour + service.departure_time.minute / 60.0
        day = math.floor(t / 24.0)
        for d in range(day, day + 15):
            when = d * 24.0 + dep
            if when >= t and (d % 7) in service.weekdays:
                return when
        return t + 24.0

    def _vessel(self, line: VesselLine, index: int, rate: float) -> Generator[Any, Any, None]:
        env, service = self.env, line.service
        ports = (service.stops[0], service.stops[-1])
        here = index % 2
        size = self._slot_size(line)
        on_board: list[Lot] = []
        aboard_slots = 0.0
        yield env.timeout(index * 7.0)  # vessels do not all start at the same hour
        while True:
            port, dest = ports[here], ports[1 - here]
            berths = self.station(f"berths:{port}", "berths", self._servers("berths", port))
            if on_board:  # unload at a berth, then leave it for vessels with work to do
                yield from berths.serve(aboard_slots / rate, aboard_slots)
                for lot in on_board:
                    env.process(self._port_out(lot, port))
                on_board, aboard_slots = [], 0.0
            yard = self.yard(port, dest)
            if line.scheduled:
                when = self._next_scheduled(service, port, env.now)
                yield env.timeout(when - env.now)
                lots, aboard_slots = yard.take(line.capacity_slots, size)
                on_board.extend(lots)
                if self.warmup <= env.now < self.end:
                    line.board(lots, env.now)
            else:
                ready = env.now
                while True:  # at anchor: cargo is booked onto the vessel as it reaches the yard
                    lots, used = yard.take(line.capacity_slots - aboard_slots, size)
                    on_board.extend(lots)
                    if self.warmup <= env.now < self.end:
                        line.board(lots, env.now)
                    aboard_slots += used
                    waited = env.now - ready
                    if ferry_rule.decide(
                        aboard_slots, line.capacity_slots, waited, line.rule
                    ).depart:
                        break
                    yield yard.waiting() | env.timeout(ferry_rule.hours_left(waited, line.rule))
            if aboard_slots:
                yield from berths.serve(aboard_slots / rate, aboard_slots)
            # storms: no sailing while either end is closed
            sail = max(self.open_at(port, env.now), self.open_at(dest, env.now))
            if sail > env.now:
                yield env.timeout(sail - env.now)
            if self.warmup <= env.now < self.end:
                line.sailings += 1
                line.slots[port] = line.slots.get(port, 0.0) + aboard_slots
                line.tonnes[port] = line.tonnes.get(port, 0.0) + sum(x.tonnes for x in on_board)
                line.load_factor_sum += aboard_slots / line.capacity_slots
            yield env.timeout(service.duration_h or 24.0)
            here = 1 - here

    # ----------------------------------------------------------------- running
    def _monitor(self) -> Generator[Any, Any, None]:
        """Samples the tonnes waiting in each port's yards once a simulated day."""
        env = self.env
        while True:
            yield env.timeout(24.0)
            if env.now < self.warmup:
                continue
            self.stock_days.append((env.now - self.warmup) / 24.0)
            totals: dict[str, float] = {}
            for (port, _), yard in self.yards.items():
                totals[port] = totals.get(port, 0.0) + yard.tonnes
            for port in self.stock:
                self.stock[port].append(totals.pop(port, 0.0))
            for port, value in totals.items():
                self.stock[port] = [0.0] * (len(self.stock_days) - 1) + [value]

    def run(self) -> None:
        for plan in self.plans:
            self.env.process(self._source(plan))
        self._build_lines()
        self.env.process(self._monitor())
        self.env.run(until=self.end)

    def waiting_tonnes(self) -> float:
        """Tonnes in port yards at the end (cargo the corridor did not move on in time)."""
        return sum(y.tonnes for y in self.yards.values())
