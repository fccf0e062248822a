"""What the HTTP benchmarks share: the real server, started on a free local port."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store.db import Database


def serve(db: Database, var_dir: Path) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Start the API over ``db`` in a thread; returns its base URL, the server and the thread."""
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
