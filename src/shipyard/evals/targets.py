"""What an eval run asks: a prompt version (through the gateway), a route or model (cases
give the messages), or any Python callable."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.evals.schemas import EvalCase, Output
from shipyard.registry.schemas import parse_ref
from shipyard.tracing.sdk import current_span

if TYPE_CHECKING:
    from shipyard.sdk import Client


def _digest(*parts: Any) -> str:
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()


def _listing(problems: list[str]) -> str:
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return "; ".join(problems[:5]) + more


class EvalTarget(ABC):
    kind: str
    label: str

    @abstractmethod
    def params(self) -> dict[str, str]:
        """What the run is logged with (prompt version, model, temperature, ...)."""

    @abstractmethod
    def fingerprint(self) -> str:
        """Equal for two targets that would answer the same way (resume and reuse key)."""

    def check(self, cases: list[EvalCase]) -> None:
        """Refuse, before anything runs, cases this target cannot take."""
        return None

    @abstractmethod
    def run(self, case: EvalCase) -> Output: ...


class PromptTarget(EvalTarget):
    """A prompt version, pinned when the run starts (a label that moves mid-run does not mix
    two versions into one run)."""

    kind = "prompt"

    def __init__(
        self, client: Client, ref: str, *, model: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        name, label, version = parse_ref(ref)
        if label is None and version is None:
            label = "production"
        self.client = client
        self.prompt = client.prompts.get(name, label, version, cache_ttl_s=0)
        self.model = model
        self.overrides = dict(params or {})
        where = f"@{label}" if label else ""
        self.label = f"prompt {name}{where} (v{self.prompt.version})"
        self.ref_label = label

    def params(self) -> dict[str, str]:
        spec = self.prompt.spec
        out = {
            "target": "prompt",
            "prompt": self.prompt.name,
            "prompt_version": str(self.prompt.version),
            "model": self.model or spec.target or "",
        }
        if self.ref_label:
            out["prompt_label"] = self.ref_label
        for key, value in {**spec.params.body(), **self.overrides}.items():
            out[key] = value if isinstance(value, str) else orjson.dumps(value).decode()
        return out

    def fingerprint(self) -> str:
        return _digest("prompt", self.prompt.data.content_hash, self.prompt.ref, self.model,
                       self.overrides)  # fmt: skip

    def check(self, cases: list[EvalCase]) -> None:
        needed = set(self.prompt.variables) - set(self.prompt.spec.defaults)
        problems = []
        for case in cases:
            missing = sorted(needed - set(case.vars))
            if missing:
                problems.append(f"case {case.id} lacks {', '.join(missing)}")
        if problems:
            raise InvalidInput(
                f"{len(problems)} case(s) miss variables that {self.prompt.ref} needs: "
                + _listing(problems)
            )
        self.prompt.request({v: "" for v in self.prompt.variables}, model=self.model)

    def run(self, case: EvalCase) -> Output:
        c = self.prompt.complete_with(case.vars, model=self.model, params=self.overrides)
        return Output(
            text=c.text, latency_ms=c.latency_ms, cost_usd=c.cost_usd,
            input_tokens=c.input_tokens, output_tokens=c.output_tokens, model=c.model,
            trace_id=c.trace_id, raw=c.body,
        )  # fmt: skip


class ModelTarget(EvalTarget):
    """A gateway route or ``upstream/model``, called with each case's chat messages."""

    kind = "model"

    def __init__(self, client: Client, model: str, params: dict[str, Any] | None = None) -> None:
        self.client = client
        self.model = model
        self.overrides = dict(params or {})
        self.label = f"model {model}"

    def params(self) -> dict[str, str]:
        out = {"target": "model", "model": self.model}
        for key, value in self.overrides.items():
            out[key] = value if isinstance(value, str) else orjson.dumps(value).decode()
        return out

    def fingerprint(self) -> str:
        return _digest("model", self.model, self.overrides)

    def check(self, cases: list[EvalCase]) -> None:
        bare = [f"case {c.id}" for c in cases if not c.messages]
        if bare:
            raise InvalidInput(
                f"{len(bare)} case(s) have no messages to send to {self.model} "
                f"(cases with variables need a prompt: --prompt NAME@label): {_listing(bare)}"
            )

    def run(self, case: EvalCase) -> Output:
        body = {"model": self.model, "messages": case.messages, **self.overrides}
        context: dict[str, str | None] = {}
        span = current_span()
        if span is not None:
            context["traceparent"] = f"00-{span.trace_id}-{span.span_id}-01"
            context["project"] = span.fields.get("project")
        start = time.perf_counter()
        reply = self.client.gateway.call("chat", body, **context)
        elapsed = (time.perf_counter() - start) * 1000
        choice = (reply.body.get("choices") or [{}])[0]
        usage = reply.body.get("usage") or {}
        return Output(
            text=(choice.get("message") or {}).get("content") or "", latency_ms=elapsed,
            cost_usd=reply.cost_usd, input_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"), model=reply.body.get("model"),
            trace_id=span.trace_id if span else reply.trace_id, raw=reply.body,
        )  # fmt: skip


class CallableTarget(EvalTarget):
    """Any function: called with the case's variables as keyword arguments (or, when it takes
    a ``case`` parameter, with the case; or with the messages). It returns the answer text, a
    dict with ``output`` (and ``cost_usd``), or an object with ``.text``."""

    kind = "callable"

    def __init__(self, fn: Callable[..., Any] | str) -> None:
        if isinstance(fn, str):
            fn = load_callable(fn)
        self.fn = fn
        self.name = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"
        self.label = f"function {self.name}"
        self._takes_case = "case" in _parameters(fn)

    def params(self) -> dict[str, str]:
        return {"target": "callable", "function": self.name}

    def fingerprint(self) -> str:
        try:
            source = inspect.getsource(self.fn)
        except (OSError, TypeError):
            source = ""
        return _digest("callable", self.name, source)

    def run(self, case: EvalCase) -> Output:
        start = time.perf_counter()
        if self._takes_case:
            answer = self.fn(case=case)
        elif case.vars or not case.messages:
            answer = self.fn(**case.vars)
        else:
            answer = self.fn(case.messages)
        elapsed = (time.perf_counter() - start) * 1000
        span = current_span()
        return _output(answer, elapsed, span.trace_id if span else None)


def _parameters(fn: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


def _output(answer: Any, elapsed_ms: float, trace_id: str | None) -> Output:
    if isinstance(answer, Output):
        return answer
    if isinstance(answer, str):
        return Output(answer, latency_ms=elapsed_ms, trace_id=trace_id)
    if isinstance(answer, dict):
        text = answer.get("output", answer.get("text", ""))
        return Output(
            text if isinstance(text, str) else orjson.dumps(text).decode(),
            latency_ms=float(answer.get("latency_ms", elapsed_ms)),
            cost_usd=answer.get("cost_usd"), trace_id=trace_id, raw=answer,
        )  # fmt: skip
    text = getattr(answer, "text", None)
    if isinstance(text, str):
        return Output(text, latency_ms=elapsed_ms, cost_usd=getattr(answer, "cost_usd", None),
                      trace_id=trace_id, raw=answer)  # fmt: skip
    return Output("" if answer is None else str(answer), latency_ms=elapsed_ms, trace_id=trace_id)


def load_callable(ref: str) -> Callable[..., Any]:
    """``package.module:function`` → the function."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise InvalidInput(f"a function is given as module:name, not {ref!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidInput(f"cannot import {module_name!r}: {exc}") from None
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise InvalidInput(f"{module_name!r} has no {attr!r}")
    if not callable(obj):
        raise InvalidInput(f"{ref} is not callable")
    return obj
