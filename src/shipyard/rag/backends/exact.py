"""``exact``: a full scan with one matrix-vector product. Never misses; fast enough up to
tens of thousands of chunks, and what filtered searches use on small subsets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.rag.backends.base import VectorBackend, register_backend, top_k

if TYPE_CHECKING:
    import numpy as np


@register_backend
class ExactBackend(VectorBackend):
    name = "exact"

    def build(self, vectors: np.ndarray) -> None:
        self.vectors = vectors

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        if allowed is None:
            return top_k(self.vectors @ query, k)
        rows = np.flatnonzero(allowed)
        found, scores = top_k(self.vectors[rows] @ query, k)
        return rows[found], scores
