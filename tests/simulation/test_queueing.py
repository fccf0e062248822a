"""Queue blocks against closed forms: M/M/1, M/M/c (Erlang C) and Little's law.

The simulated station runs with Poisson arrivals and exponential service, where the textbook results
are exact; agreement is judged with batch means (20 batches, 3 standard errors), so the tolerance is
statistical, not a guess.
"""

import math

import numpy as np
import pytest
import simpy

from corridor.simulation.queueing import erlang_c, littles_law, mm1_wait, mmc_wait, utilisation
from corridor.simulation.station import Station


def test_erlang_c_hand_worked():
    # c = 2, a = 1: B(2,1) = (1/2)/(1 + 1 + 1/2) = 0.2; C = B / (1 - rho (1 - B)) = 0.2/0.6
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # one server: the probability of waiting is rho
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    # M/M/1 is M/M/c with c = 1
    assert mmc_wait(0.5, 1.0, 1) == pytest.approx(mm1_wait(0.5, 1.0)) == pytest.approx(1.0)
    assert utilisation(3.0, 1.0, 4) == 0.75
    assert littles_law(2.0, 3.0) == 6.0


def test_unstable_queues_are_refused():
    with pytest.raises(ValueError, match="unstable"):
        erlang_c(2, 2.0)
    with pytest.raises(ValueError, match="unstable"):
        mm1_wait(1.0, 1.0)


def _simulate(lam, mu, servers, customers, seed):
    env = simpy.Environment()
    rng = np.random.Generator(np.random.PCG64(seed))
    station = Station(env, "test", "crossing", servers)
    waits: list[float] = []
    in_system = [0]
    samples: list[int] = []

    def customer():
        in_system[0] += 1
        wait = yield from station.serve(float(rng.exponential(1 / mu)))
        in_system[0] -= 1
        waits.append(wait)

    def arrivals():
        for _ in range(customers):
            yield env.timeout(float(rng.exponential(1 / lam)))
            env.process(customer())

    def observer():  # Poisson observation times see time averages (PASTA)
        while True:
            yield env.timeout(float(rng.exponential(1 / lam)))
            samples.append(in_system[0])

    env.process(arrivals())
    env.process(observer())
    env.run(until=customers / lam)
    return station, np.array(waits), np.array(samples), env.now


def _batch_ci(values, batches=20):
    means = np.array([b.mean() for b in np.array_split(values, batches)])
    return means.mean(), means.std(ddof=1) / math.sqrt(batches)


@pytest.mark.parametrize(("lam", "mu", "servers"), [(0.8, 1.0, 1), (2.4, 1.0, 3), (1.5, 1.0, 2)])
def test_station_waits_match_closed_form(lam, mu, servers):
    station, waits, _, horizon = _simulate(lam, mu, servers, 25_000, seed=7)
    warm = waits[2000:]
    mean, se = _batch_ci(warm)
    expected = mmc_wait(lam, mu, servers)
    assert abs(mean - expected) < 3 * se + 0.02 * expected, (mean, expected, se)
    # share of customers who waited at all: Erlang C
    waited = float((warm > 1e-12).mean())
    assert waited == pytest.approx(erlang_c(servers, lam / mu), abs=0.03)
    # utilisation: busy server-time over capacity equals lambda / (c mu)
    assert station.utilisation(horizon) == pytest.approx(lam / (servers * mu), abs=0.02)


def test_littles_law_on_the_station():
    lam, mu, servers = 1.5, 1.0, 2
    _, waits, samples, _ = _simulate(lam, mu, servers, 25_000, seed=11)
    time_in_system = waits[2000:].mean() + 1 / mu
    mean_number, se = _batch_ci(samples[2000:].astype(float))
    assert abs(mean_number - littles_law(lam, time_in_system)) < 3 * se + 0.05
