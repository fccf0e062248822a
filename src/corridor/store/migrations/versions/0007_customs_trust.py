"""Customs: one declaration per shipment, the signed tree head, cosigned heads.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database that already holds two declarations for one shipment (a burst of creates could
    # make them before this constraint) fails here, naming the index: remove the extra ones first.
    op.create_index(
        "uq_customs_declarations_shipment_id",
        "customs_declarations",
        ["shipment_id"],
        unique=True,
    )
    head = op.create_table(
        "customs_tree_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(80), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )
    # The empty tree. A log that already has records gets its frontier rebuilt from them on the
    # next append (store.customs notices that the head's size is not the log's).
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "size": 0,
                "root_hash": hashlib.sha256(b"").hexdigest(),
                "frontier": [],
                "timestamp": 0,
                "key_id": "",
                "signature": "",
            }
        ],
    )
    op.create_table(
        "customs_cosigned_heads",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("size", "root_hash", "timestamp"),
    )


def downgrade() -> None:
    op.drop_table("customs_cosigned_heads")
    op.drop_table("customs_tree_head")
    op.drop_index("uq_customs_declarations_shipment_id", "customs_declarations")
