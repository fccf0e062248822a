"""EPCIS binding: record time and query columns, identifier roles, webhook secrets, capture jobs,
named queries, subscriptions, and tracking's shared marks and cache.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"  # re-chained after merging main (was "0003")
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("epcis_events") as batch:
        batch.add_column(sa.Column("record_time", TZ, nullable=True))
        batch.add_column(sa.Column("action", sa.String(10), nullable=True))
        batch.add_column(sa.Column("read_point", sa.String(200), nullable=True))
        batch.create_index("ix_epcis_events_record_time", ["record_time"])
        batch.create_index("ix_epcis_events_biz_step_id", ["biz_step", "id"])
        batch.create_index("ix_epcis_events_event_type_id", ["event_type", "id"])
    with op.batch_alter_table("epcis_epcs") as batch:
        batch.add_column(sa.Column("role", sa.String(120), nullable=False, server_default="epc"))
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("secret", sa.String(64), nullable=True))
    op.create_table(
        "tracking_marks",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "tracking_cache",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("computed_at", TZ, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_table(
        "epcis_captures",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_behaviour", sa.String(10), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
    )
    op.create_index("ix_epcis_captures_organisation_id", "epcis_captures", ["organisation_id"])
    op.create_table(
        "epcis_queries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("organisation_id", "name"),
    )
    op.create_index("ix_epcis_queries_organisation_id", "epcis_queries", ["organisation_id"])
    op.create_table(
        "epcis_subscriptions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("query_id", sa.Integer(), sa.ForeignKey("epcis_queries.id"), nullable=False),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("dest", sa.String(500), nullable=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_error", sa.String(100), nullable=True),
    )
    op.create_index("ix_epcis_subscriptions_query_id", "epcis_subscriptions", ["query_id"])
    op.create_index(
        "ix_epcis_subscriptions_organisation_id", "epcis_subscriptions", ["organisation_id"]
    )
    op.create_index("ix_epcis_subscriptions_state", "epcis_subscriptions", ["state"])


def downgrade() -> None:
    op.drop_table("epcis_subscriptions")
    op.drop_table("epcis_queries")
    op.drop_table("epcis_captures")
    op.drop_table("tracking_cache")
    op.drop_table("tracking_marks")
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("secret")
    with op.batch_alter_table("epcis_epcs") as batch:
        batch.drop_column("role")
    with op.batch_alter_table("epcis_events") as batch:
        batch.drop_index("ix_epcis_events_record_time")
        batch.drop_index("ix_epcis_events_biz_step_id")
        batch.drop_index("ix_epcis_events_event_type_id")
        batch.drop_column("read_point")
        batch.drop_column("action")
        batch.drop_column("record_time")
