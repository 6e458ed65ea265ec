"""What the gateway records about each call: the state a call accumulates on its way, and,
when it ends, its spans (through the tracing service, batched) and its usage ledger row."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.ids import new_id, now_ms
from shipyard.core.settings import Settings
from shipyard.gateway.hooks import Verdict, input_text
from shipyard.gateway.ledger import UsageLedger, UsageRecord
from shipyard.gateway.limits import Budgets, Limiter, Subject
from shipyard.gateway.providers.base import Call
from shipyard.gateway.routes import RouteConfig, Target
from shipyard.gateway.schemas import (
    ChatRequest,
    CompletionRequest,
    Generation,
    Operation,
    Usage,
)
from shipyard.gateway.telemetry import Caller, SpanSink, jsonable


@dataclass(slots=True)
class Resolved:
    name: str
    version: int | None
    config: RouteConfig


@dataclass(slots=True)
class Attempt:
    target: str
    error: str
    ms: float


@dataclass
class CallState:
    """What one call accumulates on its way, for the trace and the ledger."""

    caller: Caller
    operation: Operation
    start_s: float
    t0: float  # perf_counter at the start
    model: str = ""
    route: Resolved | None = None
    call: Call | None = None
    target: Target | None = None
    provider_kind: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    cache: str = "skip"
    span_id: str = ""
    hook_spans: list[tuple[str, str, float, float, Verdict]] = field(default_factory=list)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.t0) * 1000


class Recorder:
    """Writes a finished call's spans and ledger row, and counts its tokens and spend."""

    def __init__(
        self,
        settings: Settings,
        spans: SpanSink,
        ledger: UsageLedger,
        limiter: Limiter,
        budgets: Budgets,
        subjects: Callable[[Caller], list[Subject]],
    ) -> None:
        self.settings = settings
        self.spans = spans
        self.ledger = ledger
        self.limiter = limiter
        self.budgets = budgets
        self._subjects = subjects

    def record(
        self,
        st: CallState,
        gen: Generation | None,
        error: ShipyardError | None,
        cost: float,
        usage: Usage | None,
        model: str | None,
        ttft_ms: float | None,
        stopped: str | None,
    ) -> None:
        end = time.time()
        latency_ms = st.elapsed_ms()
        usage = usage or (gen.usage if gen else Usage())
        caller = st.caller
        if usage.input_tokens or usage.output_tokens:
            tokens = usage.input_tokens + usage.output_tokens
            if st.cache not in ("hit", "semantic"):
                self.limiter.used(self._subjects(caller), tokens)
        self.budgets.add(self._subjects(caller), cost)
        attrs = self._attrs(st, gen, error, cost, usage, model, ttft_ms, stopped)
        route = st.route.name if st.route else (st.model or "unknown")
        op_name = {"chat": "chat", "text_completion": "text_completion",
                   "embeddings": "embeddings"}[st.operation]  # fmt: skip
        span_id = self.spans.span(
            caller,
            name=f"{op_name} {route}",
            start_s=st.start_s,
            end_s=end,
            attrs=attrs,
            status="error" if error else "ok",
            error=f"{error.type}: {error.message}" if error else None,
            parent_id=caller.parent_span_id,
        )
        for name, stage, start, stop, verdict in st.hook_spans:
            self.spans.span(
                caller,
                name=f"guardrail {name} ({stage})",
                start_s=start,
                end_s=stop,
                attrs={
                    "shipyard.span.kind": "guardrail",
                    "shipyard.guardrail.name": name,
                    "shipyard.guardrail.stage": stage,
                    "shipyard.guardrail.verdict": verdict.action,
                    "shipyard.guardrail.message": verdict.message or None,
                    "shipyard.guardrail.detail": jsonable(verdict.detail)
                    if verdict.detail
                    else None,
                    "shipyard.guardrail.latency_ms": (stop - start) * 1000,
                },
                parent_id=span_id,
            )
        target = st.target
        self.ledger.record(
            UsageRecord(
                id=new_id(),
                time_ms=now_ms(),
                key_id=caller.key_id,
                tenant=caller.tenant,
                feature=caller.feature,
                user_id=caller.user,
                session_id=caller.session,
                route=route[:300],
                route_version=st.route.version if st.route else None,
                upstream=target.upstream if target else None,
                model=(model or (gen.model if gen else None) or (target.model if target else None)),
                operation=st.operation,
                status="error" if error else "ok",
                error_type=error.type if error else None,
                cache=st.cache,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cached_input_tokens=usage.cached_input_tokens,
                cost_usd=cost,
                latency_ms=latency_ms,
                ttft_ms=ttft_ms,
                attempts=len(st.attempts),
                trace_id=caller.trace_id,
            )
        )

    def _attrs(
        self,
        st: CallState,
        gen: Generation | None,
        error: ShipyardError | None,
        cost: float,
        usage: Usage,
        model: str | None,
        ttft_ms: float | None,
        stopped: str | None,
    ) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "shipyard.span.kind": "embedding" if st.operation == "embeddings" else "llm",
            "gen_ai.operation.name": st.operation,
            "gen_ai.request.model": st.model or None,
            "shipyard.route": st.route.name if st.route else None,
            "shipyard.gateway.cache": st.cache,
            "shipyard.gateway.attempts": len(st.attempts),
            "shipyard.gateway.retries": max(0, len(st.attempts) - 1),
        }
        attrs.update(st.caller.context_attrs())
        if st.route is not None and st.route.version is not None:
            attrs["shipyard.route.version"] = st.route.version
        if st.target is not None:
            attrs["shipyard.gateway.target"] = st.target.key
            attrs["shipyard.gateway.upstream"] = st.target.upstream
            attrs["gen_ai.provider.name"] = st.provider_kind
        failed = [f"{a.target}: {a.error}" for a in st.attempts if a.error]
        if failed:
            attrs["shipyard.gateway.failed_attempts"] = failed
        answered = model or (gen.model if gen else None)
        if answered:
            attrs["gen_ai.response.model"] = answered
        if gen is not None or usage.input_tokens or usage.output_tokens:
            attrs["gen_ai.usage.input_tokens"] = usage.input_tokens
            attrs["gen_ai.usage.output_tokens"] = usage.output_tokens
            if usage.cached_input_tokens:
                attrs["gen_ai.usage.cache_read.input_tokens"] = usage.cached_input_tokens
            if usage.estimated:
                attrs["shipyard.gateway.usage_estimated"] = True
        attrs["shipyard.cost_usd"] = cost
        if ttft_ms is not None:
            attrs["shipyard.ttft_ms"] = ttft_ms
            attrs["gen_ai.request.stream"] = True
        if stopped:
            attrs["shipyard.gateway.stopped"] = stopped
        call = st.call
        if call is not None:
            req = call.request
            if isinstance(req, ChatRequest | CompletionRequest):
                for key, value in (
                    ("gen_ai.request.temperature", req.temperature),
                    ("gen_ai.request.top_p", req.top_p),
                    ("gen_ai.request.max_tokens", call.max_output()),
                    ("gen_ai.request.seed", req.seed),
                    ("gen_ai.request.choice.count", req.n if req.n != 1 else None),
                    ("gen_ai.request.stop_sequences", req.stops() or None),
                ):
                    if value is not None:
                        attrs[key] = value
            if self.settings.gateway.gateway_trace_content:
                attrs["shipyard.input"] = _input_of(call)
        if gen is not None:
            attrs["gen_ai.response.id"] = gen.body.get("id")
            if gen.finish_reasons:
                attrs["gen_ai.response.finish_reasons"] = gen.finish_reasons
            if self.settings.gateway.gateway_trace_content:
                attrs["shipyard.output"] = gen.text
        return {k: v for k, v in attrs.items() if v is not None}


def _input_of(call: Call) -> str:
    req = call.request
    if isinstance(req, ChatRequest):
        return jsonable([m.model_dump(exclude_none=True) for m in req.messages])
    return input_text(call)
