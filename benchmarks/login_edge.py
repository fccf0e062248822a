"""The edge and login under abuse (issue 9, items 4 and 5), against the real server.

Prints:
- how long a 50 MB body to /auth/login without a token takes to be refused (Content-Length
  given, and streamed without it);
- login time for a known address with a wrong password and for an unknown address (median of
  N, at the full Argon2id cost);
- the server process's peak memory before and while 30 clients send wrong logins, and the
  answers they got.

    .venv/bin/python benchmarks/login_edge.py [--seconds 10] [--clients 30]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import delete

from corridor.api import create_app
from corridor.settings import PACKAGE_DATA_DIR, Settings
from corridor.store.accounts_tables import LoginThrottle
from corridor.store.db import Database
from corridor.store.seed import prepare


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(settings: Settings, db: Database) -> tuple[str, uvicorn.Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="error")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def big_body(base: str, size: int, content_length: bool) -> tuple[float, str]:
    """Send ``size`` bytes to /auth/login over a raw socket; seconds until the status line."""
    host, port = base.removeprefix("http://").split(":")
    head = f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {size}\r\n" if content_length else "Transfer-Encoding: chunked\r\n"
    chunk = b"x" * 65536
    began = time.perf_counter()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall((head + "\r\n").encode())
        sock.setblocking(False)
        sent, answer = 0, b""
        while sent < size and b"\r\n" not in answer:
            try:
                answer += sock.recv(4096)
                break
            except BlockingIOError:
                pass
            try:
                data = chunk if content_length else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                sock.send(data)
                sent += len(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
        sock.setblocking(True)
        sock.settimeout(60)
        while b"\r\n" not in answer:
            answer += sock.recv(4096)
    return time.perf_counter() - began, answer.split(b"\r\n", 1)[0].decode()


def login_times(base: str, emails: tuple[str, ...], n: int) -> dict[str, float]:
    """Median milliseconds of a wrong login per address, the addresses taken in turn."""
    times: dict[str, list[float]] = {email: [] for email in emails}
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(n):
            for email in emails:
                began = time.perf_counter()
                response = client.post(
                    "/api/v1/auth/login", json={"email": email, "password": "not the password"}
                )
                times[email].append(time.perf_counter() - began)
                assert response.status_code == 401, response.text
    return {email: statistics.median(t) * 1000 for email, t in times.items()}


def storm(base: str, clients: int, seconds: float) -> Counter[int]:
    stop = time.monotonic() + seconds
    codes: Counter[int] = Counter()

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            while time.monotonic() < stop:
                response = http.post(
                    "/api/v1/auth/login",
                    json={"email": f"victim{i % 5}@demo.corridor", "password": "wrong password"},
                )
                codes[response.status_code] += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--samples", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'corridor.db'}")
        prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
        relaxed = Settings(
            var_dir=Path(tmp), login_max_per_account=10**6, login_max_per_address=10**6
        )
        base, server = start(relaxed, db)
        for content_length in (True, False):
            seconds, status = big_body(base, 50 * 1024 * 1024, content_length)
            how = "with Content-Length" if content_length else "streamed (chunked)"
            print(f"50 MB body to /auth/login {how}: {status!r} after {seconds * 1000:.0f} ms")
        median = login_times(
            base, ("forwarder@demo.corridor", "nobody@demo.corridor"), args.samples
        )
        known, unknown = median["forwarder@demo.corridor"], median["nobody@demo.corridor"]
        print(
            f"wrong login, median of {args.samples}: known address {known:.0f} ms, "
            f"unknown address {unknown:.0f} ms"
        )
        before, peak_before = _rss_mib(), _peak_rss_mib()
        codes = storm(base, args.clients, args.seconds)
        print(
            f"{args.clients} clients sending wrong logins for {args.seconds:.0f} s (default limits "
            f"off): answers {dict(sorted(codes.items()))}"
        )
        print(
            f"server process memory: {before:.0f} MiB before, peak {peak_before:.0f} -> "
            f"{_peak_rss_mib():.0f} MiB during"
        )
        server.should_exit = True
        with db.session() as s:  # a fresh start for the counters
            s.execute(delete(LoginThrottle))
        base, server = start(Settings(var_dir=Path(tmp)), db)
        codes = storm(base, args.clients, min(args.seconds, 5))
        print(f"same storm with the default limits: answers {dict(sorted(codes.items()))}")
        server.should_exit = True
        db.dispose()


if __name__ == "__main__":
    main()
