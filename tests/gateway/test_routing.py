"""Routes: targets and weights, retries with backoff, ordered fallbacks, cool-downs,
strategies, failing upstreams, and rollback reaching a running server."""

from __future__ import annotations

import time
from collections import Counter

import openai
import pytest

from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM

MSG = [{"role": "user", "content": "hi"}]


@pytest.fixture
def up(gw: Gateway, fake: FakeLLM) -> Gateway:
    gw.upstream("fake", fake)
    return gw


def answer(g: Gateway, model: str = "r") -> tuple[str, dict[str, str]]:
    raw = g.openai().chat.completions.with_raw_response.create(model=model, messages=MSG)
    return raw.parse().choices[0].message.content or "", dict(raw.headers)


def test_retries_with_backoff_until_the_upstream_recovers(up: Gateway, fake: FakeLLM) -> None:
    up.route("r", targets=[{"upstream": "fake", "model": "flaky-2"}], retries=2, backoff_s=0.05)
    start = time.monotonic()
    text, headers = answer(up)
    assert text == "Hello from flaky-2."
    assert headers["x-shipyard-attempts"] == "3"
    assert time.monotonic() - start >= 0.05  # two backoffs of at least half of 0.05 and 0.1
    span = up.trace(headers["x-shipyard-trace-id"])["spans"][0]
    assert span["attributes"]["shipyard.gateway.retries"] == 2
    assert len(span["attributes"]["shipyard.gateway.failed_attempts"]) == 2


def test_fallbacks_are_tried_in_order(up: Gateway, fake: FakeLLM) -> None:
    up.route(
        "r",
        targets=[{"upstream": "fake", "model": "limited"}],
        fallbacks=[{"upstream": "fake", "model": "garbage"}, {"upstream": "fake", "model": "b"}],
        retries=0,
    )
    text, headers = answer(up)
    assert text == "Hello from b."
    assert [c["model"] for c in fake.calls] == ["limited", "garbage", "b"]
    assert headers["x-shipyard-target"] == "fake/b"


def test_client_errors_are_not_retried_elsewhere(up: Gateway, fake: FakeLLM) -> None:
    up.route("r", targets=[{"upstream": "fake", "model": "reject"}],
             fallbacks=[{"upstream": "fake", "model": "b"}], retries=3)  # fmt: skip
    with pytest.raises(openai.BadRequestError, match="bad parameter"):
        answer(up)
    assert [c["model"] for c in fake.calls] == ["reject"]


def test_a_failing_target_cools_down(up: Gateway, fake: FakeLLM) -> None:
    up.route(
        "r",
        strategy="ordered",
        targets=[{"upstream": "fake", "model": "flaky-100"}, {"upstream": "fake", "model": "b"}],
        retries=0,
        cooldown_after=2,
        cooldown_s=60,
    )
    for _ in range(5):
        assert answer(up)[0] == "Hello from b."
    # two failures set flaky-100 aside; later calls go straight to b
    assert Counter(c["model"] for c in fake.calls) == {"flaky-100": 2, "b": 5}
    health = up.http.get("/api/v1/gateway/health").json()["targets"]
    assert health["fake/flaky-100"]["cooling_for_s"] > 50


def test_weighted_split(up: Gateway, fake: FakeLLM) -> None:
    up.route("r", targets=[{"upstream": "fake", "model": "a", "weight": 3},
                           {"upstream": "fake", "model": "b", "weight": 1}])  # fmt: skip
    for _ in range(200):
        answer(up)
    share = Counter(c["model"] for c in fake.calls)["a"] / 200
    assert 0.62 < share < 0.88


def test_cost_strategy_prefers_the_cheaper_target(up: Gateway, fake: FakeLLM) -> None:
    targets = [{"upstream": "fake", "model": m} for m in ("gpt-4o", "gpt-4o-mini")]
    up.route("r", strategy="cost", targets=targets)
    for _ in range(5):
        answer(up)
    assert {c["model"] for c in fake.calls} == {"gpt-4o-mini"}


def test_latency_strategy_measures_then_prefers_the_fastest(gw: Gateway) -> None:
    slow, quick = FakeLLM(delay_s=0.3).start(), FakeLLM().start()
    try:
        gw.upstream("slow", slow)
        gw.upstream("quick", quick)
        targets = [{"upstream": "slow", "model": "m"}, {"upstream": "quick", "model": "m"}]
        gw.route("r", strategy="latency", targets=targets)
        for _ in range(10):
            answer(gw)
        assert len(slow.calls) == 1 and len(quick.calls) == 9
    finally:
        slow.stop()
        quick.stop()


def test_hanging_upstream_times_out_with_504_and_a_trace(up: Gateway) -> None:
    up.route("r", targets=[{"upstream": "fake", "model": "hang", "timeout_s": 0.3}], retries=0)
    start = time.monotonic()
    with pytest.raises(openai.APIStatusError) as info:
        answer(up)
    assert info.value.status_code == 504 and time.monotonic() - start < 5
    assert "did not answer within 0.3 s" in info.value.message
    trace = up.traces(status="error")[0]
    assert trace["route"] == "r"


def test_garbage_is_a_502_and_the_server_keeps_serving(up: Gateway) -> None:
    up.route("bad", targets=[{"upstream": "fake", "model": "garbage"}], retries=1,
             backoff_s=0.01)  # fmt: skip
    up.route("r", targets=[{"upstream": "fake", "model": "fine"}])
    with pytest.raises(openai.APIStatusError) as info:
        answer(up, "bad")
    assert info.value.status_code == 502 and "not JSON" in info.value.message
    assert answer(up)[0] == "Hello from fine."


def test_stall_mid_stream_ends_the_stream_with_an_error(up: Gateway) -> None:
    up.route("r", targets=[{"upstream": "fake", "model": "stall-stream", "timeout_s": 0.3}])
    stream = up.openai().chat.completions.create(model="r", messages=MSG, stream=True)
    with stream, pytest.raises(openai.APIError, match="went quiet"):
        for _ in stream:
            pass
    assert up.traces(status="error")[0]["route"] == "r"


def test_route_changes_and_rollback_reach_the_running_server(up: Gateway) -> None:
    up.route("r", targets=[{"upstream": "fake", "model": "v1"}])
    assert answer(up)[0] == "Hello from v1."
    up.route("r", targets=[{"upstream": "fake", "model": "v2"}])
    assert answer(up)[0] == "Hello from v2."
    # a rollback through the registry API: picked up by the periodic refresh
    r = up.http.post("/api/v1/registry/r/aliases/production/rollback", json={"reason": "bad"})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 5
    while answer(up)[0] != "Hello from v1.":
        assert time.monotonic() < deadline, "the rollback did not take effect"
        time.sleep(0.05)
    versions = up.http.get("/api/v1/registry/r/versions").json()
    assert len(versions["versions"]) == 2


def test_invalid_route_is_refused(up: Gateway) -> None:
    r = up.http.put("/api/v1/gateway/routes/x", json={"targets": [{"upstream": "nope",
                                                                    "model": "m"}]})  # fmt: skip
    assert r.status_code == 400 and "no upstream named 'nope'" in r.json()["error"]["message"]
    r = up.http.put("/api/v1/gateway/routes/x", json={"targets": []})
    assert r.status_code == 422
    local = {"upstream": "local", "model": "gemma-3-270m"}
    r = up.http.put("/api/v1/gateway/routes/x", json={"operation": "embeddings",
                                                      "targets": [local]})  # fmt: skip
    assert r.status_code == 400 and "does not serve embeddings" in r.json()["error"]["message"]
