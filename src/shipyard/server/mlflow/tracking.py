"""MLflow's tracking API (``/api/2.0/mlflow/experiments|runs|metrics|logged-models``) on
Shipyard's tracking service."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from shipyard.core.errors import Conflict, InvalidInput, NotFound
from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.server.deps import editor, platform, viewer
from shipyard.server.mlflow import shapes
from shipyard.tracking.schemas import (
    CreateExperiment,
    CreateRun,
    Experiment,
    MetricPoint,
    RunStatus,
    SearchRuns,
    UpdateRun,
)

router = APIRouter(prefix="/api/2.0/mlflow", tags=["mlflow"], include_in_schema=False)
Json = dict[str, Any]
MAX_RESULTS = 10_000


def field(body: Json, name: str, *alternatives: str) -> str:
    """A required text field (ids, names, keys)."""
    for key in (name, *alternatives):
        value = body.get(key)
        if value in (None, ""):
            continue
        if isinstance(value, dict | list | bool):
            raise InvalidInput(f"{key} must be a string, not {type(value).__name__}")
        return str(value)
    raise InvalidInput(f"missing value for required parameter '{name}'")


def optional(body: Json, name: str) -> str | None:
    """An optional text field."""
    return field(body, name) if body.get(name) not in (None, "") else None


def strings(body: Json, name: str) -> list[str]:
    found = body.get(name) or []
    if isinstance(found, str):
        return [found]
    if not isinstance(found, list) or any(isinstance(x, dict | list) for x in found):
        raise InvalidInput(f"{name} must be a list of strings")
    return [str(x) for x in found]


def integer(body: Any, name: str, default: int) -> int:
    """An integer field (MLflow sends int64 as a number or a string)."""
    value = body.get(name) if isinstance(body, dict) else None
    if value in (None, ""):
        return default
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be an integer, not {value!r}") from None


def items(body: Json, name: str) -> list[Json]:
    """A list-of-objects field; anything else is a clear error."""
    found = body.get(name) or []
    if not isinstance(found, list) or not all(isinstance(x, dict) for x in found):
        raise InvalidInput(f"{name} must be a list of objects")
    return found


def experiment_of(p: Platform, actor: Actor, experiment_id: str) -> Experiment:
    """MLflow's experiment "0" is Shipyard's ``default`` experiment (made on first use)."""
    if str(experiment_id) != "0":
        return p.tracking.get_experiment(str(experiment_id))
    try:
        return p.tracking.get_experiment(shapes.DEFAULT_EXPERIMENT)
    except NotFound:
        try:
            return p.tracking.create_experiment(
                actor, CreateExperiment(name=shapes.DEFAULT_EXPERIMENT)
            )
        except Conflict:
            return p.tracking.get_experiment(shapes.DEFAULT_EXPERIMENT)


def run_json(p: Platform, run_id: str) -> Json:
    r = p.tracking.get_run(run_id)
    points = p.tracking.latest_points([r.id])[r.id]
    outputs = p.logged_models.search([r.experiment_id], run_ids=[r.id])
    return shapes.run(r, points, outputs)


# -- experiments ---------------------------------------------------------------------------------


@router.get("/experiments/get-by-name")
def get_experiment_by_name(
    experiment_name: str = Query(...), p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> Json:
    try:
        found = p.tracking.get_experiment(experiment_name)
    except NotFound:
        raise NotFound(f"Could not find experiment with name '{experiment_name}'") from None
    if found.name != experiment_name:  # an id matched, not the name
        raise NotFound(f"Could not find experiment with name '{experiment_name}'")
    return {"experiment": shapes.experiment(found)}


@router.get("/experiments/get")
def get_experiment(
    experiment_id: str = Query(...), p: Platform = Depends(platform), a: Actor = Depends(viewer)
) -> Json:
    return {"experiment": shapes.experiment(experiment_of(p, a, experiment_id))}


@router.post("/experiments/create")
def create_experiment(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Json:
    req = CreateExperiment(name=field(body, "name"), tags=shapes.from_kv(body.get("tags")))
    return {"experiment_id": p.tracking.create_experiment(actor, req).id}


@router.post("/experiments/search")
@router.get("/experiments/search")
def search_experiments(
    body: Json | None = Body(None), filter: str | None = None, p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Json:  # fmt: skip
    text = (body or {}).get("filter") or filter or ""
    found = p.tracking.list_experiments()
    wanted = _name_condition(text)
    if wanted is not None:
        found = [e for e in found if wanted(e.name)]
    return {"experiments": [shapes.experiment(e) for e in found]}


def _name_condition(text: str) -> Any:
    """``name = 'x'``, ``name LIKE 'x%'`` or ``name ILIKE '%x%'`` (experiment search)."""
    text = text.strip()
    if not text:
        return None
    m = re.fullmatch(r"(?:attribute\.)?name\s*(=|!=|LIKE|ILIKE)\s*'((?:[^']|'')*)'", text,
                     flags=re.IGNORECASE)  # fmt: skip
    if m is None:
        raise InvalidInput(f"unsupported experiment filter {text!r}: use name = / LIKE / ILIKE")
    op, value = m.group(1).upper(), m.group(2).replace("''", "'")
    if op == "=":
        return lambda n: n == value
    if op == "!=":
        return lambda n: n != value
    pattern = "^" + re.escape(value).replace("%", ".*").replace("_", ".") + "$"
    flags = re.IGNORECASE if op == "ILIKE" else 0
    return lambda n: re.match(pattern, n, flags) is not None


# -- runs ----------------------------------------------------------------------------------------


@router.post("/runs/create")
def create_run(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Json:
    exp = experiment_of(p, actor, str(body.get("experiment_id") or "0"))
    tags = shapes.from_kv(body.get("tags"))
    name = body.get("run_name") or tags.get("mlflow.runName")
    run = p.tracking.create_run(actor, CreateRun(
        experiment=exp.name, name=name, tags=tags, start_time=body.get("start_time"),
        parent_run_id=tags.get("mlflow.parentRunId"),
    ))  # fmt: skip
    if "mlflow.runName" not in run.tags:
        p.tracking.set_tags(actor, run.id, {"mlflow.runName": run.name})
    return {"run": run_json(p, run.id)}


@router.get("/runs/get")
def get_run(
    run_id: str | None = None, run_uuid: str | None = None, p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Json:  # fmt: skip
    return {
        "run": run_json(p, field({"run_id": run_id, "run_uuid": run_uuid}, "run_id", "run_uuid"))
    }


@router.post("/runs/update")
def update_run(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Json:
    run_id = field(body, "run_id", "run_uuid")
    status = optional(body, "status")
    if status is not None and status not in set(RunStatus):
        raise InvalidInput(f"status must be one of {', '.join(RunStatus)}, not {status!r}")
    req = UpdateRun(status=RunStatus(status) if status else None, end_time=body.get("end_time"),
                    name=body.get("run_name"))  # fmt: skip
    run = p.tracking.update_run(actor, run_id, req)
    if req.name:
        p.tracking.set_tags(actor, run_id, {"mlflow.runName": req.name})
    return {"run_info": shapes.run_info(run)}


def _point(m: Json) -> MetricPoint:
    try:
        value = shapes.number(m.get("value"))
    except (TypeError, ValueError):
        raise InvalidInput(f"metric {m.get('key')!r}: {m.get('value')!r} is not a number") from None
    return MetricPoint(key=field(m, "key"), value=value, step=integer(m, "step", 0),
                       timestamp=m.get("timestamp"))  # fmt: skip


@router.post("/runs/log-metric")
def log_metric(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Json:
    p.tracking.log_metrics(actor, field(body, "run_id", "run_uuid"), [_point(body)])
    return {}


@router.post("/runs/log-parameter")
def log_parameter(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Json:
    p.tracking.log_params(actor, field(body, "run_id", "run_uuid"),
                          {field(body, "key"): str(body.get("value", ""))})  # fmt: skip
    return {}


@router.post("/runs/set-tag")
def set_tag(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Json:
    p.tracking.set_tags(actor, field(body, "run_id", "run_uuid"),
                        {field(body, "key"): str(body.get("value", ""))})  # fmt: skip
    return {}


@router.post("/runs/log-batch")
def log_batch(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Json:
    run_id = field(body, "run_id")
    params = shapes.from_kv(body.get("params"))
    tags = shapes.from_kv(body.get("tags"))
    points = [_point(m) for m in items(body, "metrics")]
    linked = {str(m.get("key")) for m in items(body, "metrics") if m.get("model_id")}
    if linked:  # MLflow 3 sends points again to link them to a logged model: keep them once
        seen = {(s.key, st, v, ts) for s in p.tracking.metric_history(run_id, sorted(linked))
                for st, v, ts in zip(s.steps, s.values, s.timestamps, strict=True)}  # fmt: skip
        points = [x for x in points if (x.key, x.step, x.value, x.timestamp) not in seen]
    p.tracking.get_run(run_id)
    if params:
        p.tracking.log_params(actor, run_id, params)
    if tags:
        p.tracking.set_tags(actor, run_id, tags)
    if points:
        p.tracking.log_metrics(actor, run_id, points)
    return {}


@router.post("/runs/log-inputs")
def log_inputs(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Json:
    run_id = field(body, "run_id")
    for item in items(body, "datasets"):
        p.tracking.log_input(actor, run_id, shapes.mlflow_dataset(item))
    for item in items(body, "models"):
        p.logged_models.add_output(run_id, field(item, "model_id"), 0)
    return {}


@router.post("/runs/outputs")
def log_outputs(
    body: Json = Body(...), p: Platform = Depends(platform), _: Actor = Depends(editor)
) -> Json:
    run_id = field(body, "run_id")
    for item in items(body, "models"):
        p.logged_models.add_output(run_id, field(item, "model_id"), integer(item, "step", 0))
    return {}


@router.post("/runs/search")
def search_runs(
    body: Json = Body(...), p: Platform = Depends(platform), actor: Actor = Depends(viewer)
) -> Json:
    ids = [experiment_of(p, actor, e).id for e in strings(body, "experiment_ids")]
    req = SearchRuns(experiments=ids, filter=body.get("filter") or "",
                     order_by=strings(body, "order_by"),
                     max_results=max(1, min(integer(body, "max_results", 1000), MAX_RESULTS)),
                     page_token=body.get("page_token") or None)  # fmt: skip
    page = p.tracking.search_runs(req)
    run_ids = [r.id for r in page.runs]
    points = p.tracking.latest_points(run_ids)
    models = p.logged_models.search(ids, run_ids=run_ids) if run_ids else []
    out: Json = {"runs": [shapes.run(r, points[r.id], models) for r in page.runs]}
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


@router.get("/metrics/get-history")
def metric_history(
    metric_key: str = Query(...), run_id: str | None = None, run_uuid: str | None = None,
    p: Platform = Depends(platform), _: Actor = Depends(viewer),
) -> Json:  # fmt: skip
    rid = field({"run_id": run_id, "run_uuid": run_uuid}, "run_id", "run_uuid")
    series = p.tracking.metric_history(rid, [metric_key])
    metrics = [{"key": s.key, "value": shapes.metric_value(v), "step": step, "timestamp": ts}
               for s in series for step, v, ts in zip(s.steps, s.values, s.timestamps,
                                                      strict=True)]  # fmt: skip
    return {"metrics": metrics}
