"""Exact and semantic response caches: scoped per route and tenant, TTL, temperature rule."""

from __future__ import annotations

import time

import pytest

from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM


def ask(g: Gateway, text: str, tenant: str = "acme", **kw: object) -> dict[str, str]:
    raw = g.openai().chat.completions.with_raw_response.create(
        model="r", messages=[{"role": "user", "content": text}],
        extra_headers={"X-Shipyard-Tenant": tenant}, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    headers = dict(raw.headers)
    headers["content"] = raw.parse().choices[0].message.content or ""
    return headers


@pytest.fixture
def cached(gw: Gateway, fake: FakeLLM) -> Gateway:
    gw.upstream("fake", fake)
    gw.route("r", targets=[{"upstream": "fake", "model": "echo"}],
             cache={"exact": True, "ttl_s": 60})  # fmt: skip
    return gw


def test_exact_hit_skips_the_upstream_and_is_marked(cached: Gateway, fake: FakeLLM) -> None:
    first = ask(cached, "hello", temperature=0)
    second = ask(cached, "hello", temperature=0, user="someone-else")
    assert (first["x-shipyard-cache"], second["x-shipyard-cache"]) == ("miss", "hit")
    assert second["content"] == first["content"] == "echo: hello"
    assert len(fake.calls) == 1
    span = cached.trace(second["x-shipyard-trace-id"])["spans"][0]
    assert span["attributes"]["shipyard.gateway.cache"] == "hit"
    assert float(second["x-shipyard-cost-usd"]) == 0.0


def test_never_shared_across_tenants(cached: Gateway, fake: FakeLLM) -> None:
    ask(cached, "hello", tenant="acme", temperature=0)
    assert ask(cached, "hello", tenant="globex", temperature=0)["x-shipyard-cache"] == "miss"
    assert len(fake.calls) == 2


def test_skipped_when_temperature_is_above_zero(cached: Gateway, fake: FakeLLM) -> None:
    assert ask(cached, "hello")["x-shipyard-cache"] == "skip"  # default temperature is 1
    assert ask(cached, "hello", temperature=0.7)["x-shipyard-cache"] == "skip"
    assert len(fake.calls) == 2


def test_route_may_cache_nondeterministic_requests(gw: Gateway, fake: FakeLLM) -> None:
    gw.upstream("fake", fake)
    gw.route("r", targets=[{"upstream": "fake", "model": "echo"}],
             cache={"exact": True, "nondeterministic": True})  # fmt: skip
    ask(gw, "hello", temperature=0.9)
    assert ask(gw, "hello", temperature=0.9)["x-shipyard-cache"] == "hit"


def test_entries_expire(gw: Gateway, fake: FakeLLM) -> None:
    gw.upstream("fake", fake)
    gw.route("r", targets=[{"upstream": "fake", "model": "echo"}],
             cache={"exact": True, "ttl_s": 0.3})  # fmt: skip
    ask(gw, "hello", temperature=0)
    assert ask(gw, "hello", temperature=0)["x-shipyard-cache"] == "hit"
    time.sleep(0.35)
    assert ask(gw, "hello", temperature=0)["x-shipyard-cache"] == "miss"


def test_a_cached_answer_can_be_streamed(cached: Gateway, fake: FakeLLM) -> None:
    ask(cached, "stream me", temperature=0)
    chunks = list(cached.openai().chat.completions.create(
        model="r", messages=[{"role": "user", "content": "stream me"}], temperature=0,
        stream=True, extra_headers={"X-Shipyard-Tenant": "acme"},
    ))  # fmt: skip
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: stream me"
    assert len(fake.calls) == 1


def test_a_streamed_answer_fills_the_cache(cached: Gateway, fake: FakeLLM) -> None:
    list(cached.openai().chat.completions.create(
        model="r", messages=[{"role": "user", "content": "first"}], temperature=0,
        stream=True, extra_headers={"X-Shipyard-Tenant": "acme"},
    ))  # fmt: skip
    again = ask(cached, "first", temperature=0)
    assert again["x-shipyard-cache"] == "hit" and again["content"] == "echo: first"


def test_semantic_hit_for_a_paraphrase(gw: Gateway, fake: FakeLLM) -> None:
    gw.upstream("fake", fake)
    gw.route("r", targets=[{"upstream": "fake", "model": "echo"}],
             cache={"semantic": True, "threshold": 0.9})  # fmt: skip
    ask(gw, "What is the capital city of France?", temperature=0)
    near = ask(gw, "what's the capital city of France", temperature=0)
    far = ask(gw, "How do I bake sourdough bread?", temperature=0)
    other_tenant = ask(gw, "What is the capital city of France?", tenant="globex", temperature=0)
    assert near["x-shipyard-cache"] == "semantic"
    assert near["content"] == "echo: What is the capital city of France?"
    assert far["x-shipyard-cache"] == "miss" and other_tenant["x-shipyard-cache"] == "miss"
    assert len(fake.calls) == 3
