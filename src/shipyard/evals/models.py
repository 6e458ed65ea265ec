"""Eval tables. Only ``evals.store`` writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.base import Base


class EvalResultRow(Base):
    """One case of one eval run (the run itself is a tracking run)."""

    __tablename__ = "eval_results"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    idx: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))
    passed: Mapped[bool]
    score: Mapped[float] = mapped_column(Float)
    output: Mapped[str | None] = mapped_column(Text)
    assertions: Mapped[list[Any]]
    latency_ms: Mapped[float | None] = mapped_column(Float)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    input_tokens: Mapped[int | None]
    output_tokens: Mapped[int | None]
    trace_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int]
