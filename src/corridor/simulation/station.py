"""A multi-server station on SimPy with the statistics the results need.

Border crossings, port terminals, gauge-change sheds and rail line sections are all the same block:
``servers`` parallel places, a FIFO queue in front, a service time per customer. The station records
what queueing theory talks about (waits, busy server-time, number served), so its output can be
checked against closed forms (see :mod:`corridor.simulation.queueing`) and ranked as a bottleneck.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy


class Station:
    """``servers`` parallel servers with a FIFO queue; statistics only count after ``measure_from``."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        kind: str,
        servers: int,
        measure_from: float = 0.0,
    ) -> None:
        if servers < 1:
            raise ValueError(f"{name}: a station needs at least one server")
        self.env = env
        self.name = name
        self.kind = kind
        self.servers = servers
        self.resource = simpy.Resource(env, capacity=servers)
        self.measure_from = measure_from
        self.served = 0
        self.units = 0.0
        self.tonnes = 0.0
        self.wait_total_h = 0.0
        self.busy_h = 0.0

    def serve(
        self, service_h: float, units: float = 0.0, tonnes: float = 0.0
    ) -> Generator[Any, Any, float]:
        """Queue, hold one server for ``service_h`` hours, release; returns the wait in queue."""
        env = self.env
        arrived = env.now
        with self.resource.request() as req:
            yield req
            start = env.now
            yield env.timeout(service_h)
        wait = start - arrived
        self._count(start, service_h, wait, units, tonnes)
        return wait

    def _count(
        self, start: float, service_h: float, wait: float, units: float, tonnes: float
    ) -> None:
        end = start + service_h
        if end <= self.measure_from:
            return
        self.busy_h += end - max(start, self.measure_from)
        if start >= self.measure_from:
            self.served += 1
            self.units += units
            self.tonnes += tonnes
            self.wait_total_h += wait

    def utilisation(self, horizon_h: float) -> float:
        """Busy server-hours over available server-hours in the measured window."""
        return self.busy_h / (self.servers * horizon_h) if horizon_h > 0 else 0.0

    def mean_wait_h(self) -> float:
        return self.wait_total_h / self.served if self.served else 0.0
