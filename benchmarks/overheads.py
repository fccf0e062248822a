"""CPU costs this project removed from every process and request, measured in this process.

    .venv/bin/python benchmarks/overheads.py

- an HTTP client with its own TLS context (the CA bundle parsed) against one sharing the
  process's context (``corridor.webhooks.http_client``): what each app's delivery thread and each
  EPCIS capture that looked for alerts paid before;
- listing the shipped simulation scenarios with each one validated (routing its flows over the
  network) against the validated scenarios kept per process (``corridor.simulation.prepare``).

CPU time (``time.process_time``), so a loaded machine changes the figures less than wall time would.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import httpx

from corridor.simulation import prepare, scenario_names
from corridor.simulation.runner import _network
from corridor.simulation.scenario import SCENARIO_DIR, load_scenario
from corridor.simulation.validate import checker
from corridor.webhooks import http_client


def cpu_ms(action: Callable[[], object], repeat: int) -> float:
    """Mean CPU milliseconds of ``action`` over ``repeat`` calls."""
    began = time.process_time()
    for _ in range(repeat):
        action()
    return (time.process_time() - began) * 1000 / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    def own_context() -> None:
        httpx.Client(timeout=5.0).close()

    def shared_context() -> None:
        http_client().close()

    http_client().close()  # the shared context is built once, at the first client
    print("HTTP client, CPU ms each:")
    print(f"  own TLS context     {cpu_ms(own_context, args.repeat):8.2f}")
    print(f"  shared TLS context  {cpu_ms(shared_context, args.repeat):8.2f}")

    names = scenario_names()
    check = checker(_network(None))

    def validated_each_time() -> None:
        for name in names:
            load_scenario(name, SCENARIO_DIR, check=check)

    def kept() -> None:
        for name in names:
            prepare(name)

    kept()  # the first listing validates and keeps them
    print(f"listing the {len(names)} shipped scenarios, CPU ms each:")
    print(f"  validated each time {cpu_ms(validated_each_time, args.repeat):8.2f}")
    print(f"  kept per process    {cpu_ms(kept, args.repeat):8.2f}")
    print("  (kept: every file is still read and hashed, so an edit is seen at once)")


if __name__ == "__main__":
    main()
