"""The gateway SDK over the REST API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson

from shipyard.client.http import Transport
from shipyard.core.errors import InvalidInput
from shipyard.gateway.api import GatewayAPI, Reply
from shipyard.gateway.config import ApplyReport, Limit, LimitSpec, Scope
from shipyard.gateway.ledger import UsageQuery, UsageReport
from shipyard.gateway.routes import RouteConfig, RouteInfo, Upstream, UpstreamIn
from shipyard.gateway.schemas import Operation
from shipyard.gateway.telemetry import context_headers

PATHS = {
    "chat": "/v1/chat/completions",
    "text_completion": "/v1/completions",
    "embeddings": "/v1/embeddings",
}

BASE = "/api/v1/gateway"


def _q(part: str) -> str:
    return quote(part, safe="")


class RemoteGateway(GatewayAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def call(self, operation: Operation, body: dict[str, Any], **context: str | None) -> Reply:
        if body.get("stream"):
            raise InvalidInput("the SDK answers whole; stream with an OpenAI client on /v1")
        headers = context_headers(context)
        headers["Content-Type"] = "application/json"
        resp = self.t.send("POST", PATHS[operation], content=orjson.dumps(body), headers=headers)
        return Reply(orjson.loads(resp.content), {
            k: v for k, v in resp.headers.items() if k.startswith("x-shipyard-")
        })  # fmt: skip

    def apply(self, doc: dict[str, Any]) -> ApplyReport:
        return ApplyReport.model_validate(self.t.call("POST", f"{BASE}/apply", json=doc))

    def list_routes(self) -> list[RouteInfo]:
        return [RouteInfo.model_validate(r) for r in self.t.call("GET", f"{BASE}/routes")]

    def put_route(
        self, name: str, config: RouteConfig, deploy: bool = True
    ) -> tuple[RouteInfo, bool]:
        data = self.t.call(
            "PUT", f"{BASE}/routes/{_q(name)}", json=config.model_dump(mode="json"),
            params={"deploy": str(deploy).lower()},
        )  # fmt: skip
        return RouteInfo.model_validate(data["route"]), bool(data["changed"])

    def list_upstreams(self) -> list[Upstream]:
        return [Upstream.model_validate(u) for u in self.t.call("GET", f"{BASE}/upstreams")]

    def put_upstream(self, name: str, req: UpstreamIn) -> Upstream:
        data = self.t.call("PUT", f"{BASE}/upstreams/{_q(name)}", json=req.model_dump())
        return Upstream.model_validate(data)

    def delete_upstream(self, name: str) -> None:
        self.t.call("DELETE", f"{BASE}/upstreams/{_q(name)}")

    def list_limits(self) -> list[Limit]:
        return [Limit.model_validate(x) for x in self.t.call("GET", f"{BASE}/limits")]

    def set_limit(self, scope: Scope, subject: str, spec: LimitSpec) -> Limit:
        data = self.t.call("PUT", f"{BASE}/limits/{scope}/{_q(subject)}", json=spec.model_dump())
        return Limit.model_validate(data)

    def delete_limit(self, scope: Scope, subject: str) -> None:
        self.t.call("DELETE", f"{BASE}/limits/{scope}/{_q(subject)}")

    def usage(self, query: UsageQuery) -> UsageReport:
        params: dict[str, Any] = {"group_by": ",".join(query.group_by)}
        for name in ("since_ms", "until_ms", "tenant", "key_id", "route"):
            value = getattr(query, name)
            if value is not None:
                params[name] = value
        return UsageReport.model_validate(self.t.call("GET", f"{BASE}/usage", params=params))
