"""Keys, tenants, rate limits, budgets, cost attribution and the usage ledger."""

from __future__ import annotations

import openai
import pytest

from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM

MSG = [{"role": "user", "content": "hi"}]
ACME = {"X-Shipyard-Tenant": "acme"}


@pytest.fixture
def priced(gw: Gateway, fake: FakeLLM) -> Gateway:
    gw.upstream("fake", fake)
    # 11 input and 5 output tokens a call at $1M/$2M per million: $21 a call
    gw.route("r", targets=[{"upstream": "fake", "model": "m",
                            "price": {"input": 1_000_000, "output": 2_000_000}}])  # fmt: skip
    return gw


def key(g: Gateway, role: str = "viewer", tenant: str | None = None) -> tuple[str, str]:
    r = g.http.post("/api/v1/keys", json={"role": role, "name": "app", "tenant": tenant})
    assert r.status_code == 201, r.text
    return r.json()["key"], r.json()["id"]


def limit(g: Gateway, scope: str, subject: str, **spec: float) -> None:
    r = g.http.put(f"/api/v1/gateway/limits/{scope}/{subject}", json=spec)
    assert r.status_code == 200, r.text


def test_cost_is_computed_and_exposed(priced: Gateway) -> None:
    raw = priced.openai().chat.completions.with_raw_response.create(model="r", messages=MSG)
    assert float(raw.headers["x-shipyard-cost-usd"]) == pytest.approx(21.0)
    span = priced.trace(raw.headers["x-shipyard-trace-id"])["spans"][0]
    assert span["cost_usd"] == pytest.approx(21.0)
    assert (span["input_tokens"], span["output_tokens"]) == (11, 5)


def test_default_price_table_prices_known_models(gw: Gateway, fake: FakeLLM) -> None:
    gw.upstream("fake", fake)
    gw.route("r", targets=[{"upstream": "fake", "model": "gpt-4o-mini-2024-07-18"}])
    raw = gw.openai().chat.completions.with_raw_response.create(model="r", messages=MSG)
    # 11 × $0.15 + 5 × $0.60 per million
    assert float(raw.headers["x-shipyard-cost-usd"]) == pytest.approx(4.65e-6)


def test_requests_per_minute_limit_per_key(priced: Gateway) -> None:
    secret, key_id = key(priced)
    limit(priced, "key", key_id, rpm=3)
    client = priced.openai(secret)
    for _ in range(3):
        client.chat.completions.create(model="r", messages=MSG)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="r", messages=MSG)
    assert int(info.value.response.headers["retry-after"]) >= 1
    assert info.value.code == "rate_limit_exceeded"
    # another key is not affected
    other, _ = key(priced)
    priced.openai(other).chat.completions.create(model="r", messages=MSG)


def test_tokens_per_minute_limit_per_tenant(priced: Gateway) -> None:
    limit(priced, "tenant", "acme", tpm=30)
    client = priced.openai()
    headers = {"X-Shipyard-Tenant": "acme"}
    client.chat.completions.create(model="r", messages=MSG, extra_headers=headers)  # 16 tokens
    client.chat.completions.create(model="r", messages=MSG, extra_headers=headers)  # 32 tokens
    with pytest.raises(openai.RateLimitError, match="30 tokens per minute"):
        client.chat.completions.create(model="r", messages=MSG, extra_headers=headers)
    client.chat.completions.create(model="r", messages=MSG, extra_headers={"X-Shipyard-Tenant":
                                                                           "other"})  # fmt: skip


def test_daily_budget_exhausted_is_a_clear_error(priced: Gateway) -> None:
    limit(priced, "tenant", "acme", daily_usd=50)
    client = priced.openai()
    headers = {"X-Shipyard-Tenant": "acme"}
    for _ in range(3):  # $21, $42, $63: the third starts below the budget, so it runs
        client.chat.completions.create(model="r", messages=MSG, extra_headers=headers)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="r", messages=MSG, extra_headers=headers)
    err = info.value
    assert err.code == "budget_exceeded" and err.type == "insufficient_quota"
    assert "daily budget of $50.00" in err.message and "00:00 UTC" in err.message
    assert err.response.headers["x-should-retry"] == "false"


def test_budget_survives_a_restart_through_the_ledger(tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.gateway.conftest import make_gateway

    fake = FakeLLM().start()
    try:
        g = make_gateway(tmp_path, database_url)
        g.upstream("fake", fake)
        g.route("r", targets=[{"upstream": "fake", "model": "m",
                               "price": {"input": 1_000_000, "output": 2_000_000}}])  # fmt: skip
        limit(g, "tenant", "acme", monthly_usd=40)
        for _ in range(2):
            g.openai().chat.completions.create(model="r", messages=MSG, extra_headers=ACME)
        g.stop()
        g2 = make_gateway(tmp_path, database_url)
        try:
            with pytest.raises(openai.RateLimitError, match="monthly budget"):
                g2.openai().chat.completions.create(model="r", messages=MSG, extra_headers=ACME)
        finally:
            g2.stop()
    finally:
        fake.stop()


def test_attribution_from_headers_and_body(priced: Gateway) -> None:
    client = priced.openai()
    client.chat.completions.create(
        model="r", messages=MSG,
        extra_headers={"X-Shipyard-Tenant": "acme", "X-Shipyard-Feature": "search",
                       "X-Shipyard-Session": "s-1"},
        user="alice",
    )  # fmt: skip
    client.chat.completions.create(
        model="r", messages=MSG,
        metadata={"tenant": "globex", "feature": "chat", "user": "bob", "session": "s-2"},
    )  # fmt: skip
    report = priced.http.get("/api/v1/gateway/usage",
                             params={"group_by": "tenant,feature,user_id"}).json()  # fmt: skip
    groups = {(ln["group"]["tenant"], ln["group"]["feature"], ln["group"]["user_id"]):
              ln for ln in report["lines"]}  # fmt: skip
    assert set(groups) == {("acme", "search", "alice"), ("globex", "chat", "bob")}
    assert groups[("acme", "search", "alice")]["cost_usd"] == pytest.approx(21.0)
    assert report["total"]["requests"] == 2
    traces = {t["tenant"]: t for t in priced.traces()}
    assert traces["globex"]["session_id"] == "s-2" and traces["globex"]["feature"] == "chat"
    assert traces["acme"]["user_id"] == "alice"


def test_key_bound_to_a_tenant_cannot_spend_for_another(priced: Gateway) -> None:
    secret, _ = key(priced, tenant="acme")
    client = priced.openai(secret)
    with pytest.raises(openai.PermissionDeniedError, match="belongs to tenant 'acme'"):
        client.chat.completions.create(model="r", messages=MSG,
                                       extra_headers={"X-Shipyard-Tenant": "globex"})  # fmt: skip
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(model="r", messages=MSG, metadata={"tenant": "globex"})
    client.chat.completions.create(model="r", messages=MSG)
    report = priced.http.get("/api/v1/gateway/usage", params={"group_by": "tenant"}).json()
    ok = [ln for ln in report["lines"] if ln["group"]["tenant"] == "acme"]
    assert ok and ok[0]["requests"] >= 1


def test_keys_are_required_when_auth_is_on(tmp_path, database_url: str, fake: FakeLLM) -> None:  # type: ignore[no-untyped-def]
    from tests.gateway.conftest import make_gateway

    g = make_gateway(tmp_path, database_url, auth="required")
    try:
        with pytest.raises(openai.AuthenticationError):
            g.openai("sk-not-a-shipyard-key").models.list()
        from shipyard.core.identity import Actor, Role

        made = g.platform.admin.create_key(Actor.local(), role=Role.viewer, name="t")
        assert [m.id for m in g.openai(made.key).models.list()][-1].startswith("local-embed/")
    finally:
        g.stop()
