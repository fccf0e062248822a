"""A sailing's departure on its slot row: ``cap_slots.departed_at``.

The hold's conditional UPDATE of ``cap_slots`` adds ``departed_at IS NULL``, so a sailing that the
carrier reported departed before its scheduled time takes no further hold, decided in the same
statement (and under the same row lock) as the space itself. Slots already departed are filled
from ``cap_departures``.

Revision ID: 0012_departed
Revises: 0011_epcisjobs
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_departed"
down_revision = "0011_epcisjobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cap_slots") as batch:
        batch.add_column(sa.Column("departed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE cap_slots SET departed_at = (SELECT d.departed_at FROM cap_departures d "
        "WHERE d.slot_id = cap_slots.id) "
        "WHERE id IN (SELECT slot_id FROM cap_departures)"
    )


def downgrade() -> None:
    with op.batch_alter_table("cap_slots") as batch:
        batch.drop_column("departed_at")
