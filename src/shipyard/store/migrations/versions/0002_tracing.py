"""tracing: traces, spans, scores, project settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:34:43.962367
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scores",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scores_name_created_at"), ["name", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scores_trace_id"), ["trace_id"], unique=False)

    op.create_table(
        "spans",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.String(length=16), nullable=True),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("operation", sa.String(length=100), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("prompt_name", sa.String(length=200), nullable=True),
        sa.Column("prompt_version", sa.BigInteger(), nullable=True),
        sa.Column("index_name", sa.String(length=200), nullable=True),
        sa.Column("index_version", sa.BigInteger(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cached_input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=True),
        sa.Column("events", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_spans")),
    )
    with op.batch_alter_table("spans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spans_trace_id_span_id"), ["trace_id", "span_id"], unique=True
        )

    op.create_table(
        "trace_projects",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_trace_projects")),
    )
    op.create_table(
        "traces",
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("has_root", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("session_id", sa.String(length=200), nullable=True),
        sa.Column("tenant", sa.String(length=200), nullable=True),
        sa.Column("feature", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=True),
        sa.Column("prompt_name", sa.String(length=200), nullable=True),
        sa.Column("prompt_version", sa.BigInteger(), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("span_count", sa.BigInteger(), nullable=False),
        sa.Column("error_count", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("trace_id", name=op.f("pk_traces")),
    )
    with op.batch_alter_table("traces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_traces_feature_start_ms"), ["feature", "start_ms"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_traces_model_start_ms"), ["model", "start_ms"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_traces_project_start_ms"), ["project", "start_ms"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_traces_prompt_name_prompt_version_start_ms"),
            ["prompt_name", "prompt_version", "start_ms"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_traces_session_id"), ["session_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_traces_start_ms_trace_id"), ["start_ms", "trace_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_traces_status_start_ms"), ["status", "start_ms"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_traces_tenant_start_ms"), ["tenant", "start_ms"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_traces_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("traces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_traces_user_id"))
        batch_op.drop_index(batch_op.f("ix_traces_tenant_start_ms"))
        batch_op.drop_index(batch_op.f("ix_traces_status_start_ms"))
        batch_op.drop_index(batch_op.f("ix_traces_start_ms_trace_id"))
        batch_op.drop_index(batch_op.f("ix_traces_session_id"))
        batch_op.drop_index(batch_op.f("ix_traces_prompt_name_prompt_version_start_ms"))
        batch_op.drop_index(batch_op.f("ix_traces_project_start_ms"))
        batch_op.drop_index(batch_op.f("ix_traces_model_start_ms"))
        batch_op.drop_index(batch_op.f("ix_traces_feature_start_ms"))

    op.drop_table("traces")
    op.drop_table("trace_projects")
    with op.batch_alter_table("spans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spans_trace_id_span_id"))

    op.drop_table("spans")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scores_trace_id"))
        batch_op.drop_index(batch_op.f("ix_scores_name_created_at"))

    op.drop_table("scores")
