"""Trust kept outside the database: the authorities' pinned keys, and the tree heads they cosigned.

Whoever can write to the database can insert a key, rewrite records and re-sign them, or delete
the tail of the log and its head row. Two files that the authorities hold defeat that:

* the **trust bundle** pins each authority's Ed25519 public key and binds it to the authority
  (``corridor customs export-trust-bundle``); ``verify --trusted-keys`` trusts only these keys,
  and a record must name as its signer the authority the key belongs to;
* the **heads file** collects signed tree heads (size, Merkle root, time; RFC 9162 section 4.3)
  that the log operator signed and other authorities cosigned after checking the log, as
  Certificate Transparency witnesses do (``corridor customs cosign``); ``verify --heads`` then
  shows any truncation or rewrite of what a head covers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corridor.customs.ledger import (
    LOG_ID,
    Signature,
    SignedHead,
    TreeHead,
    head_signature_ok,
)

#: The authority that signs the holders' operations and the log's own tree heads.
PLATFORM = "corridor-platform"
BUNDLE_FORMAT = "corridor-customs-trust-bundle/1"
HEADS_FORMAT = "corridor-customs-heads/1"


class TrustError(ValueError):
    """A trust file that cannot be used: the file, the field at fault and why."""

    def __init__(self, path: Path, field: str, reason: str) -> None:
        self.path, self.field, self.reason = path, field, reason
        super().__init__(f"{path}: {field}: {reason}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrustedKey(_Strict):
    key_id: str = Field(min_length=1, max_length=80)
    authority: str = Field(min_length=1, max_length=64)
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$", description="raw Ed25519, hex")
    name: str = ""
    country: str | None = None


class TrustBundle(_Strict):
    format: str = Field(pattern=f"^{BUNDLE_FORMAT}$")
    log: str = Field(pattern=f"^{LOG_ID}$")
    keys: list[TrustedKey]

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return {
            k.key_id: Ed25519PublicKey.from_public_bytes(bytes.fromhex(k.public_key))
            for k in self.keys
        }

    def authorities(self) -> dict[str, str]:
        return {k.key_id: k.authority for k in self.keys}


class HeadSignature(_Strict):
    authority: str
    key_id: str
    signature: str = Field(pattern=r"^[0-9a-f]{128}$")


class HeadRecord(_Strict):
    size: int = Field(ge=0)
    root: str = Field(pattern=r"^[0-9a-f]{64}$")
    timestamp: int = Field(ge=0)
    signatures: list[HeadSignature]

    def signed(self) -> SignedHead:
        return SignedHead(
            TreeHead(self.size, self.root, self.timestamp),
            tuple(Signature(s.authority, s.key_id, s.signature) for s in self.signatures),
        )


class HeadsFile(_Strict):
    format: str = Field(pattern=f"^{HEADS_FORMAT}$")
    log: str = Field(pattern=f"^{LOG_ID}$")
    heads: list[HeadRecord]


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrustError(path, "file", "no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrustError(path, "file", f"not a readable JSON file ({exc})") from None


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], path: Path, data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise TrustError(path, where, str(first["msg"])) from None


def make_bundle(keys: list[TrustedKey]) -> TrustBundle:
    return TrustBundle(format=BUNDLE_FORMAT, log=LOG_ID, keys=sorted(keys, key=lambda k: k.key_id))


def load_bundle(path: Path) -> TrustBundle:
    bundle = _validated(TrustBundle, path, _read(path))
    seen: set[str] = set()
    for i, key in enumerate(bundle.keys):
        if key.key_id in seen:
            raise TrustError(path, f"keys.{i}.key_id", f"{key.key_id} is listed twice")
        seen.add(key.key_id)
    return bundle


def dump(model: BaseModel, path: Path) -> None:
    path.write_text(json.dumps(model.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")


def load_heads(path: Path, missing_ok: bool = False) -> HeadsFile:
    if missing_ok and not path.exists():
        return HeadsFile(format=HEADS_FORMAT, log=LOG_ID, heads=[])
    return _validated(HeadsFile, path, _read(path))


def head_problems(
    head: SignedHead, keys: Mapping[str, Ed25519PublicKey], authorities: Mapping[str, str]
) -> list[str]:
    """Why a tree head cannot be trusted (empty when every signature checks out with a pinned key,
    by the authority the key belongs to, and the log operator signed it)."""
    problems = []
    for sig in head.signatures:
        key = keys.get(sig.key_id)
        label = f"tree head of size {head.head.size}: signature of {sig.authority}"
        if key is None:
            problems.append(f"{label} uses key {sig.key_id}, which is not trusted")
        elif authorities.get(sig.key_id) != sig.authority:
            problems.append(f"{label} uses key {sig.key_id} of {authorities.get(sig.key_id)}")
        elif not head_signature_ok(key, head.head, sig.signature):
            problems.append(f"{label} does not verify")
    if not any(s.authority == PLATFORM for s in head.signatures):
        problems.append(f"tree head of size {head.head.size} is not signed by the log operator")
    return problems


def add_signature(heads: HeadsFile, head: SignedHead) -> HeadsFile:
    """``heads`` with ``head`` merged in (its signatures joined to an equal head already held)."""
    records = list(heads.heads)
    new = HeadRecord(
        size=head.head.size,
        root=head.head.root,
        timestamp=head.head.timestamp,
        signatures=[HeadSignature(**vars(s)) for s in head.signatures],
    )
    for i, old in enumerate(records):
        if (old.size, old.root, old.timestamp) == (new.size, new.root, new.timestamp):
            have = {(s.authority, s.key_id) for s in old.signatures}
            extra = [s for s in new.signatures if (s.authority, s.key_id) not in have]
            records[i] = old.model_copy(update={"signatures": [*old.signatures, *extra]})
            break
    else:
        records.append(new)
    records.sort(key=lambda r: (r.size, r.timestamp))
    return heads.model_copy(update={"heads": records})
