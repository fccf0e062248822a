"""What the load and fault benchmarks share: `corridor serve --workers N` as a real process group
over a scratch database, tenants with API tokens, and latency figures.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from _harness import scratch_postgres

from corridor.settings import PACKAGE_DATA_DIR
from corridor.store.accounts import (
    create_organisation,
    create_user,
    issue_token,
    set_password_cost,
)
from corridor.store.db import Database
from corridor.store.seed import prepare

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: A short booking (one Caspian ferry): the benchmark measures the service, not the planner.
SHORT = {
    "origin": "aktau_port",
    "destination": "baku",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 1,
    "best": "time",
}
CORRIDOR = str(Path(sys.executable).parent / "corridor")


@dataclass
class Service:
    base: str
    db: Database
    url: str
    env: dict[str, str]
    port: int
    log: Path = Path("server.log")
    process: subprocess.Popen[bytes] | None = None
    tokens: list[tuple[str, str]] = field(default_factory=list)  # (organisation id, token)

    def start(self, workers: int, timeout_s: float = 120) -> float:
        """Start the server process group; returns the seconds until /health answered."""
        began = time.perf_counter()
        self.process = subprocess.Popen(
            [CORRIDOR, "serve", "--no-demo", "--port", str(self.port), "--workers", str(workers)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"),  # noqa: SIM115 (the child process owns it)
            start_new_session=True,  # its own process group: kill -9 reaches every worker
        )
        # One client for every poll (``httpx.get`` builds a client, and its TLS context, each time:
        # some 30 ms of CPU per poll, seconds per start); no keep-alive, so that each answer comes
        # over a fresh connection, from whichever worker accepts it.
        no_reuse = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.base, timeout=5, limits=no_reuse) as http:
            while time.perf_counter() - began < timeout_s:
                try:
                    if http.get("/health", timeout=2).status_code == 200:
                        # every worker must be up: a few more answers, a fresh connection each
                        for _ in range(workers * 3):
                            http.get("/health")
                        return time.perf_counter() - began
                except httpx.HTTPError:
                    pass
                if self.process.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.process.returncode}")
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def kill9(self) -> None:
        """SIGKILL to the whole process group: the supervisor and every worker, no clean-up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tenants(db: Database, organisations: int, clients: int) -> list[tuple[str, str]]:
    """``organisations`` forwarders with one user each, and one API token per client."""
    set_password_cost(1, 8)  # the benchmark measures requests, not password hashing
    out: list[tuple[str, str]] = []
    with db.session(write=True) as s:
        users = []
        for i in range(organisations):
            org = create_organisation(s, f"Bench forwarder {i}", "forwarder")
            users.append((org.id, create_user(s, org.id, f"u{i}@bench.test", "U", "x" * 12).id))
        for c in range(clients):
            org_id, user_id = users[c % organisations]
            out.append((org_id, issue_token(s, user_id, "bench", timedelta(days=1))))
    return out


@contextmanager
def service(
    kind: str, pg_url: str, threads: int, organisations: int, clients: int
) -> Iterator[Service | None]:
    """A prepared scratch database of ``kind`` with tenants, and the (not yet started) service."""
    with ExitStack() as stack:
        var = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if kind == "sqlite":
            url = f"sqlite:///{var / 'corridor.db'}"
            db = Database(url)
        else:
            scratch = stack.enter_context(scratch_postgres(pg_url))
            if scratch is None:
                yield None
                return
            db, url = scratch, scratch.url
        prepare(db, PACKAGE_DATA_DIR, demo=False)
        port = _free_port()
        env = {
            **os.environ,
            "CORRIDOR_DATABASE_URL": url,
            "CORRIDOR_VAR_DIR": str(var),
            "CORRIDOR_THREADS": str(threads),
            "CORRIDOR_ARGON2_TIME_COST": "1",
            "CORRIDOR_ARGON2_MEMORY_KIB": "8",
        }
        svc = Service(f"http://127.0.0.1:{port}/api/v1", db, url, env, port, var / "server.log")
        svc.tokens = tenants(db, organisations, clients)
        try:
            yield svc
        finally:
            svc.stop()
            if svc.log.exists() and (tail := svc.log.read_text().strip()[-3000:]):
                print(f"server log (last 3,000 characters):\n{tail}")


def server_cpu(svc: Service) -> float:
    """CPU seconds (user + system) used so far by the server's processes (supervisor and workers)."""
    import psutil  # type: ignore[import-untyped]

    assert svc.process is not None
    root = psutil.Process(svc.process.pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def database_cpu(svc: Service) -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL backends serving the service's
    database (their process titles name it; read from /proc), 0 on SQLite. Backends that have
    exited are not counted, so take both readings while the server's pool is open."""
    if not svc.url.startswith("postgresql"):
        return 0.0
    name = f" {svc.url.rsplit('/', 1)[-1].split('?')[0]} "
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            cmdline = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
            if not cmdline.startswith("postgres:") or name not in cmdline.replace("\x00", " "):
                continue
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"
