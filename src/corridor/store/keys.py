"""Ed25519 signing keys: one per customs authority, one for the platform (holders' operations).

The private key is a PEM file under ``<var_dir>/keys`` (never in the database, so whoever can edit
the database still cannot sign); its public half is registered in ``customs_keys`` for reference.
Verification never trusts that table: it uses the trust bundle (:func:`trust_bundle`, derived from
the key files and exported for the authorities to hold).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from corridor.customs.trust import PLATFORM, TrustBundle, TrustedKey, make_bundle
from corridor.store.accounts import now
from corridor.store.models import CustomsKey, Organisation

SUFFIX = "-ed25519"
_cache: dict[tuple[str, str], Ed25519PrivateKey] = {}


def _raw(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def signing_keys(
    session: Session, keys_dir: Path, organisations: set[str | None]
) -> dict[str | None, tuple[str, Ed25519PrivateKey]]:
    """The keys that ``organisations`` sign with (None: the platform), created on first use
    (once across every worker); their public halves are registered in one query. A public half
    rolled back with the transaction that first stored it is registered again here."""
    found = {}
    for org in organisations:
        key_id = f"{org or PLATFORM}{SUFFIX}"
        key = _cache.get((str(keys_dir), key_id))
        if key is None:
            key = _load_or_create(keys_dir / f"{key_id}.pem")
            _cache[(str(keys_dir), key_id)] = key
        found[org] = (key_id, key)
    ids = [key_id for key_id, _ in found.values()]
    registered = set(session.scalars(select(CustomsKey.key_id).where(CustomsKey.key_id.in_(ids))))
    for org, (key_id, key) in found.items():
        if key_id not in registered:
            _register(session, key_id, org, key)
    return found


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``; a new one if there is none. Two workers creating it at once end up
    with the same key: the file is written under a private name and linked into place, which
    fails for the second, who then reads the first one's key."""
    if not path.is_file():
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            os.write(
                fd,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
            os.fsync(fd)
            os.close(fd)
            os.chmod(tmp, 0o600)
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return loaded


def _register(
    session: Session, key_id: str, organisation_id: str | None, key: Ed25519PrivateKey
) -> None:
    """Record the public half; a concurrent registration of the same key is not an error."""
    values = {
        "key_id": key_id,
        "organisation_id": organisation_id,
        "public_key": _raw(key.public_key()),
        "created_at": now(),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(CustomsKey).values(values).on_conflict_do_nothing())


def trust_bundle(session: Session, keys_dir: Path) -> TrustBundle:
    """The public halves of the key files in ``keys_dir``, each bound to its authority.

    The binding comes from the key file (named after the authority), not from the database; the
    organisations table only adds each authority's name and country for the reader.
    """
    orgs = {o.id: o for o in session.scalars(select(Organisation))}
    keys = []
    for path in sorted(keys_dir.glob(f"*{SUFFIX}.pem")) if keys_dir.is_dir() else []:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            continue
        authority = path.name.removesuffix(f"{SUFFIX}.pem")
        org = orgs.get(authority)
        keys.append(
            TrustedKey(
                key_id=f"{authority}{SUFFIX}",
                authority=authority,
                public_key=_raw(loaded.public_key()),
                name=org.name if org is not None else "Corridor platform (log operator)",
                country=org.country if org is not None else None,
            )
        )
    return make_bundle(keys)
