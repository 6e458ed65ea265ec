"""The prediction log's tables. Only ``shipyard.ml.log`` writes them.

Predictions and labels are kept apart: a label may arrive before its prediction is written
(the log is written in the background), and a label posted again replaces the earlier one."""

from __future__ import annotations

from typing import Any

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


class MonitorStateRow(Base):
    """When each monitored endpoint was last checked and alerted, and who holds its lease (one
    server replica checks an endpoint at a time). Only ``shipyard.ml.monitor`` writes it."""

    __tablename__ = "ml_monitor_state"
    endpoint: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_check_ms: Mapped[int] = mapped_column(default=0)
    lease_until_ms: Mapped[int] = mapped_column(default=0)
    lease_owner: Mapped[str] = mapped_column(String(64), default="")
    last_alert_ms: Mapped[dict[str, Any]]  # alert kind → time it was last sent


class AlertRow(Base):
    """One alert: drift or performance below its floor, what was sent where, and what followed
    (a retraining's decision)."""

    __tablename__ = "ml_alerts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # "drift" | "performance"
    ts_ms: Mapped[int]
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]]
    deliveries: Mapped[list[Any]]  # [{"url", "status", "error"}]
    retraining: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_ml_alerts_endpoint_ts", "endpoint", "ts_ms"),)
