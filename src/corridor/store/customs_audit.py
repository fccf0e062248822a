"""Verify the customs log against trust held outside the database, and cosign its tree heads.

``verify`` reads the whole log once, streaming, and checks, naming the first record at fault:

1. every record's sequence, chain link, hash and Ed25519 signature, with keys from a trust
   bundle only (never from ``customs_keys``), each key bound to the authority the record names
   as its signer (:func:`corridor.customs.ledger.verify`);
2. who may sign what: the platform signs only the holders' operations, an authority only its
   own acts;
3. every tree head known (the current one, those cosigned in the database, and those in a heads
   file an authority kept): its signatures against the bundle, and that the log still contains
   what it covers with the same root (so deleting the tail, head row and all, shows);
4. every declaration's state, position, guarantee, hold and incidents re-derived from its
   records with the live rules, compared with the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from corridor.customs import ledger, rules
from corridor.customs.lifecycle import WHO, Action, Party
from corridor.customs.rules import CustomsError
from corridor.customs.trust import PLATFORM, TrustBundle, head_problems
from corridor.store.accounts import now
from corridor.store.customs import tree_head
from corridor.store.customs_tables import CustomsCosignedHead
from corridor.store.keys import SUFFIX
from corridor.store.models import CustomsDeclaration, CustomsLogEntry, CustomsLogHead


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    records: int
    root: str
    first_bad: int | None = None
    reason: str = ""
    declarations: int = 0
    heads: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class _Trail:
    """One declaration's records as read from the log."""

    offices: list[str]
    records: list[tuple[int, str, int | None, dict[str, Any]]]


def stored_heads(session: Session) -> list[ledger.SignedHead]:
    """The current tree head and every head cosigned in the database."""
    heads = []
    current = tree_head(session)
    if current.head.size:
        heads.append(current)
    for row in session.scalars(select(CustomsCosignedHead).order_by(CustomsCosignedHead.size)):
        sigs = tuple(
            ledger.Signature(s["authority"], s["key_id"], s["signature"]) for s in row.signatures
        )
        heads.append(
            ledger.SignedHead(ledger.TreeHead(row.size, row.root_hash, row.timestamp), sigs)
        )
    return heads


def _signer_problem(body: dict[str, Any]) -> str | None:
    """The platform signs the holders' operations, an authority only what it did itself."""
    action, signer, actor = body.get("action"), body.get("signer"), body.get("actor")
    holder_op = action == "draft" or WHO.get(Action(str(action))) is Party.HOLDER
    if holder_op and signer != PLATFORM:
        return f"{action} is the holder's operation but is signed by {signer}, not the platform"
    if not holder_op and (signer == PLATFORM or signer != actor):
        return f"{action} by {actor} is an authority's act but is signed by {signer}"
    return None


def log_size(session: Session) -> int:
    """How many records the log head says there are (for a progress bar)."""
    head = session.get(CustomsLogHead, 1)
    return head.seq if head is not None else 0


def verify(
    session: Session,
    trusted: TrustBundle,
    heads: Sequence[ledger.SignedHead] = (),
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Everything the module docstring lists; the first problem found is the one reported.

    ``progress`` is called with the number of records read so far, every 1,000 records."""
    keys, authorities = trusted.public_keys(), trusted.authorities()
    known = [*heads, *stored_heads(session)]
    # A head whose signatures do not check out is reported, and not used against the log.
    verdicts = [(h, head_problems(h, keys, authorities)) for h in known]
    trusted_heads = [h for h, problems in verdicts if not problems]
    head_issues = [p for _, problems in verdicts for p in problems]
    head_row = session.get(CustomsLogHead, 1)
    expected = (head_row.seq, head_row.record_hash) if head_row is not None else None
    trails: dict[str, _Trail] = {}
    signer_problems: list[tuple[int, str]] = []
    replay_problems: list[tuple[int, str]] = []
    rows = session.scalars(
        select(CustomsLogEntry).order_by(CustomsLogEntry.seq).execution_options(yield_per=5000)
    )

    def entries() -> Iterator[ledger.Entry]:
        for r in rows:
            if progress is not None and r.seq % 1000 == 0:
                progress(r.seq)
            body = r.body
            try:
                problem = _signer_problem(body)
            except ValueError:
                problem = f"unknown action {body.get('action')!r}"
            if problem:
                signer_problems.append((r.seq, f"entry {r.seq}: {problem}"))
            decl = str(body.get("declaration"))
            details = body.get("details") or {}
            if body.get("action") == "draft":
                trails[decl] = _Trail(list(details.get("offices", [])), [])
            trail = trails.get(decl)
            if trail is None:
                replay_problems.append(
                    (r.seq, f"entry {r.seq}: declaration {decl} has no draft record before it")
                )
            else:
                index = body.get("office_index")
                if index is None and body.get("office") in trail.offices:
                    index = trail.offices.index(body["office"])
                trail.records.append((r.seq, str(body.get("action")), index, details))
            yield ledger.Entry(r.seq, body, r.prev_hash, r.record_hash, r.key_id, r.signature)

    try:
        report = ledger.verify(entries(), keys, authorities, trusted_heads, expected)
    finally:
        rows.close()
    n, h = len(trails), len(known)
    if not report.ok:
        return AuditReport(
            False, report.records, report.root, report.first_bad, report.reason, n, h
        )
    found = sorted(signer_problems + replay_problems + _compare(session, trails))
    if found or head_issues:
        seq, reason = found[0] if found else (0, head_issues[0])
        problems = [r for _, r in found] + head_issues
        return AuditReport(False, report.records, report.root, seq or None, reason, n, h, problems)
    return AuditReport(True, report.records, report.root, declarations=n, heads=h)


def _compare(session: Session, trails: dict[str, _Trail]) -> list[tuple[int, str]]:
    """Each declaration in the table against the state its records re-derive."""
    found: list[tuple[int, str]] = []
    seen: set[str] = set()
    for row in session.execute(
        select(
            CustomsDeclaration.id,
            CustomsDeclaration.state,
            CustomsDeclaration.position,
            CustomsDeclaration.arrived,
            CustomsDeclaration.checked,
            CustomsDeclaration.guarantee_state,
            CustomsDeclaration.incidents,
            CustomsDeclaration.offices,
        )
    ):
        seen.add(row.id)
        trail = trails.get(row.id)
        if trail is None:
            found.append((0, f"declaration {row.id} is in the table but has no record in the log"))
            continue
        try:
            derived = rules.replay(trail.records, len(trail.offices) - 1)
        except rules.ReplayError as exc:
            found.append((exc.seq, f"declaration {row.id}: entry {exc.seq}: {exc.reason}"))
            continue
        table = {
            "state": row.state,
            "position": row.position,
            "arrived": row.arrived,
            "checked": row.checked,
            "guarantee": row.guarantee_state,
            "incidents": row.incidents,
            "held": (row.offices or {}).get("held"),
        }
        log = {
            "state": derived.state.value,
            "position": derived.position,
            "arrived": derived.arrived,
            "checked": derived.checked,
            "guarantee": derived.guarantee.value,
            "incidents": derived.incidents,
            "held": derived.held,
        }
        diff = [k for k in table if table[k] != log[k]]
        if diff:
            said = ", ".join(f"{k} {table[k]!r} (log: {log[k]!r})" for k in diff)
            found.append(
                (
                    derived.last_seq,
                    f"declaration {row.id}: the table says {said}; its last record is entry "
                    f"{derived.last_seq}",
                )
            )
    for decl, trail in trails.items():
        if decl not in seen and trail.records:
            first = trail.records[0][0]
            found.append(
                (first, f"entry {first}: declaration {decl} has records but is not in the table")
            )
    return found


def witness(
    session: Session,
    keys_dir: Path,
    authority: str,
    trusted: TrustBundle,
    heads: Sequence[ledger.SignedHead] = (),
) -> ledger.SignedHead:
    """The authority checks the whole log, then signs the current tree head (a witness).

    Reads only, so it may run in a read transaction while appends go on: the head is read
    first and the log verified against it, so the head signed is one whose records were checked.
    The key must already exist (a witness never signs with a key created for the occasion).
    """
    path = keys_dir / f"{authority}{SUFFIX}.pem"
    key_id = f"{authority}{SUFFIX}"
    if not path.is_file() or trusted.authorities().get(key_id) != authority:
        raise CustomsError(
            "not_found", "authority", f"{authority} has no signing key in the trust bundle"
        )
    current = tree_head(session)
    if not current.head.size:
        raise CustomsError("conflict", "log", "the log is empty: there is no tree head to cosign")
    report = verify(session, trusted, [*heads, current])
    if not report.ok:
        raise CustomsError(
            "conflict", "log", f"the log does not verify, nothing cosigned: {report.reason}"
        )
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, Ed25519PrivateKey)
    mine = ledger.Signature(authority, key_id, ledger.sign_head(loaded, current.head))
    return ledger.SignedHead(current.head, (*current.signatures, mine))


def keep(session: Session, head: ledger.SignedHead) -> ledger.SignedHead:
    """Store a cosigned head, merging its signatures with those of an equal head already kept."""
    row = session.scalar(
        select(CustomsCosignedHead).where(
            CustomsCosignedHead.size == head.head.size,
            CustomsCosignedHead.root_hash == head.head.root,
            CustomsCosignedHead.timestamp == head.head.timestamp,
        )
    )
    if row is None:
        row = CustomsCosignedHead(
            size=head.head.size,
            root_hash=head.head.root,
            timestamp=head.head.timestamp,
            signatures=[vars(s) for s in head.signatures],
            created_at=now(),
        )
        session.add(row)
    else:
        new = {s.authority: vars(s) for s in head.signatures}
        row.signatures = [s for s in row.signatures if s["authority"] not in new] + list(
            new.values()
        )
    try:
        session.flush()
    except IntegrityError:
        raise CustomsError(
            "conflict", "log", "another authority cosigned this head at the same time; retry"
        ) from None
    return ledger.SignedHead(head.head, tuple(ledger.Signature(**s) for s in row.signatures))


def cosign(
    session: Session,
    keys_dir: Path,
    authority: str,
    trusted: TrustBundle,
    heads: Sequence[ledger.SignedHead] = (),
) -> ledger.SignedHead:
    """:func:`witness` and :func:`keep` in one transaction (the command line's way)."""
    return keep(session, witness(session, keys_dir, authority, trusted, heads))
