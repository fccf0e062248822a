"""Tracking: EPCIS events, their EPCs, webhooks and ETA alerts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "epcis_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(200), nullable=False, unique=True),
        sa.Column("event_type", sa.String(30), nullable=False),
        sa.Column("event_time", TZ, nullable=False),
        sa.Column("biz_step", sa.String(100), nullable=True),
        sa.Column("disposition", sa.String(100), nullable=True),
        sa.Column("place", sa.String(200), nullable=True),
        sa.Column("node_id", sa.String(64), nullable=True),
        sa.Column("shipment_id", sa.String(64), nullable=True),
        sa.Column("error_declared", sa.Boolean(), nullable=False),
        sa.Column("captured_by", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
    )
    for column in ("event_type", "event_time", "biz_step", "place", "shipment_id"):
        op.create_index(f"ix_epcis_events_{column}", "epcis_events", [column])
    op.create_table(
        "epcis_epcs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("epc", sa.String(200), nullable=False),
    )
    op.create_index("ix_epcis_epcs_event_id", "epcis_epcs", ["event_id"])
    op.create_index("ix_epcis_epcs_epc", "epcis_epcs", ["epc"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_webhooks_organisation_id", "webhooks", ["organisation_id"])
    op.create_table(
        "tracking_alerts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("shipment_id", sa.String(64), sa.ForeignKey("shipments.id"), nullable=False),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("eta", TZ, nullable=False),
        sa.Column("planned", TZ, nullable=False),
        sa.Column("slip_h", sa.Float(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_error", sa.String(300), nullable=True),
    )
    op.create_index("ix_tracking_alerts_shipment_id", "tracking_alerts", ["shipment_id"])
    op.create_index("ix_tracking_alerts_organisation_id", "tracking_alerts", ["organisation_id"])
    op.create_index("ix_tracking_alerts_status", "tracking_alerts", ["status"])


def downgrade() -> None:
    op.drop_table("tracking_alerts")
    op.drop_table("webhooks")
    op.drop_table("epcis_epcs")
    op.drop_table("epcis_events")
