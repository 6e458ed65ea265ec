"""The semantic cache: answers reused for requests that mean the same, by embedding
similarity (the local MiniLM), within one route, one tenant and identical parameters."""

from __future__ import annotations

import asyncio
import time

from shipyard.gateway.cache import Cached, SemanticIndex, params_key
from shipyard.gateway.hooks import input_text
from shipyard.gateway.providers.base import Call, ProviderContext
from shipyard.gateway.routes import CacheSpec
from shipyard.localai.minilm import MiniLM

TEXT_FIELDS = {"chat": ("messages",), "text_completion": ("prompt",)}


class SemanticCache:
    def __init__(self, ctx: ProviderContext, max_entries: int) -> None:
        self.ctx = ctx
        self.index = SemanticIndex(max_entries)

    def _embedder(self) -> MiniLM:
        found = self.ctx.resources.get("minilm")
        if found is None:
            found = self.ctx.resources["minilm"] = MiniLM()
        assert isinstance(found, MiniLM)
        return found

    def _scope(self, route: str, tenant: str | None, call: Call) -> str:
        fields = TEXT_FIELDS.get(call.operation, ())
        return f"{route}\0{tenant or ''}\0{params_key(call.raw, fields)}"

    async def lookup(
        self, route: str, tenant: str | None, call: Call, spec: CacheSpec
    ) -> Cached | None:
        emb = self._embedder()
        vector = (await asyncio.to_thread(emb.embed, [input_text(call)]))[0]
        call.scratch["semantic_vector"] = vector
        return self.index.lookup(
            self._scope(route, tenant, call), vector, spec.threshold, time.monotonic()
        )

    def remember(self, route: str, tenant: str | None, call: Call, value: Cached) -> None:
        vector = call.scratch.get("semantic_vector")
        if vector is not None:
            self.index.add(self._scope(route, tenant, call), vector, value)
