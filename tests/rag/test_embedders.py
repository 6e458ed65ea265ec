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
