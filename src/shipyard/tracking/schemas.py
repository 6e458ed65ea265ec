"""Tracking types shared by the service, the REST API and both SDK implementations."""

from __future__ import annotations

import math
import posixpath
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from shipyard.core.errors import InvalidInput

NAME_MAX = 250
MAX_INT = 2**62  # bounds every integer the API accepts, within both databases' BIGINT


class RunStatus(StrEnum):
    running = "RUNNING"
    finished = "FINISHED"
    failed = "FAILED"
    killed = "KILLED"


class Experiment(BaseModel):
    id: str
    name: str
    description: str
    tags: dict[str, str]
    created_at: int
    created_by: str


class DatasetInput(BaseModel):
    name: str = Field(min_length=1, max_length=NAME_MAX)
    digest: str = Field(min_length=64, max_length=64)
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    num_rows: int | None = Field(default=None, ge=0, le=MAX_INT)
    source: str | None = Field(default=None, max_length=4000)
    context: str = Field(default="", max_length=100)

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class ArtifactInfo(BaseModel):
    path: str
    digest: str
    size: int
    created_at: int


class Run(BaseModel):
    id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    parent_run_id: str | None
    created_by: str
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float | None] = Field(default_factory=dict)  # latest value per key
    tags: dict[str, str] = Field(default_factory=dict)
    system: dict[str, Any] = Field(default_factory=dict)
    inputs: list[DatasetInput] = Field(default_factory=list)


class RunPage(BaseModel):
    runs: list[Run]
    next_page_token: str | None = None


class MetricPoint(BaseModel):
    key: str = Field(min_length=1, max_length=NAME_MAX)
    value: float | None = Field(description="null stands for NaN or an infinity")
    step: int = Field(default=0, ge=-MAX_INT, le=MAX_INT)
    timestamp: int | None = Field(default=None, ge=0, le=MAX_INT)

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise ValueError("a metric value must be a number")
        try:
            return finite_or_none(float(v)) if v is not None else None
        except OverflowError:
            return None  # an integer too large for a float is not a finite number


class MetricSeries(BaseModel):
    """One metric's history, column-wise (compact on the wire)."""

    key: str
    steps: list[int]
    values: list[float | None]  # None stands for NaN/inf, which JSON cannot carry
    timestamps: list[int]


class CreateExperiment(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)


class CreateRun(BaseModel):
    experiment: str = Field(min_length=1, max_length=500, description="experiment name")
    name: str | None = Field(default=None, max_length=500)
    parent_run_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    system: dict[str, Any] = Field(default_factory=dict)
    start_time: int | None = Field(default=None, ge=0, le=MAX_INT)


class UpdateRun(BaseModel):
    status: RunStatus | None = None
    end_time: int | None = Field(default=None, ge=0, le=MAX_INT)
    name: str | None = Field(default=None, max_length=500)


class LogParams(BaseModel):
    params: dict[str, Any]


class LogMetrics(BaseModel):
    metrics: list[MetricPoint]


class SetTags(BaseModel):
    tags: dict[str, str]


class SearchRuns(BaseModel):
    experiments: list[str] = Field(default_factory=list, description="experiment names")
    filter: str = ""
    order_by: list[str] = Field(default_factory=list)
    max_results: int = Field(default=100, ge=1, le=10_000)
    page_token: str | None = None


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def check_key(kind: str, key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput(f"{kind} names must be non-empty text")
    if len(key) > NAME_MAX:
        raise InvalidInput(f"{kind} name longer than {NAME_MAX} characters: {key[:40]!r}...")
    if any(ord(c) < 32 for c in key):
        raise InvalidInput(f"{kind} name {key!r} contains control characters")
    return key


def check_text(what: str, text: str, limit: int) -> str:
    if len(text) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    if "\x00" in text:
        raise InvalidInput(f"{what} contains a NUL character")
    return text


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def as_number(value: Any) -> float | None:
    """The numeric reading of a param or tag value, kept for numeric comparisons and ordering."""
    text = str(value).strip()
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def check_artifact_path(path: str) -> str:
    norm = posixpath.normpath(path.replace("\\", "/")).lstrip("/")
    if not path or norm in (".", "") or norm.startswith("..") or len(norm) > 1000:
        raise InvalidInput(f"invalid artifact path {path!r}: use a relative path inside the run")
    return norm
