"""Writing span batches: spans appended, their traces rolled up, in one transaction."""

from __future__ import annotations

from shipyard.store.db import Database
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
        """Store the spans (a span already stored is skipped) and roll up their traces."""
        if not batch.spans:
            return 0
        with self.db.write() as s:
            conn = s.connection()
            conn.exec_driver_sql(self._span_sql, batch.spans)
            conn.exec_driver_sql(self._trace_sql, batch.traces)
        return len(batch.spans)
