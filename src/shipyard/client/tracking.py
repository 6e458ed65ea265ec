"""The tracking SDK over the REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from shipyard.client.http import Transport
from shipyard.tracking.api import TrackingAPI
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
    check_artifact_path,
)


def _q(value: str) -> str:
    return quote(value, safe="")


class RemoteTracking(TrackingAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def create_experiment(
        self, name: str, description: str = "", tags: dict[str, str] | None = None
    ) -> Experiment:
        body = {"name": name, "description": description, "tags": tags or {}}
        return Experiment.model_validate(self.t.call("POST", "/api/v1/experiments", json=body))

    def get_experiment(self, name: str) -> Experiment:
        return Experiment.model_validate(self.t.call("GET", f"/api/v1/experiments/{_q(name)}"))

    def list_experiments(self) -> list[Experiment]:
        data = self.t.call("GET", "/api/v1/experiments")
        return [Experiment.model_validate(e) for e in data["experiments"]]

    def create_run(self, req: CreateRun) -> Run:
        return Run.model_validate(
            self.t.call("POST", "/api/v1/runs", json=req.model_dump(mode="json"))
        )

    def get_run(self, run_id: str) -> Run:
        return Run.model_validate(self.t.call("GET", f"/api/v1/runs/{_q(run_id)}"))

    def update_run(self, run_id: str, req: UpdateRun) -> Run:
        body = req.model_dump(mode="json", exclude_none=True)
        return Run.model_validate(self.t.call("PATCH", f"/api/v1/runs/{_q(run_id)}", json=body))

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        body = {"params": {k: v if isinstance(v, str) else str(v) for k, v in params.items()}}
        self.t.call("POST", f"/api/v1/runs/{_q(run_id)}/params", json=body)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self.t.call("POST", f"/api/v1/runs/{_q(run_id)}/tags", json={"tags": tags})

    def log_metrics(self, run_id: str, points: list[MetricPoint]) -> int:
        body = {"metrics": [p.model_dump() for p in points]}
        data = self.t.call("POST", f"/api/v1/runs/{_q(run_id)}/metrics", json=body)
        return int(data["stored"])

    def log_metric_rows(self, run_id: str, rows: list[dict[str, Any]]) -> int:
        """Send already-shaped points (the background logger's fast path)."""
        data = self.t.call("POST", f"/api/v1/runs/{_q(run_id)}/metrics", json={"metrics": rows})
        return int(data["stored"])

    def metric_history(self, run_id: str, keys: list[str] | None = None) -> list[MetricSeries]:
        params = [("key", k) for k in keys] if keys else None
        data = self.t.call("GET", f"/api/v1/runs/{_q(run_id)}/metrics", params=params)
        return [MetricSeries.model_validate(s) for s in data["series"]]

    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str) -> ArtifactInfo:
        path = f"/api/v1/runs/{_q(run_id)}/artifacts/{quote(check_artifact_path(artifact_path))}"
        return ArtifactInfo.model_validate(self.t.upload("PUT", path, local_path))

    def list_artifacts(self, run_id: str) -> list[ArtifactInfo]:
        data = self.t.call("GET", f"/api/v1/runs/{_q(run_id)}/artifacts")
        return [ArtifactInfo.model_validate(a) for a in data["artifacts"]]

    def download_artifact(self, run_id: str, artifact_path: str, dest: Path) -> Path:
        clean = check_artifact_path(artifact_path)
        target = dest / clean if dest.is_dir() else dest
        path = f"/api/v1/runs/{_q(run_id)}/artifacts/{quote(clean)}"
        return self.t.download(path, target)

    def log_input(self, run_id: str, dataset: DatasetInput) -> None:
        body = dataset.model_dump(mode="json", by_alias=True)
        self.t.call("POST", f"/api/v1/runs/{_q(run_id)}/inputs", json=body)

    def search_runs(self, req: SearchRuns) -> RunPage:
        data = self.t.call("POST", "/api/v1/runs/search", json=req.model_dump(mode="json"))
        return RunPage.model_validate(data)
