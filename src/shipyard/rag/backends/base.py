"""The vector backend plug-in interface.

    class VectorBackend:
        name                        the name it is registered under
        Options                     its build and search parameters (stored with the index)
        build(vectors)              index unit-length float32 rows
        search(query, k, allowed)   -> (row numbers, cosine scores), best first; ``allowed``
                                    is a boolean mask over rows (a metadata filter) or None
        dump() / restore(vectors, data)
                                    the index file kept in a snapshot, and loading it back

Rows are the positions of chunks in the snapshot; scores are cosine similarities. Third-party
backends load through the entry-point group ``shipyard.vector_backends``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from shipyard.core.plugins import PluginRegistry

if TYPE_CHECKING:
    import numpy as np

# Below this many chunks an exact scan is about as fast as a graph and never misses.
EXACT_UP_TO = 20_000


class BackendOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VectorBackend(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[BackendOptions]] = BackendOptions

    def __init__(self, options: Any) -> None:
        self.options = options

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.options.model_dump()}

    @abstractmethod
    def build(self, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def dump(self) -> bytes | None:
        """The index file to keep in the snapshot (None: rebuilt from the vectors)."""
        return None

    def restore(self, vectors: np.ndarray, data: bytes | None) -> None:
        self.build(vectors)


BACKENDS: PluginRegistry[VectorBackend] = PluginRegistry(
    "vector backend", lambda cls: cls.name,
    ("shipyard.rag.backends.exact", "shipyard.rag.backends.hnsw",
     "shipyard.rag.backends.pgvector"), "shipyard.vector_backends",
)  # fmt: skip
register_backend = BACKENDS.register


def make_backend(name: str, **options: Any) -> VectorBackend:
    cls = BACKENDS.get(name)
    return cls(BACKENDS.options(name, cls.Options, options))


def choose_backend(rows: int, requested: str | None = None, large: str = "hnsw") -> str:
    """``auto`` (or nothing): exact up to :data:`EXACT_UP_TO` rows, ``large`` above (HNSW, or
    pgvector where the index is built on PostgreSQL)."""
    if requested and requested != "auto":
        return requested
    return "exact" if rows <= EXACT_UP_TO else large


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and values of the ``k`` largest scores, best first."""
    import numpy as np

    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    part = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(k)
    order = part[np.argsort(-scores[part], kind="stable")]
    return order.astype(np.int64), scores[order].astype(np.float32)
