"""Retrieval over one loaded snapshot: vector, keyword (BM25) or hybrid search, metadata
filters, and a reranker hook.

    vector    cosine similarity through the snapshot's backend
    keyword   BM25 over the chunk texts (with their headings)
    hybrid    both lists fused by reciprocal rank fusion: score = Σ 1 / (60 + rank)

Filters are exact matches on a chunk field (``doc_id``, ``source``, ``title``, ``heading``,
``page``) or a metadata key; a list value matches any of its items; several keys must all
match. Every hit carries the cosine score of its vector (``vector_score``), whatever the
mode, so the best score of a request says how well the index covered it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.errors import InvalidInput
from shipyard.rag.backends.base import top_k
from shipyard.rag.snapshot import Snapshot

if TYPE_CHECKING:
    import numpy as np

Mode = Literal["vector", "keyword", "hybrid"]
RRF_K = 60
MAX_K = 1000


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=20_000)
    k: int = Field(5, ge=1, le=MAX_K)
    mode: Mode = "hybrid"
    filters: dict[str, Any] = Field(default_factory=dict)
    rerank: str | None = Field(default=None, description="a registered reranker's name")
    label: str | None = Field(default=None, description="the alias to search (default production)")
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)


class Hit(BaseModel):
    rank: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    heading: str
    page: int | None
    text: str
    score: float  # what the hits are ordered by (cosine, BM25 or RRF)
    vector_score: float  # cosine similarity of query and chunk
    metadata: dict[str, Any] = Field(default_factory=dict)


class SearchResult(BaseModel):
    index: str
    version: int
    mode: Mode
    hits: list[Hit]
    best_score: float | None  # the best cosine score among the hits
    embedder: str
    latency_ms: float = 0.0


class Reranker(ABC):
    """Reorders (and may cut) a list of hits; registered by name."""

    name: ClassVar[str]

    @abstractmethod
    def rerank(self, query: str, hits: list[Hit], snapshot: Snapshot, k: int) -> list[Hit]: ...


RERANKERS: dict[str, Reranker] = {}


def register_reranker(reranker: Reranker) -> Reranker:
    RERANKERS[reranker.name] = reranker
    return reranker


class MMR(Reranker):
    """Maximal marginal relevance: trades a little relevance for less repetition."""

    name = "mmr"
    diversity = 0.3

    def rerank(self, query: str, hits: list[Hit], snapshot: Snapshot, k: int) -> list[Hit]:
        rows = {c.id: i for i, c in enumerate(snapshot.chunks)}
        vecs = snapshot.vectors[[rows[h.chunk_id] for h in hits]]
        chosen: list[int] = []
        left = list(range(len(hits)))
        while left and len(chosen) < k:

            def gain(i: int) -> float:
                redundancy = max((float(vecs[i] @ vecs[j]) for j in chosen), default=0.0)
                return (1 - self.diversity) * hits[i].vector_score - self.diversity * redundancy

            best = max(left, key=gain)
            chosen.append(best)
            left.remove(best)
        return [hits[i] for i in chosen]


register_reranker(MMR())


def filter_mask(snapshot: Snapshot, filters: dict[str, Any]) -> np.ndarray | None:
    import numpy as np

    if not filters:
        return None
    mask = np.ones(len(snapshot.chunks), dtype=bool)
    for key, wanted in filters.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values or any(isinstance(v, dict | list) for v in values):
            raise InvalidInput(f"filter {key!r}: give a value or a list of values")
        column = snapshot.column(key)
        keep = np.zeros(len(snapshot.chunks), dtype=bool)
        for value in values:
            rows = column.get(value)
            if rows is None and isinstance(value, str) and value.isdigit():
                rows = column.get(int(value))  # page=3 from a command line
            if rows is not None:
                keep[rows] = True
        mask &= keep
    return mask


def retrieve(
    snapshot: Snapshot, query_vector: np.ndarray | None, req: SearchRequest
) -> tuple[list[tuple[int, float]], np.ndarray | None]:
    """(row, score) pairs, best first, and the cosine scores of all rows when computed."""
    import numpy as np

    mask = filter_mask(snapshot, req.filters)
    if mask is not None and not mask.any():
        return [], None
    depth = req.k if req.mode == "vector" and req.rerank is None else max(req.k * 4, 50)
    ranked: list[tuple[int, float]] = []
    vec_rows: np.ndarray | None = None
    if req.mode in ("vector", "hybrid"):
        assert query_vector is not None
        vec_rows, vec_scores = snapshot.backend.search(query_vector, depth, mask)
        ranked = list(zip(vec_rows.tolist(), vec_scores.tolist(), strict=True))
    if req.mode in ("keyword", "hybrid"):
        scores = snapshot.bm25().scores(req.query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        kw_rows, kw_scores = top_k(scores, depth)
        keep = kw_scores > 0
        keyword = list(zip(kw_rows[keep].tolist(), kw_scores[keep].tolist(), strict=True))
        if req.mode == "keyword":
            ranked = keyword
        else:
            fused: dict[int, float] = {}
            for results in (ranked, keyword):
                for rank, (row, _) in enumerate(results):
                    fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
            ranked = sorted(fused.items(), key=lambda kv: -kv[1])
    return ranked[:depth], vec_rows


def to_hits(
    snapshot: Snapshot, ranked: list[tuple[int, float]], query_vector: np.ndarray | None
) -> list[Hit]:
    hits = []
    for rank, (row, score) in enumerate(ranked, start=1):
        c = snapshot.chunks[row]
        cosine = float(snapshot.vectors[row] @ query_vector) if query_vector is not None else 0.0
        hits.append(Hit(
            rank=rank, chunk_id=c.id, doc_id=c.doc_id, source=c.source, title=c.title,
            heading=c.heading, page=c.page, text=c.text, score=round(float(score), 6),
            vector_score=round(cosine, 6), metadata=c.metadata,
        ))  # fmt: skip
    return hits


def search_snapshot(
    snapshot: Snapshot, query_vector: np.ndarray | None, req: SearchRequest
) -> list[Hit]:
    ranked, _ = retrieve(snapshot, query_vector, req)
    hits = to_hits(snapshot, ranked, query_vector)
    if req.rerank:
        reranker = RERANKERS.get(req.rerank)
        if reranker is None:
            known = ", ".join(sorted(RERANKERS)) or "none registered"
            raise InvalidInput(f"unknown reranker {req.rerank!r} ({known})")
        hits = reranker.rerank(req.query, hits, snapshot, req.k)
    hits = hits[: req.k]
    for rank, hit in enumerate(hits, start=1):
        hit.rank = rank
    return hits
