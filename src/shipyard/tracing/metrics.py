"""Prometheus series derived from the spans this server stores."""

from __future__ import annotations

from shipyard.core.metrics import Registry
from shipyard.tracing.records import RowBatch


class TraceMetrics:
    def __init__(self, registry: Registry) -> None:
        self.spans = registry.counter(
            "shipyard_spans_ingested_total", "Spans stored, by kind.", ["kind"]
        )
        labels = ["model", "route", "tenant"]
        self.requests = registry.counter(
            "shipyard_llm_requests_total", "LLM and embedding calls, by outcome.",
            [*labels, "status"],
        )  # fmt: skip
        self.latency = registry.histogram(
            "shipyard_llm_request_duration_seconds", "Latency of LLM and embedding calls.",
            ["model", "route"],
        )  # fmt: skip
        self.tokens = registry.counter(
            "shipyard_llm_tokens_total", "Tokens, by direction (input, output).",
            [*labels, "direction"],
        )  # fmt: skip
        self.cost = registry.counter(
            "shipyard_llm_cost_usd_total", "Cost of LLM and embedding calls in USD.", labels
        )

    def observe(self, batch: RowBatch) -> None:
        for kind, n in batch.kinds.items():
            self.spans.inc(n, kind)
        for model, route, tenant, status, duration_ms, tin, tout, cost in batch.generations:
            self.requests.inc(1, model, route, tenant, status)
            self.latency.observe(duration_ms / 1000, model, route)
            if tin:
                self.tokens.inc(tin, model, route, tenant, "input")
            if tout:
                self.tokens.inc(tout, model, route, tenant, "output")
            if cost:
                self.cost.inc(cost, model, route, tenant)
