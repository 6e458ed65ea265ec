"""Tracing types shared by the service, the REST API and the SDK."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from shipyard.tracing.records import KINDS

MAX_INT = 2**62
SpanKind = Literal[
    "llm", "embedding", "retrieval", "reranker", "guardrail", "tool", "chain", "agent",
    "evaluator", "model",
]  # fmt: skip
assert set(SpanKind.__args__) == set(KINDS)  # type: ignore[attr-defined]


class SpanIn(BaseModel):
    """A span in Shipyard's native JSON shape (``POST /api/v1/traces/batch``)."""

    trace_id: str = Field(pattern=r"^[0-9a-fA-F]{32}$")
    span_id: str = Field(pattern=r"^[0-9a-fA-F]{16}$")
    parent_id: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{16}$")
    project: str | None = Field(default=None, max_length=200)
    name: str = Field(min_length=1, max_length=500)
    kind: SpanKind = "chain"
    start_time_ms: float = Field(ge=0, le=MAX_INT)
    end_time_ms: float | None = Field(default=None, ge=0, le=MAX_INT)
    status: Literal["ok", "error", "unset"] = "unset"
    status_message: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    events: list[dict[str, Any]] = Field(default_factory=list)
    input: Any = None
    output: Any = None
    model: str | None = None
    input_tokens: int | None = Field(default=None, ge=0, le=MAX_INT)
    output_tokens: int | None = Field(default=None, ge=0, le=MAX_INT)
    cost_usd: float | None = Field(default=None, ge=0)
    prompt_name: str | None = None
    prompt_version: int | None = Field(default=None, ge=1, le=2**31)
    user_id: str | None = None
    session_id: str | None = None
    tenant: str | None = None
    feature: str | None = None
    tags: list[str] = Field(default_factory=list)


class SpanBatch(BaseModel):
    spans: list[SpanIn]


class Span(BaseModel):
    trace_id: str
    span_id: str
    parent_id: str | None
    project: str
    name: str
    kind: str
    status: str
    start_ms: int
    duration_ms: float
    operation: str | None
    provider: str | None
    model: str | None
    prompt_name: str | None
    prompt_version: int | None
    index_name: str | None
    index_version: int | None
    input_tokens: int | None
    output_tokens: int | None
    cached_input_tokens: int | None
    cost_usd: float | None
    ttft_ms: float | None
    error: str | None
    input: str | None
    output: str | None
    attributes: dict[str, Any]
    events: list[dict[str, Any]]


class Trace(BaseModel):
    trace_id: str
    project: str
    name: str
    user_id: str | None
    session_id: str | None
    tenant: str | None
    feature: str | None
    tags: list[str]
    model: str | None
    route: str | None
    prompt_name: str | None
    prompt_version: int | None
    input: str | None
    output: str | None
    status: str
    start_ms: int
    end_ms: int
    latency_ms: int
    span_count: int
    error_count: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class Score(BaseModel):
    id: str
    trace_id: str
    span_id: str | None
    name: str
    kind: Literal["numeric", "categorical", "boolean"]
    value: float | None
    label: str | None
    source: str
    comment: str | None
    created_at: int
    created_by: str


class ScoreIn(BaseModel):
    trace_id: str = Field(pattern=r"^[0-9a-fA-F]{32}$")
    span_id: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{16}$")
    name: str = Field(min_length=1, max_length=200)
    value: float | bool | str
    source: Literal["human", "rule", "llm_judge", "api"] = "human"
    comment: str | None = Field(default=None, max_length=10_000)


class TraceDetail(BaseModel):
    trace: Trace
    spans: list[Span]  # parents before children, siblings by start time
    scores: list[Score]


class TraceQuery(BaseModel):
    """Trace filters; every one is optional and they combine with AND."""

    project: str | None = None
    since_ms: int | None = Field(default=None, ge=0, le=MAX_INT)
    until_ms: int | None = Field(default=None, ge=0, le=MAX_INT)
    name: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    tenant: str | None = None
    feature: str | None = None
    tag: str | None = None
    status: Literal["ok", "error"] | None = None
    model: str | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    min_latency_ms: float | None = None
    max_latency_ms: float | None = None
    min_cost_usd: float | None = None
    max_cost_usd: float | None = None
    score_name: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    cursor: str | None = Field(default=None, max_length=100)


class TracePage(BaseModel):
    traces: list[Trace]
    next_cursor: str | None
