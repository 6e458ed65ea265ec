"""ml: the prediction log and its labels

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 03:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ml_predictions",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("row", sa.BigInteger(), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("prediction", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "row", name=op.f("pk_ml_predictions")),
    )
    op.create_index("ix_ml_predictions_endpoint_ts", "ml_predictions", ["endpoint", "ts_ms"])
    op.create_table(
        "ml_labels",
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("row", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "row", name=op.f("pk_ml_labels")),
    )


def downgrade() -> None:
    op.drop_table("ml_labels")
    op.drop_index("ix_ml_predictions_endpoint_ts", table_name="ml_predictions")
    op.drop_table("ml_predictions")
