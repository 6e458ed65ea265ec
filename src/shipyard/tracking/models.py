"""Tracking tables. Only ``tracking.service`` writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.base import Base


class ExperimentRow(Base):
    __tablename__ = "experiments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]]
    created_at: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))


class RunRow(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    start_time: Mapped[int]
    end_time: Mapped[int | None]
    parent_run_id: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    system: Mapped[dict[str, Any]]

    __table_args__ = (
        Index(None, "experiment_id", "start_time"),
        Index(None, "parent_run_id"),
    )


class RunTagRow(Base):
    __tablename__ = "run_tags"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    value_num: Mapped[float | None] = mapped_column(Float)  # the value, when it is a number


class ParamRow(Base):
    __tablename__ = "params"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    value_num: Mapped[float | None] = mapped_column(Float)  # the value, when it is a number


class MetricRow(Base):
    """Every logged point. ``seq`` orders points of the same key and step."""

    __tablename__ = "metrics"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float | None] = mapped_column(Float)  # NULL: NaN or infinite
    step: Mapped[int]
    timestamp: Mapped[int]

    __table_args__ = (Index(None, "run_id", "key", "step"),)


class LatestMetricRow(Base):
    """The latest point of each (run, key): highest step, then latest timestamp."""

    __tablename__ = "latest_metrics"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    step: Mapped[int]
    timestamp: Mapped[int]

    __table_args__ = (Index(None, "key", "value"),)


class RunArtifactRow(Base):
    __tablename__ = "run_artifacts"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    created_at: Mapped[int]


class DatasetRow(Base):
    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))
    schema_: Mapped[dict[str, Any]] = mapped_column("schema")
    num_rows: Mapped[int | None]
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int]

    __table_args__ = (Index(None, "name", "digest", unique=True),)


class RunInputRow(Base):
    __tablename__ = "run_inputs"
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    context: Mapped[str] = mapped_column(String(100), default="")


class LoggedModelRow(Base):
    """A model logged by an MLflow 3 client (``mlflow.<flavor>.log_model``): its files (path →
    content digest and size), params, tags, status and the runs it is an output of. Only
    ``tracking.logged_models`` writes it."""

    __tablename__ = "logged_models"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "m-<32 hex>"
    experiment_id: Mapped[str] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(500))
    source_run_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(40))
    model_type: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[int]
    updated_at: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))
    tags: Mapped[dict[str, Any]]
    params: Mapped[dict[str, Any]]
    files: Mapped[dict[str, Any]]  # path → [digest, size]
    outputs: Mapped[list[Any]]  # [[run_id, step]]

    __table_args__ = (Index(None, "experiment_id", "name"), Index(None, "source_run_id"))
