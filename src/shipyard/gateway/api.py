"""The gateway's configuration as the SDK sees it: one interface, a local implementation
(on the store) and a remote one (over the REST API). Calls themselves go to ``/v1`` with any
OpenAI client."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from shipyard.gateway.config import ApplyReport, Limit, LimitSpec, Scope
from shipyard.gateway.ledger import UsageQuery, UsageReport
from shipyard.gateway.routes import RouteConfig, RouteInfo, Upstream, UpstreamIn


class GatewayAPI(ABC):
    @abstractmethod
    def chat(self, body: dict[str, Any], **context: str | None) -> dict[str, Any]:
        """One chat completion (an OpenAI request body; no streaming) through the gateway.
        ``context``: tenant, feature, user, session — as the X-Shipyard-* headers give them."""

    @abstractmethod
    def embeddings(self, body: dict[str, Any], **context: str | None) -> dict[str, Any]: ...

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
