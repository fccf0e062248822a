"""The benchmarks' small versions, as CI runs them: their guarantees, never their speed.

Each script in ``benchmarks/`` exits non-zero when a guarantee breaks (an overbooked slot, a
counter that disagrees with its bookings, a 5xx or a dropped connection under load, an
acknowledged write lost to ``kill -9``, a customs log that no longer verifies). Here they run
against the real server (``corridor serve --workers N`` as its own processes) on both databases,
small enough for the suite and one after the other on one prepared database and server
(benchmarks/smoke.py); the figures they print are for the README and are not asserted (a timed
test would fail on a busy machine and pass on a broken one).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str, postgres: bool) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    out = done.stdout + done.stderr
    if postgres and "skipped" in out and "PostgreSQL" in out:
        if os.environ.get("CORRIDOR_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL not reachable (CORRIDOR_REQUIRE_POSTGRES is set):\n{out}")
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    assert done.returncode == 0, out
    return out


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_benchmarks_keep_their_guarantees(db):
    # capacity, load and kill -9 (benchmarks/smoke.py) on one prepared database and one
    # `corridor serve --workers 2`: a server's start-up costs more CPU than each small run.
    out = _run(
        "smoke.py",
        "--db",
        db,
        "--workers",
        "2",
        # capacity: 700 holds from 50 clients; one in ten goes to one 52-wagon ferry, which fills up
        "--bookings",
        "700",
        "--clients",
        "50",
        # load: about 100 requests/s offered for 2 s, reading and writing mixed: errors only
        "--duration",
        "2",
        "--think",
        "0.5",
        # kill -9 after 1 s of 10 writers booking and declaring (a few hundred writes; the
        # kill also waits for one acknowledged booking and declaration)
        "--kill-clients",
        "10",
        "--before",
        "1",
        postgres=db == "postgres",
    )
    label = "SQLite" if db == "sqlite" else "PostgreSQL"
    # capacity: never overbooks
    assert "overbooked 0, counters not matching their bookings 0" in out, out
    assert "the 52-wagon ferry holds 52" in out, out
    answers = next(line for line in out.splitlines() if line.startswith(f"{label} (")).split(
        "answers "
    )[1]
    assert "409" in answers, out  # the full ferry refused the rest
    # load: no errors
    assert "errors (5xx or transport): 0" in out, out
    # kill -9: no acknowledged write lost, and the customs log verifies
    assert "0 acknowledged lost" in out, out
    assert "verify --trusted-keys trust.json: exit 0" in out, out
    assert "goal (0 acknowledged writes lost and verify OK): met" in out, out
