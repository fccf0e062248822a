"""A small keep-alive HTTP/1.1 client for the load benchmark: asyncio streams + httptools' parser.

httpx spends about 2 ms of CPU per request on these cores; when the harness shares the machine
with the server, that is CPU the server does not get, and the benchmark measures the harness. This
client does only what load.py needs (one connection per client, Content-Length bodies, JSON) at a
fraction of that cost, so the figures are the server's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import httptools


class HttpError(Exception):
    """A transport failure: refused, reset, timed out or a malformed answer."""


class Answer:
    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code = status_code
        self.content = body

    def json(self) -> Any:
        return json.loads(self.content)


class _Parsed:
    """httptools callbacks: collect one response."""

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.done = False
        self.close = False

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"connection" and value.lower() == b"close":
            self.close = True

    def on_message_complete(self) -> None:
        self.done = True


class Connection:
    """One keep-alive connection to ``base`` (http://host:port/prefix); reconnects when closed."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Answer:
        target = self.prefix + path + (f"?{urlencode(params)}" if params else "")
        body = b"" if json_body is None else json.dumps(json_body).encode()
        head = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if json_body is not None or method == "POST":
            head.append("Content-Type: application/json")
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        try:
            return await asyncio.wait_for(self._exchange(raw), self.timeout)
        except (TimeoutError, OSError, httptools.HttpParserError, HttpError) as exc:
            await self.close()
            raise HttpError(type(exc).__name__) from exc

    async def _exchange(self, raw: bytes) -> Answer:
        for _ in range(2):
            fresh = self._writer is None
            if fresh:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None
            assert self._writer is not None
            self._writer.write(raw)
            parsed = _Parsed()
            parser = httptools.HttpResponseParser(parsed)
            while not parsed.done:
                chunk = await self._reader.read(65536)
                if not chunk:
                    break
                parser.feed_data(chunk)
            if parsed.done:
                if parsed.close:
                    await self.close()
                return Answer(parser.get_status_code(), b"".join(parsed.body))
            await self.close()
            if fresh:
                break
            # else: a kept-alive connection that the server had closed while idle: once more
        raise HttpError("the server closed the connection")
