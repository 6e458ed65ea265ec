"""gateway

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 19:38:16.517723
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_limits",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("rpm", sa.BigInteger(), nullable=True),
        sa.Column("tpm", sa.BigInteger(), nullable=True),
        sa.Column("daily_usd", sa.Float(), nullable=True),
        sa.Column("monthly_usd", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", name=op.f("pk_gateway_limits")),
    )
    op.create_table(
        "gateway_upstreams",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("api_key_enc", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_gateway_upstreams")),
    )
    op.create_table(
        "gateway_usage",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.Column("tenant", sa.String(length=200), nullable=True),
        sa.Column("feature", sa.String(length=200), nullable=True),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("session_id", sa.String(length=200), nullable=True),
        sa.Column("route", sa.String(length=300), nullable=False),
        sa.Column("route_version", sa.BigInteger(), nullable=True),
        sa.Column("upstream", sa.String(length=200), nullable=True),
        sa.Column("model", sa.String(length=300), nullable=True),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error_type", sa.String(length=100), nullable=True),
        sa.Column("cache", sa.String(length=10), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_input_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_usage")),
    )
    with op.batch_alter_table("gateway_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_usage_key_id_time_ms"), ["key_id", "time_ms"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_usage_route_time_ms"), ["route", "time_ms"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_usage_tenant_time_ms"), ["tenant", "time_ms"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_gateway_usage_time_ms"), ["time_ms"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_usage_time_ms"))
        batch_op.drop_index(batch_op.f("ix_gateway_usage_tenant_time_ms"))
        batch_op.drop_index(batch_op.f("ix_gateway_usage_route_time_ms"))
        batch_op.drop_index(batch_op.f("ix_gateway_usage_key_id_time_ms"))

    op.drop_table("gateway_usage")
    op.drop_table("gateway_upstreams")
    op.drop_table("gateway_limits")
