"""Streaming ingestion: EPCIS documents from a NATS JetStream subject, captured as they arrive.

Railway and port systems publish events continuously. The consumer pulls documents from a durable
JetStream consumer and hands each to ``handle`` (which parses, validates and commits, see
``cli/track.py``); the message is acknowledged only after ``handle`` returned, i.e. after the
commit. A document ``handle`` refuses (a TrackingError: bad JSON, off-schema, unknown reference) is
published to the dead-letter subject with the reason in headers, then acknowledged: it will never
succeed, so it must not be redelivered forever. Any other failure (database down) is
negatively acknowledged and redelivered after a delay.

Several consumer processes with the same ``group`` share one durable pull consumer: JetStream hands
each message to one of them (a queue group), so capture scales out by starting more processes.
Redelivery after a crash between commit and ack captures the same events again, which the
repository answers as duplicates: nothing is stored twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from corridor.tracking.errors import TrackingError

Handle = Callable[[bytes], dict[str, Any]]


@dataclass
class ConsumerStats:
    documents: int = 0
    events: int = 0
    dead: int = 0
    retried: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StreamConfig:
    url: str = "nats://127.0.0.1:4222"
    stream: str = "EPCIS"
    subject: str = "epcis.capture"
    dead_letter: str = "epcis.dead"
    group: str = "corridor-capture"
    #: Documents taken per fetch. One: a consumer holding a batch would keep work from the others.
    batch: int = 1
    redeliver_delay_s: float = 5.0


async def ensure_stream(js: Any, config: StreamConfig) -> None:
    """Create the stream for the subject and the dead letters if it does not exist yet."""
    from nats.js.errors import NotFoundError

    try:
        await js.stream_info(config.stream)
    except NotFoundError:
        await js.add_stream(name=config.stream, subjects=[config.subject, config.dead_letter])


async def consume(
    config: StreamConfig,
    handle: Handle,
    *,
    max_documents: int | None = None,
    idle_exit_s: float | None = None,
    stop: asyncio.Event | None = None,
) -> ConsumerStats:
    """Consume until ``stop`` is set, ``max_documents`` were handled, or idle for ``idle_exit_s``."""
    import nats
    from nats.errors import TimeoutError as NatsTimeout

    stats = ConsumerStats()
    nc = await nats.connect(config.url, connect_timeout=3, max_reconnect_attempts=3)
    try:
        js = nc.jetstream()
        await ensure_stream(js, config)
        sub = await js.pull_subscribe(config.subject, durable=config.group, stream=config.stream)
        loop = asyncio.get_running_loop()
        idle = 0.0
        while not (stop is not None and stop.is_set()):
            if max_documents is not None and stats.documents + stats.dead >= max_documents:
                break
            want = config.batch
            if max_documents is not None:
                want = max(1, min(want, max_documents - stats.documents - stats.dead))
            try:
                messages = await sub.fetch(want, timeout=0.5)
            except (TimeoutError, NatsTimeout):  # nats-py raises either
                idle += 0.5
                if idle_exit_s is not None and idle >= idle_exit_s:
                    break
                continue
            idle = 0.0
            for msg in messages:
                try:
                    result = await loop.run_in_executor(None, handle, msg.data)
                except TrackingError as exc:
                    headers = {
                        "Corridor-Reason": f"{exc.code}: {exc.field}: {exc.reason}"[:500],
                        "Corridor-Subject": msg.subject,
                    }
                    await js.publish(config.dead_letter, msg.data, headers=headers, timeout=10)
                    await msg.ack()
                    stats.dead += 1
                    stats.reasons.append(headers["Corridor-Reason"])
                    continue
                except Exception:
                    await msg.nak(delay=config.redeliver_delay_s)
                    stats.retried += 1
                    continue
                await msg.ack()
                stats.documents += 1
                stats.events += int(result.get("captured", 0))
    finally:
        # Every ack was sent above; flush them and close (draining a pull subscription waits for
        # its 30 s timeout).
        await nc.flush()
        await nc.close()
    return stats
