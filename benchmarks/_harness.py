"""What the HTTP benchmarks share: the real server, started on a free local port.

The API is imported by :func:`serve` only: the scripts that start ``corridor serve`` as its own
processes use :func:`scratch_postgres` alone and need not pay its import (about 2 s of CPU).
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

from corridor.store.db import Database

if TYPE_CHECKING:
    import uvicorn


def serve(db: Database, var_dir: Path) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Start the API over ``db`` in a thread; returns its base URL, the server and the thread."""
    import uvicorn

    from corridor.api import create_app
    from corridor.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(Settings(var_dir=var_dir), db), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/api/v1", server, thread


@contextmanager
def scratch_postgres(url: str) -> Iterator[Database | None]:
    """A new, empty PostgreSQL database for one run (dropped after), or None when unreachable."""
    name = f"corridor_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL: skipped ({exc.__class__.__name__}: not reachable at {url})")
        admin.dispose()
        yield None
        return
    db = Database(url.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
