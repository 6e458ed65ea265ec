"""Writing span batches: spans appended, their traces rolled up, in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from shipyard.store.db import Database
from shipyard.tracing.models import SpanRow
from shipyard.tracing.records import SPAN_COLUMNS, RowBatch

TRACE_COLUMNS = (
    "trace_id", "project", "name", "has_root", "user_id", "session_id", "tenant", "feature",
    "tags", "model", "route", "prompt_name", "prompt_version", "input", "output", "status",
    "start_ms", "end_ms", "span_count", "error_count", "input_tokens", "output_tokens",
    "cost_usd",
)  # fmt: skip


def _trace_upsert_sql(mark: str, least: str, greatest: str) -> str:
    cols = ", ".join(TRACE_COLUMNS)
    marks = ", ".join([mark] * len(TRACE_COLUMNS))
    root_arrives = "excluded.has_root = 1 AND traces.has_root = 0"
    return f"""
INSERT INTO traces ({cols}) VALUES ({marks})
ON CONFLICT (trace_id) DO UPDATE SET
  name = CASE WHEN {root_arrives} THEN excluded.name ELSE traces.name END,
  input = CASE WHEN {root_arrives} THEN COALESCE(excluded.input, traces.input)
               ELSE COALESCE(traces.input, excluded.input) END,
  output = CASE WHEN {root_arrives} THEN COALESCE(excluded.output, traces.output)
                ELSE COALESCE(traces.output, excluded.output) END,
  has_root = {greatest}(traces.has_root, excluded.has_root),
  user_id = COALESCE(traces.user_id, excluded.user_id),
  session_id = COALESCE(traces.session_id, excluded.session_id),
  tenant = COALESCE(traces.tenant, excluded.tenant),
  feature = COALESCE(traces.feature, excluded.feature),
  route = COALESCE(traces.route, excluded.route),
  tags = COALESCE(traces.tags, excluded.tags),
  model = COALESCE(traces.model, excluded.model),
  prompt_version = CASE WHEN traces.prompt_name IS NULL THEN excluded.prompt_version
                        ELSE traces.prompt_version END,
  prompt_name = COALESCE(traces.prompt_name, excluded.prompt_name),
  status = CASE WHEN excluded.status = 'error' THEN 'error' ELSE traces.status END,
  start_ms = {least}(traces.start_ms, excluded.start_ms),
  end_ms = {greatest}(traces.end_ms, excluded.end_ms),
  span_count = traces.span_count + excluded.span_count,
  error_count = traces.error_count + excluded.error_count,
  input_tokens = traces.input_tokens + excluded.input_tokens,
  output_tokens = traces.output_tokens + excluded.output_tokens,
  cost_usd = traces.cost_usd + excluded.cost_usd
"""


class SpanStore:
    """The one writer of ``spans`` and ``traces``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        mark = "?" if db.is_sqlite else "%s"
        least, greatest = ("MIN", "MAX") if db.is_sqlite else ("LEAST", "GREATEST")
        cols = ", ".join(SPAN_COLUMNS)
        self._span_sql = (
            f"INSERT INTO spans ({cols}) VALUES ({', '.join([mark] * len(SPAN_COLUMNS))}) "
            "ON CONFLICT (trace_id, span_id) DO NOTHING"
        )
        self._trace_sql = _trace_upsert_sql(mark, least, greatest)

    def write(self, batch: RowBatch) -> int:
        """Store the spans and roll up their traces. A span already stored (an exporter's
        retry) is skipped, and so is its share of the trace's totals."""
        if not batch.spans:
            return 0
        with self.db.write() as s:
            conn = s.connection()
            attempt = conn.begin_nested()
            inserted = conn.exec_driver_sql(self._span_sql, batch.spans).rowcount
            if inserted == len(batch.spans):
                attempt.commit()
                traces = batch.traces
            else:  # some spans were stored before: take them out, totals included
                attempt.rollback()
                fresh, skipped = self._split_duplicates(conn, batch.spans)
                if fresh:
                    conn.exec_driver_sql(self._span_sql, fresh)
                traces = without_spans(batch.traces, skipped)
            if traces:
                conn.exec_driver_sql(self._trace_sql, traces)
        return len(batch.spans)

    def _split_duplicates(
        self, conn: Connection, spans: list[tuple[Any, ...]]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        stored: set[tuple[str, str]] = set()
        trace_ids = sorted({r[0] for r in spans})
        for i in range(0, len(trace_ids), 500):
            chunk = trace_ids[i : i + 500]
            rows = conn.execute(
                select(SpanRow.trace_id, SpanRow.span_id).where(SpanRow.trace_id.in_(chunk))
            )
            stored.update((t, sp) for t, sp in rows)
        fresh, skipped = [], []
        for row in spans:
            key = (row[0], row[1])
            if key in stored:
                skipped.append(row)
            else:
                stored.add(key)  # the same span twice in one batch counts once
                fresh.append(row)
        return fresh, skipped


# positions in a span row and a trace row (see SPAN_COLUMNS and TRACE_COLUMNS)
_S_TRACE, _S_STATUS, _S_IN, _S_OUT, _S_COST = 0, 6, 16, 17, 19
_T_SPANS, _T_ERRORS, _T_IN, _T_OUT, _T_COST = 18, 19, 20, 21, 22


def without_spans(
    traces: list[tuple[Any, ...]], skipped: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Trace roll-ups minus what the skipped spans had added to them."""
    if not skipped:
        return traces
    rows = [list(t) for t in traces]
    by_trace: dict[str, list[list[Any]]] = {}
    for r in rows:
        by_trace.setdefault(r[0], []).append(r)
    for span in skipped:
        target = next((r for r in by_trace.get(span[_S_TRACE], []) if r[_T_SPANS] > 0), None)
        if target is None:
            continue
        target[_T_SPANS] -= 1
        target[_T_ERRORS] -= 1 if span[_S_STATUS] == "error" else 0
        target[_T_IN] -= span[_S_IN] or 0
        target[_T_OUT] -= span[_S_OUT] or 0
        target[_T_COST] -= span[_S_COST] or 0.0
    return [tuple(r) for r in rows if r[_T_SPANS] > 0]
