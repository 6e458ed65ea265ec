"""The tracking SDK on the local store (embedded mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.core.identity import Actor
from shipyard.store.artifacts import CHUNK
from shipyard.tracking.api import TrackingAPI
from shipyard.tracking.schemas import (
    ArtifactInfo,
    CreateExperiment,
    CreateRun,
    DatasetInput,
    Experiment,
    MetricPoint,
    MetricSeries,
    Run,
    RunPage,
    SearchRuns,
    UpdateRun,
)
from shipyard.tracking.service import TrackingService


class LocalTracking(TrackingAPI):
    def __init__(self, service: TrackingService, actor: Actor) -> None:
        self.service = service
        self.actor = actor

    def create_experiment(
        self, name: str, description: str = "", tags: dict[str, str] | None = None
    ) -> Experiment:
        req = CreateExperiment(name=name, description=description, tags=tags or {})
        return self.service.create_experiment(self.actor, req)

    def get_experiment(self, name: str) -> Experiment:
        return self.service.get_experiment(name)

    def list_experiments(self) -> list[Experiment]:
        return self.service.list_experiments()

    def create_run(self, req: CreateRun) -> Run:
        return self.service.create_run(self.actor, req)

    def get_run(self, run_id: str) -> Run:
        return self.service.get_run(run_id)

    def update_run(self, run_id: str, req: UpdateRun) -> Run:
        return self.service.update_run(self.actor, run_id, req)

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        self.service.log_params(self.actor, run_id, params)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self.service.set_tags(self.actor, run_id, tags)

    def log_metrics(self, run_id: str, points: list[MetricPoint]) -> int:
        return self.service.log_metrics(self.actor, run_id, points)

    def metric_history(self, run_id: str, keys: list[str] | None = None) -> list[MetricSeries]:
        return self.service.metric_history(run_id, keys)

    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str) -> ArtifactInfo:
        with local_path.open("rb") as f:
            return self.service.log_artifact(
                self.actor, run_id, artifact_path, iter(lambda: f.read(CHUNK), b"")
            )

    def list_artifacts(self, run_id: str) -> list[ArtifactInfo]:
        return self.service.list_artifacts(run_id)

    def download_artifact(self, run_id: str, artifact_path: str, dest: Path) -> Path:
        info = self.service.get_artifact(run_id, artifact_path)
        target = dest / info.path if dest.is_dir() else dest
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.service.artifacts.open(info.digest) as src, target.open("wb") as out:
            for block in iter(lambda: src.read(CHUNK), b""):
                out.write(block)
        return target

    def log_input(self, run_id: str, dataset: DatasetInput) -> None:
        self.service.log_input(self.actor, run_id, dataset)

    def search_runs(self, req: SearchRuns) -> RunPage:
        return self.service.search_runs(req)
