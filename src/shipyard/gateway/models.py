"""Gateway tables. ``gateway.config`` writes upstreams and limits; ``gateway.ledger`` writes
usage. Routes are registry entries of kind ``route`` and live in the registry's tables."""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.base import Base


class UpstreamRow(Base):
    """A model provider endpoint; its API key is stored encrypted (Fernet)."""

    __tablename__ = "gateway_upstreams"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    options: Mapped[str] = mapped_column(Text)  # JSON
    api_key_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[int]
    updated_by: Mapped[str] = mapped_column(String(200))


class LimitRow(Base):
    """Request and token rates, and USD budgets, for one API key or one tenant."""

    __tablename__ = "gateway_limits"
    scope: Mapped[str] = mapped_column(String(10), primary_key=True)  # key | tenant
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    rpm: Mapped[int | None]
    tpm: Mapped[int | None]
    daily_usd: Mapped[float | None] = mapped_column(Float)
    monthly_usd: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[int]
    updated_by: Mapped[str] = mapped_column(String(200))


class UsageRow(Base):
    """One gateway call: who, what it used, what it cost."""

    __tablename__ = "gateway_usage"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    time_ms: Mapped[int]
    key_id: Mapped[str | None] = mapped_column(String(32))
    tenant: Mapped[str | None] = mapped_column(String(200))
    feature: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(200))
    session_id: Mapped[str | None] = mapped_column(String(200))
    route: Mapped[str] = mapped_column(String(300))
    route_version: Mapped[int | None]
    upstream: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(300))
    operation: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))  # ok | error
    error_type: Mapped[str | None] = mapped_column(String(100))
    cache: Mapped[str] = mapped_column(String(10))  # hit | miss | skip | semantic
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cached_input_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float] = mapped_column(Float)
    latency_ms: Mapped[float] = mapped_column(Float)
    ttft_ms: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer)
    trace_id: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index(None, "time_ms"),
        Index(None, "tenant", "time_ms"),
        Index(None, "key_id", "time_ms"),
        Index(None, "route", "time_ms"),
    )
