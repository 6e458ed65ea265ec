"""The span store on both dialects: retried spans are stored once and counted once."""

from __future__ import annotations

from shipyard.core.ids import now_ms
from shipyard.platform import Platform
from shipyard.tracing import store
from shipyard.tracing.records import SPAN_COLUMNS
from shipyard.tracing.schemas import SpanIn


def test_row_positions_match_the_columns() -> None:
    assert [
        SPAN_COLUMNS[i]
        for i in (store._S_TRACE, store._S_STATUS, store._S_IN, store._S_OUT, store._S_COST)
    ] == ["trace_id", "status", "input_tokens", "output_tokens", "cost_usd"]
    assert [
        store.TRACE_COLUMNS[i]
        for i in (store._T_SPANS, store._T_ERRORS, store._T_IN, store._T_OUT, store._T_COST)
    ] == ["span_count", "error_count", "input_tokens", "output_tokens", "cost_usd"]


def _span(i: int, trace: str = "ab" * 16) -> SpanIn:
    return SpanIn.model_validate(
        {
            "trace_id": trace,
            "span_id": f"{i:016x}",
            "parent_id": None if i == 0 else f"{0:016x}",
            "name": f"s{i}",
            "kind": "llm",
            "start_time_ms": now_ms(),
            "input_tokens": 10,
            "output_tokens": 1,
            "cost_usd": 0.5,
            "status": "error" if i == 2 else "ok",
        }
    )


def test_retried_spans_are_counted_once(platform: Platform) -> None:
    svc = platform.tracing
    first = [_span(0), _span(1), _span(2)]
    svc.ingest(svc.decode_native(first))
    svc.ingest(svc.decode_native(first))  # an exporter retry of the whole batch
    svc.ingest(svc.decode_native([_span(2), _span(3), _span(3)]))  # old, new, new twice
    t = svc.get_trace("ab" * 16)
    assert len(t.spans) == 4
    tr = t.trace
    assert (tr.span_count, tr.error_count, tr.input_tokens, tr.output_tokens) == (4, 1, 40, 4)
    assert abs(tr.cost_usd - 2.0) < 1e-9
