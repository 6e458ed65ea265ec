"""Prometheus series derived from the spans this server stores."""

from __future__ import annotations

from shipyard.core.metrics import Registry
from shipyard.tracing.records import SpanRecord

GENERATION_KINDS = ("llm", "embedding")


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

    def observe(self, spans: list[SpanRecord]) -> None:
        for s in spans:
            self.spans.inc(1, s.kind)
            if s.kind not in GENERATION_KINDS:
                continue
            model = s.model or "unknown"
            self.requests.inc(1, model, s.route, s.tenant, "error" if s.status == "error" else "ok")
            self.latency.observe(s.duration_ms / 1000, model, s.route)
            if s.input_tokens:
                self.tokens.inc(s.input_tokens, model, s.route, s.tenant, "input")
            if s.output_tokens:
                self.tokens.inc(s.output_tokens, model, s.route, s.tenant, "output")
            if s.cost_usd:
                self.cost.inc(s.cost_usd, model, s.route, s.tenant)
