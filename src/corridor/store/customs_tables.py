"""Customs tables added for a log that a database-level attacker cannot rewrite unnoticed.

``customs_tree_head`` is the log's current signed tree head, with the Merkle frontier that lets
an append batch compute the next root in O(log n); ``customs_cosigned_heads`` keeps the heads
that authorities cosigned (they also keep them outside the database). The unique index on
``customs_declarations.shipment_id`` makes one declaration per shipment a database fact, so a
burst of concurrent creates has exactly one winner.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.store.models import Base, CustomsDeclaration


class CustomsTreeHead(Base):
    """One row (id 1): size, root, the frontier's peaks, and the operator's signature."""

    __tablename__ = "customs_tree_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    frontier: Mapped[list[Any]] = mapped_column(JSON)
    timestamp: Mapped[int] = mapped_column(BigInteger)  # ms since the epoch (RFC 9162)
    key_id: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(128))


class CustomsCosignedHead(Base):
    """A tree head with the operator's signature and the authorities' cosignatures."""

    __tablename__ = "customs_cosigned_heads"
    __table_args__ = (UniqueConstraint("size", "root_hash", "timestamp"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    signatures: Mapped[list[Any]] = mapped_column(JSON)  # [{authority, key_id, signature}]
    created_at: Mapped[datetime]


#: One declaration per shipment.
SHIPMENT_UNIQUE = Index(
    "uq_customs_declarations_shipment_id", CustomsDeclaration.shipment_id, unique=True
)
