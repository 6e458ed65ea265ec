"""The OpenAI-compatible endpoints, driven by the official ``openai`` client."""

from __future__ import annotations

import openai
import pytest

from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM


@pytest.fixture
def chat(gw: Gateway, fake: FakeLLM) -> Gateway:
    gw.upstream("fake", fake)
    gw.route("chat", targets=[{"upstream": "fake", "model": "echo"}])
    return gw


def test_chat_completion_round_trip(chat: Gateway, fake: FakeLLM) -> None:
    client = chat.openai()
    raw = client.chat.completions.with_raw_response.create(
        model="chat",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "ping"}],
        temperature=0.2,
        seed=7,
        stop=["\n\n"],
        max_tokens=33,
        user="u-1",
        n=2,
    )
    out = raw.parse()
    assert [c.message.content for c in out.choices] == ["echo: ping", "echo: ping"]
    assert out.usage is not None and out.usage.total_tokens == 16
    assert raw.headers["x-shipyard-route"] == "chat"
    assert raw.headers["x-shipyard-target"] == "fake/echo"
    assert float(raw.headers["x-shipyard-cost-usd"]) == 0.0
    sent = fake.calls[-1]
    assert sent["model"] == "echo"  # the public name became the target's model
    assert (sent["seed"], sent["stop"], sent["max_tokens"], sent["n"], sent["user"]) == (
        7, ["\n\n"], 33, 2, "u-1"
    )  # fmt: skip
    assert fake.headers[-1]["Authorization"] == "Bearer sk-upstream-secret"


def test_stream_arrives_chunk_by_chunk_with_usage_and_cost(chat: Gateway) -> None:
    client = chat.openai()
    chunks = list(
        client.chat.completions.create(
            model="chat",
            messages=[{"role": "user", "content": "one two three"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: one two three"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 4
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5
    assert chunks[-1].usage.model_extra is not None and "cost_usd" in chunks[-1].usage.model_extra


def test_stream_without_usage_request_has_no_empty_chunk(chat: Gateway) -> None:
    chunks = list(
        chat.openai().chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert all(c.choices for c in chunks)  # code reading chunk.choices[0] never breaks
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_tools_pass_through(chat: Gateway, fake: FakeLLM) -> None:
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}]  # fmt: skip
    out = chat.openai().chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "weather?"}], tools=tools,
        tool_choice="auto",
    )  # fmt: skip
    call = out.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "weather" and call.function.arguments == '{"city": "Paris"}'
    assert fake.calls[-1]["tools"] == tools and fake.calls[-1]["tool_choice"] == "auto"


def test_completions_and_embeddings(gw: Gateway, fake: FakeLLM) -> None:
    gw.upstream("fake", fake)
    gw.route("text", targets=[{"upstream": "fake", "model": "echo"}])
    gw.route("vectors", operation="embeddings", targets=[{"upstream": "fake", "model": "emb"}])
    client = gw.openai()
    done = client.completions.create(model="text", prompt="say hi")
    assert done.choices[0].text == "echo: say hi"
    # the openai client asks for base64 by default and decodes it
    emb = client.embeddings.create(model="vectors", input=["abc", "hello"])
    assert [round(x, 3) for x in emb.data[1].embedding] == [5.0, 0.5, -1.0]
    assert fake.calls[-1]["encoding_format"] == "float"
    floats = client.embeddings.create(model="vectors", input="abcd", encoding_format="float")
    assert floats.data[0].embedding[0] == 4.0
    with pytest.raises(openai.BadRequestError, match="embeddings route"):
        client.chat.completions.create(model="vectors", messages=[{"role": "user", "content": "x"}])


def test_models_lists_routes_and_builtins(chat: Gateway) -> None:
    ids = [m.id for m in chat.openai().models.list()]
    assert ids[0] == "chat"
    assert "local/gemma-3-270m" in ids and "local-embed/all-minilm-l6-v2" in ids
    assert chat.openai().models.retrieve("chat").id == "chat"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b'{"model": "chat", "messages": "hi"}', 400, "invalid_value"),
        (b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "n": "two"}', 400,
         "invalid_value"),
        (b'{"model": "chat", "messages": [{"role": "wizard", "content": "x"}]}', 400,
         "invalid_value"),
        (b'{"model": "chat", "messages": []}', 400, "invalid_value"),
        (b'{"model": "no-such-route", "messages": [{"role": "user", "content": "x"}]}', 404,
         "model_not_found"),
        (b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "temperature": 9}',
         400, "invalid_value"),
    ],
)  # fmt: skip
def test_bad_requests_get_openai_errors_and_a_trace(
    chat: Gateway, body: bytes, status: int, code: str
) -> None:
    r = chat.http.post("/v1/chat/completions", content=body,
                       headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == status
    err = r.json()["error"]
    assert (
        err["code"] == code and err["message"] and set(err) == {"message", "type", "param", "code"}
    )
    traces = chat.traces(project="gateway", status="error")
    assert traces and traces[0]["status"] == "error"
    # and the server keeps serving
    msg = [{"role": "user", "content": "x"}]
    ok = chat.openai().chat.completions.create(model="chat", messages=msg)
    assert ok.choices[0].message.content == "echo: x"


def test_openai_client_raises_typed_errors(chat: Gateway) -> None:
    client = chat.openai()
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="ghost", messages=[{"role": "user", "content": "x"}])
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="chat", messages=[])


def test_oversize_body_is_413_in_openai_shape(tmp_path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from tests.gateway.conftest import make_gateway

    g = make_gateway(tmp_path, database_url, max_body_bytes=10_000)
    try:
        r = g.http.post("/v1/chat/completions", json={"model": "x", "messages": [
            {"role": "user", "content": "a" * 20_000}]})  # fmt: skip
        assert r.status_code == 413
        assert r.json()["error"]["type"] == "invalid_request_error"
    finally:
        g.stop()
