"""Eval cases from production traces, so yesterday's failures become tomorrow's tests.

A trace made through a prompt (``prompt.complete``) gives the prompt's variables; any other
gives the chat messages of its first LLM call. What the application answered is kept as
``metadata.previous_output`` (or as ``expected`` when asked), with the trace id, so a case
can be traced back to the request it came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from shipyard.evals.schemas import EvalCase
from shipyard.tracing.schemas import Span, TraceQuery

if TYPE_CHECKING:
    from shipyard.sdk import Client

VARIABLES_ATTR = "llm.prompt_template.variables"


def cases_from_traces(
    client: Client, query: TraceQuery, *, expected_from_output: bool = False,
    limit: int = 100,
) -> tuple[list[EvalCase], list[str]]:  # fmt: skip
    """Cases from the traces ``query`` matches; returns (cases, skipped trace reasons)."""
    cases: list[EvalCase] = []
    skipped: list[str] = []
    cursor = query.cursor
    while len(cases) + len(skipped) < limit:
        page = client.tracing.list_traces(query.model_copy(update={"cursor": cursor}))
        for trace in page.traces:
            if len(cases) + len(skipped) >= limit:
                break
            detail = client.tracing.get_trace(trace.trace_id)
            case = case_from_spans(trace.trace_id, detail.spans, expected_from_output)
            if case is None:
                skipped.append(f"{trace.trace_id}: no prompt variables or chat messages")
            else:
                cases.append(case)
        cursor = page.next_cursor
        if not cursor:
            break
    return cases, skipped


def case_from_spans(
    trace_id: str, spans: list[Span], expected_from_output: bool
) -> EvalCase | None:
    variables, messages, output = None, None, None
    for span in spans:
        raw = span.attributes.get(VARIABLES_ATTR)
        if variables is None and raw:
            try:
                decoded = orjson.loads(raw) if isinstance(raw, str) else raw
            except orjson.JSONDecodeError:
                decoded = None
            if isinstance(decoded, dict):
                variables, output = decoded, span.output
        if messages is None and span.kind == "llm":
            messages = _messages(span.input)
            if output is None:
                output = span.output
    if variables is None and messages is None:
        return None
    text = _text(output)
    meta: dict[str, Any] = {"source_trace_id": trace_id}
    if text is not None:
        meta["previous_output"] = text
    return EvalCase(
        id=f"trace-{trace_id[:16]}",
        vars=variables or {},
        messages=None if variables else messages,
        expected=text if expected_from_output else None,
        tags=["from-traces"],
        metadata=meta,
    )


def _messages(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    if isinstance(value, dict):
        value = value.get("messages")
    if (
        isinstance(value, list)
        and value
        and all(isinstance(m, dict) and "role" in m for m in value)
    ):
        return [{"role": m["role"], "content": m.get("content")} for m in value]
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        choices = value.get("choices")
        if isinstance(choices, list) and choices:
            first = choices[0]
            if isinstance(first, dict):
                msg = first.get("message") or {}
                return str(msg.get("content") or first.get("text") or "")
    return orjson.dumps(value, default=str).decode()
