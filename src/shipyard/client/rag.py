"""The RAG SDK over the REST API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shipyard.client.http import Transport
from shipyard.rag.api import Loaded, RagAPI, Serving
from shipyard.rag.apps import AskRequest, RagAnswer
from shipyard.rag.retrieval import SearchRequest, SearchResult
from shipyard.tracing.stats import RetrievalStats


class RemoteRag(RagAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def _post(self, path: str, req: Any, context: dict[str, Any]) -> Any:
        traceparent = context.get("traceparent")
        headers = {"traceparent": traceparent} if traceparent else None
        body = req.model_dump(mode="json", exclude_none=True)
        return self.t.call("POST", path, json=body, headers=headers)

    def serving(self) -> Serving:
        return Serving.model_validate(self.t.call("GET", "/api/v1/rag/serving"))

    def load(self, index: str, version: int) -> Loaded:
        path = f"/api/v1/rag/indexes/{quote(index, safe='')}/versions/{int(version)}/load"
        return Loaded.model_validate(self.t.call("POST", path))

    def search(self, index: str, req: SearchRequest, **context: Any) -> SearchResult:
        path = f"/api/v1/rag/indexes/{quote(index, safe='')}/search"
        return SearchResult.model_validate(self._post(path, req, context))

    def ask(self, app: str, req: AskRequest, **context: Any) -> RagAnswer:
        path = f"/api/v1/rag/apps/{quote(app, safe='')}/ask"
        return RagAnswer.model_validate(self._post(path, req, context))

    def stats(
        self, index: str | None, threshold: float | None = None, since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[RetrievalStats]:  # fmt: skip
        params = {"index": index, "threshold": threshold, "since_ms": since_ms,
                  "until_ms": until_ms}  # fmt: skip
        data = self.t.call("GET", "/api/v1/rag/stats",
                           params={k: v for k, v in params.items() if v is not None})  # fmt: skip
        return [RetrievalStats.model_validate(x) for x in data["indexes"]]
