"""Embedders over HTTP: any /v1/embeddings endpoint (a fake provider here) and this
Shipyard's own gateway, for ingestion on the client and for searches on the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import InvalidInput, UpstreamError
from shipyard.rag.embedders import embedder_from_config, parse_embedder
from shipyard.sdk import Client
from tests.gateway.conftest import Gateway
from tests.helpers.fake_llm import FakeLLM
from tests.rag.corpus import write_corpus


def test_an_openai_compatible_endpoint_embeds_and_its_key_is_never_stored(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBED_KEY", "sk-secret-embedding-key")
    client = Client()
    try:
        config = parse_embedder(f"openai:emb@{fake.url}/v1") | {"api_key_env": "EMBED_KEY"}
        report = client.rag.ingest(write_corpus(tmp_path / "c"), "kb", embedder=config)
        assert report.created and report.chunks["embedded"] > 0
        version = client.registry.get_version("kb", version=1)
        assert version.payload["embedder"]["dims"] == 3
        assert "sk-secret" not in str(version.payload)
        assert fake.headers[-1].get("Authorization") == "Bearer sk-secret-embedding-key"
        assert client.rag.search("kb", "anything", 3, mode="vector").hits
    finally:
        client.close()
    broken = embedder_from_config({"type": "openai", "model": "m",
                                   "base_url": "http://127.0.0.1:9"})  # fmt: skip
    with pytest.raises(UpstreamError, match="unreachable"):
        broken.embed(["x"])
    broken.close()
    with pytest.raises(InvalidInput, match="unknown embedder"):
        parse_embedder("word2vec")


def test_the_gateway_embeds_for_the_client_and_for_the_server(
    gw: Gateway, fake: FakeLLM, tmp_path: Path
) -> None:
    gw.upstream("fake", fake)
    gw.route("vectors", operation="embeddings", targets=[{"upstream": "fake", "model": "emb"}])
    client = Client(url=gw.url)
    try:
        before = len(fake.calls)
        report = client.rag.ingest(write_corpus(tmp_path / "c"), "kb",
                                   embedder={"type": "gateway", "route": "vectors"})  # fmt: skip
        assert report.chunks["embedded"] > 0 and len(fake.calls) > before
        searched = len(fake.calls)
        result = client.rag.search("kb", "a question only the server embeds", 3, mode="vector")
        assert result.hits and result.embedder == "gateway:vectors"
        assert len(fake.calls) == searched + 1  # the server called its own gateway
        calls = gw.traces(model="emb")
        assert calls, "the gateway traced the embedding calls"
    finally:
        client.close()


def test_the_local_embedder_runs_an_int8_kernel_built_once_that_agrees_with_the_shipped_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from shipyard.localai.minilm import DYNAMIC, SHIPPED, MiniLM, kernel

    monkeypatch.setenv("SHIPYARD_MODEL_CACHE", str(tmp_path))
    pairs = [
        ("How do I open a file for reading?", "reading the contents of a file from disk"),
        ("What does the yield keyword do?", "generator functions produce values lazily"),
        ("How are exceptions raised?", "the raise statement signals an error"),
        ("Sort a list of numbers", "ordering the items of a sequence"),
    ]
    texts = [t for pair in pairs for t in pair]
    fast = MiniLM(threads=1)
    assert fast.kernel == DYNAMIC
    v = fast.embed(texts)
    built = list(tmp_path.glob("*.onnx"))
    assert len(built) == 1  # built once, into the cache directory given
    stamp = built[0].stat().st_mtime_ns

    shipped = MiniLM(threads=1)
    shipped.kernel = SHIPPED
    w = shipped.embed(texts)
    cosine = (v * w).sum(axis=1)
    assert cosine.min() > 0.97
    assert np.abs(v - w).max() > 1e-4  # really another kernel, not the same file again
    for vectors in (v, w):  # each paraphrase's nearest neighbour is its pair, under both
        sims = vectors @ vectors.T
        np.fill_diagonal(sims, -1)
        assert [int(i) for i in sims.argmax(axis=1)] == [i ^ 1 for i in range(len(texts))]

    again = MiniLM(threads=1).embed(texts[:2])
    assert np.allclose(again, v[:2], atol=1e-5)
    assert built[0].stat().st_mtime_ns == stamp  # reused, not rebuilt

    assert embedder_from_config({"type": "minilm"}).id.endswith(":dynamic-int8")
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)  # as if onnx were missing
    assert kernel() == SHIPPED
    assert embedder_from_config({"type": "minilm"}).id.endswith(":weights-int8")
