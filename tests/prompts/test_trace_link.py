"""A prompt called through the gateway: the answer, its cost, and one trace that links the
SDK's ``prompt NAME`` span, the gateway's llm span and the prompt version used."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipyard.core.settings import Settings
from shipyard.sdk import Client
from shipyard.tracing.schemas import TraceDetail, TraceQuery
from tests.conftest import unique
from tests.gateway.conftest import Gateway, make_gateway
from tests.helpers.fake_llm import FakeLLM

# USD per million tokens on the route's target; the fake reports 11 + 5 tokens for a chat call
# and 7 + 4 for a text completion.
PRICE = {"input": 2.0, "output": 10.0}
CHAT_COST = (11 * 2.0 + 5 * 10.0) / 1e6
TEXT_COST = (7 * 2.0 + 4 * 10.0) / 1e6


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    f = FakeLLM().start()
    yield f
    f.stop()


@pytest.fixture
def routed(tmp_path: Path, database_url: str, fake: FakeLLM) -> Iterator[Gateway]:
    """A real server (SQLite and PostgreSQL) with a priced route to the fake provider."""
    gw = make_gateway(tmp_path / "server", database_url)
    gw.upstream("fake", fake)
    gw.route("support", targets=[{"upstream": "fake", "model": "echo", "price": PRICE}])
    yield gw
    gw.stop()


@pytest.fixture
def client(routed: Gateway, tmp_path: Path) -> Iterator[Client]:
    c = Client(Settings.load(home=tmp_path / "app"), url=routed.url)
    yield c
    c.close()


def linked_trace(client: Client, gw: Gateway, trace_id: str, spans: int) -> TraceDetail:
    """The trace once the SDK's and the gateway's spans have both arrived."""
    deadline = time.monotonic() + 15
    while True:
        client.flush()
        gw.flush()
        traces = client.tracing.list_traces(TraceQuery(limit=1000)).traces
        if any(t.trace_id == trace_id for t in traces):
            detail = client.tracing.get_trace(trace_id)
            if len(detail.spans) >= spans:
                return detail
        assert time.monotonic() < deadline, f"trace {trace_id} did not arrive"
        time.sleep(0.02)


def traces_of(client: Client, name: str, version: int) -> set[str]:
    page = client.tracing.list_traces(TraceQuery(prompt_name=name, prompt_version=version))
    return {t.trace_id for t in page.traces}


def test_a_chat_prompt_completes_through_the_gateway_and_links_its_trace(
    routed: Gateway, fake: FakeLLM, client: Client
) -> None:
    name = unique("support")
    client.prompts.create(
        name,
        messages=[
            {"role": "system", "content": "You help with {{ product }}."},
            {"role": "user", "content": "{{ question }}"},
        ],
        defaults={"product": "Shipyard"},
        route="support",
        params={"temperature": 0.3, "max_tokens": 50},
        labels=["production"],
    )
    prompt = client.prompts.get(name)
    out = prompt.complete(question="Where are my traces?")

    assert out.text == "echo: Where are my traces?"
    assert out.prompt == f"{name}/1" and out.finish_reason == "stop"
    assert (out.input_tokens, out.output_tokens) == (11, 5)
    assert out.cost_usd == pytest.approx(CHAT_COST)
    assert out.trace_id and len(out.trace_id) == 32
    assert out.headers["x-shipyard-trace-id"] == out.trace_id  # the gateway joined our trace
    sent = fake.calls[-1]
    assert sent["messages"] == [
        {"role": "system", "content": "You help with Shipyard."},
        {"role": "user", "content": "Where are my traces?"},
    ]
    assert (sent["temperature"], sent["max_tokens"]) == (0.3, 50)

    detail = linked_trace(client, routed, out.trace_id, spans=2)
    by_kind = {s.kind: s for s in detail.spans}
    chain, llm = by_kind["chain"], by_kind["llm"]
    assert chain.name == f"prompt {name}" and chain.parent_id is None
    assert llm.parent_id == chain.span_id and llm.trace_id == chain.trace_id
    assert (chain.prompt_name, chain.prompt_version) == (name, 1)
    assert (llm.prompt_name, llm.prompt_version) == (name, 1)
    assert llm.cost_usd == pytest.approx(CHAT_COST) and llm.operation == "chat"
    assert chain.attributes["shipyard.prompt.name"] == name
    assert "Where are my traces?" in (chain.input or "")
    assert detail.trace.name == f"prompt {name}"
    assert (detail.trace.prompt_name, detail.trace.prompt_version) == (name, 1)
    assert detail.trace.cost_usd == pytest.approx(CHAT_COST)

    # a new version behind production: its calls are traced under that version
    client.prompts.create(
        name,
        messages=[{"role": "user", "content": "Briefly: {{ question }}"}],
        route="support",
        labels=["production"],
    )
    second = client.prompts.get(name).complete(question="and now?")
    assert second.text == "echo: Briefly: and now?" and second.prompt == f"{name}/2"
    linked_trace(client, routed, second.trace_id or "", spans=2)
    assert traces_of(client, name, 1) == {out.trace_id}
    assert traces_of(client, name, 2) == {second.trace_id}
    assert traces_of(client, unique("other"), 1) == set()


def test_a_text_prompt_goes_to_completions(routed: Gateway, fake: FakeLLM, client: Client) -> None:
    name = unique("summary")
    client.prompts.create(
        name, "Summarise in one line:\n{{ text }}", route="support", params={"max_tokens": 20}
    )
    prompt = client.prompts.get(name, "latest")
    out = prompt.complete(text="a long story")
    assert out.text == "echo: Summarise in one line:\na long story"
    assert (out.input_tokens, out.output_tokens) == (7, 4)
    assert out.cost_usd == pytest.approx(TEXT_COST)
    sent = fake.calls[-1]
    assert sent["prompt"] == "Summarise in one line:\na long story" and "messages" not in sent
    assert sent["max_tokens"] == 20

    detail = linked_trace(client, routed, out.trace_id or "", spans=2)
    llm = next(s for s in detail.spans if s.kind == "llm")
    assert llm.operation == "text_completion"
    assert (llm.prompt_name, llm.prompt_version) == (name, 1)
    assert traces_of(client, name, 1) == {out.trace_id}


def test_model_and_params_can_be_overridden_per_call(
    routed: Gateway, fake: FakeLLM, client: Client
) -> None:
    name = unique("override")
    client.prompts.create(
        name, messages=[{"role": "user", "content": "{{ q }}"}], model="nope", labels=["production"]
    )
    out = client.prompts.get(name).complete_with(
        {"q": "hi"}, model="support", params={"temperature": 1.5}, tenant="acme"
    )
    assert out.text == "echo: hi" and fake.calls[-1]["temperature"] == 1.5
    detail = linked_trace(client, routed, out.trace_id or "", spans=2)
    assert detail.trace.tenant == "acme"
