"""The gateway: the OpenAI-compatible API under /v1, and its configuration under
/api/v1/gateway (routes, upstreams, limits, usage)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor
from shipyard.gateway.config import ApplyReport, Limit, LimitSpec, Scope
from shipyard.gateway.ledger import GROUPS, UsageQuery, UsageReport
from shipyard.gateway.routes import RouteConfig, RouteInfo, Upstream, UpstreamIn
from shipyard.gateway.service import GatewayService
from shipyard.platform import Platform
from shipyard.server.deps import admin, editor, platform, viewer

router = APIRouter(tags=["gateway"])


def _gateway(request: Request) -> GatewayService:
    p: Platform = request.app.state.platform
    return p.gateway


# POST /v1/chat/completions, /v1/completions and /v1/embeddings are served by
# server/fastpath.py, ahead of the framework; their OpenAPI entries come from there too.


@router.get("/v1/models")
def list_models(request: Request, _: Actor = Depends(viewer)) -> dict[str, Any]:
    """Every deployed route, and the built-in local models."""
    return {"object": "list", "data": _gateway(request).models()}


@router.get("/v1/models/{model:path}")
def get_model(model: str, request: Request, _: Actor = Depends(viewer)) -> dict[str, Any]:
    for m in _gateway(request).models():
        if m["id"] == model:
            return m
    from shipyard.core.errors import NotFound

    raise NotFound(f"The model {model!r} does not exist", code="model_not_found", param="model")


# -- configuration ---------------------------------------------------------------------------

api = APIRouter(prefix="/api/v1/gateway", tags=["gateway"])


@api.get("/routes")
def list_routes(p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> list[RouteInfo]:
    return p.gateway.config.list_routes()


@api.get("/routes/{name}")
def get_route(name: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> RouteInfo:
    for r in p.gateway.config.list_routes():
        if r.name == name:
            return r
    from shipyard.core.errors import NotFound

    raise NotFound(f"no deployed route named {name!r}")


@api.put("/routes/{name}")
def put_route(
    name: str,
    config: RouteConfig,
    deploy: bool = True,
    p: Platform = Depends(platform),
    actor: Actor = Depends(editor),
) -> dict[str, Any]:
    """Store a route's new version (unless unchanged) and deploy it (move ``production``)."""
    info, changed = p.gateway.config.put_route(actor, name, config, deploy=deploy)
    p.gateway.changed()
    return {"route": info.model_dump(mode="json"), "changed": changed}


@api.post("/apply")
def apply(
    doc: Annotated[dict[str, Any], Body()],
    p: Platform = Depends(platform),
    actor: Actor = Depends(editor),
) -> ApplyReport:
    """Apply a gateway file (``upstreams:`` and ``routes:``); unchanged items stay as they are."""
    report = p.gateway.config.apply(actor, doc)
    p.gateway.changed()
    return report


@api.get("/upstreams")
def list_upstreams(p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> list[Upstream]:
    """Upstreams and their options. API keys are never returned, only whether one is set."""
    return p.gateway.config.list_upstreams()


@api.put("/upstreams/{name}")
def put_upstream(
    name: str, req: UpstreamIn, p: Platform = Depends(platform), actor: Actor = Depends(admin)
) -> Upstream:
    out = p.gateway.config.put_upstream(actor, name, req)
    p.gateway.changed()
    return out


@api.delete("/upstreams/{name}", status_code=204)
def delete_upstream(
    name: str, p: Platform = Depends(platform), actor: Actor = Depends(admin)
) -> Response:
    p.gateway.config.delete_upstream(actor, name)
    p.gateway.changed()
    return Response(status_code=204)


@api.get("/limits")
def list_limits(p: Platform = Depends(platform), _: Actor = Depends(admin)) -> list[Limit]:
    return p.gateway.config.list_limits()


@api.put("/limits/{scope}/{subject}")
def set_limit(
    scope: Scope,
    subject: str,
    spec: LimitSpec,
    p: Platform = Depends(platform),
    actor: Actor = Depends(admin),
) -> Limit:
    """Rates (requests and tokens per minute) and USD budgets for a key id or a tenant."""
    out = p.gateway.config.set_limit(actor, scope, subject, spec)
    p.gateway.changed()
    return out


@api.delete("/limits/{scope}/{subject}", status_code=204)
def delete_limit(
    scope: Scope, subject: str, p: Platform = Depends(platform), actor: Actor = Depends(admin)
) -> Response:
    p.gateway.config.delete_limit(actor, scope, subject)
    p.gateway.changed()
    return Response(status_code=204)


@api.get("/usage")
async def usage(
    request: Request,
    since_ms: int | None = None,
    until_ms: int | None = None,
    group_by: Annotated[str, Query(description=f"comma-separated: {', '.join(GROUPS)}")] = "tenant",
    tenant: str | None = None,
    key_id: str | None = None,
    route: str | None = None,
    _: Actor = Depends(viewer),
) -> UsageReport:
    """Requests, tokens and USD from the usage ledger, grouped as asked."""
    groups = [g.strip() for g in group_by.split(",") if g.strip()]
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise InvalidInput(f"cannot group by {bad[0]!r}: use {', '.join(GROUPS)}")
    q = UsageQuery(since_ms=since_ms, until_ms=until_ms, group_by=groups, tenant=tenant,
                   key_id=key_id, route=route)  # fmt: skip
    gw = _gateway(request)
    await run_in_threadpool(gw.recorder.flush)
    return await run_in_threadpool(gw.ledger.report, q)


@api.get("/health")
def target_health(p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> dict[str, Any]:
    """Latency, consecutive failures and cool-downs of each target, as this server saw them."""
    return {"targets": p.gateway.health.view()}


@api.get("/prices")
def prices(p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> dict[str, Any]:
    """The price table in use (USD per million tokens)."""
    return {m: price.model_dump() for m, price in sorted(p.gateway.prices.prices.items())}
