"""Capacity: slots with a CHECK against overbooking, bookings, events, notices, e-queue.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    op.create_table(
        "cap_slots",
        sa.Column("id", sa.String(160), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("from_node", sa.String(64), nullable=False),
        sa.Column("to_node", sa.String(64), nullable=False),
        sa.Column("departure", TZ, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.CheckConstraint(
            "held >= 0 AND confirmed >= 0 AND held + confirmed <= capacity",
            name="ck_cap_slots_not_overbooked",
        ),
    )
    _index("cap_slots", "service", "operator", "from_node", "departure")
    op.create_table(
        "cap_bookings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("group_id", sa.String(32), nullable=False),
        sa.Column("slot_id", sa.String(160), sa.ForeignKey("cap_slots.id"), nullable=False),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("created_by", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("shipment_id", sa.String(64), sa.ForeignKey("shipments.id"), nullable=True),
        sa.Column("cargo", sa.String(20), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        sa.Column("moved_to", sa.String(32), nullable=True),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint("units > 0 AND items > 0", name="ck_cap_bookings_positive"),
    )
    _index("cap_bookings", "group_id", "slot_id", "organisation_id", "shipment_id", "state")
    op.create_table(
        "cap_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("slot_id", sa.String(160), nullable=True),
        sa.Column("organisation_id", sa.String(64), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
    )
    _index("cap_events", "organisation_id")
    op.create_table(
        "cap_notices",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
    )
    _index("cap_notices", "organisation_id", "status")
    op.create_table(
        "queue_slots",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("checkpoint", sa.String(64), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity", name="ck_queue_slots_not_overbooked"
        ),
    )
    _index("queue_slots", "checkpoint", "starts_at")
    op.create_table(
        "queue_tickets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("slot_id", sa.String(100), sa.ForeignKey("queue_slots.id"), nullable=False),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("created_by", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("checkpoint", sa.String(64), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("plate", sa.String(20), nullable=False),
        sa.Column("driver", sa.String(100), nullable=False),
        sa.Column("transit_declaration", sa.String(30), nullable=True),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("fee_mci", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("checked_in_at", TZ, nullable=True),
        sa.UniqueConstraint("slot_id", "plate", name="uq_queue_tickets_slot_plate"),
    )
    _index("queue_tickets", "slot_id", "organisation_id", "state")


def downgrade() -> None:
    for table in (
        "queue_tickets",
        "queue_slots",
        "cap_notices",
        "cap_events",
        "cap_bookings",
        "cap_slots",
    ):
        op.drop_table(table)
