"""What the gateway records about each call: the state a call accumulates on its way, and,
when it ends, its spans (through the tracing service, batched) and its usage ledger row."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.ids import new_id
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
from shipyard.gateway.telemetry import Caller, jsonable
from shipyard.tracing.mapping import to_record
from shipyard.tracing.records import SpanRecord
from shipyard.tracing.service import TracingService

log = logging.getLogger("shipyard.gateway")
BATCH = 5000
LINGER_S = 0.1


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
    # tokens of answers a guardrail rejected and had asked again: paid for all the same
    spent: Usage = field(default_factory=Usage)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.t0) * 1000


@dataclass(slots=True)
class _Finished:
    st: CallState
    gen: Generation | None
    error: ShipyardError | None
    cost: float
    usage: Usage
    model: str | None
    ttft_ms: float | None
    stopped: str | None
    end_s: float
    latency_ms: float


class Recorder:
    """Records finished calls. The request path only counts tokens and spend (cheap, and
    needed by the next request) and queues the call; a background thread turns queued calls
    into spans and ledger rows in batches, so building them never adds to a call's latency."""

    def __init__(
        self,
        settings: Settings,
        tracing: TracingService,
        ledger: UsageLedger,
        limiter: Limiter,
        budgets: Budgets,
        subjects: Callable[[Caller], list[Subject]],
    ) -> None:
        self.settings = settings
        self.tracing = tracing
        self.ledger = ledger
        self.limiter = limiter
        self.budgets = budgets
        self._subjects = subjects
        self._queue: queue.SimpleQueue[_Finished | None] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._hurry = threading.Event()
        self._queued = 0
        self._done = 0
        self._last: Future[int] | None = None
        self._thread: threading.Thread | None = None

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
        usage = usage or (gen.usage if gen else Usage())
        subjects = self._subjects(st.caller)
        if (usage.input_tokens or usage.output_tokens) and st.cache not in ("hit", "semantic"):
            self.limiter.used(subjects, usage.input_tokens + usage.output_tokens)
        self.budgets.add(subjects, cost)
        item = _Finished(st, gen, error, cost, usage, model, ttft_ms, stopped, time.time(),
                         st.elapsed_ms())  # fmt: skip
        with self._cond:
            self._queued += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="shipyard-gateway-record", daemon=True
                )
                self._thread.start()
        self._queue.put(item)

    def flush(self, timeout_s: float = 30.0) -> Future[int] | None:
        """Wait until every queued call is handed to the writers; the returned future (of the
        span writer) resolves once they are stored. The ledger is flushed too."""
        with self._cond:
            target = self._queued
            self._hurry.set()
            self._cond.wait_for(lambda: self._done >= target, timeout_s)
            last = self._last
        self.ledger.flush()
        return last

    def close(self) -> None:
        if self._thread is not None:
            self._hurry.set()
            self._queue.put(None)
            self._thread.join(30)
            self._thread = None

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            # linger a little so calls share a batch (one transaction for many calls costs a
            # fraction of one each); flush() cuts it short
            self._hurry.wait(LINGER_S)
            self._hurry.clear()
            batch = [first]
            stop = False
            while len(batch) < BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Finished]) -> None:
        spans: list[SpanRecord] = []
        rows: list[UsageRecord] = []
        for item in batch:
            try:
                spans.extend(self._spans(item))
                rows.append(self._usage_row(item))
            except Exception:
                log.exception("could not record a gateway call")
        last = self.tracing.submit(spans) if spans else None
        if rows:
            self.ledger.record_many(rows)
        with self._cond:
            if last is not None:
                self._last = last
            self._done += len(batch)
            self._cond.notify_all()

    def _span(self, caller: Caller, name: str, start_s: float, end_s: float,
              attrs: dict[str, Any], status: str = "ok", error: str | None = None,
              parent_id: str | None = None) -> SpanRecord:  # fmt: skip
        return to_record(
            trace_id=caller.trace_id,
            span_id=secrets.token_hex(8),
            parent_id=parent_id,
            project=caller.project,
            name=name,
            start_ns=int(start_s * 1e9),
            end_ns=int(end_s * 1e9),
            status=status,
            status_message=error,
            attrs=attrs,
            events=[],
            limits=self.tracing.limits,
            policy=self.tracing.policy(caller.project),
        )

    def _spans(self, f: _Finished) -> list[SpanRecord]:
        st, caller = f.st, f.st.caller
        attrs = self._attrs(st, f.gen, f.error, f.cost, f.usage, f.model, f.ttft_ms, f.stopped)
        route = st.route.name if st.route else (st.model or "unknown")
        error = f.error
        main = self._span(
            caller, f"{st.operation} {route}", st.start_s, f.end_s, attrs,
            status="error" if error else "ok",
            error=f"{error.type}: {error.message}" if error else None,
            parent_id=caller.parent_span_id,
        )  # fmt: skip
        out = [main]
        for name, stage, start, stop, verdict in st.hook_spans:
            hook_attrs = {
                "shipyard.span.kind": "guardrail",
                "shipyard.guardrail.name": name,
                "shipyard.guardrail.stage": stage,
                "shipyard.guardrail.verdict": verdict.action,
                "shipyard.guardrail.message": verdict.message or None,
                "shipyard.guardrail.detail": jsonable(verdict.detail) if verdict.detail else None,
                "shipyard.guardrail.latency_ms": (stop - start) * 1000,
            }
            hook_span = self._span(caller, f"guardrail {name} ({stage})", start, stop,
                                   hook_attrs, parent_id=main.span_id)  # fmt: skip
            out.append(hook_span)
            out.extend(self._check_spans(caller, stage, start, stop, verdict, hook_span.span_id))
        return out

    def _check_spans(self, caller: Any, stage: str, start: float, stop: float, verdict: Any,
                     parent: str) -> list[SpanRecord]:  # fmt: skip
        """One span per check a policy ran: its verdict, score, entity types and latency."""
        spans = []
        for c in (
            (verdict.detail or {}).get("checks", []) if isinstance(verdict.detail, dict) else []
        ):
            attrs = {
                "shipyard.span.kind": "guardrail", "shipyard.guardrail.name": c["check"],
                "shipyard.guardrail.stage": stage, "shipyard.guardrail.verdict": c["action"],
                "shipyard.guardrail.score": c["score"],
                "shipyard.guardrail.entities": ",".join(c["entities"]) or None,
                "shipyard.guardrail.latency_ms": c["ms"],
            }  # fmt: skip
            end = min(stop, start + c["ms"] / 1000)
            spans.append(self._span(caller, f"guardrail {c['check']}", start, end, attrs,
                                    parent_id=parent))  # fmt: skip
        return spans

    def _usage_row(self, f: _Finished) -> UsageRecord:
        st, caller, target, gen = f.st, f.st.caller, f.st.target, f.gen
        route = st.route.name if st.route else (st.model or "unknown")
        return UsageRecord(
            id=new_id(),
            time_ms=int(f.end_s * 1000),
            key_id=caller.key_id,
            tenant=caller.tenant,
            feature=caller.feature,
            user_id=caller.user,
            session_id=caller.session,
            route=route[:300],
            route_version=st.route.version if st.route else None,
            upstream=target.upstream if target else None,
            model=f.model or (gen.model if gen else None) or (target.model if target else None),
            operation=st.operation,
            status="error" if f.error else "ok",
            error_type=f.error.type if f.error else None,
            cache=st.cache,
            input_tokens=f.usage.input_tokens,
            output_tokens=f.usage.output_tokens,
            cached_input_tokens=f.usage.cached_input_tokens,
            cost_usd=f.cost,
            latency_ms=f.latency_ms,
            ttft_ms=f.ttft_ms,
            attempts=len(st.attempts),
            trace_id=caller.trace_id,
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
