"""Eval sets (/api/v1/evalsets) and eval run results (/api/v1/evals/runs/{id}/results)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shipyard.core.identity import Actor
from shipyard.evals.schemas import CaseResult
from shipyard.evals.store import MAX_RESULTS_PER_CALL, EvalSet, EvalSetSummary, PutEvalSet
from shipyard.platform import Platform
from shipyard.server.deps import editor, platform, viewer

router = APIRouter(prefix="/api/v1", tags=["evals"])


class RecordResults(BaseModel):
    results: list[CaseResult] = Field(max_length=MAX_RESULTS_PER_CALL)


@router.get("/evalsets")
def list_evalsets(
    search: str | None = None, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> dict[str, list[EvalSetSummary]]:
    return {"evalsets": p.evals.list_evalsets(search)}


@router.get("/evalsets/{name}")
def get_evalset(
    name: str,
    label: str | None = Query(None, description="a label; neither label nor version: latest"),
    version: int | None = Query(None, ge=1, le=2**31 - 1),
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> EvalSet:
    return p.evals.get_evalset(name, label, version)


@router.post("/evalsets/{name}/versions", status_code=201)
def put_evalset(
    name: str, req: PutEvalSet, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> EvalSet:
    return p.evals.put_evalset(actor, name, req)


@router.post("/evals/runs/{run_id}/results")
def record_results(
    run_id: str, req: RecordResults, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> dict[str, int]:
    return {"recorded": p.evals.record(actor, run_id, req.results)}


@router.get("/evals/runs/{run_id}/results")
def list_results(
    run_id: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> dict[str, list[CaseResult]]:
    return {"results": p.evals.results(run_id)}
