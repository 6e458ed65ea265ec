"""Shipyard objects as MLflow's JSON (the protobuf JSON the ``mlflow`` client parses)."""

from __future__ import annotations

import contextlib
import hashlib
import math
from typing import Any

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.registry.schemas import Entry, Version
from shipyard.tracking.logged_models import LoggedModel
from shipyard.tracking.schemas import DatasetInput, Experiment, Run

DEFAULT_EXPERIMENT = "default"  # MLflow's experiment "0"


def kv(items: dict[str, Any]) -> list[dict[str, str]]:
    return [{"key": k, "value": str(v)} for k, v in items.items()]


def from_kv(items: Any) -> dict[str, str]:
    """``[{"key", "value"}]`` as a dict; anything but a list is a clear error."""
    if items is not None and not isinstance(items, list):
        raise InvalidInput("tags and params must be lists of {key, value}")
    out: dict[str, str] = {}
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            value = item.get("value")
            out[item["key"]] = "" if value is None else str(value)
    return out


def number(value: Any) -> float | None:
    """A metric value as MLflow sends it: a number, or "NaN"/"Infinity"/"-Infinity"."""
    if isinstance(value, str):
        value = float(value)  # raises ValueError for anything else
    if value is None or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    out = float(value)
    return out if math.isfinite(out) else None


def metric_value(value: float | None) -> float | str:
    return "NaN" if value is None else value


def experiment(e: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": e.id, "name": e.name, "artifact_location": f"mlflow-artifacts:/{e.id}",
        "lifecycle_stage": "active", "creation_time": e.created_at,
        "last_update_time": e.created_at, "tags": kv(e.tags),
    }  # fmt: skip


def run_info(r: Run) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": r.id, "run_uuid": r.id, "run_name": r.name, "experiment_id": r.experiment_id,
        "user_id": r.tags.get("mlflow.user", r.created_by), "status": r.status.value,
        "start_time": r.start_time,
        "artifact_uri": f"mlflow-artifacts:/{r.experiment_id}/{r.id}/artifacts",
        "lifecycle_stage": "active",
    }  # fmt: skip
    if r.end_time is not None:
        info["end_time"] = r.end_time
    return info


def dataset_input(d: DatasetInput) -> dict[str, Any]:
    schema = dict(d.schema_)
    mine = schema.pop("mlflow", None)
    if isinstance(mine, dict):  # logged by an MLflow client: its own fields back
        dataset = {
            "name": d.name,
            "digest": mine.get("digest", d.digest[:8]),
            **{k: mine[k] for k in ("source_type", "source", "schema", "profile") if k in mine},
        }
    else:
        dataset = {"name": d.name, "digest": d.digest[:8], "source_type": "shipyard",
                   "source": orjson.dumps({"uri": d.source or ""}).decode(),
                   "schema": orjson.dumps(schema).decode(),
                   "profile": orjson.dumps({"num_rows": d.num_rows}).decode()}  # fmt: skip
    tags = [{"key": "mlflow.data.context", "value": d.context}] if d.context else []
    return {"tags": tags, "dataset": dataset}


def mlflow_dataset(item: dict[str, Any]) -> DatasetInput:
    """A dataset input from ``runs/log-inputs`` (its MLflow fields kept to give back)."""
    ds = item.get("dataset") or {}
    name, digest = str(ds.get("name") or "dataset"), str(ds.get("digest") or "")
    context = from_kv(item.get("tags")).get("mlflow.data.context", "")
    kept = {k: ds[k] for k in ("digest", "source_type", "source", "schema", "profile") if k in ds}
    rows = None
    with contextlib.suppress(orjson.JSONDecodeError, AttributeError):
        rows = orjson.loads(ds.get("profile") or "{}").get("num_rows")
    return DatasetInput(
        name=name[:500], digest=hashlib.sha256(f"mlflow:{name}:{digest}".encode()).hexdigest(),
        schema={"mlflow": kept}, num_rows=rows if isinstance(rows, int) else None,
        context=context[:100],
    )  # fmt: skip


def run(r: Run, points: list[tuple[Any, ...]], outputs: list[LoggedModel]) -> dict[str, Any]:
    metrics = [{"key": k, "value": metric_value(v), "step": step, "timestamp": ts}
               for k, v, step, ts in points]  # fmt: skip
    model_outputs = [{"model_id": m.id, "step": step}
                     for m in outputs for rid, step in m.outputs if rid == r.id]  # fmt: skip
    return {
        "info": run_info(r),
        "data": {"metrics": metrics, "params": kv(r.params), "tags": kv(r.tags)},
        "inputs": {"dataset_inputs": [dataset_input(d) for d in r.inputs]},
        "outputs": {"model_outputs": model_outputs},
    }


def logged_model(m: LoggedModel) -> dict[str, Any]:
    return {
        "info": {
            "model_id": m.id, "experiment_id": m.experiment_id, "name": m.name,
            "creation_timestamp_ms": m.created_at, "last_updated_timestamp_ms": m.updated_at,
            "artifact_uri": f"mlflow-artifacts:/{m.experiment_id}/models/{m.id}/artifacts",
            "status": m.status, "model_type": m.model_type, "source_run_id": m.source_run_id or "",
            "tags": kv(m.tags),
        },
        "data": {"params": kv(m.params), "metrics": []},
    }  # fmt: skip


def model_version(v: Version, *, with_aliases: bool = True) -> dict[str, Any]:
    payload = v.payload or {}
    out: dict[str, Any] = {
        "name": v.name, "version": str(v.version), "creation_timestamp": v.created_at,
        "last_updated_timestamp": v.created_at, "current_stage": "None",
        "description": v.description,
        "source": str(payload.get("source") or f"models:/{v.name}/{v.version}"),
        "run_id": v.source_run_id or "", "status": "READY", "run_link": "",
        "tags": kv(v.tags), "user_id": v.created_by,
    }  # fmt: skip
    if payload.get("model_id"):
        out["model_id"] = payload["model_id"]
    if with_aliases:
        out["aliases"] = list(v.aliases)
    return out


def registered_model(e: Entry, latest: Version | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": e.name, "creation_timestamp": e.created_at, "last_updated_timestamp": e.updated_at,
        "description": e.description, "tags": kv(e.tags),
        "aliases": [{"alias": a, "version": str(n)} for a, n in sorted(e.aliases.items())
                    if a != "latest"],
        "user_id": e.created_by,
    }  # fmt: skip
    if latest is not None:
        out["latest_versions"] = [model_version(latest, with_aliases=False)]
    return out
