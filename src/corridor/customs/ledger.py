"""The shared record: every operation on every declaration, hash-chained, signed, in a Merkle tree.

Each entry is hashed together with the previous entry's hash (a chain), and signed with the Ed25519
key of the organisation that performed it (each customs authority has its own; the platform signs
the holders' operations). The entries are also the leaves of a Merkle tree in the manner of
Certificate Transparency (RFC 9162): ``leaf = SHA-256(0x00 || entry hash)``, ``node = SHA-256(0x01
|| left || right)``, so that a tree head commits to the whole log. ``verify`` recomputes all of it
and names the first entry that does not check out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = "0" * 64


def canonical(data: dict[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, no spaces, UTF-8 (stable across databases)."""
    # allow_nan=False: NaN and Infinity are not JSON, and a record must read back as it was signed.
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(entry)).hexdigest()


def sign(key: Ed25519PrivateKey, record_hash: str) -> str:
    return key.sign(bytes.fromhex(record_hash)).hex()


def leaf(record_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(record_hash)).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleFrontier:
    """The Merkle tree head of an append-only log in O(log n) memory and time per append."""

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[
            tuple[int, bytes]
        ] = []  # (height, hash) of perfect subtrees, left to right

    @classmethod
    def from_peaks(cls, size: int, peaks: list[list[Any]]) -> MerkleFrontier:
        """A frontier as stored by :meth:`peaks` (the log keeps it next to its tree head)."""
        frontier = cls()
        frontier.size = size
        frontier._peaks = [(int(h), bytes.fromhex(str(d))) for h, d in peaks]
        return frontier

    def peaks(self) -> list[list[Any]]:
        return [[h, d.hex()] for h, d in self._peaks]

    def append(self, record_hash: str) -> None:
        height, digest = 0, leaf(record_hash)
        while self._peaks and self._peaks[-1][0] == height:
            _, left = self._peaks.pop()
            digest = node(left, digest)
            height += 1
        self._peaks.append((height, digest))
        self.size += 1

    def root(self) -> str:
        if not self._peaks:
            return hashlib.sha256(b"").hexdigest()
        digest = self._peaks[-1][1]
        for _, left in reversed(self._peaks[:-1]):
            digest = node(left, digest)
        return digest.hex()


def merkle_root(record_hashes: list[str]) -> str:
    """RFC 9162 Merkle tree hash, computed recursively (the reference the frontier must match)."""
    if not record_hashes:
        return hashlib.sha256(b"").hexdigest()

    def mth(items: list[str]) -> bytes:
        if len(items) == 1:
            return leaf(items[0])
        split = 1 << ((len(items) - 1).bit_length() - 1)
        return node(mth(items[:split]), mth(items[split:]))

    return mth(record_hashes).hex()


def inclusion_proof(record_hashes: list[str], index: int) -> list[str]:
    """The audit path of leaf ``index`` (RFC 9162 section 2.1.3.1), as hex."""

    def path(items: list[str], i: int) -> list[bytes]:
        if len(items) == 1:
            return []
        split = 1 << ((len(items) - 1).bit_length() - 1)
        if i < split:
            return [*path(items[:split], i), bytes.fromhex(merkle_root(items[split:]))]
        return [*path(items[split:], i - split), bytes.fromhex(merkle_root(items[:split]))]

    return [p.hex() for p in path(record_hashes, index)]


def verify_inclusion(record_hash: str, index: int, size: int, proof: list[str], root: str) -> bool:
    """Check an audit path against a tree head (RFC 9162 section 2.1.3.2)."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    digest = leaf(record_hash)
    for sibling_hex in proof:
        sibling = bytes.fromhex(sibling_hex)
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            digest = node(sibling, digest)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            digest = node(digest, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and digest.hex() == root


@dataclass(frozen=True)
class Entry:
    """One stored log entry, as read back for verification."""

    seq: int
    body: dict[str, Any]
    prev_hash: str
    record_hash: str
    key_id: str
    signature: str


@dataclass(frozen=True)
class Report:
    ok: bool
    records: int
    root: str
    first_bad: int | None = None
    reason: str = ""


#: The name of the log in its signed tree heads (so a head cannot be replayed for another log).
LOG_ID = "corridor-customs-transit"


@dataclass(frozen=True)
class TreeHead:
    """A tree head (RFC 9162 section 4.3): the log's size, its Merkle root and when it was taken."""

    size: int
    root: str
    timestamp: int  # milliseconds since the Unix epoch, as in RFC 9162

    def payload(self) -> bytes:
        """The bytes the log operator signs and every witness cosigns."""
        return canonical(
            {"log": LOG_ID, "size": self.size, "root": self.root, "timestamp": self.timestamp}
        )


@dataclass(frozen=True)
class Signature:
    """One signature on a tree head: by whom (the authority), with which key, and the bytes."""

    authority: str
    key_id: str
    signature: str


@dataclass(frozen=True)
class SignedHead:
    """A tree head with the operator's signature and the cosignatures of witnessing authorities."""

    head: TreeHead
    signatures: tuple[Signature, ...]


def sign_head(key: Ed25519PrivateKey, head: TreeHead) -> str:
    return key.sign(head.payload()).hex()


def head_signature_ok(public: Ed25519PublicKey, head: TreeHead, signature: str) -> bool:
    try:
        public.verify(bytes.fromhex(signature), head.payload())
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(
    entries: Iterable[Entry],
    public_keys: Mapping[str, Ed25519PublicKey],
    authorities: Mapping[str, str] | None = None,
    heads: Iterable[SignedHead] = (),
    expected: tuple[int, str] | None = None,
) -> Report:
    """Check the chain, every hash and every signature; stop at the first entry that fails.

    ``authorities`` maps each key to the authority it belongs to (from a trust bundle held outside
    the database): an entry whose signed body names another signer is refused, so a key cannot
    speak for someone else. ``heads`` are tree heads held outside the log (cosigned by
    witnesses): the log must still contain them, with the same root, so deleting or rewriting
    records they cover shows. ``expected`` is (size, last hash) as the log's head row claims.
    """
    prev = GENESIS
    frontier = MerkleFrontier()
    expected_seq = 1
    wanted = {h.head.size for h in heads}
    roots: dict[int, str] = {}

    def bad(seq: int, reason: str) -> Report:
        return Report(False, frontier.size, frontier.root(), seq, reason)

    for e in entries:
        if e.seq != expected_seq:
            return bad(
                e.seq,
                f"entry {e.seq} follows {expected_seq - 1}: an entry is missing or duplicated",
            )
        if e.prev_hash != prev:
            return bad(e.seq, f"entry {e.seq} does not link to entry {e.seq - 1} (chain broken)")
        if entry_hash(prev, e.body) != e.record_hash:
            return bad(e.seq, f"entry {e.seq} was altered: its content does not match its hash")
        key = public_keys.get(e.key_id)
        if key is None:
            return bad(e.seq, f"entry {e.seq} is signed with unknown key {e.key_id}")
        if authorities is not None and e.body.get("signer") != authorities.get(e.key_id):
            return bad(
                e.seq,
                f"entry {e.seq} names signer {e.body.get('signer')!r} but key {e.key_id} belongs "
                f"to {authorities.get(e.key_id)!r}",
            )
        try:
            key.verify(bytes.fromhex(e.signature), bytes.fromhex(e.record_hash))
        except (InvalidSignature, ValueError):
            return bad(e.seq, f"entry {e.seq} has an invalid signature for key {e.key_id}")
        frontier.append(e.record_hash)
        if frontier.size in wanted:
            roots[frontier.size] = frontier.root()
        prev = e.record_hash
        expected_seq += 1
    for signed in sorted(heads, key=lambda h: h.head.size):
        head = signed.head
        by = ", ".join(sorted({s.authority for s in signed.signatures})) or "nobody"
        if head.size > frontier.size:
            return bad(
                frontier.size + 1,
                f"entry {frontier.size + 1} is missing: the tree head of size {head.size} signed "
                f"by {by} covers it, the log ends at {frontier.size} (records were deleted)",
            )
        if head.size and roots.get(head.size) != head.root:
            return bad(
                head.size,
                f"entries 1..{head.size} no longer hash to the root of the tree head signed by "
                f"{by} (records were rewritten)",
            )
    if expected is not None:
        size, last = expected
        if size > frontier.size:
            return bad(
                frontier.size + 1,
                f"entry {frontier.size + 1} is missing: the log head says {size} entries, "
                f"the log ends at {frontier.size}",
            )
        if size < frontier.size or (size and last != prev):
            return bad(
                size + 1 if size < frontier.size else size,
                f"the log head ({size} entries, last hash {last[:12]}) does not match the log",
            )
    return Report(True, frontier.size, frontier.root())
