"""Closed-form queueing results: the reference the simulated queues are tested against.

Border crossings and port terminals are multi-server queues. Where arrivals are Poisson and service
exponential the textbook results (M/M/1, M/M/c with the Erlang C formula, Little's law) are exact, so
a simulated station run under those assumptions must agree with them within sampling error.
"""

from __future__ import annotations


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C), ``offered_load = lambda/mu``."""
    if servers < 1:
        raise ValueError("servers must be at least 1")
    rho = offered_load / servers
    if not 0 <= rho < 1:
        raise ValueError("the queue is unstable: offered load must be below the number of servers")
    # Erlang B by its stable recursion, then C from B.
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return b / (1 - rho * (1 - b))


def mmc_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue (before service) of an M/M/c queue."""
    load = arrival_rate / service_rate
    return erlang_c(servers, load) / (servers * service_rate - arrival_rate)


def mm1_wait(arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue of an M/M/1 queue: ``rho / (mu - lambda)``."""
    if arrival_rate >= service_rate:
        raise ValueError("the queue is unstable: arrival rate must be below service rate")
    return arrival_rate / (service_rate * (service_rate - arrival_rate))


def littles_law(arrival_rate: float, time_in_system: float) -> float:
    """Mean number in the system, ``L = lambda * W``."""
    return arrival_rate * time_in_system


def utilisation(arrival_rate: float, service_rate: float, servers: int = 1) -> float:
    return arrival_rate / (servers * service_rate)
