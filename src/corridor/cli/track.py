"""``corridor track import`` and ``corridor track status``: EPCIS files and shipment status."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.settings import get_settings
from corridor.store import tracking
from corridor.store.accounts import Principal
from corridor.store.db import Database
from corridor.store.models import Organisation, OrgKind, Shipment, User
from corridor.store.network import load_stored_network
from corridor.store.seed import prepare
from corridor.tracking.errors import Problem, TrackingError

app = typer.Typer(help="Tracking: EPCIS 2.0 events, shipment status and ETA.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _db() -> Database:
    settings = get_settings()
    db = Database(settings.resolved_database_url())
    prepare(db, settings.network_dir, demo=False)
    return db


def _principal(s: Session, as_user: str) -> Principal:
    user = s.scalar(select(User).where(User.email == as_user.strip().lower()))
    if user is None:
        err.print(f"[red]error:[/red] --as: no user {as_user}", highlight=False)
        raise typer.Exit(2)
    org = s.get(Organisation, user.organisation_id)
    assert org is not None
    return Principal(
        user.id, user.email, user.name, org.id, org.name, OrgKind(org.kind), org.country, "cli"
    )


@app.command("import")
def import_file(
    path: Path = typer.Argument(..., help="An EPCISDocument in JSON or JSON-LD."),
    as_user: str = typer.Option(
        ..., "--as", help="E-mail of the user whose organisation captures the events."
    ),
) -> None:
    """Capture the events of an EPCIS document file (all or nothing)."""
    from corridor.tracking.document import parse

    try:
        document = parse(path.read_bytes())
    except OSError as exc:
        err.print(f"[red]error:[/red] {path}: {exc.strerror}", highlight=False)
        raise typer.Exit(2) from None
    except TrackingError as exc:
        err.print(f"[red]error:[/red] {path}: {exc.field}: {exc.reason}", highlight=False)
        raise typer.Exit(2) from None
    db = _db()
    try:
        with db.write_session() as s:
            who = _principal(s, as_user)
            network = load_stored_network(s, get_settings().network_dir)
            try:
                result = tracking.capture(s, who, network, document)
            except TrackingError as exc:
                err.print(f"[red]rejected:[/red] {exc.reason}; nothing was stored", highlight=False)
                for problem in exc.problems or [Problem(exc.field or "$", exc.reason)]:
                    err.print(f"  {problem.field}: {problem.reason}", highlight=False)
                raise typer.Exit(1) from None
            tracking.evaluate_alerts(s, network, result.shipments)
        out.print(
            f"captured {result.captured} event(s), {len(result.duplicates)} already known, "
            f"{result.corrected} corrected",
            highlight=False,
        )
    finally:
        db.dispose()


@app.command()
def status(shipment_id: str = typer.Argument(..., help="Shipment id.")) -> None:
    """Where a shipment is, planned against actual per leg, and its ETA."""
    db = _db()
    try:
        with db.session() as s:
            shipment = s.get(Shipment, shipment_id)
            if shipment is None:
                err.print(f"[red]error:[/red] no shipment {shipment_id!r}", highlight=False)
                raise typer.Exit(2)
            state = tracking.status(s, load_stored_network(s, get_settings().network_dir), shipment)
    finally:
        db.dispose()
    position = state.position.name if state.position else "not seen yet"
    out.print(
        f"Shipment {shipment_id} ({shipment.reference}): {state.events} events; at {position}",
        highlight=False,
    )
    out.print(
        f"  planned arrival {state.planned_arrival:%Y-%m-%d %H:%M}, ETA {state.eta:%Y-%m-%d %H:%M} UTC "
        f"({state.slip_h:+.1f} h): {state.basis}",
        highlight=False,
    )
    for leg in state.legs:
        actual = leg.actual_arrival
        seen = (
            f"arrived {actual:%Y-%m-%d %H:%M} ({leg.delay_h or 0:+.1f} h)" if actual else "not yet"
        )
        out.print(
            f"  {leg.mode:<5} {leg.from_node} -> {leg.to_node}: planned {leg.planned_arrival:%Y-%m-%d %H:%M}, {seen}",
            highlight=False,
        )


@app.command()
def consume(
    subject: str = typer.Option("epcis.capture", "--subject", help="JetStream subject to read."),
    as_user: str = typer.Option(
        ..., "--as", help="E-mail of the user whose organisation captures."
    ),
    stream: str = typer.Option("EPCIS", "--stream", help="JetStream stream (created if missing)."),
    group: str = typer.Option(
        "corridor-capture", "--group", help="Queue group: processes sharing it share the work."
    ),
    dead_letter: str = typer.Option(
        "epcis.dead", "--dead-letter", help="Subject that receives refused documents and why."
    ),
    nats_url: str = typer.Option("nats://127.0.0.1:4222", "--nats", help="NATS server."),
    max_documents: int | None = typer.Option(None, help="Stop after this many documents."),
    idle_exit: float | None = typer.Option(None, help="Stop after this many idle seconds."),
) -> None:
    """Capture EPCIS documents from NATS JetStream; ack after commit, dead-letter refusals."""
    import asyncio

    from nats.errors import NoServersError

    from corridor.store.tracking_capture import capture
    from corridor.tracking.document import parse
    from corridor.tracking.jetstream import StreamConfig
    from corridor.tracking.jetstream import consume as run

    settings = get_settings()
    db = _db()
    try:
        with db.session() as s:
            who = _principal(s, as_user)
            nodes = set(load_stored_network(s, settings.network_dir).nodes)

        def handle(data: bytes) -> dict[str, int]:
            document = parse(data, settings.epcis_max_depth)
            with db.write_session() as s:
                result = capture(s, who, nodes, document, max_events=settings.epcis_max_events)
            return {"captured": result.captured}

        config = StreamConfig(
            url=nats_url, stream=stream, subject=subject, dead_letter=dead_letter, group=group
        )
        out.print(f"consuming {subject} (stream {stream}, group {group}) ...", highlight=False)
        try:
            stats = asyncio.run(
                run(config, handle, max_documents=max_documents, idle_exit_s=idle_exit)
            )
        except KeyboardInterrupt:
            raise typer.Exit(0) from None
        except (OSError, NoServersError) as exc:
            err.print(f"[red]error:[/red] --nats {nats_url}: {exc}", highlight=False)
            raise typer.Exit(2) from None
    finally:
        db.dispose()
    out.print(
        f"{stats.documents} document(s), {stats.events} event(s) captured; "
        f"{stats.dead} dead-lettered; {stats.retried} retried",
        highlight=False,
    )


@app.command()
def mqtt(
    topic: str = typer.Option(
        "corridor/telematics/#", "--topic", help="MQTT topic filter to subscribe to (QoS 1)."
    ),
    as_user: str = typer.Option(
        ..., "--as", help="E-mail of the user whose organisation captures."
    ),
    dead_letter: str = typer.Option(
        "corridor/telematics-dead",
        "--dead-letter",
        help="Topic that receives refused messages, the reason in their user properties.",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="MQTT broker (Mosquitto) host."),
    port: int = typer.Option(1883, "--port", min=1, max=65535, help="MQTT broker port."),
    client_id: str = typer.Option(
        "corridor-mqtt-bridge",
        "--client-id",
        help="Client id; the broker keeps this session's unacknowledged messages.",
    ),
    max_messages: int | None = typer.Option(None, help="Stop after this many messages."),
    idle_exit: float | None = typer.Option(None, help="Stop after this many idle seconds."),
) -> None:
    """Capture telematics from MQTT: EPCIS documents or sensor readings; ack after commit."""
    from corridor.store.tracking_capture import capture
    from corridor.tracking.mqtt import BridgeConfig, bridge

    settings = get_settings()
    db = _db()
    try:
        with db.session() as s:
            who = _principal(s, as_user)
            nodes = set(load_stored_network(s, settings.network_dir).nodes)

        def handle(document: dict[str, object]) -> dict[str, int]:
            with db.write_session() as s:
                result = capture(s, who, nodes, document, max_events=settings.epcis_max_events)
            return {"captured": result.captured}

        config = BridgeConfig(
            host=host, port=port, topic=topic, dead_letter=dead_letter, client_id=client_id
        )
        out.print(f"bridging MQTT {topic} on {host}:{port} ...", highlight=False)
        try:
            stats = bridge(
                config,
                handle,
                max_depth=settings.epcis_max_depth,
                max_messages=max_messages,
                idle_exit_s=idle_exit,
            )
        except KeyboardInterrupt:
            raise typer.Exit(0) from None
        except OSError as exc:
            err.print(f"[red]error:[/red] MQTT {host}:{port}: {exc}", highlight=False)
            raise typer.Exit(2) from None
    finally:
        db.dispose()
    out.print(
        f"{stats.documents} document(s) and {stats.readings} reading(s), {stats.events} event(s) "
        f"captured; {stats.dead} dead-lettered; {stats.retried} retried",
        highlight=False,
    )
