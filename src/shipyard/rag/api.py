"""The RAG interface of the SDK: a local (in-process) and a remote (HTTP) implementation.

Ingestion runs where the files are (``shipyard.rag.ingest``, through the registry API);
searches run where the index is served: in the process when embedded, on the server when
remote."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel

from shipyard.rag.apps import AskRequest, RagAnswer
from shipyard.rag.retrieval import SearchRequest, SearchResult
from shipyard.tracing.stats import RetrievalStats


class Serving(BaseModel):
    """What the serving side offers: the backend ``auto`` picks for large indexes."""

    large_backend: str


class Loaded(BaseModel):
    """A version made ready where it is served (its pgvector table built, if it has one)."""

    index: str
    version: int
    backend: str  # what answers its searches
    seconds: float


class RagAPI(ABC):
    @abstractmethod
    def serving(self) -> Serving:
        """What the side that serves searches offers (pgvector on PostgreSQL with it)."""

    @abstractmethod
    def load(self, index: str, version: int) -> Loaded:
        """Load a version where searches run, so its first search is not the slow one."""

    @abstractmethod
    def search(self, index: str, req: SearchRequest, **context: Any) -> SearchResult:
        """Search the version of ``index`` behind ``req.label`` (default production)."""

    @abstractmethod
    def ask(self, app: str, req: AskRequest, **context: Any) -> RagAnswer:
        """Answer a question with a RAG app (its version behind ``req.label``)."""

    @abstractmethod
    def stats(
        self, index: str | None, threshold: float | None = None, since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[RetrievalStats]:  # fmt: skip
        """Per index version: searches, and the share whose best score reaches ``threshold``
        (default: the server's ``rag_score_threshold``)."""
