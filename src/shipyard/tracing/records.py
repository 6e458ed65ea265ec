"""The span record every ingest path produces, and how spans roll up into their trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

KINDS = (
    "llm",
    "embedding",
    "retrieval",
    "reranker",
    "guardrail",
    "tool",
    "chain",
    "agent",
    "evaluator",
    "model",
)


@dataclass(slots=True)
class SpanRecord:
    trace_id: str
    span_id: str
    parent_id: str | None
    project: str
    name: str
    kind: str
    status: str  # ok | error | unset
    start_ms: int
    duration_ms: float
    operation: str | None = None
    provider: str | None = None
    model: str | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    index_name: str | None = None
    index_version: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cost_usd: float | None = None
    ttft_ms: float | None = None
    error: str | None = None
    input: str | None = None
    output: str | None = None
    attributes: str | None = None  # JSON text
    events: str | None = None  # JSON text
    # request-level context, rolled up onto the trace
    user_id: str | None = None
    session_id: str | None = None
    tenant: str | None = None
    feature: str | None = None
    route: str | None = None
    tags: list[str] = field(default_factory=list)

    def row(self) -> tuple[Any, ...]:
        return (
            self.trace_id,
            self.span_id,
            self.parent_id,
            self.project,
            self.name,
            self.kind,
            self.status,
            self.start_ms,
            self.duration_ms,
            self.operation,
            self.provider,
            self.model,
            self.prompt_name,
            self.prompt_version,
            self.index_name,
            self.index_version,
            self.input_tokens,
            self.output_tokens,
            self.cached_input_tokens,
            self.cost_usd,
            self.ttft_ms,
            self.error,
            self.input,
            self.output,
            self.attributes,
            self.events,
        )


SPAN_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_id",
    "project",
    "name",
    "kind",
    "status",
    "start_ms",
    "duration_ms",
    "operation",
    "provider",
    "model",
    "prompt_name",
    "prompt_version",
    "index_name",
    "index_version",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cost_usd",
    "ttft_ms",
    "error",
    "input",
    "output",
    "attributes",
    "events",
)


@dataclass(slots=True)
class TraceRollup:
    """What one batch adds to one trace."""

    trace_id: str
    project: str
    name: str
    has_root: int
    start_ms: int
    end_ms: int
    status: str = "ok"
    span_count: int = 0
    error_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    user_id: str | None = None
    session_id: str | None = None
    tenant: str | None = None
    feature: str | None = None
    route: str | None = None
    model: str | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    input: str | None = None
    output: str | None = None
    tags: list[str] = field(default_factory=list)

    def add(self, s: SpanRecord) -> None:
        is_root = s.parent_id is None
        if is_root and not self.has_root:
            self.name, self.has_root = s.name, 1
            self.input = s.input if s.input is not None else self.input
            self.output = s.output if s.output is not None else self.output
        elif not self.has_root and self.input is None:
            self.input = s.input
        self.start_ms = min(self.start_ms, s.start_ms)
        self.end_ms = max(self.end_ms, s.start_ms + int(s.duration_ms + 0.5))
        self.span_count += 1
        if s.status == "error":
            self.error_count += 1
            self.status = "error"
        self.input_tokens += s.input_tokens or 0
        self.output_tokens += s.output_tokens or 0
        self.cost_usd += s.cost_usd or 0.0
        self.user_id = self.user_id or s.user_id
        self.session_id = self.session_id or s.session_id
        self.tenant = self.tenant or s.tenant
        self.feature = self.feature or s.feature
        self.route = self.route or s.route
        if s.model and (s.kind == "llm" or self.model is None):
            self.model = s.model
        if s.prompt_name and self.prompt_name is None:
            self.prompt_name, self.prompt_version = s.prompt_name, s.prompt_version
        for t in s.tags:
            if t not in self.tags:
                self.tags.append(t)


def rollup(spans: list[SpanRecord]) -> dict[str, TraceRollup]:
    out: dict[str, TraceRollup] = {}
    for s in spans:
        r = out.get(s.trace_id)
        if r is None:
            r = out[s.trace_id] = TraceRollup(
                trace_id=s.trace_id,
                project=s.project,
                name=s.name,
                has_root=0,
                start_ms=s.start_ms,
                end_ms=s.start_ms,
            )
        r.add(s)
    return out


GENERATION_KINDS = ("llm", "embedding")
# (model, route, tenant, status, duration_ms, input_tokens, output_tokens, cost_usd)
MetricItem = tuple[str, str | None, str | None, str, float, int, int, float]


@dataclass(slots=True)
class RowBatch:
    """Spans as database rows, their traces' roll-ups, and what Prometheus counts of them.

    Plain tuples, so a batch crosses a process boundary cheaply."""

    spans: list[tuple[Any, ...]]
    traces: list[tuple[Any, ...]]
    kinds: dict[str, int]
    generations: list[MetricItem]

    def __len__(self) -> int:
        return len(self.spans)

    @classmethod
    def merge(cls, batches: list[RowBatch]) -> RowBatch:
        if len(batches) == 1:
            return batches[0]
        kinds: dict[str, int] = {}
        for b in batches:
            for k, n in b.kinds.items():
                kinds[k] = kinds.get(k, 0) + n
        return cls(
            [r for b in batches for r in b.spans],
            [r for b in batches for r in b.traces],
            kinds,
            [g for b in batches for g in b.generations],
        )


def to_rows(spans: list[SpanRecord]) -> RowBatch:
    kinds: dict[str, int] = {}
    generations: list[MetricItem] = []
    for s in spans:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
        if s.kind in GENERATION_KINDS:
            generations.append((
                s.model or "unknown", s.route, s.tenant,
                "error" if s.status == "error" else "ok", s.duration_ms,
                s.input_tokens or 0, s.output_tokens or 0, s.cost_usd or 0.0,
            ))  # fmt: skip
    traces = [
        (
            r.trace_id, r.project, r.name, r.has_root, r.user_id, r.session_id, r.tenant,
            r.feature, orjson.dumps(r.tags).decode() if r.tags else None, r.model, r.route,
            r.prompt_name, r.prompt_version, r.input, r.output, r.status, r.start_ms,
            r.end_ms, r.span_count, r.error_count, r.input_tokens, r.output_tokens,
            r.cost_usd,
        )
        for r in rollup(spans).values()
    ]  # fmt: skip
    return RowBatch([s.row() for s in spans], traces, kinds, generations)
