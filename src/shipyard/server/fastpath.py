"""The server's hot endpoints, served straight from ASGI.

``POST /v1/chat/completions``, ``/v1/completions`` and ``/v1/embeddings`` are the hot path
of the whole server: every model call of every application goes through them; and
``GET /api/v1/prompts/{name}`` is what every application does when it starts or its prompt
cache expires. Measured here, the web framework's routing, dependency injection and
middleware stack cost more per call than the work itself, so these are answered before the
framework sees them. They keep every behaviour of the rest of the server: the same keys and
roles, the same body limit, the same error bodies (OpenAI's shape on the gateway), the same
request metrics. The prompt endpoint's OpenAPI description stays with the framework's route,
which serves as the reference; the gateway's are added by :func:`document`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.core.errors import InvalidInput, PayloadTooLarge, ShipyardError, ValidationFailed
from shipyard.core.identity import Actor, Role
from shipyard.core.ids import new_id
from shipyard.gateway.schemas import Operation
from shipyard.gateway.service import Answer
from shipyard.gateway.streaming import StreamRun
from shipyard.gateway.telemetry import caller_from
from shipyard.platform import Platform
from shipyard.prompts.service import wire
from shipyard.server.deps import actor_for, presented_key
from shipyard.server.errors import error_body, error_headers
from shipyard.server.middleware import HttpCounters

log = logging.getLogger("shipyard.server")

ROUTES: dict[str, Operation] = {
    "/v1/chat/completions": "chat",
    "/v1/completions": "text_completion",
    "/v1/embeddings": "embeddings",
}
PROMPTS = "/api/v1/prompts/"
PROMPT_ROUTE = "/api/v1/prompts/{name}"
MAX_VERSION = 2**31 - 1
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
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method = scope.get("method")
        operation = ROUTES.get(path)
        if operation is not None and method == "POST":
            start = time.perf_counter()
            status = 500
            try:
                status = await self._serve(scope, receive, send, operation)
            finally:
                self.counters.observe("POST", path, status, time.perf_counter() - start)
            return
        if method == "GET" and path.startswith(PROMPTS):
            name = path[len(PROMPTS) :]
            if name and "/" not in name:
                start = time.perf_counter()
                status = 500
                try:
                    status = await self._prompt(scope, send, name)
                finally:
                    self.counters.observe("GET", PROMPT_ROUTE, status, time.perf_counter() - start)
                return
        await self.app(scope, receive, send)

    async def _prompt(self, scope: Scope, send: Send, name: str) -> int:
        """``GET /api/v1/prompts/{name}``: the version behind a label, or a pinned version."""
        path = scope["path"]
        try:
            _, actor = self._caller(scope)
            actor.require(Role.viewer, f"GET {path}")
            label, version = _prompt_query(scope.get("query_string", b""))
            if self.platform.db.is_sqlite:
                # a local file read of about 250 µs: cheaper than the hop to a worker thread
                found = self.platform.prompts.get(name, label, version)
            else:
                found = await run_in_threadpool(self.platform.prompts.get, name, label, version)
            data = orjson.dumps(wire(found))
        except ShipyardError as exc:
            return await _error(send, path, exc)
        except Exception:
            incident = new_id()
            log.exception("unexpected error %s on GET %s", incident, path)
            err = ShipyardError(f"internal error; the server log has incident {incident}")
            return await _error(send, path, err)
        await send({"type": "http.response.start", "status": 200, "headers": JSON})
        await send({"type": "http.response.body", "body": data})
        return 200

    async def _serve(self, scope: Scope, receive: Receive, send: Send, op: Operation) -> int:
        path = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await self._body(headers, receive)
            headers, actor = self._caller(scope, headers)
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

    def _caller(
        self, scope: Scope, headers: dict[str, str] | None = None
    ) -> tuple[dict[str, str], Actor]:
        """The request's headers (lower-case names) and the actor behind its key (cached)."""
        if headers is None:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        key = presented_key(headers.get("authorization"), headers.get("x-api-key"))
        return headers, actor_for(key, self.platform, self.auth_required)

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


def _prompt_query(raw: bytes) -> tuple[str | None, int | None]:
    """``label`` and ``version`` from a query string, checked as the framework would."""
    label: str | None = None
    version: int | None = None
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key == "label":
            label = value
        elif key == "version":
            try:
                version = int(value)
            except ValueError:
                raise ValidationFailed(
                    "invalid request: query.version: Input should be a valid integer"
                ) from None
            if not 1 <= version <= MAX_VERSION:
                raise ValidationFailed(
                    f"invalid request: query.version: Input should be between 1 and {MAX_VERSION}"
                )
    return label, version


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
