"""``corridor customs ...``: verify the shared customs record, export the trust bundle, cosign heads.

A database-level attacker can rewrite the database, not the files the authorities hold: the
trust bundle (``export-trust-bundle``) pins every key to its authority, and the heads file
(``cosign``) keeps tree heads that authorities checked and signed. ``verify --trusted-keys
--heads`` checks the log against both.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from corridor.customs.trust import TrustBundle
    from corridor.store.db import Database

app = typer.Typer(help="Digital customs transit.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

TRUSTED = typer.Option(
    None,
    "--trusted-keys",
    help="Trust bundle (JSON) held by the authorities; default: the key files in var/keys.",
)
HEADS = typer.Option(
    None, "--heads", help="Heads file (JSON) of cosigned tree heads an authority kept."
)


def _database() -> Database:
    from corridor.settings import get_settings
    from corridor.store import migrate
    from corridor.store.db import Database

    db = Database(get_settings().resolved_database_url())
    migrate.upgrade(db)
    return db


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(2)


def _trust(session: Session, trusted_keys: Path | None) -> TrustBundle:
    from corridor.customs.trust import TrustError, load_bundle
    from corridor.settings import get_settings
    from corridor.store.keys import trust_bundle

    if trusted_keys is None:
        return trust_bundle(session, get_settings().keys_dir)
    try:
        return load_bundle(trusted_keys)
    except TrustError as exc:
        raise _fail(f"--trusted-keys {exc}") from None


@app.command()
def verify(trusted_keys: Path | None = TRUSTED, heads: Path | None = HEADS) -> None:
    """Check the customs log end to end; exit 1 naming the first bad record.

    Signatures with pinned keys bound to their authorities, the hash chain, every tree head
    (stored, and in --heads), and every declaration's state re-derived from its records.
    """
    from corridor.customs.trust import TrustError, load_heads
    from corridor.store import customs_audit

    held = []
    if heads is not None:
        try:
            held = [h.signed() for h in load_heads(heads).heads]
        except TrustError as exc:
            raise _fail(f"--heads {exc}") from None
    from rich.progress import Progress

    db = _database()
    started = time.perf_counter()
    try:
        with db.session() as session, Progress(console=err, transient=True) as bar:
            bundle = _trust(session, trusted_keys)
            task = bar.add_task("Verifying the customs log", total=customs_audit.log_size(session))
            report = customs_audit.verify(
                session, bundle, held, lambda done: bar.update(task, completed=done)
            )
    finally:
        db.dispose()
    seconds = time.perf_counter() - started
    if report.ok:
        out.print(
            f"OK: {report.records} records, every signature (with {len(bundle.keys)} pinned keys) "
            f"and link checks out; {report.heads} tree heads and {report.declarations} "
            f"declarations' states match the log (Merkle tree root {report.root}; {seconds:.2f} s)",
            highlight=False,
        )
        return
    where = f"record {report.first_bad}" if report.first_bad else "log"
    err.print(
        f"[red]TAMPERED:[/red] {where}: {report.reason} "
        f"({report.records} records before it check out)",
        highlight=False,
    )
    for extra in report.problems[1:10]:
        err.print(f"  also: {extra}", highlight=False)
    raise typer.Exit(1)


@app.command("export-trust-bundle")
def export_trust_bundle(
    out_file: Path = typer.Option(..., "--out", help="Where to write the bundle (JSON)."),
) -> None:
    """Write the public keys of the platform and every authority, each bound to its authority.

    Taken from the private key files in var/keys, not from the database. Give a copy to every
    authority: ``verify --trusted-keys`` then trusts only these keys.
    """
    from corridor.customs.trust import dump

    db = _database()
    try:
        with db.session() as session:
            bundle = _trust(session, None)
    finally:
        db.dispose()
    if not bundle.keys:
        raise _fail("no signing keys in var/keys yet: nothing has been signed")
    try:
        dump(bundle, out_file)
    except OSError as exc:
        raise _fail(f"--out {out_file}: {exc.strerror}") from None
    out.print(f"Wrote {len(bundle.keys)} keys to {out_file}", highlight=False)
    for key in bundle.keys:
        out.print(f"  {key.authority:<40} {key.public_key[:16]}...  {key.name}", highlight=False)


@app.command()
def cosign(
    authority: str = typer.Option(..., help="Organisation id of the cosigning authority."),
    heads: Path = typer.Option(..., "--heads", help="The authority's heads file (JSON)."),
    trusted_keys: Path | None = TRUSTED,
) -> None:
    """As an authority, check the whole log and cosign its current tree head (a witness).

    The head is stored in the database and added to the heads file, which the authority keeps.
    """
    from corridor.customs.rules import CustomsError
    from corridor.customs.trust import TrustError, add_signature, dump, load_heads
    from corridor.settings import get_settings
    from corridor.store import customs_audit

    try:
        held = load_heads(heads, missing_ok=True)
    except TrustError as exc:
        raise _fail(f"--heads {exc}") from None
    db = _database()
    try:
        with db.write_session() as session:
            bundle = _trust(session, trusted_keys)
            head = customs_audit.cosign(
                session,
                get_settings().keys_dir,
                authority,
                bundle,
                [h.signed() for h in held.heads],
            )
    except CustomsError as exc:
        raise _fail(f"{exc.field}: {exc.reason}") from None
    finally:
        db.dispose()
    dump(add_signature(held, head), heads)
    by = ", ".join(s.authority for s in head.signatures)
    out.print(
        f"Cosigned tree head: {head.head.size} records, root {head.head.root} "
        f"(signed by {by}); kept in {heads}",
        highlight=False,
    )
