"""The RAG SDK on the local store: searches answered in this process."""

from __future__ import annotations

from typing import Any

from shipyard.rag.api import RagAPI
from shipyard.rag.apps import AppRunner, AskRequest, RagAnswer
from shipyard.rag.retrieval import SearchRequest, SearchResult
from shipyard.rag.service import RagService


class LocalRag(RagAPI):
    def __init__(self, service: RagService, runner: AppRunner) -> None:
        self.service = service
        self.runner = runner

    def search(self, index: str, req: SearchRequest, **context: Any) -> SearchResult:
        return self.service.search(index, req, **context)

    def ask(self, app: str, req: AskRequest, **context: Any) -> RagAnswer:
        return self.runner.ask(app, req, **context)

    def close(self) -> None:
        self.service.close()
