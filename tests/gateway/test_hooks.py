"""Guardrail hook points: pre-call, post-call and stream hooks, and per-route token limits."""

from __future__ import annotations

from typing import ClassVar

import openai
import pytest
from pydantic import BaseModel

from shipyard.gateway.hooks import Hook, HookContext, Verdict, register_hook
from shipyard.gateway.providers.base import Call
from shipyard.gateway.schemas import Generation
from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM


class NoOptions(BaseModel):
    pass


class NoSecrets(Hook):
    """Blocks prompts that mention a secret; masks answers that contain 'echo'."""

    name = "test_no_secrets"
    Options: ClassVar[type[BaseModel]] = NoOptions

    async def pre_call(self, call: Call, ctx: HookContext) -> Verdict:
        text = str(call.raw.get("messages"))
        if "password" in text:
            return Verdict("block", "I can't help with passwords.", detail={"found": "password"})
        return Verdict()

    async def post_call(self, call: Call, answer: Generation, ctx: HookContext) -> Verdict:
        for choice in answer.body["choices"]:
            choice["message"]["content"] = choice["message"]["content"].replace("echo", "****")
        return Verdict("rewrite", "masked")

    def on_stream(self, call: Call, text: str, ctx: HookContext) -> Verdict:
        return Verdict("stop", "forbidden word") if "three" in text else Verdict()


register_hook(NoSecrets)


@pytest.fixture
def guarded(gw: Gateway, fake: FakeLLM) -> Gateway:
    gw.upstream("fake", fake)
    gw.route("r", targets=[{"upstream": "fake", "model": "echo"}],
             guardrails=[{"name": "test_no_secrets"}])  # fmt: skip
    return gw


def test_pre_call_block_answers_with_a_safe_message(guarded: Gateway, fake: FakeLLM) -> None:
    raw = guarded.openai().chat.completions.with_raw_response.create(
        model="r", messages=[{"role": "user", "content": "my password is hunter2"}]
    )
    out = raw.parse()
    assert out.choices[0].message.content == "I can't help with passwords."
    assert out.choices[0].finish_reason == "content_filter"
    assert fake.calls == []
    spans = guarded.trace(raw.headers["x-shipyard-trace-id"])["spans"]
    guard = [s for s in spans if s["kind"] == "guardrail"]
    assert guard and guard[0]["attributes"]["shipyard.guardrail.verdict"] == "block"
    assert guard[0]["parent_id"] == spans[0]["span_id"]


def test_post_call_rewrites_the_answer(guarded: Gateway) -> None:
    out = guarded.openai().chat.completions.create(
        model="r", messages=[{"role": "user", "content": "hi"}]
    )
    assert out.choices[0].message.content == "****: hi"


def test_stream_hook_stops_a_stream_midway(guarded: Gateway) -> None:
    chunks = list(guarded.openai().chat.completions.create(
        model="r", messages=[{"role": "user", "content": "one two three four five"}],
        stream=True))  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "three" in text and "five" not in text
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    trace = guarded.traces()[0]
    spans = guarded.trace(trace["trace_id"])["spans"]
    assert spans[0]["attributes"]["shipyard.gateway.stopped"].startswith("test_no_secrets")


def test_token_limits_refuse_long_prompts_and_cap_outputs(gw: Gateway, fake: FakeLLM) -> None:
    gw.upstream("fake", fake)
    gw.route("r", targets=[{"upstream": "fake", "model": "echo"}],
             limits={"max_input_tokens": 50, "max_output_tokens": 64})  # fmt: skip
    client = gw.openai()
    with pytest.raises(openai.BadRequestError) as info:
        long = [{"role": "user", "content": "word " * 100}]
        client.chat.completions.create(model="r", messages=long)
    assert info.value.code == "context_length_exceeded" and fake.calls == []
    client.chat.completions.create(model="r", messages=[{"role": "user", "content": "hi"}],
                                   max_tokens=1000)  # fmt: skip
    assert fake.calls[-1]["max_tokens"] == 64
    client.chat.completions.create(model="r", messages=[{"role": "user", "content": "hi"}],
                                   max_tokens=10)  # fmt: skip
    assert fake.calls[-1]["max_tokens"] == 10
    client.chat.completions.create(model="r", messages=[{"role": "user", "content": "hi"}])
    assert fake.calls[-1]["max_tokens"] == 64


def test_unknown_hook_is_refused(gw: Gateway, fake: FakeLLM) -> None:
    gw.upstream("fake", fake)
    r = gw.http.put(
        "/api/v1/gateway/routes/r",
        json={"targets": [{"upstream": "fake", "model": "echo"}], "guardrails": [{"name": "nope"}]},
    )
    assert r.status_code == 400 and "unknown guardrail hook 'nope'" in r.json()["error"]["message"]
