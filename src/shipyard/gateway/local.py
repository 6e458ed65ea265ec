"""The gateway SDK on the local store (embedded mode)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor
from shipyard.gateway.api import GatewayAPI, Reply
from shipyard.gateway.config import ApplyReport, Limit, LimitSpec, Scope
from shipyard.gateway.ledger import UsageQuery, UsageReport
from shipyard.gateway.routes import RouteConfig, RouteInfo, Upstream, UpstreamIn
from shipyard.gateway.schemas import Operation
from shipyard.gateway.service import Answer, GatewayService
from shipyard.gateway.telemetry import caller_from, context_headers

T = TypeVar("T")


class LocalGateway(GatewayAPI):
    """Configuration calls go straight to the service; model calls run on an event loop of
    their own in a background thread (the gateway is asynchronous, the SDK is not)."""

    def __init__(self, service: GatewayService, actor: Actor) -> None:
        self.service = service
        self.config = service.config
        self.actor = actor
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread()
        self._lock = threading.Lock()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()

                def run() -> None:
                    loop.run_forever()
                    loop.close()

                self._thread = threading.Thread(target=run, name="shipyard-gateway", daemon=True)
                self._thread.start()
                self._loop = loop
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def call(self, operation: Operation, body: dict[str, Any], **context: str | None) -> Reply:
        if body.get("stream"):
            raise InvalidInput("the SDK answers whole; stream with an OpenAI client on /v1")
        # the same caller an HTTP request with the matching headers makes
        headers = context_headers(context)
        caller = caller_from(headers, self.actor, self.service.settings.gateway.gateway_project)
        raw = orjson.dumps(body)
        if operation == "embeddings":
            answer = self._run(self.service.embed(caller, raw))
        else:
            answer = self._run(self.service.generate(caller, operation, raw))  # type: ignore[assignment]
        assert isinstance(answer, Answer)
        return Reply(answer.body, answer.headers)

    def close(self) -> None:
        """Flush what the gateway recorded and stop its loop."""
        self.service.recorder.flush()
        if self._loop is not None:
            self._run(self.service.http.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def apply(self, doc: dict[str, Any]) -> ApplyReport:
        report = self.config.apply(self.actor, doc)
        self.service.refresh()  # this process's calls see the change at once
        return report

    def list_routes(self) -> list[RouteInfo]:
        return self.config.list_routes()

    def put_route(
        self, name: str, config: RouteConfig, deploy: bool = True
    ) -> tuple[RouteInfo, bool]:
        done = self.config.put_route(self.actor, name, config, deploy=deploy)
        self.service.refresh()
        return done

    def list_upstreams(self) -> list[Upstream]:
        return self.config.list_upstreams()

    def put_upstream(self, name: str, req: UpstreamIn) -> Upstream:
        done = self.config.put_upstream(self.actor, name, req)
        self.service.refresh()
        return done

    def delete_upstream(self, name: str) -> None:
        self.config.delete_upstream(self.actor, name)

    def list_limits(self) -> list[Limit]:
        return self.config.list_limits()

    def set_limit(self, scope: Scope, subject: str, spec: LimitSpec) -> Limit:
        return self.config.set_limit(self.actor, scope, subject, spec)

    def delete_limit(self, scope: Scope, subject: str) -> None:
        self.config.delete_limit(self.actor, scope, subject)

    def usage(self, query: UsageQuery) -> UsageReport:
        self.service.recorder.flush()
        return self.service.ledger.report(query)
