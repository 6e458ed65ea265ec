"""Instrumenting application code: ``@trace``, ``with span(...)``, the current span.

Spans nest through a context variable, so nesting follows the call stack and is carried into
asyncio tasks by themselves; for threads, ``propagate(fn)`` (or ``ContextThreadPoolExecutor``)
carries the current span along. Ending a span only appends it to an in-memory buffer that a
background thread exports: instrumented code never waits on I/O.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from shipyard.core.batching import Batcher
from shipyard.tracing.schemas import SpanIn, SpanKind

F = TypeVar("F", bound=Callable[..., Any])
_current: contextvars.ContextVar[ActiveSpan | None] = contextvars.ContextVar(
    "shipyard_span", default=None
)
CONTEXT_FIELDS = ("user_id", "session_id", "tenant", "feature", "tags", "project")


class ActiveSpan:
    """A span being recorded. Set what you learn; it is exported when it ends."""

    def __init__(
        self,
        exporter: Batcher[SpanIn],
        name: str,
        kind: str = "chain",
        parent: ActiveSpan | None = None,
        **fields: Any,
    ) -> None:
        self._exporter = exporter
        self.name = name
        self.kind = kind
        self.trace_id: str = parent.trace_id if parent else os.urandom(16).hex()
        self.span_id = os.urandom(8).hex()
        self.parent_id = parent.span_id if parent else None
        self.start_ms = time.time_ns() / 1_000_000
        self.attributes: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.status = "unset"
        self.status_message: str | None = None
        self.fields: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        if parent is not None:  # request context flows down to every child span
            for key in CONTEXT_FIELDS:
                if key in parent.fields and key not in self.fields:
                    self.fields[key] = parent.fields[key]
        self.ended = False

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes[key] = value

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        self.attributes.update(attributes)

    def set_input(self, value: Any) -> None:
        self.fields["input"] = value

    def set_output(self, value: Any) -> None:
        self.fields["output"] = value

    def set_usage(
        self,
        *,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
    ) -> None:
        for key, value in (
            ("model", model),
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("cost_usd", cost_usd),
        ):
            if value is not None:
                self.fields[key] = value

    def add_event(self, name: str, attributes: dict[str, Any] | None = None) -> None:
        self.events.append(
            {"name": name, "time_ns": time.time_ns(), "attributes": attributes or {}}
        )

    def record_exception(self, exc: BaseException) -> None:
        self.status, self.status_message = "error", f"{type(exc).__name__}: {exc}"
        self.add_event(
            "exception",
            {
                "exception.type": type(exc).__name__,
                "exception.message": str(exc),
                "exception.stacktrace": "".join(traceback.format_exception(exc))[-4000:],
            },
        )

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.status == "unset":
            self.status = "ok"
        self._exporter.add(
            SpanIn.model_construct(
                trace_id=self.trace_id, span_id=self.span_id, parent_id=self.parent_id,
                project=self.fields.get("project"), name=self.name, kind=self.kind,
                start_time_ms=self.start_ms, end_time_ms=time.time_ns() / 1_000_000,
                status=self.status, status_message=self.status_message,
                attributes=self.attributes, events=self.events,
                input=self.fields.get("input"), output=self.fields.get("output"),
                model=self.fields.get("model"), input_tokens=self.fields.get("input_tokens"),
                output_tokens=self.fields.get("output_tokens"),
                cost_usd=self.fields.get("cost_usd"), prompt_name=self.fields.get("prompt_name"),
                prompt_version=self.fields.get("prompt_version"),
                user_id=self.fields.get("user_id"), session_id=self.fields.get("session_id"),
                tenant=self.fields.get("tenant"), feature=self.fields.get("feature"),
                tags=list(self.fields.get("tags") or []),
            )
        )  # fmt: skip


def current_span() -> ActiveSpan | None:
    return _current.get()


@contextmanager
def open_span(
    exporter: Batcher[SpanIn], name: str, kind: SpanKind = "chain", **fields: Any
) -> Iterator[ActiveSpan]:
    span = ActiveSpan(exporter, name, kind, parent=_current.get(), **fields)
    token = _current.set(span)
    try:
        yield span
    except BaseException as exc:
        span.record_exception(exc)
        raise
    finally:
        _current.reset(token)
        span.end()


def _captured(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return {"args": [repr(a)[:1000] for a in args]}
    return {
        k: v if isinstance(v, str | int | float | bool | type(None)) else repr(v)[:1000]
        for k, v in bound.arguments.items()
        if k not in ("self", "cls")
    }


def _output(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)[:4000]


def decorate(
    get_exporter: Callable[[], Batcher[SpanIn]],
    fn: Callable[..., Any],
    *,
    name: str | None,
    kind: SpanKind,
    capture: bool,
    fields: dict[str, Any],
) -> Callable[..., Any]:
    span_name = name or fn.__qualname__
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with open_span(get_exporter(), span_name, kind, **fields) as span:
                if capture:
                    span.set_input(_captured(fn, args, kwargs))
                result = await fn(*args, **kwargs)
                if capture:
                    span.set_output(_output(result))
                return result

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with open_span(get_exporter(), span_name, kind, **fields) as span:
            if capture:
                span.set_input(_captured(fn, args, kwargs))
            result = fn(*args, **kwargs)
            if capture:
                span.set_output(_output(result))
            return result

    return wrapper


def trace_decorator(
    get_exporter: Callable[[], Batcher[SpanIn]],
    fn: Callable[..., Any] | None,
    *,
    name: str | None,
    kind: SpanKind,
    capture: bool,
    fields: dict[str, Any],
) -> Any:
    """``@trace`` and ``@trace(...)`` alike: the decorated function, or a decorator."""

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        return decorate(get_exporter, f, name=name, kind=kind, capture=capture, fields=fields)

    return wrap(fn) if fn is not None else wrap


def propagate(fn: F) -> F:
    """Run ``fn`` (later, in another thread) inside the current span's context."""
    ctx = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        return ctx.run(fn, *args, **kwargs)

    return run  # type: ignore[return-value]


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks see the span that was current when they were submitted."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(propagate(fn), *args, **kwargs)
