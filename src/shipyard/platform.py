"""The services of one Shipyard deployment, built from settings (no module-level state)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core.admin import AdminService
from shipyard.core.metrics import Registry
from shipyard.core.settings import Settings
from shipyard.guardrails.redact import redact_text
from shipyard.registry.service import RegistryService
from shipyard.store.artifacts import ArtifactStore, open_artifact_store
from shipyard.store.db import Database
from shipyard.store.migrate import upgrade
from shipyard.tracing.mapping import Limits
from shipyard.tracing.metrics import TraceMetrics
from shipyard.tracing.service import TracingService
from shipyard.tracking.logged_models import LoggedModels
from shipyard.tracking.service import TrackingService

if TYPE_CHECKING:
    from shipyard.core.batching import Batcher
    from shipyard.core.identity import Actor
    from shipyard.evals.store import EvalStore
    from shipyard.gateway.service import GatewayService
    from shipyard.ml.log import PredictionLog
    from shipyard.ml.monitor import Monitor
    from shipyard.ml.serving import ServingService
    from shipyard.prompts.service import PromptService
    from shipyard.rag.service import RagService
    from shipyard.sdk import Client


class Platform:
    """Database, artifact store and every domain service, wired together."""

    def __init__(self, settings: Settings, *, migrate: bool = True, serving: bool = False) -> None:
        self.settings = settings
        self.db = Database(
            settings.database_url,
            busy_timeout_s=settings.store.sqlite_busy_timeout_s,
            pool_size=settings.store.pool_size,
            background_checkpoints=serving,
        )
        if migrate:
            upgrade(self.db)
        self.artifacts: ArtifactStore = open_artifact_store(settings.artifacts_location)
        self.admin = AdminService(self.db)
        self.tracking = TrackingService(self.db, self.artifacts)
        self.registry = RegistryService(self.db, self.artifacts, self.tracking)
        self.logged_models = LoggedModels(self.db, self.artifacts)
        self.metrics = Registry()
        self.tracing = TracingService(
            self.db,
            limits=Limits(io_chars=settings.tracing.max_io_chars),
            hash_key=settings.hash_key,
            metrics=TraceMetrics(self.metrics),
            decode_workers=settings.tracing.decode_worker_count() if serving else 0,
            redactor=redact_text,  # projects with redact_pii: every entity the PII check finds
        )

    @functools.cached_property
    def gateway(self) -> GatewayService:
        """The LLM gateway (built on first use: most commands never need it)."""
        from shipyard.gateway.service import GatewayService

        return GatewayService(self.settings, self.db, self.registry, self.tracing)

    @functools.cached_property
    def prompts(self) -> PromptService:
        from shipyard.prompts.service import PromptService

        return PromptService(self.registry)

    @functools.cached_property
    def evals(self) -> EvalStore:
        from shipyard.evals.store import EvalStore

        return EvalStore(self.db, self.registry, self.tracking)

    @functools.cached_property
    def rag(self) -> RagService:
        """Index searches served by this process (retrieval spans go to the trace store)."""
        from shipyard.rag.service import RagService

        spans = self.span_exporter("shipyard-rag-spans", 500, 100_000)
        return RagService(self.settings.rag, self.registry, self.read_blob, spans, db=self.db)

    @functools.cached_property
    def serving(self) -> ServingService:
        """Model endpoints served by this process (prediction spans go to the trace store)."""
        from shipyard.core.batching import Batcher
        from shipyard.ml.serving import ServingService

        spans = self.span_exporter("shipyard-model-spans", 1000, 200_000)
        log = self.prediction_log
        rows: Batcher[Any] = Batcher(lambda _key, batch: log.write(batch), batch_size=5000,
                                     interval_s=0.2, max_pending=500_000,
                                     name="shipyard-predictions")  # fmt: skip
        return ServingService(self.settings.ml, self.registry, self.copy_blob, spans, rows)

    @functools.cached_property
    def prediction_log(self) -> PredictionLog:
        from shipyard.ml.log import PredictionLog

        return PredictionLog(self.db)

    @functools.cached_property
    def monitor(self) -> Monitor:
        """Scheduled checks of model endpoints, their alerts, and retraining."""
        from shipyard.core.identity import Actor, Role
        from shipyard.ml.monitor import Monitor
        from shipyard.ml.retrain import Retrainer

        actor = Actor(name="shipyard:monitor", role=Role.admin)
        retrainer = Retrainer(lambda: self.jobs_client(actor), self.serving,
                              self.prediction_log, actor)  # fmt: skip
        return Monitor(self.db, self.serving, self.prediction_log, retrainer)

    def jobs_client(self, actor: Actor) -> Client:
        """An embedded client over this platform, for the jobs it runs (pipelines)."""
        if "_jobs_client" not in self.__dict__:
            from shipyard.sdk import Client

            self.__dict__["_jobs_client"] = Client(platform=self, actor=actor)
        client: Client = self.__dict__["_jobs_client"]
        return client

    def span_exporter(self, name: str, batch_size: int, max_pending: int) -> Batcher[Any]:
        """Spans this process makes, written to its trace store in background batches."""
        from shipyard.core.batching import Batcher

        tracing = self.tracing
        return Batcher(
            lambda _key, batch: tracing.ingest(tracing.decode_native(batch)),
            batch_size=batch_size, interval_s=0.2, max_pending=max_pending, name=name,
        )  # fmt: skip

    def copy_blob(self, digest: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.artifacts.open(digest) as src, dest.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)

    def read_blob(self, digest: str) -> bytes:
        with self.artifacts.open(digest) as f:
            data: bytes = f.read()
        return data

    def close(self) -> None:
        if "_jobs_client" in self.__dict__:
            self.__dict__.pop("_jobs_client").close()
        if "serving" in self.__dict__:
            self.serving.close()
            self.serving.exporter.close()  # type: ignore[union-attr]
            self.serving.predictions.close()  # type: ignore[union-attr]
        if "rag" in self.__dict__:
            self.rag.close()
            self.rag.exporter.close()  # type: ignore[union-attr]
        if "gateway" in self.__dict__:
            self.gateway.recorder.flush()
            self.gateway.recorder.close()
            self.gateway.ledger.close()
        self.tracing.close()
        self.db.dispose()
