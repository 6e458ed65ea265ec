"""The prediction log's tables. Only ``shipyard.ml.log`` writes them.

Predictions and labels are kept apart: a label may arrive before its prediction is written
(the log is written in the background), and a label posted again replaces the earlier one."""

from __future__ import annotations

from sqlalchemy import Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.base import Base


class PredictionRow(Base):
    """One row of one request to an endpoint."""

    __tablename__ = "ml_predictions"
    request_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    ts_ms: Mapped[int]
    features: Mapped[str] = mapped_column(Text)  # JSON: the row as checked
    prediction: Mapped[str] = mapped_column(Text)  # JSON
    score: Mapped[float | None] = mapped_column(Float)  # positive-class probability (binary)
    latency_ms: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_ml_predictions_endpoint_ts", "endpoint", "ts_ms"),)


class LabelRow(Base):
    """The ground truth for one row of one request, posted later."""

    __tablename__ = "ml_labels"
    request_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    row: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(Text)  # JSON
    ts_ms: Mapped[int]
