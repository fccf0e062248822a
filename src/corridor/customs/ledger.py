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
from collections.abc import Iterable
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


def verify(entries: Iterable[Entry], public_keys: dict[str, Ed25519PublicKey]) -> Report:
    """Check the chain, every hash and every signature; stop at the first entry that fails."""
    prev = GENESIS
    frontier = MerkleFrontier()
    expected_seq = 1
    for e in entries:
        if e.seq != expected_seq:
            return Report(
                False,
                frontier.size,
                frontier.root(),
                e.seq,
                f"entry {e.seq} follows {expected_seq - 1}: an entry is missing or duplicated",
            )
        if e.prev_hash != prev:
            return Report(
                False,
                frontier.size,
                frontier.root(),
                e.seq,
                f"entry {e.seq} does not link to entry {e.seq - 1} (chain broken)",
            )
        if entry_hash(prev, e.body) != e.record_hash:
            return Report(
                False,
                frontier.size,
                frontier.root(),
                e.seq,
                f"entry {e.seq} was altered: its content does not match its hash",
            )
        key = public_keys.get(e.key_id)
        if key is None:
            return Report(
                False,
                frontier.size,
                frontier.root(),
                e.seq,
                f"entry {e.seq} is signed with unknown key {e.key_id}",
            )
        try:
            key.verify(bytes.fromhex(e.signature), bytes.fromhex(e.record_hash))
        except (InvalidSignature, ValueError):
            return Report(
                False,
                frontier.size,
                frontier.root(),
                e.seq,
                f"entry {e.seq} has an invalid signature for key {e.key_id}",
            )
        frontier.append(e.record_hash)
        prev = e.record_hash
        expected_seq += 1
    return Report(True, frontier.size, frontier.root())
