"""A real server for tests: uvicorn in a thread, on a loopback port the kernel picked.

The socket is bound here and handed to uvicorn, so no other process (another xdist worker, a
helper's server) can take the port between choosing it and listening on it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


class Running:
    """A started server: its root URL ("http://127.0.0.1:PORT/"), and how to stop it."""

    def __init__(self, app: Any, startup_s: float = 60) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + startup_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@contextmanager
def running(app: Any) -> Iterator[Running]:
    """The app served until the block ends."""
    server = Running(app)
    try:
        yield server
    finally:
        server.stop()
