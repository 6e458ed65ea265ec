"""The anthropic provider: OpenAI requests mapped to the Messages API and back."""

from __future__ import annotations

import json

import pytest

from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM


@pytest.fixture
def claude(gw: Gateway, fake: FakeLLM) -> Gateway:
    gw.upstream("claude", fake, provider="anthropic", api_key="sk-ant-secret")
    gw.route("c", targets=[{"upstream": "claude", "model": "claude-3-5-haiku-20241022"}])
    return gw


def test_request_and_answer_mapping(claude: Gateway, fake: FakeLLM) -> None:
    raw = claude.openai().chat.completions.with_raw_response.create(
        model="c",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second"},
        ],
        temperature=1.5,
        stop="END",
        max_tokens=99,
        user="u-7",
    )
    out = raw.parse()
    sent = fake.calls[-1]
    assert sent["system"] == "You are terse."
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["max_tokens"] == 99 and sent["temperature"] == 1.0
    assert sent["stop_sequences"] == ["END"] and sent["metadata"] == {"user_id": "u-7"}
    assert fake.headers[-1]["x-api-key"] == "sk-ant-secret"
    assert fake.headers[-1]["anthropic-version"] == "2023-06-01"
    assert out.choices[0].message.content == "echo: second"
    assert out.choices[0].finish_reason == "stop"
    # prompt_tokens include cached reads, as OpenAI counts them
    assert out.usage is not None and (out.usage.prompt_tokens, out.usage.completion_tokens) == (
        25,
        6,
    )
    # claude-3-5-haiku: 21 × $0.80 + 4 × $0.08 + 6 × $4.00 per million
    assert float(raw.headers["x-shipyard-cost-usd"]) == pytest.approx(4.112e-5)


def test_tools_both_ways(claude: Gateway, fake: FakeLLM) -> None:
    params = {"type": "object", "properties": {"city": {"type": "string"}}}
    fn = {"name": "weather", "description": "d", "parameters": params}
    tools = [{"type": "function", "function": fn}]
    out = claude.openai().chat.completions.create(
        model="c", tools=tools, tool_choice="required",
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function",
             "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
        ],
    )  # fmt: skip
    sent = fake.calls[-1]
    assert sent["tools"][0]["input_schema"]["properties"]["city"] == {"type": "string"}
    assert sent["tool_choice"] == {"type": "any"}
    assert sent["messages"][1]["content"][0] == {
        "type": "tool_use",
        "id": "t1",
        "name": "weather",
        "input": {"city": "Oslo"},
    }
    assert sent["messages"][2]["content"][0]["type"] == "tool_result"
    call = out.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "weather" and json.loads(call.function.arguments) == {
        "city": "Paris"
    }
    assert out.choices[0].finish_reason == "tool_calls"


def test_stream_mapping(claude: Gateway) -> None:
    chunks = list(claude.openai().chat.completions.create(
        model="c", messages=[{"role": "user", "content": "a b c"}], stream=True,
        stream_options={"include_usage": True},
    ))  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == "echo: a b c"
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["stop"]
    usage = chunks[-1].usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (21, 6)
