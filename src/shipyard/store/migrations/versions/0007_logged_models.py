"""tracking: models logged by MLflow 3 clients

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("experiment_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("model_type", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            ondelete="CASCADE",
            name=op.f("fk_logged_models_experiment_id_experiments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logged_models")),
    )
    op.create_index(
        op.f("ix_logged_models_experiment_id_name"), "logged_models", ["experiment_id", "name"]
    )
    op.create_index(op.f("ix_logged_models_source_run_id"), "logged_models", ["source_run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_logged_models_source_run_id"), table_name="logged_models")
    op.drop_index(op.f("ix_logged_models_experiment_id_name"), table_name="logged_models")
    op.drop_table("logged_models")
