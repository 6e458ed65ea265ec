"""ASGI middleware: request rates per caller (429), request body limits (413 up front, or as
soon as a body overflows), and HTTP metrics."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.core.metrics import Registry
from shipyard.gateway.limits import MemoryRates, RateStore
from shipyard.gateway.limits import wait_s as rate_wait
from shipyard.server.errors import error_body


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Reject bodies over ``limit`` bytes (``large_limit`` where ``large(path)`` is true)."""

    def __init__(
        self, app: ASGIApp, *, limit: int, large_limit: int, large: Callable[[str], bool]
    ) -> None:
        self.app = app
        self.limit = limit
        self.large_limit = large_limit
        self.large = large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.large_limit if self.large(scope.get("path", "")) else self.limit
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reject(
                        send, 400, "InvalidInput", "invalid Content-Length header",
                        scope.get("path", ""),
                    )  # fmt: skip
                    return
                if declared > limit:
                    await _too_large(send, limit, scope.get("path", ""))
                    return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send, limit, scope.get("path", ""))


class RequestRate:
    """At most ``rpm`` requests a minute per caller — its API key, else its address — on every
    route but the health checks; past that, a 429 with ``Retry-After``. This guards the whole
    API; the gateway's own per-key and per-tenant limits come on top of it. The counts live
    behind ``RateStore``, so a shared store (Redis) can serve several replicas."""

    EXEMPT = ("/healthz", "/v2/health/live", "/v2/health/ready")

    def __init__(self, app: ASGIApp, *, rpm: int, store: RateStore | None = None) -> None:
        self.app = app
        self.rpm = rpm
        self.store = store or MemoryRates()

    def _caller(self, scope: Scope) -> tuple[str, str]:
        for name, value in scope.get("headers", ()):
            if name in (b"authorization", b"x-api-key") and value:
                return "key", hashlib.sha256(value).hexdigest()[:32]
        client = scope.get("client") or ("unknown", 0)
        return "address", str(client[0])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rpm <= 0 or scope.get("path") in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        subject, now = self._caller(scope), time.time()
        current, _, previous, _ = self.store.rates(subject, now)
        if current + 1 > self.rpm:
            retry = max(1, math.ceil(rate_wait(current, previous, self.rpm, now)))
            message = f"more than {self.rpm} requests a minute from this caller; retry in {retry} s"
            await _reject(send, 429, "RateLimited", message, scope.get("path", ""),
                          [(b"retry-after", str(retry).encode())])  # fmt: skip
            return
        self.store.add(subject, 1, 0, now)
        await self.app(scope, receive, send)


async def _too_large(send: Send, limit: int, path: str) -> None:
    message = f"request body is larger than {limit} bytes"
    await _reject(send, 413, "PayloadTooLarge", message, path)


async def _reject(send: Send, status: int, type_: str, message: str, path: str,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:  # fmt: skip
    body = orjson.dumps(error_body(path, status, type_, message))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HttpCounters:
    """Requests and latency by method, route template (bounded) and status."""

    def __init__(self, registry: Registry) -> None:
        self.requests = registry.counter(
            "shipyard_http_requests_total", "HTTP requests.", ["method", "route", "status"]
        )
        self.latency = registry.histogram(
            "shipyard_http_request_duration_seconds", "HTTP request latency.", ["method", "route"]
        )

    def observe(self, method: str, template: str, status: int, seconds: float) -> None:
        self.requests.inc(1, method, template, str(status))
        self.latency.observe(seconds, method, template)


class HttpMetrics:
    """Counts every request in :class:`HttpCounters`."""

    def __init__(self, app: ASGIApp, *, counters: HttpCounters) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.counters.observe(method, template, status, time.perf_counter() - start)
