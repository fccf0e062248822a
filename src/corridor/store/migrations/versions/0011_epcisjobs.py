"""Capture on the job queue; ferry loading and departure as recorded carrier actions.

- ``epcis_captures.payload``: the captured document waits here, in the platform's own database,
  until a job consumer (any API worker or ``corridor worker``, on any machine) captures it; it is
  cleared in the transaction that stores the events.
- ``cap_loadings``: a confirmed booking loaded on board (one row per booking: one winner).
- ``cap_departures``: a sailing that left (one row per slot: one winner).

Revision ID: 0011_epcisjobs
Revises: 0011
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_epcisjobs"
down_revision = "0011"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("epcis_captures") as batch:
        batch.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
    op.create_table(
        "cap_departures",
        sa.Column("slot_id", sa.String(160), sa.ForeignKey("cap_slots.id"), primary_key=True),
        sa.Column("departed_at", TZ, nullable=False),
        sa.Column("organisation_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "cap_loadings",
        sa.Column("booking_id", sa.String(32), sa.ForeignKey("cap_bookings.id"), primary_key=True),
        sa.Column("slot_id", sa.String(160), sa.ForeignKey("cap_slots.id"), nullable=False),
        sa.Column("loaded_at", TZ, nullable=False),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("containers", sa.JSON(), nullable=False),
    )
    op.create_index("ix_cap_loadings_slot_id", "cap_loadings", ["slot_id"])


def downgrade() -> None:
    op.drop_index("ix_cap_loadings_slot_id", "cap_loadings")
    op.drop_table("cap_loadings")
    op.drop_table("cap_departures")
    with op.batch_alter_table("epcis_captures") as batch:
        batch.drop_column("payload")
