"""Disruption notices, their versions and elements, carrier operators, notice subscriptions.

Revision ID: 0010
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("issuer_org", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("expected_end", TZ, nullable=True),
        sa.Column("actual_end", TZ, nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    for column in ("issuer_org", "status", "starts_at"):
        op.create_index(f"ix_notices_{column}", "notices", [column])
    op.create_table(
        "notice_elements",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.String(64), sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("element", sa.String(80), nullable=False),
    )
    op.create_index("ix_notice_elements_notice_id", "notice_elements", ["notice_id"])
    op.create_index("ix_notice_elements_element", "notice_elements", ["element"])
    op.create_table(
        "notice_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.String(64), sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("notice", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
        sa.UniqueConstraint("notice_id", "version"),
    )
    op.create_index("ix_notice_versions_notice_id", "notice_versions", ["notice_id"])
    op.create_table(
        "organisation_operators",
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), primary_key=True
        ),
        sa.Column("operator", sa.String(200), primary_key=True),
    )
    op.create_table(
        "notice_subscriptions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index(
        "ix_notice_subscriptions_organisation_id", "notice_subscriptions", ["organisation_id"]
    )


def downgrade() -> None:
    for table in (
        "notice_subscriptions",
        "organisation_operators",
        "notice_versions",
        "notice_elements",
        "notices",
    ):
        op.drop_table(table)
