"""The RAG SDK over the REST API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shipyard.client.http import Transport
from shipyard.rag.api import RagAPI
from shipyard.rag.apps import AskRequest, RagAnswer
from shipyard.rag.retrieval import SearchRequest, SearchResult


class RemoteRag(RagAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def search(self, index: str, req: SearchRequest, **context: Any) -> SearchResult:
        headers = {}
        if context.get("traceparent"):
            headers["traceparent"] = context["traceparent"]
        data = self.t.call(
            "POST", f"/api/v1/rag/indexes/{quote(index, safe='')}/search",
            json=req.model_dump(mode="json", exclude_none=True), headers=headers or None,
        )  # fmt: skip
        return SearchResult.model_validate(data)

    def ask(self, app: str, req: AskRequest, **context: Any) -> RagAnswer:
        headers = {}
        if context.get("traceparent"):
            headers["traceparent"] = context["traceparent"]
        data = self.t.call(
            "POST", f"/api/v1/rag/apps/{quote(app, safe='')}/ask",
            json=req.model_dump(mode="json", exclude_none=True), headers=headers or None,
        )  # fmt: skip
        return RagAnswer.model_validate(data)
