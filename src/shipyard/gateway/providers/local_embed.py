"""``local-embed``: the MiniLM sentence embedder (384 dimensions) run in-process by ONNX."""

from __future__ import annotations

import asyncio

from shipyard.gateway.providers.base import Call, Failure, Provider, register
from shipyard.gateway.schemas import Embeddings, Generation, Usage
from shipyard.localai.minilm import MODEL_ID, MiniLM

MAX_INPUTS = 2048


@register
class LocalEmbedProvider(Provider):
    kind = "local-embed"
    needs_api_key = False
    operations = frozenset({"embeddings"})

    def embedder(self) -> MiniLM:
        found = self.ctx.resources.get("minilm")
        if found is None:
            found = self.ctx.resources["minilm"] = MiniLM()
        assert isinstance(found, MiniLM)
        return found

    async def generate(self, call: Call, model: str) -> Generation:
        raise Failure(f"upstream {self.name!r} only serves embeddings")

    async def embed(self, call: Call, model: str) -> Embeddings:
        if model not in (MODEL_ID, "all-MiniLM-L6-v2"):
            raise Failure(
                f"the local embedder serves {MODEL_ID!r}, not {model!r}", code="model_not_found"
            )
        texts = call.embedding.texts()
        if len(texts) > MAX_INPUTS:
            raise Failure(f"at most {MAX_INPUTS} inputs per request", client_fault=True)
        if call.embedding.dimensions not in (None, 384):
            raise Failure(
                "the local embedder gives 384 dimensions only", client_fault=True, code="dimensions"
            )
        emb = self.embedder()
        vectors, tokens = await asyncio.to_thread(_embed, emb, texts)
        return Embeddings(vectors, Usage(input_tokens=tokens), MODEL_ID)


def _embed(emb: MiniLM, texts: list[str]) -> tuple[list[list[float]], int]:
    return emb.embed(texts).tolist(), emb.count_tokens(texts)
