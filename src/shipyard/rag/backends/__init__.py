"""Vector index backends, as plug-ins: ``exact`` (numpy, for small sets and filtered
subsets), ``hnsw`` (FAISS HNSW, the embedded default for larger ones) and ``pgvector``."""

from shipyard.rag.backends.base import (
    BACKENDS,
    VectorBackend,
    choose_backend,
    make_backend,
    register_backend,
)

__all__ = ["BACKENDS", "VectorBackend", "choose_backend", "make_backend", "register_backend"]
