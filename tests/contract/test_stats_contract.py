"""Aggregates over a window, embedded and remote, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from shipyard.core.ids import now_ms
from shipyard.sdk import Client
from shipyard.tracing.schemas import SpanIn
from shipyard.tracing.stats import StatsQuery
from tests.conftest import unique


def _traces(client: Client, project: str, base: int) -> None:
    spans = []
    for i in range(100):  # tenant acme: latencies 1..100 ms, every 10th an error
        spans.append(
            SpanIn.model_validate(
                {
                    "trace_id": f"{i:024x}{project[-8:]}",
                    "span_id": "a" * 16,
                    "project": project,
                    "name": "chat",
                    "kind": "llm",
                    "start_time_ms": base + i * 60_000,
                    "end_time_ms": base + i * 60_000 + i + 1,
                    "status": "error" if i % 10 == 9 else "ok",
                    "tenant": "acme",
                    "model": "gemma",
                    "input_tokens": 10,
                    "output_tokens": 2,
                    "cost_usd": 0.001,
                    "user_id": f"u{i % 3}",
                    "prompt_name": "faq",
                    "prompt_version": 1 + i % 2,
                }
            )
        )
    for i in range(5):
        spans.append(
            SpanIn.model_validate(
                {
                    "trace_id": f"{i + 500:024x}{project[-8:]}",
                    "span_id": "b" * 16,
                    "project": project,
                    "name": "embed",
                    "kind": "embedding",
                    "start_time_ms": base + i * 1000,
                    "end_time_ms": base + i * 1000 + 1000,
                    "tenant": "globex",
                    "model": "minilm",
                    "input_tokens": 5,
                }
            )
        )
    client.tracing.ingest(spans)


def test_grouped_stats_with_percentiles_scores_and_series(client: Client) -> None:
    project = unique("stats")
    base = now_ms() - 3 * 3_600_000
    _traces(client, project, base)
    first = f"{0:024x}{project[-8:]}"
    second = f"{1:024x}{project[-8:]}"
    client.feedback(first, "thumbs", True)
    client.feedback(second, "thumbs", False)
    client.feedback(second, "relevance", 0.5, source="llm_judge")
    report = client.tracing.stats(
        StatsQuery(by="tenant", project=project, since_ms=base - 1, bucket_ms=3_600_000)
    )
    groups = {g.key: g for g in report.groups}
    acme, globex = groups["acme"], groups["globex"]
    assert [g.key for g in report.groups] == ["acme", "globex"]  # busiest first
    assert (acme.requests, acme.errors, acme.error_rate) == (100, 10, 0.1)
    assert (acme.latency_p50_ms, acme.latency_p95_ms, acme.latency_p99_ms) == (50, 95, 99)
    assert (acme.input_tokens, acme.output_tokens) == (1000, 200)
    assert acme.cost_usd == pytest.approx(0.1)
    assert acme.feedback_count == 2 and acme.feedback_positive_share == 0.5
    assert acme.scores == {"thumbs": 0.5, "relevance": 0.5}
    assert (globex.requests, globex.latency_p50_ms, globex.cost_usd) == (5, 1000, 0.0)
    acme_series = [p for p in report.series if p.key == "acme"]
    assert sum(p.requests for p in acme_series) == 100
    assert [p.requests for p in acme_series][:1] == [60] or len(acme_series) >= 2
    by_prompt = client.tracing.stats(StatsQuery(by="prompt", project=project, since_ms=base - 1))
    assert {g.key: g.requests for g in by_prompt.groups} == {"faq/1": 50, "faq/2": 50, None: 5}
    by_model = client.tracing.stats(StatsQuery(by="model", project=project, since_ms=base - 1))
    assert {g.key for g in by_model.groups} == {"gemma", "minilm"}
    window = client.tracing.stats(StatsQuery(project=project, since_ms=base + 50 * 60_000))
    assert window.groups[0].requests == 50  # only what started inside the window
