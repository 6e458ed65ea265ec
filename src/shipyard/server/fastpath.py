"""The gateway's call endpoints served straight from ASGI.

``POST /v1/chat/completions``, ``/v1/completions`` and ``/v1/embeddings`` are the hot path
of the whole server: every model call of every application goes through them. Measured here,
the web framework's routing, dependency injection and middleware stack cost more per call
than everything the gateway itself does, so these three are answered before the framework
sees them. They keep every behaviour of the rest of the server: the same keys and roles, the
same body limit, the same error bodies (OpenAI's shape), the same request metrics. Their
OpenAPI descriptions stay with the framework's routes, which serve as the reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.core.errors import InvalidInput, PayloadTooLarge, ShipyardError
from shipyard.core.ids import new_id
from shipyard.gateway.schemas import Operation
from shipyard.gateway.service import Answer
from shipyard.gateway.streaming import StreamRun
from shipyard.gateway.telemetry import caller_from
from shipyard.platform import Platform
from shipyard.server.deps import actor_for, presented_key
from shipyard.server.errors import error_body, error_headers
from shipyard.server.middleware import HttpCounters

log = logging.getLogger("shipyard.server")

ROUTES: dict[str, Operation] = {
    "/v1/chat/completions": "chat",
    "/v1/completions": "text_completion",
    "/v1/embeddings": "embeddings",
}
JSON = [(b"content-type", b"application/json")]
SSE = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class GatewayFastPath:
    def __init__(
        self,
        app: ASGIApp,
        *,
        platform: Platform,
        auth_required: bool,
        max_body_bytes: int,
        counters: HttpCounters,
    ) -> None:
        self.app = app
        self.platform = platform
        self.auth_required = auth_required
        self.max_body_bytes = max_body_bytes
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = ROUTES.get(scope.get("path", "")) if scope["type"] == "http" else None
        if operation is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        try:
            status = await self._serve(scope, receive, send, operation)
        finally:
            self.counters.observe("POST", scope["path"], status, time.perf_counter() - start)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, op: Operation) -> int:
        path = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await self._body(headers, receive)
            key = presented_key(headers.get("authorization"), headers.get("x-api-key"))
            actor = actor_for(key, self.platform, self.auth_required)  # cached in memory
            gateway = self.platform.gateway
            caller = caller_from(headers, actor, gateway.settings.gateway.gateway_project)
            if op == "embeddings":
                result: Answer | StreamRun = await gateway.embed(caller, body)
            else:
                result = await gateway.generate(caller, op, body)
        except ShipyardError as exc:
            return await _error(send, path, exc)
        except Exception:
            incident = new_id()
            log.exception("unexpected error %s on POST %s", incident, path)
            err = ShipyardError(f"internal error; the server log has incident {incident}")
            return await _error(send, path, err)
        if isinstance(result, Answer):
            data = orjson.dumps(result.body)
            await send({"type": "http.response.start", "status": 200,
                        "headers": JSON + _encode(result.headers)})  # fmt: skip
            await send({"type": "http.response.body", "body": data})
            return 200
        await send({"type": "http.response.start", "status": 200,
                    "headers": SSE + _encode(result.headers)})  # fmt: skip
        await _stream(result, receive, send)
        return 200

    async def _body(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise InvalidInput("invalid Content-Length header") from None
            if size > limit:
                raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        parts: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                raise InvalidInput("the client went away before sending the whole body")
            chunk = msg.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise PayloadTooLarge(f"request body is larger than {limit} bytes")
            parts.append(chunk)
            if not msg.get("more_body"):
                return b"".join(parts)


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


async def _error(send: Send, path: str, exc: ShipyardError) -> int:
    data = orjson.dumps(error_body(path, exc.status, exc.type, exc.message, exc.details))
    extra = _encode(error_headers(exc))
    await send({"type": "http.response.start", "status": exc.status, "headers": JSON + extra})
    await send({"type": "http.response.body", "body": data})
    return exc.status


async def _stream(run: StreamRun, receive: Receive, send: Send) -> None:
    """Send a stream's events; stop (and record the call as abandoned) if the client leaves."""
    gone = asyncio.Event()

    async def watch() -> None:
        while True:
            msg: Message = await receive()
            if msg["type"] == "http.disconnect":
                gone.set()
                return

    watcher = asyncio.create_task(watch())
    events = run.events()
    try:
        async for chunk in events:
            if gone.is_set():
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        else:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await watcher
        await events.aclose()  # type: ignore[attr-defined]


DESCRIPTIONS = {
    "/v1/chat/completions": "OpenAI-compatible chat completions (``stream: true`` answers "
    "with server-sent events).",
    "/v1/completions": "OpenAI-compatible text completions.",
    "/v1/embeddings": "OpenAI-compatible embeddings (``encoding_format`` float or base64).",
}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the fast-path endpoints to an OpenAPI schema."""
    paths = schema.setdefault("paths", {})
    for path, text in DESCRIPTIONS.items():
        paths[path] = {"post": {
            "tags": ["gateway"], "summary": text.split(" (")[0].rstrip("."),
            "description": text, "operationId": "gateway_" + path.rsplit("/", 1)[-1],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "An OpenAI-shaped answer (or an event "
                                  "stream)"}, "4XX": {"description": "An OpenAI-shaped error"}},
        }}  # fmt: skip
    return schema
