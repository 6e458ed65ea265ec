"""The tracing service: ingest (through the group-commit writer), trace queries, scores."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import and_, exists, or_, select

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.core.identity import Actor
from shipyard.core.ids import new_id, now_ms
from shipyard.store.db import Database
from shipyard.tracing.mapping import Limits, Redactor, to_record
from shipyard.tracing.models import ScoreRow, SpanRow, TraceRow
from shipyard.tracing.otlp import decode_json, decode_protobuf
from shipyard.tracing.records import SpanRecord
from shipyard.tracing.schemas import (
    Score,
    ScoreIn,
    Span,
    SpanIn,
    Trace,
    TraceDetail,
    TracePage,
    TraceQuery,
)
from shipyard.tracing.store import SpanStore
from shipyard.tracing.writer import SpanWriter


class TracingService:
    def __init__(self, db: Database, *, limits: Limits | None = None) -> None:
        self.db = db
        self.limits = limits or Limits()
        self.redact: Redactor | None = None
        self.store = SpanStore(db)
        self._writer: SpanWriter | None = None

    @property
    def writer(self) -> SpanWriter:
        """The group-commit writer (started on first use; the server's ingest path)."""
        if self._writer is None:
            self._writer = SpanWriter(self.store)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    # -- decoding ----------------------------------------------------------------------------

    def decode_otlp(
        self, body: bytes, content_type: str, project: str | None = None
    ) -> list[SpanRecord]:
        ctype = content_type.split(";")[0].strip().lower()
        if ctype in ("application/x-protobuf", "application/protobuf", "application/octet-stream"):
            return decode_protobuf(body, limits=self.limits, redact=self.redact, project=project)
        if ctype == "application/json":
            return decode_json(body, limits=self.limits, redact=self.redact, project=project)
        raise InvalidInput(
            f"unsupported content type {content_type!r}: send application/x-protobuf or "
            "application/json"
        )

    def decode_native(self, spans: list[SpanIn], project: str | None = None) -> list[SpanRecord]:
        return [self._native(s, project) for s in spans]

    def _native(self, s: SpanIn, project: str | None) -> SpanRecord:
        attrs: dict[str, Any] = dict(s.attributes)
        attrs["shipyard.span.kind"] = s.kind
        extra = {
            "shipyard.input": s.input,
            "shipyard.output": s.output,
            "gen_ai.request.model": s.model,
            "gen_ai.usage.input_tokens": s.input_tokens,
            "gen_ai.usage.output_tokens": s.output_tokens,
            "shipyard.cost_usd": s.cost_usd,
            "shipyard.prompt.name": s.prompt_name,
            "shipyard.prompt.version": s.prompt_version,
            "shipyard.user": s.user_id,
            "shipyard.session": s.session_id,
            "shipyard.tenant": s.tenant,
            "shipyard.feature": s.feature,
            "shipyard.tags": s.tags or None,
        }
        attrs.update({k: v for k, v in extra.items() if v is not None})
        start_ns = int(s.start_time_ms * 1_000_000)
        end_ns = int((s.end_time_ms if s.end_time_ms is not None else s.start_time_ms) * 1_000_000)
        return to_record(
            trace_id=s.trace_id.lower(),
            span_id=s.span_id.lower(),
            parent_id=s.parent_id.lower() if s.parent_id else None,
            project=s.project or project or "default",
            name=s.name,
            start_ns=start_ns,
            end_ns=end_ns,
            status=s.status,
            status_message=s.status_message,
            attrs=attrs,
            events=s.events,
            limits=self.limits,
            redact=self.redact,
        )

    # -- writing -----------------------------------------------------------------------------

    def ingest(self, spans: list[SpanRecord]) -> int:
        """Store spans now, in the calling thread (the embedded SDK's path)."""
        return self.store.write(spans)

    def add_score(self, actor: Actor, req: ScoreIn) -> Score:
        value: float | None
        label: str | None = None
        if isinstance(req.value, bool):
            kind, value = "boolean", 1.0 if req.value else 0.0
        elif isinstance(req.value, int | float):
            kind, value = "numeric", float(req.value)
            if value != value or value in (float("inf"), float("-inf")):
                raise InvalidInput("a score must be a finite number")
        else:
            kind, value, label = "categorical", None, str(req.value)[:200]
        row = ScoreRow(
            id=new_id(),
            trace_id=req.trace_id.lower(),
            span_id=req.span_id.lower() if req.span_id else None,
            name=req.name,
            kind=kind,
            value=value,
            label=label,
            source=req.source,
            comment=req.comment,
            created_at=now_ms(),
            created_by=actor.name,
        )
        with self.db.write() as s:
            s.add(row)
        return Score.model_validate(row, from_attributes=True)

    # -- reading -----------------------------------------------------------------------------

    def get_trace(self, trace_id: str) -> TraceDetail:
        trace_id = trace_id.lower()
        with self.db.read() as s:
            row = s.get(TraceRow, trace_id)
            if row is None:
                raise NotFound(f"no trace with id {trace_id!r}")
            spans = list(s.scalars(select(SpanRow).where(SpanRow.trace_id == trace_id)))
            scores = s.scalars(
                select(ScoreRow).where(ScoreRow.trace_id == trace_id).order_by(ScoreRow.created_at)
            )
            return TraceDetail(
                trace=_trace(row),
                spans=[_span(r) for r in _tree_order(spans)],
                scores=[Score.model_validate(x, from_attributes=True) for x in scores],
            )

    def list_traces(self, q: TraceQuery) -> TracePage:
        with self.db.read() as s:
            stmt = select(TraceRow).where(*self._conditions(q))
            if q.cursor:
                start, tid = _decode_cursor(q.cursor)
                stmt = stmt.where(
                    or_(
                        TraceRow.start_ms < start,
                        and_(TraceRow.start_ms == start, TraceRow.trace_id < tid),
                    )
                )
            stmt = stmt.order_by(TraceRow.start_ms.desc(), TraceRow.trace_id.desc())
            rows = list(s.scalars(stmt.limit(q.limit + 1)))
            more = len(rows) > q.limit
            rows = rows[: q.limit]
            cursor = f"{rows[-1].start_ms}:{rows[-1].trace_id}" if more and rows else None
            return TracePage(traces=[_trace(r) for r in rows], next_cursor=cursor)

    def _conditions(self, q: TraceQuery) -> list[Any]:
        t = TraceRow
        c: list[Any] = []
        equal = {
            t.project: q.project,
            t.name: q.name,
            t.user_id: q.user_id,
            t.session_id: q.session_id,
            t.tenant: q.tenant,
            t.feature: q.feature,
            t.status: q.status,
            t.model: q.model,
            t.prompt_name: q.prompt_name,
            t.prompt_version: q.prompt_version,
        }
        c.extend(col == v for col, v in equal.items() if v is not None)
        if q.since_ms is not None:
            c.append(t.start_ms >= q.since_ms)
        if q.until_ms is not None:
            c.append(t.start_ms < q.until_ms)
        latency = t.end_ms - t.start_ms
        if q.min_latency_ms is not None:
            c.append(latency >= q.min_latency_ms)
        if q.max_latency_ms is not None:
            c.append(latency <= q.max_latency_ms)
        if q.min_cost_usd is not None:
            c.append(t.cost_usd >= q.min_cost_usd)
        if q.max_cost_usd is not None:
            c.append(t.cost_usd <= q.max_cost_usd)
        if q.tag is not None:
            pattern = orjson.dumps(q.tag).decode().replace("\\", "\\\\")
            pattern = pattern.replace("%", "\\%").replace("_", "\\_")
            c.append(t.tags.like(f"%{pattern}%", escape="\\"))
        if q.score_name is not None:
            cond = [ScoreRow.trace_id == t.trace_id, ScoreRow.name == q.score_name]
            if q.min_score is not None:
                cond.append(ScoreRow.value >= q.min_score)
            if q.max_score is not None:
                cond.append(ScoreRow.value <= q.max_score)
            c.append(exists().where(*cond))
        return c


def _decode_cursor(cursor: str) -> tuple[int, str]:
    start, _, tid = cursor.partition(":")
    try:
        return int(start), tid
    except ValueError:
        raise InvalidInput("invalid cursor") from None


def _trace(r: TraceRow) -> Trace:
    return Trace(
        trace_id=r.trace_id,
        project=r.project,
        name=r.name,
        user_id=r.user_id,
        session_id=r.session_id,
        tenant=r.tenant,
        feature=r.feature,
        tags=orjson.loads(r.tags) if r.tags else [],
        model=r.model,
        route=r.route,
        prompt_name=r.prompt_name,
        prompt_version=r.prompt_version,
        input=r.input,
        output=r.output,
        status=r.status,
        start_ms=r.start_ms,
        end_ms=r.end_ms,
        latency_ms=r.end_ms - r.start_ms,
        span_count=r.span_count,
        error_count=r.error_count,
        input_tokens=r.input_tokens,
        output_tokens=r.output_tokens,
        cost_usd=r.cost_usd,
    )


def _span(r: SpanRow) -> Span:
    data = {c: getattr(r, c) for c in Span.model_fields if c not in ("attributes", "events")}
    return Span(
        **data,
        attributes=orjson.loads(r.attributes) if r.attributes else {},
        events=orjson.loads(r.events) if r.events else [],
    )


def _tree_order(spans: list[SpanRow]) -> list[SpanRow]:
    """Parents before children, siblings by start time; orphans (parent not stored) as roots."""
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[SpanRow]] = {}
    for s in spans:
        parent = s.parent_id if s.parent_id in ids else None
        children.setdefault(parent, []).append(s)
    for group in children.values():
        group.sort(key=lambda x: (x.start_ms, x.seq))
    out: list[SpanRow] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(children.get(node.span_id, [])))
    return out
