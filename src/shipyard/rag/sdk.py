"""``client.rag``: ingest files into versioned indexes and search them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import InvalidInput
from shipyard.rag.api import RagAPI
from shipyard.rag.apps import REQUIRED_VARIABLES, AppSpec, AskRequest, RagAnswer
from shipyard.rag.cache import EmbeddingCache
from shipyard.rag.ingest import IngestOptions, IngestReport, Reporter, ingest
from shipyard.rag.retrieval import Mode, SearchRequest, SearchResult
from shipyard.tracing.stats import RetrievalStats

if TYPE_CHECKING:
    from shipyard.registry.schemas import Version
    from shipyard.sdk import Client


class Rag:
    def __init__(self, api: RagAPI, client: Client) -> None:
        self.api = api
        self.client = client

    @functools.cached_property
    def cache(self) -> EmbeddingCache:
        cache = EmbeddingCache(self.client.settings.home / "cache" / "embeddings.sqlite")
        self.client._closers.append(cache.close)
        return cache

    def _large_backend(self) -> str:
        """pgvector when searches are served on PostgreSQL with the extension (this process
        when embedded, the server when remote)."""
        return self.api.serving().large_backend

    def gateway_call(self, body: dict[str, Any]) -> dict[str, Any]:
        """One ``/v1/embeddings`` call through this client's gateway."""
        return self.client.gateway.call("embeddings", body).body

    def ingest(
        self,
        path: str | Path,
        index: str,
        *,
        chunker: dict[str, Any] | None = None,
        embedder: dict[str, Any] | None = None,
        backend: str = "auto",
        backend_options: dict[str, Any] | None = None,
        description: str = "",
        promote: bool = False,
        reporter: Reporter | None = None,
    ) -> IngestReport:
        """A new version of ``index`` from the files under ``path`` (only what changed is
        embedded again; nothing changed, no new version)."""
        options = IngestOptions(
            chunker=chunker or {"strategy": "structure"}, embedder=embedder or {"type": "minilm"},
            backend=backend, backend_options=backend_options or {}, description=description,
            promote=promote, large_backend=self._large_backend(),
        )  # fmt: skip
        report = ingest(self.client.registry, index, Path(path), options, self.cache,
                        gateway=self.gateway_call, reporter=reporter)  # fmt: skip
        if report.created and report.version is not None and report.backend == "pgvector":
            # the table and its HNSW index are built now, not by the first search
            if reporter is not None:
                reporter.stage("building the pgvector index in the database", None)
            report.seconds += self.api.load(index, report.version).seconds
        return report

    def search(
        self,
        index: str,
        query: str,
        k: int = 5,
        *,
        mode: Mode = "hybrid",
        filters: dict[str, Any] | None = None,
        label: str | None = None,
        version: int | None = None,
        rerank: str | None = None,
    ) -> SearchResult:
        req = SearchRequest(query=query, k=k, mode=mode, filters=filters or {}, label=label,
                            version=version, rerank=rerank)  # fmt: skip
        return self.api.search(index, req)

    def stats(
        self, index: str | None = None, threshold: float | None = None,
        since_ms: int | None = None, until_ms: int | None = None,
    ) -> list[RetrievalStats]:  # fmt: skip
        """Searches per index version in a window (default 24 h) and the share whose best
        score reaches ``threshold``."""
        return self.api.stats(index, threshold, since_ms, until_ms)

    # -- apps ----------------------------------------------------------------------------
    def create_app(self, name: str, *, description: str = "", **spec: Any) -> Version:
        """A new version of app ``name`` (index, prompt, route, k...); the first version is
        labelled production. An unchanged spec returns the newest version."""
        from shipyard.registry.api import create_labelled_version
        from shipyard.registry.schemas import Kind, with_article

        app = AppSpec.model_validate(spec)
        index = self.client.registry.get_version(app.index, alias=app.index_label)
        if index.kind != Kind.index:
            raise InvalidInput(f"{app.index} is {with_article(index.kind)}, not an index")
        prompt = self.client.prompts.get(app.prompt, app.prompt_label, cache_ttl_s=0)
        missing = [v for v in REQUIRED_VARIABLES if v not in prompt.variables]
        if missing:
            needed = ", ".join(REQUIRED_VARIABLES)
            raise InvalidInput(
                f"prompt {prompt.ref} must declare the variables {needed} "
                f"(missing {', '.join(missing)})"
            )
        return create_labelled_version(self.client.registry, name, Kind.app,
                                       app.model_dump(mode="json"), description)  # fmt: skip

    def ask(
        self, app: str, question: str, *, label: str | None = None, user: str | None = None,
        session: str | None = None,
    ) -> RagAnswer:  # fmt: skip
        """Answer ``question`` with app ``app``: retrieval, the prompt, the model; with
        citations and a groundedness score, traced as one trace."""
        return self.api.ask(app, AskRequest(question=question, label=label, user=user,
                                            session=session))  # fmt: skip
