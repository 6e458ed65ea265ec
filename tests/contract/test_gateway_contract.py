"""Gateway configuration through the SDK: the same behaviour embedded and remote, on SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.gateway.config import LimitSpec
from shipyard.gateway.ledger import UsageQuery
from shipyard.gateway.routes import RouteConfig, UpstreamIn
from shipyard.sdk import Client
from tests.conftest import unique


def test_routes_upstreams_and_limits(client: Client) -> None:
    gw = client.gateway
    up = unique("up")
    opts = {"base_url": "http://127.0.0.1:9/v1"}
    made = gw.put_upstream(up, UpstreamIn(provider="openai", api_key="sk-contract-secret",
                                          options=opts))  # fmt: skip
    assert made.has_api_key and "sk-contract-secret" not in made.model_dump_json()
    assert up in [u.name for u in gw.list_upstreams()]
    name = unique("route")
    info, changed = gw.put_route(name, RouteConfig.model_validate(
        {"targets": [{"upstream": up, "model": "m"}], "retries": 3}))  # fmt: skip
    assert changed and info.version == 1
    _, again = gw.put_route(name, RouteConfig.model_validate(
        {"targets": [{"upstream": up, "model": "m"}], "retries": 3}))  # fmt: skip
    assert not again
    routes = {r.name: r for r in gw.list_routes()}
    assert routes[name].config.retries == 3
    with pytest.raises(InvalidInput, match="used by routes"):
        gw.delete_upstream(up)
    tenant = unique("tenant")
    limit = gw.set_limit("tenant", tenant, LimitSpec(rpm=10, daily_usd=1.5))
    assert (limit.rpm, limit.daily_usd) == (10, 1.5)
    assert any(x.subject == tenant for x in gw.list_limits())
    gw.delete_limit("tenant", tenant)
    with pytest.raises(NotFound):
        gw.delete_limit("tenant", tenant)


def test_apply_and_usage_report(client: Client) -> None:
    gw = client.gateway
    name = unique("r")
    report = gw.apply({"routes": {name: {"operation": "embeddings", "targets": [
        {"upstream": "local-embed", "model": "all-minilm-l6-v2"}]}}})  # fmt: skip
    assert report.routes == {name: "v1 deployed"}
    usage = gw.usage(UsageQuery(group_by=["route", "tenant"], route=name))
    assert usage.total.requests == 0 and usage.lines == []


def test_calls_through_the_sdk(client: Client) -> None:
    out = client.gateway.embeddings(
        {"model": "local-embed/all-minilm-l6-v2", "input": ["a cat", "a dog"]}, tenant="acme"
    )
    assert len(out["data"]) == 2 and len(out["data"][0]["embedding"]) == 384
    with pytest.raises(NotFound) as info:
        client.gateway.chat({"model": "no-such", "messages": [{"role": "user", "content": "x"}]})
    assert info.value.details["code"] == "model_not_found"
    report = client.gateway.usage(UsageQuery(group_by=["tenant"], tenant="acme"))
    assert report.total.requests >= 1
