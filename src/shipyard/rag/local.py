"""The RAG SDK on the local store: searches answered in this process."""

from __future__ import annotations

from typing import Any

from shipyard.rag.api import Loaded, RagAPI, Serving
from shipyard.rag.apps import AppRunner, AskRequest, RagAnswer
from shipyard.rag.retrieval import SearchRequest, SearchResult
from shipyard.rag.service import RagService
from shipyard.tracing.service import TracingService
from shipyard.tracing.stats import RetrievalStats


class LocalRag(RagAPI):
    def __init__(self, service: RagService, runner: AppRunner, tracing: TracingService) -> None:
        self.service = service
        self.runner = runner
        self.tracing = tracing

    def serving(self) -> Serving:
        return self.service.serving()

    def load(self, index: str, version: int) -> Loaded:
        return self.service.load(index, version)

    def search(self, index: str, req: SearchRequest, **context: Any) -> SearchResult:
        return self.service.search(index, req, **context)

    def ask(self, app: str, req: AskRequest, **context: Any) -> RagAnswer:
        return self.runner.ask(app, req, **context)

    def stats(
        self, index: str | None, threshold: float | None = None, since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[RetrievalStats]:  # fmt: skip
        if self.service.exporter is not None:
            self.service.exporter.flush()  # this process's spans first
        cut = self.service.settings.rag_score_threshold if threshold is None else threshold
        return self.tracing.retrieval_stats(index, cut, since_ms, until_ms)

    def close(self) -> None:
        self.service.close()
