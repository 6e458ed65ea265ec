"""Tracing tables. Only ``tracing.writer`` and ``tracing.service`` write them.

Spans are the hot path: the columns a query filters or sums on are first-class; everything
else stays in ``attributes`` (JSON text, written as-is). A trace row rolls its spans up
(totals, time span, status) and carries the request-level context (user, session, tenant,
feature, tags, the model and prompt version it used) so trace queries never scan spans.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.base import Base


class TraceRow(Base):
    __tablename__ = "traces"
    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    has_root: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str | None] = mapped_column(String(200))
    session_id: Mapped[str | None] = mapped_column(String(200))
    tenant: Mapped[str | None] = mapped_column(String(200))
    feature: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[str | None] = mapped_column(Text)  # JSON list
    model: Mapped[str | None] = mapped_column(String(200))
    route: Mapped[str | None] = mapped_column(String(200))
    prompt_name: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[int | None]
    input: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # ok | error
    start_ms: Mapped[int]
    end_ms: Mapped[int]
    span_count: Mapped[int]
    error_count: Mapped[int]
    input_tokens: Mapped[int]
    output_tokens: Mapped[int]
    cost_usd: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index(None, "project", "start_ms"),
        Index(None, "start_ms", "trace_id"),
        Index(None, "session_id"),
        Index(None, "user_id"),
        Index(None, "tenant", "start_ms"),
        Index(None, "status", "start_ms"),
        Index(None, "model", "start_ms"),
        Index(None, "feature", "start_ms"),
        Index(None, "prompt_name", "prompt_version", "start_ms"),
    )


class SpanRow(Base):
    __tablename__ = "spans"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(String(16))
    project: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))  # ok | error | unset
    start_ms: Mapped[int]
    duration_ms: Mapped[float] = mapped_column(Float)
    operation: Mapped[str | None] = mapped_column(String(100))
    provider: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_name: Mapped[str | None] = mapped_column(String(200))
    prompt_version: Mapped[int | None]
    index_name: Mapped[str | None] = mapped_column(String(200))
    index_version: Mapped[int | None]
    input_tokens: Mapped[int | None]
    output_tokens: Mapped[int | None]
    cached_input_tokens: Mapped[int | None]
    cost_usd: Mapped[float | None] = mapped_column(Float)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    input: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[str | None] = mapped_column(Text)  # JSON object
    events: Mapped[str | None] = mapped_column(Text)  # JSON list

    __table_args__ = (Index(None, "trace_id", "span_id", unique=True),)


class ScoreRow(Base):
    __tablename__ = "scores"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))  # numeric | categorical | boolean
    value: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))  # human | rule | llm_judge | api
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index(None, "trace_id"), Index(None, "name", "created_at"))


class ProjectRow(Base):
    """Per-project trace settings (privacy, retention)."""

    __tablename__ = "trace_projects"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    settings: Mapped[str] = mapped_column(Text)  # JSON of ProjectSettings
    updated_at: Mapped[int]
    updated_by: Mapped[str] = mapped_column(String(200))
