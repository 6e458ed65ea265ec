"""The tracing service: ingest (through the group-commit writer), trace queries, scores."""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import orjson
from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import Session, aliased

from shipyard.core import audit
from shipyard.core.errors import InvalidInput, NotFound
from shipyard.core.identity import Actor, Role
from shipyard.core.ids import new_id, now_ms
from shipyard.store.db import Database
from shipyard.tracing.decoding import decode_otlp, decode_rows, policies, watch_parent
from shipyard.tracing.decoding import warm_up as decoding_warm_up
from shipyard.tracing.mapping import Limits, to_record
from shipyard.tracing.metrics import TraceMetrics
from shipyard.tracing.models import ProjectRow, ScoreRow, SpanRow, TraceRow
from shipyard.tracing.privacy import (
    Policy,
    ProjectSettings,
    Redactor,
    default_redactor,
)
from shipyard.tracing.records import RowBatch, SpanRecord, to_rows
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
from shipyard.tracing.stats import (
    RetrievalStats,
    StatsQuery,
    StatsReport,
    compute,
    retrieval_coverage,
)
from shipyard.tracing.store import SpanStore
from shipyard.tracing.writer import SpanWriter

log = logging.getLogger("shipyard.tracing")

# How many of the newest traces a filtered list looks through before asking for all matches.
SCAN_WINDOW = 2000

# A project's settings are re-read this often, so a change reaches every replica quickly.
SETTINGS_TTL_S = 5.0


class TracingService:
    def __init__(
        self,
        db: Database,
        *,
        limits: Limits | None = None,
        hash_key: Callable[[], bytes] = lambda: b"",
        redactor: Redactor = default_redactor,
        metrics: TraceMetrics | None = None,
        decode_workers: int = 0,
    ) -> None:
        self.db = db
        self.limits = limits or Limits()
        self.redactor = redactor
        self.metrics = metrics
        self._hash_key = hash_key
        self.store = SpanStore(db)
        self._writer: SpanWriter | None = None
        self._settings_cache: tuple[float, dict[str, ProjectSettings]] | None = None
        self._lookup: Callable[[str], Policy] | None = None
        self._policy_lock = threading.Lock()
        self.decode_workers = decode_workers
        self._pool: ProcessPoolExecutor | None = None

    @property
    def writer(self) -> SpanWriter:
        """The group-commit writer (started on first use; the server's ingest path)."""
        if self._writer is None:
            self._writer = SpanWriter(self.store)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reset_pool()

    # -- decoding ----------------------------------------------------------------------------

    def decode_otlp(
        self, body: bytes, content_type: str, project: str | None = None
    ) -> list[SpanRecord]:
        return decode_otlp(
            body, content_type, limits=self.limits, policy_of=self.policy, project=project
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
        project_name = s.project or project or "default"
        # via whole microseconds: ms * 1e6 as a float would round off the last nanoseconds
        start_ns = round(s.start_time_ms * 1000) * 1000
        end = s.end_time_ms if s.end_time_ms is not None else s.start_time_ms
        end_ns = round(end * 1000) * 1000
        return to_record(
            trace_id=s.trace_id.lower(),
            span_id=s.span_id.lower(),
            parent_id=s.parent_id.lower() if s.parent_id else None,
            project=project_name,
            name=s.name,
            start_ns=start_ns,
            end_ns=end_ns,
            status=s.status,
            status_message=s.status_message,
            attrs=attrs,
            events=s.events,
            limits=self.limits,
            policy=self.policy(project_name),
        )

    # -- project settings --------------------------------------------------------------------

    def policy(self, project: str) -> Policy:
        """How spans of ``project`` are stored (settings re-read every few seconds)."""
        return self._policy_lookup()(project)

    def _snapshot(self) -> dict[str, ProjectSettings]:
        """Every project's non-default settings, cached for SETTINGS_TTL_S."""
        now = time.monotonic()
        with self._policy_lock:
            cached = self._settings_cache
        if cached is not None and now - cached[0] < SETTINGS_TTL_S:
            return cached[1]
        snapshot = self.list_project_settings()
        with self._policy_lock:
            self._settings_cache = (now, snapshot)
            self._lookup = None
        return snapshot

    def _policy_lookup(self) -> Callable[[str], Policy]:
        snapshot = self._snapshot()
        with self._policy_lock:
            if self._lookup is None:
                self._lookup = policies(snapshot, self.hash_key, self.redactor)
            return self._lookup

    @functools.cached_property
    def hash_key(self) -> bytes:
        return self._hash_key()

    def project_settings(self, project: str) -> ProjectSettings:
        with self.db.read() as s:
            row = s.get(ProjectRow, project)
            return ProjectSettings.model_validate_json(row.settings) if row else ProjectSettings()

    def list_project_settings(self) -> dict[str, ProjectSettings]:
        with self.db.read() as s:
            rows = s.scalars(select(ProjectRow).order_by(ProjectRow.name))
            return {r.name: ProjectSettings.model_validate_json(r.settings) for r in rows}

    def set_project_settings(
        self, actor: Actor, project: str, settings: ProjectSettings
    ) -> ProjectSettings:
        actor.require(Role.admin, "changing a project's trace settings")
        if not project or len(project) > 200:
            raise InvalidInput("project names are 1 to 200 characters")
        with self.db.write() as s:
            row = s.get(ProjectRow, project)
            before = orjson.loads(row.settings) if row else None
            if row is None:
                row = ProjectRow(name=project, settings="", updated_at=0, updated_by="")
                s.add(row)
            row.settings = settings.model_dump_json()
            row.updated_at, row.updated_by = now_ms(), actor.name
            audit.record(
                s,
                actor,
                "tracing.project_settings",
                "project",
                project,
                before=before,
                after=settings.model_dump(),
            )
        with self._policy_lock:
            self._settings_cache = None
        return settings

    def enforce_retention(self, now: int | None = None) -> int:
        """Delete traces (with their spans and scores) older than their project keeps them."""
        now = now if now is not None else now_ms()
        deleted = 0
        for project, settings in self.list_project_settings().items():
            if settings.retention_days is None:
                continue
            cutoff = now - int(settings.retention_days * 86_400_000)
            while True:  # in slices, so writers are never held up for long
                with self.db.write() as s:
                    ids = list(
                        s.scalars(
                            select(TraceRow.trace_id)
                            .where(TraceRow.project == project, TraceRow.end_ms < cutoff)
                            .limit(2000)
                        )
                    )
                    if not ids:
                        break
                    s.execute(delete(SpanRow).where(SpanRow.trace_id.in_(ids)))
                    s.execute(delete(ScoreRow).where(ScoreRow.trace_id.in_(ids)))
                    s.execute(delete(TraceRow).where(TraceRow.trace_id.in_(ids)))
                    deleted += len(ids)
        return deleted

    # -- writing -----------------------------------------------------------------------------

    def ingest(self, spans: list[SpanRecord]) -> int:
        """Store spans now, in the calling thread (the embedded SDK's path)."""
        rows = to_rows(spans)
        stored = self.store.write(rows)
        self._observe(rows)
        return stored

    def submit(self, spans: list[SpanRecord]) -> Future[int]:
        """Queue spans for the group-commit writer without waiting (the gateway's path)."""
        rows = to_rows(spans)
        done = self.writer.submit(rows)
        self._observe(rows)
        return done

    async def ingest_async(self, spans: list[SpanRecord]) -> int:
        """Store spans through the group-commit writer; returns once they are committed."""
        return await self._store_rows(to_rows(spans))

    async def ingest_otlp(self, body: bytes, content_type: str, project: str | None) -> int:
        """Decode an OTLP body (in a decode worker when there are some) and store it."""
        pool = self._decode_pool()
        if pool is None:
            rows = await asyncio.to_thread(
                lambda: to_rows(self.decode_otlp(body, content_type, project))
            )
        else:
            loop = asyncio.get_running_loop()
            args = (
                body,
                content_type,
                project,
                self.limits,
                self._snapshot(),
                self.hash_key,
                self.redactor,
            )
            try:
                rows = await loop.run_in_executor(pool, decode_rows, *args)
            except BrokenProcessPool:
                self._reset_pool()
                rows = await asyncio.to_thread(decode_rows, *args)
        return await self._store_rows(rows)

    async def _store_rows(self, rows: RowBatch) -> int:
        stored = await self.writer.write(rows)
        self._observe(rows)
        return stored

    def _observe(self, rows: RowBatch) -> None:
        if self.metrics is not None:
            self.metrics.observe(rows)

    def _decode_pool(self) -> ProcessPoolExecutor | None:
        if self.decode_workers <= 0:
            return None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.decode_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=watch_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    def _reset_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def warm_up(self) -> None:
        """Start the decode workers now rather than on the first request."""
        pool = self._decode_pool()
        if pool is None:
            return
        try:
            for fut in [pool.submit(decoding_warm_up) for _ in range(self.decode_workers)]:
                fut.result(timeout=120)
        except Exception as exc:  # no worker processes here: decode in the server instead
            log.warning("decode workers unavailable, decoding in the server: %s", exc)
            self._reset_pool()
            self.decode_workers = 0

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
        """Newest first. A filtered list first looks through the newest traces; when those do
        not fill the page, the database picks the best index for the filters (or one pass over
        the table) and sorts what matches."""
        with self.db.read() as s:
            rows = self._find_traces(s, q)
            more = len(rows) > q.limit
            rows = rows[: q.limit]
            cursor = f"{rows[-1].start_ms}:{rows[-1].trace_id}" if more and rows else None
            return TracePage(traces=[_trace(r) for r in rows], next_cursor=cursor)

    def _find_traces(self, s: Session, q: TraceQuery) -> list[TraceRow]:
        bounds = self._time_bounds(q, TraceRow)
        order = (TraceRow.start_ms.desc(), TraceRow.trace_id.desc())
        filters = self._conditions(q, TraceRow)
        if not filters:
            stmt = select(TraceRow).where(*bounds).order_by(*order)
            return list(s.scalars(stmt.limit(q.limit + 1)))
        # common matches: the newest traces fill the page
        window = select(TraceRow).where(*bounds).order_by(*order).limit(SCAN_WINDOW).subquery()
        recent = aliased(TraceRow, window)
        stmt = (
            select(recent)
            .where(*self._conditions(q, recent))
            .order_by(recent.start_ms.desc(), recent.trace_id.desc())
            .limit(q.limit + 1)
        )
        rows = list(s.scalars(stmt))
        if len(rows) > q.limit:
            return rows
        # rare matches: walking the time index row by row would visit the whole table; instead
        # let the filters pick an index (or one pass over the table) and sort the few matches
        stmt = (
            select(TraceRow)
            .where(*bounds, *filters)
            .order_by((TraceRow.start_ms + 0).desc(), TraceRow.trace_id.desc())
            .limit(q.limit + 1)
        )
        return list(s.scalars(stmt))

    def _time_bounds(self, q: TraceQuery, t: Any) -> list[Any]:
        c: list[Any] = []
        if q.since_ms is not None:
            c.append(t.start_ms >= q.since_ms)
        if q.until_ms is not None:
            c.append(t.start_ms < q.until_ms)
        if q.cursor:
            start, tid = _decode_cursor(q.cursor)
            c.append(or_(t.start_ms < start, and_(t.start_ms == start, t.trace_id < tid)))
        return c

    def stats(self, q: StatsQuery) -> StatsReport:
        with self.db.read() as s:
            return compute(s, q)

    def retrieval_stats(
        self, index: str | None, threshold: float, since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[RetrievalStats]:  # fmt: skip
        with self.db.read() as s:
            return retrieval_coverage(s, index, threshold, since_ms, until_ms)

    def _conditions(self, q: TraceQuery, t: Any) -> list[Any]:
        """Every filter but the time bounds and the cursor, on ``t`` (the table or an alias)."""
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
