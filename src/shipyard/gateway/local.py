"""The gateway SDK on the local store (embedded mode)."""

from __future__ import annotations

from typing import Any

from shipyard.core.identity import Actor
from shipyard.gateway.api import GatewayAPI
from shipyard.gateway.config import ApplyReport, Limit, LimitSpec, Scope
from shipyard.gateway.ledger import UsageQuery, UsageReport
from shipyard.gateway.routes import RouteConfig, RouteInfo, Upstream, UpstreamIn
from shipyard.gateway.service import GatewayService


class LocalGateway(GatewayAPI):
    def __init__(self, service: GatewayService, actor: Actor) -> None:
        self.service = service
        self.config = service.config
        self.actor = actor

    def apply(self, doc: dict[str, Any]) -> ApplyReport:
        return self.config.apply(self.actor, doc)

    def list_routes(self) -> list[RouteInfo]:
        return self.config.list_routes()

    def put_route(
        self, name: str, config: RouteConfig, deploy: bool = True
    ) -> tuple[RouteInfo, bool]:
        return self.config.put_route(self.actor, name, config, deploy=deploy)

    def list_upstreams(self) -> list[Upstream]:
        return self.config.list_upstreams()

    def put_upstream(self, name: str, req: UpstreamIn) -> Upstream:
        return self.config.put_upstream(self.actor, name, req)

    def delete_upstream(self, name: str) -> None:
        self.config.delete_upstream(self.actor, name)

    def list_limits(self) -> list[Limit]:
        return self.config.list_limits()

    def set_limit(self, scope: Scope, subject: str, spec: LimitSpec) -> Limit:
        return self.config.set_limit(self.actor, scope, subject, spec)

    def delete_limit(self, scope: Scope, subject: str) -> None:
        self.config.delete_limit(self.actor, scope, subject)

    def usage(self, query: UsageQuery) -> UsageReport:
        self.service.ledger.flush()
        return self.service.ledger.report(query)
