"""Searching indexes: the version behind an alias, loaded once, queried many times.

One :class:`RagService` per process that answers searches (the server, or an embedded
client). It resolves ``NAME`` + alias to a version (re-checked every ``rag_alias_ttl_s``, so
moving an alias — a rollback included — reaches a running server within seconds, with no
restart), keeps the last ``rag_max_loaded`` snapshots in memory, embeds each query once
(an in-memory cache), and records every search as a retrieval span with its scores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shipyard.core.batching import Batcher
from shipyard.core.errors import InvalidInput
from shipyard.core.loading import LoadingCache
from shipyard.core.settings import RagSettings
from shipyard.rag.api import Loaded, Serving
from shipyard.rag.embedders import Embedder, embedder_from_config
from shipyard.rag.retrieval import SearchRequest, SearchResult, search_snapshot
from shipyard.rag.snapshot import ReadBlob, Snapshot, read_snapshot
from shipyard.registry.follow import AliasFollower
from shipyard.registry.schemas import DEFAULT_ALIAS, Kind, Version
from shipyard.tracing.schemas import SpanIn
from shipyard.tracing.sdk import open_span

if TYPE_CHECKING:
    import numpy as np

    from shipyard.registry.service import RegistryService
    from shipyard.store.db import Database

CONTENT_CHARS = 1000  # of each retrieved chunk kept in the span


class RagService:
    def __init__(
        self,
        settings: RagSettings,
        registry: RegistryService,
        read_blob: ReadBlob,
        exporter: Batcher[SpanIn] | None = None,
        gateway_call: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        db: Database | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.read_blob = read_blob
        self.exporter = exporter
        self.gateway_call = gateway_call
        self.db = db  # where pgvector indexes live
        self._lock = threading.Lock()
        self.aliases = AliasFollower(registry, settings.rag_alias_ttl_s)
        self._snapshots: LoadingCache[str, Snapshot] = LoadingCache(settings.rag_max_loaded)
        self._embedders: dict[str, Embedder] = {}
        self._queries: LoadingCache[tuple[str, str], np.ndarray] = LoadingCache(
            settings.rag_query_cache_entries
        )

    # -- versions ------------------------------------------------------------------------
    def resolve(self, name: str, label: str | None = None, version: int | None = None) -> Version:
        if version is not None:
            return self.registry.fetch(name, Kind.index, version=version)
        return self.aliases.fetch(name, Kind.index, label or DEFAULT_ALIAS)

    def serving(self) -> Serving:
        from shipyard.rag.backends.pgvector import pgvector_available

        return Serving(large_backend="pgvector" if pgvector_available(self.db) else "hnsw")

    def load(self, name: str, version: int) -> Loaded:
        started = time.perf_counter()
        found = self.snapshot(self.resolve(name, version=version))
        backend = found.backend
        serving = getattr(backend, "fallback", None) or backend
        return Loaded(index=name, version=version, backend=serving.name,
                      seconds=time.perf_counter() - started)  # fmt: skip

    def snapshot(self, version: Version) -> Snapshot:
        digest = version.artifact_digest or version.content_hash
        return self._snapshots.get(
            digest, lambda: read_snapshot(version.payload, self.read_blob, db=self.db)
        )

    # -- embedding -----------------------------------------------------------------------
    def embedder(self, config: dict[str, Any]) -> Embedder:
        key = repr(sorted(config.items()))
        with self._lock:
            found = self._embedders.get(key)
            if found is None:
                clean = {k: v for k, v in config.items() if k not in ("id", "dims")}
                found = embedder_from_config(clean, self.gateway_call)
                self._embedders[key] = found
        return found

    def embed_query(self, snapshot: Snapshot, text: str) -> np.ndarray:
        embedder = self.embedder(snapshot.manifest["embedder"])
        key = (embedder.id, text)
        vec = self._queries.peek(key)
        if vec is None:
            vec = embedder.embed([text])[0]
            self._queries.put(key, vec)
        dims = snapshot.vectors.shape[1]
        if vec.shape[0] != dims:
            raise InvalidInput(f"the embedder gave {vec.shape[0]} dimensions; the index has {dims}")
        return vec

    # -- search --------------------------------------------------------------------------
    def search(self, name: str, req: SearchRequest, **context: Any) -> SearchResult:
        """Search the version behind ``req.label`` (or ``req.version``); traced."""
        if self.exporter is None:
            return self._search(name, req, None)
        fields = {k: v for k, v in context.items() if v is not None}
        with open_span(self.exporter, f"retrieve {name}", "retrieval", input=req.query,
                       **fields) as span:  # fmt: skip
            if context.get("trace_id"):
                span.trace_id = context["trace_id"]
                span.parent_id = context.get("parent_id")
            return self._search(name, req, span)

    def _search(self, name: str, req: SearchRequest, span: Any) -> SearchResult:
        started = time.perf_counter()
        version = self.resolve(name, req.label, req.version)
        snapshot = self.snapshot(version)
        vector = self.embed_query(snapshot, req.query) if req.mode != "keyword" else None
        hits = search_snapshot(snapshot, vector, req)
        if vector is None and hits:
            # keyword mode: still report how close the hits are in meaning
            vector = self.embed_query(snapshot, req.query)
            for hit in hits:
                row = snapshot.row_of(hit.chunk_id)
                hit.vector_score = round(float(snapshot.vectors[row] @ vector), 6)
        best = max((h.vector_score for h in hits), default=None)
        result = SearchResult(
            index=name, version=version.version, mode=req.mode, hits=hits, best_score=best,
            embedder=snapshot.manifest["embedder"]["id"],
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )  # fmt: skip
        if span is not None:
            _describe(span, result, req, self.settings.rag_score_threshold)
        return result

    def close(self) -> None:
        for embedder in self._embedders.values():
            embedder.close()
        if self.exporter is not None:
            self.exporter.flush()


def _describe(span: Any, result: SearchResult, req: SearchRequest, threshold: float) -> None:
    """OpenInference retrieval attributes, plus Shipyard's own for stats."""
    attrs: dict[str, Any] = {
        "shipyard.index.name": result.index,
        "shipyard.index.version": result.version,
        "shipyard.retrieval.mode": result.mode,
        "shipyard.retrieval.k": req.k,
        "shipyard.retrieval.hits": len(result.hits),
        "shipyard.retrieval.embedder": result.embedder,
        "shipyard.retrieval.threshold": threshold,
    }
    if result.best_score is not None:
        attrs["shipyard.retrieval.best_score"] = result.best_score
        attrs["shipyard.retrieval.covered"] = result.best_score >= threshold
    if req.filters:
        attrs["shipyard.retrieval.filters"] = req.filters
    for i, hit in enumerate(result.hits):
        prefix = f"retrieval.documents.{i}.document"
        attrs[f"{prefix}.id"] = hit.chunk_id
        attrs[f"{prefix}.score"] = hit.score
        attrs[f"{prefix}.content"] = hit.text[:CONTENT_CHARS]
        attrs[f"{prefix}.metadata"] = {"doc_id": hit.doc_id, "source": hit.source,
                                       "vector_score": hit.vector_score}  # fmt: skip
    span.set_attributes(attrs)
    span.set_output([{"chunk_id": h.chunk_id, "doc_id": h.doc_id, "score": h.score}
                     for h in result.hits])  # fmt: skip
