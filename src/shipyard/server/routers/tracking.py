"""Experiments and runs: /api/v1/experiments, /api/v1/runs."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.server.deps import editor, platform, viewer
from shipyard.server.streams import stream_blob, upload_to_store
from shipyard.tracking.schemas import (
    ArtifactInfo,
    CreateExperiment,
    CreateRun,
    DatasetInput,
    Experiment,
    LogMetrics,
    LogParams,
    Run,
    RunPage,
    SearchRuns,
    SetTags,
    UpdateRun,
)

router = APIRouter(prefix="/api/v1", tags=["tracking"])


@router.get("/experiments")
def list_experiments(
    p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> dict[str, list[Experiment]]:
    return {"experiments": p.tracking.list_experiments()}


@router.post("/experiments", status_code=201)
def create_experiment(
    req: CreateExperiment, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Experiment:
    return p.tracking.create_experiment(actor, req)


@router.get("/experiments/{name:path}")
def get_experiment(
    name: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> Experiment:
    return p.tracking.get_experiment(name)


@router.post("/runs", status_code=201)
def create_run(
    req: CreateRun, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Run:
    return p.tracking.create_run(actor, req)


@router.post("/runs/search")
def search_runs(
    req: SearchRuns, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> RunPage:
    return p.tracking.search_runs(req)


@router.get("/runs")
def list_runs(
    experiment: list[str] | None = Query(default=None, description="experiment names"),
    filter: str = Query(default="", description="e.g. metrics.auc > 0.9 and params.model = 'rf'"),
    order_by: list[str] | None = Query(default=None, description="e.g. metrics.auc DESC"),
    max_results: int = Query(default=100, ge=1, le=10_000),
    page_token: str | None = None,
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> RunPage:
    """The same search as ``POST /runs/search``, with query parameters."""
    req = SearchRuns(
        experiments=experiment or [],
        filter=filter,
        order_by=order_by or [],
        max_results=max_results,
        page_token=page_token,
    )
    return p.tracking.search_runs(req)


@router.get("/runs/{run_id}")
def get_run(run_id: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> Run:
    return p.tracking.get_run(run_id)


@router.patch("/runs/{run_id}")
def update_run(
    run_id: str, req: UpdateRun, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Run:
    return p.tracking.update_run(actor, run_id, req)


@router.post("/runs/{run_id}/params", status_code=204)
def log_params(
    run_id: str, req: LogParams, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> None:
    p.tracking.log_params(actor, run_id, req.params)


@router.post("/runs/{run_id}/tags", status_code=204)
def set_tags(
    run_id: str, req: SetTags, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> None:
    p.tracking.set_tags(actor, run_id, req.tags)


@router.post(
    "/runs/{run_id}/metrics",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": LogMetrics.model_json_schema()}},
        }
    },
)
async def log_metrics(
    run_id: str, request: Request, actor: Actor = Depends(editor)
) -> dict[str, int]:
    """Store a batch of metric points. The body is parsed by pydantic's JSON parser directly."""
    body = await request.body()
    batch = LogMetrics.model_validate_json(body or b"{}")
    p: Platform = request.app.state.platform
    stored = await run_in_threadpool(p.tracking.log_metrics, actor, run_id, batch.metrics)
    return {"stored": stored}


@router.get("/runs/{run_id}/metrics")
def metric_history(
    run_id: str,
    key: list[str] | None = Query(default=None, description="metric names; all when absent"),
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> dict[str, list[dict[str, object]]]:
    series = p.tracking.metric_history(run_id, key)
    return {"series": [s.model_dump() for s in series]}


@router.post("/runs/{run_id}/inputs", status_code=204)
def log_input(
    run_id: str,
    dataset: DatasetInput = Body(...),
    p: Platform = Depends(platform),
    actor: Actor = Depends(editor),
) -> None:
    p.tracking.log_input(actor, run_id, dataset)


@router.get("/runs/{run_id}/artifacts")
def list_artifacts(
    run_id: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> dict[str, list[ArtifactInfo]]:
    return {"artifacts": p.tracking.list_artifacts(run_id)}


@router.put("/runs/{run_id}/artifacts/{path:path}", status_code=201)
async def upload_artifact(
    run_id: str, path: str, request: Request, actor: Actor = Depends(editor)
) -> ArtifactInfo:
    """Upload one file's bytes as the request body (``application/octet-stream``)."""
    p: Platform = request.app.state.platform
    if not path:
        raise InvalidInput("give the artifact's path in the URL")
    await run_in_threadpool(p.tracking.get_run, run_id)
    digest, size = await upload_to_store(request, p)
    return await run_in_threadpool(p.tracking.attach_artifact, actor, run_id, path, digest, size)


@router.get("/runs/{run_id}/artifacts/{path:path}")
def download_artifact(
    run_id: str, path: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> StreamingResponse:
    info = p.tracking.get_artifact(run_id, path)
    return stream_blob(p, info.digest, filename=info.path.rsplit("/", 1)[-1])
