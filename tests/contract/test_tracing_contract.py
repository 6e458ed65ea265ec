"""Instrumenting app code with the SDK, embedded and remote, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading

import pytest

import shipyard
from shipyard import NotFound
from shipyard.sdk import Client
from shipyard.tracing.schemas import TraceQuery
from shipyard.tracing.sdk import ContextThreadPoolExecutor, propagate
from tests.conftest import unique


def test_decorated_functions_nest_and_capture(client: Client) -> None:
    project = unique("app")

    @client.trace(kind="retrieval")
    def retrieve(question: str, k: int = 3) -> list[str]:
        return [f"doc-{i}" for i in range(k)]

    @client.trace(name="generate", kind="llm")
    def generate(prompt: str) -> str:
        span = shipyard.current_span()
        assert span is not None
        span.set_usage(model="gemma3-270m", input_tokens=42, output_tokens=7, cost_usd=0.001)
        return "answer"

    @client.trace
    def answer(question: str) -> str:
        docs = retrieve(question, k=2)
        return generate(f"{docs} {question}")

    with client.span(
        "request",
        user_id="u1",
        session_id="s1",
        tenant="acme",
        feature="faq",
        tags=["beta"],
        project=project,
    ) as root:
        assert answer("why?") == "answer"
    client.flush()
    detail = client.tracing.get_trace(root.trace_id)
    names = [s.name for s in detail.spans]
    assert names[0] == "request" and names[1].endswith("answer")
    assert names[2:] == [names[2], "generate"] and names[2].endswith("retrieve")
    kinds = {s.name: s.kind for s in detail.spans}
    assert kinds["generate"] == "llm" and kinds[names[2]] == "retrieval"
    by_name = {s.name: s for s in detail.spans}
    assert by_name[names[2]].input == '{"question":"why?","k":2}'
    assert by_name["generate"].output == "answer"
    t = detail.trace
    assert (t.user_id, t.session_id, t.tenant, t.feature, t.tags) == (
        "u1",
        "s1",
        "acme",
        "faq",
        ["beta"],
    )
    assert (t.input_tokens, t.output_tokens, t.model, t.span_count) == (42, 7, "gemma3-270m", 4)
    assert t.project == project and t.cost_usd == pytest.approx(0.001)


def test_exceptions_are_recorded_and_reraised(client: Client) -> None:
    @client.trace
    def flaky() -> None:
        raise RuntimeError("model overloaded")

    with pytest.raises(RuntimeError), client.span("outer") as outer:
        flaky()
    client.flush()
    detail = client.tracing.get_trace(outer.trace_id)
    assert detail.trace.status == "error" and detail.trace.error_count == 2
    inner = detail.spans[1]
    assert inner.error == "RuntimeError: model overloaded"
    assert any(e["name"] == "exception" for e in inner.events)


def test_async_functions_and_tasks(client: Client) -> None:
    @client.trace(kind="tool")
    async def lookup(i: int) -> int:
        await asyncio.sleep(0)
        return i * 2

    @client.trace
    async def fan_out() -> list[int]:
        return list(await asyncio.gather(*(lookup(i) for i in range(3))))

    async def main() -> str:
        with client.span("async-root") as root:
            assert await fan_out() == [0, 2, 4]
        return root.trace_id

    trace_id = asyncio.run(main())
    client.flush()
    spans = client.tracing.get_trace(trace_id).spans
    fan = next(s for s in spans if s.name.endswith("fan_out"))
    lookups = [s for s in spans if s.name.endswith("lookup")]
    assert len(lookups) == 3 and all(s.parent_id == fan.span_id for s in lookups)


def test_context_is_carried_into_threads(client: Client) -> None:
    seen: list[str | None] = []

    def work() -> None:
        with client.span("in-thread") as s:
            seen.append(s.parent_id)

    with client.span("parent") as parent:
        t = threading.Thread(target=propagate(work))
        t.start()
        t.join()
        with ContextThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: work(), range(2)))
            pool.submit(work).result()
    assert seen == [parent.span_id] * 4


def test_feedback_and_filters(client: Client) -> None:
    with client.span("chat", user_id=unique("user")) as s:
        pass
    client.flush()
    score = client.feedback(s.trace_id, "thumbs", True, "helpful")
    assert score.kind == "boolean" and score.value == 1.0
    client.feedback(s.trace_id, "rating", 4)
    client.feedback(s.trace_id, "category", "billing")
    detail = client.tracing.get_trace(s.trace_id)
    assert {(x.name, x.kind) for x in detail.scores} == {
        ("thumbs", "boolean"),
        ("rating", "numeric"),
        ("category", "categorical"),
    }
    user = detail.trace.user_id
    found = client.tracing.list_traces(TraceQuery(user_id=user, score_name="rating", min_score=3))
    assert [t.trace_id for t in found.traces] == [s.trace_id]
    assert (
        client.tracing.list_traces(
            TraceQuery(user_id=user, score_name="rating", min_score=5)
        ).traces
        == []
    )
    with pytest.raises(NotFound):
        client.tracing.get_trace("0" * 32)


def test_cursor_pagination(client: Client) -> None:
    project = unique("pages")
    ids = []
    for i in range(7):
        with client.span(f"req-{i}", project=project) as s:
            pass
        ids.append(s.trace_id)
    client.flush()
    seen: list[str] = []
    cursor = None
    while True:
        page = client.tracing.list_traces(TraceQuery(project=project, limit=3, cursor=cursor))
        seen.extend(t.trace_id for t in page.traces)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7
