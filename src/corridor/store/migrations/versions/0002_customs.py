"""Digital customs: declarations, the signed hash-chained log, signing keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customs_declarations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("lrn", sa.String(50), nullable=False),
        sa.Column("shipment_id", sa.String(64), sa.ForeignKey("shipments.id"), nullable=False),
        sa.Column("holder_org", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("arrived", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.Boolean(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("offices", sa.JSON(), nullable=False),
        sa.Column("countries", sa.String(200), nullable=False),
        sa.Column("guarantee_state", sa.String(20), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_customs_declarations_shipment_id", "customs_declarations", ["shipment_id"])
    op.create_index("ix_customs_declarations_holder_org", "customs_declarations", ["holder_org"])
    op.create_index("ix_customs_declarations_state", "customs_declarations", ["state"])
    op.create_table(
        "customs_keys",
        sa.Column("key_id", sa.String(80), primary_key=True),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=True
        ),
        sa.Column("public_key", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    head = op.create_table(
        "customs_log_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
    )
    # The one head row exists from the start, so the first two appends cannot both create it.
    op.bulk_insert(head, [{"id": 1, "seq": 0, "record_hash": "0" * 64}])
    op.create_table(
        "customs_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("declaration_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("office_id", sa.String(120), nullable=True),
        sa.Column("actor_org", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(80), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_customs_log_declaration_id", "customs_log", ["declaration_id"])
    op.create_index("ix_customs_log_office_id", "customs_log", ["office_id"])


def downgrade() -> None:
    op.drop_table("customs_log")
    op.drop_table("customs_log_head")
    op.drop_table("customs_keys")
    op.drop_table("customs_declarations")
