"""The gateway's configuration as the SDK sees it: one interface, a local implementation
(on the store) and a remote one (over the REST API). Calls themselves go to ``/v1`` with any
OpenAI client."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from shipyard.gateway.config import ApplyReport, Limit, LimitSpec, Scope
from shipyard.gateway.ledger import UsageQuery, UsageReport
from shipyard.gateway.routes import RouteConfig, RouteInfo, Upstream, UpstreamIn
from shipyard.gateway.schemas import Operation


@dataclass(slots=True)
class Reply:
    """A whole gateway answer: the OpenAI-shaped body and the x-shipyard-* headers (trace id,
    cost, cache, route, target)."""

    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def cost_usd(self) -> float | None:
        value = self.headers.get("x-shipyard-cost-usd")
        return float(value) if value is not None else None

    @property
    def trace_id(self) -> str | None:
        return self.headers.get("x-shipyard-trace-id")


class GatewayAPI(ABC):
    @abstractmethod
    def call(self, operation: Operation, body: dict[str, Any], **context: str | None) -> Reply:
        """One call through the gateway (an OpenAI request body; no streaming).
        ``context``: tenant, feature, user, session, project, prompt (``name/version``) and
        traceparent — as the X-Shipyard-* and W3C headers give them."""

    def chat(self, body: dict[str, Any], **context: str | None) -> dict[str, Any]:
        """One chat completion (``/v1/chat/completions``); the response body."""
        return self.call("chat", body, **context).body

    def completion(self, body: dict[str, Any], **context: str | None) -> dict[str, Any]:
        """One text completion (``/v1/completions``); the response body."""
        return self.call("text_completion", body, **context).body

    def embeddings(self, body: dict[str, Any], **context: str | None) -> dict[str, Any]:
        return self.call("embeddings", body, **context).body

    @abstractmethod
    def apply(self, doc: dict[str, Any]) -> ApplyReport:
        """Apply a gateway file: ``upstreams:`` and ``routes:``."""

    @abstractmethod
    def list_routes(self) -> list[RouteInfo]: ...

    @abstractmethod
    def put_route(
        self, name: str, config: RouteConfig, deploy: bool = True
    ) -> tuple[RouteInfo, bool]: ...

    @abstractmethod
    def list_upstreams(self) -> list[Upstream]: ...

    @abstractmethod
    def put_upstream(self, name: str, req: UpstreamIn) -> Upstream: ...

    @abstractmethod
    def delete_upstream(self, name: str) -> None: ...

    @abstractmethod
    def list_limits(self) -> list[Limit]: ...

    @abstractmethod
    def set_limit(self, scope: Scope, subject: str, spec: LimitSpec) -> Limit: ...

    @abstractmethod
    def delete_limit(self, scope: Scope, subject: str) -> None: ...

    @abstractmethod
    def usage(self, query: UsageQuery) -> UsageReport: ...
