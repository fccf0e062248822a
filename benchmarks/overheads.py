"""CPU costs this project removed from every process and request, measured in this process.

    .venv/bin/python benchmarks/overheads.py

- an HTTP client with its own TLS context (the CA bundle parsed) against one sharing the
  process's context (``corridor.webhooks.http_client``): what each app's delivery thread and each
  EPCIS capture that looked for alerts paid before;
- listing the shipped simulation scenarios with each one validated (routing its flows over the
  network) against the validated scenarios kept per process (``corridor.simulation.prepare``);
- reading the stored network back from a database (the 2,400 records validated again), what every
  app, CLI command and capture job paid, against the network kept per process while the stored
  fingerprint is unchanged (``corridor.store.network.load_stored_network``).

CPU time (``time.process_time``), so a loaded machine changes the figures less than wall time would.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

import httpx

from corridor.settings import PACKAGE_DATA_DIR
from corridor.simulation import prepare, scenario_names
from corridor.simulation.runner import _network
from corridor.simulation.scenario import SCENARIO_DIR, load_scenario
from corridor.simulation.validate import checker
from corridor.store import network as stored
from corridor.store.db import Database
from corridor.store.migrate import upgrade
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

    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{scratch}/overheads.db")
        upgrade(db)
        with db.session() as s:
            stored.import_network(s, PACKAGE_DATA_DIR)

        def read_back() -> None:
            stored._LOADED.clear()  # as every process did before the network was kept
            with db.session() as s:
                stored.load_stored_network(s, PACKAGE_DATA_DIR)

        def kept_network() -> None:
            with db.session() as s:
                stored.load_stored_network(s, PACKAGE_DATA_DIR)

        print("the stored network for an app, CLI command or capture job, CPU ms each:")
        print(f"  read and validated  {cpu_ms(read_back, args.repeat):8.2f}")
        print(f"  kept per process    {cpu_ms(kept_network, args.repeat):8.2f}")
        print("  (kept: the stored fingerprint is still read, so a new import is seen at once)")
        db.dispose()


if __name__ == "__main__":
    main()
