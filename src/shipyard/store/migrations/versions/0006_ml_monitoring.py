"""ml: scheduled checks of endpoints and their alerts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ml_monitor_state",
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("last_check_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=False),
        sa.Column("last_alert_ms", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", name=op.f("pk_ml_monitor_state")),
    )
    op.create_table(
        "ml_alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("deliveries", sa.JSON(), nullable=False),
        sa.Column("retraining", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ml_alerts")),
    )
    op.create_index("ix_ml_alerts_endpoint_ts", "ml_alerts", ["endpoint", "ts_ms"])


def downgrade() -> None:
    op.drop_index("ix_ml_alerts_endpoint_ts", table_name="ml_alerts")
    op.drop_table("ml_alerts")
    op.drop_table("ml_monitor_state")
