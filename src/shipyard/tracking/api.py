"""The tracking interface of the SDK: a local (store) and a remote (HTTP) implementation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from shipyard.tracking.schemas import (
    ArtifactInfo,
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


class TrackingAPI(ABC):
    @abstractmethod
    def create_experiment(
        self, name: str, description: str = "", tags: dict[str, str] | None = None
    ) -> Experiment: ...

    @abstractmethod
    def get_experiment(self, name: str) -> Experiment: ...

    @abstractmethod
    def list_experiments(self) -> list[Experiment]: ...

    @abstractmethod
    def create_run(self, req: CreateRun) -> Run: ...

    @abstractmethod
    def get_run(self, run_id: str) -> Run: ...

    @abstractmethod
    def update_run(self, run_id: str, req: UpdateRun) -> Run: ...

    @abstractmethod
    def log_params(self, run_id: str, params: dict[str, Any]) -> None: ...

    @abstractmethod
    def set_tags(self, run_id: str, tags: dict[str, str]) -> None: ...

    @abstractmethod
    def log_metrics(self, run_id: str, points: list[MetricPoint]) -> int:
        """Store points now (the SDK's background logger batches into this)."""

    @abstractmethod
    def metric_history(self, run_id: str, keys: list[str] | None = None) -> list[MetricSeries]: ...

    @abstractmethod
    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str) -> ArtifactInfo: ...

    @abstractmethod
    def list_artifacts(self, run_id: str) -> list[ArtifactInfo]: ...

    @abstractmethod
    def download_artifact(self, run_id: str, artifact_path: str, dest: Path) -> Path: ...

    @abstractmethod
    def log_input(self, run_id: str, dataset: DatasetInput) -> None: ...

    @abstractmethod
    def search_runs(self, req: SearchRuns) -> RunPage: ...
