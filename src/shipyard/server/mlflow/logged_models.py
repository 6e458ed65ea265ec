"""MLflow 3's logged models (``/api/2.0/mlflow/logged-models``) on ``tracking.logged_models``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Body, Depends

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.server.deps import editor, platform, viewer
from shipyard.server.mlflow import shapes
from shipyard.server.mlflow.tracking import (
    experiment_of,
    field,
    integer,
    optional,
    strings,
)

router = APIRouter(prefix="/api/2.0/mlflow/logged-models", tags=["mlflow"],
                   include_in_schema=False)  # fmt: skip
Json = dict[str, Any]
_CONDITION = re.compile(r"\s*(name|source_run_id)\s*=\s*'((?:[^']|'')*)'\s*", re.IGNORECASE)


@router.post("")
def create(body: Json = Body(...), p: Platform = Depends(platform),
           actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    exp = experiment_of(p, actor, str(field(body, "experiment_id")))
    made = p.logged_models.create(
        actor, exp.id, optional(body, "name") or "model",
        source_run_id=optional(body, "source_run_id"),
        params=shapes.from_kv(body.get("params")), tags=shapes.from_kv(body.get("tags")),
        model_type=str(body.get("model_type") or ""),
    )  # fmt: skip
    return {"model": shapes.logged_model(made)}


@router.post("/search")
def search(body: Json = Body(...), p: Platform = Depends(platform),
           actor: Actor = Depends(viewer)) -> Json:  # fmt: skip
    ids = [experiment_of(p, actor, e).id for e in strings(body, "experiment_ids")]
    wanted: dict[str, str] = {}
    text = str(body.get("filter") or "").strip()
    for part in re.split(r"\s+AND\s+", text, flags=re.IGNORECASE) if text else []:
        m = _CONDITION.fullmatch(part)
        if m is None:
            raise InvalidInput(f"unsupported logged-model filter {part!r}: use name = '…' "
                               "or source_run_id = '…'")  # fmt: skip
        wanted[m.group(1).lower()] = m.group(2).replace("''", "'")
    found = p.logged_models.search(ids, name=wanted.get("name"),
                                   source_run_id=wanted.get("source_run_id"))  # fmt: skip
    limit = integer(body, "max_results", 100)
    return {"models": [shapes.logged_model(m) for m in found[:limit]]}


@router.get("/{model_id}")
def get(model_id: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> Json:
    return {"model": shapes.logged_model(p.logged_models.get(model_id))}


@router.patch("/{model_id}")
def finalize(model_id: str, body: Json = Body(...), p: Platform = Depends(platform),
             _: Actor = Depends(editor)) -> Json:  # fmt: skip
    return {"model": shapes.logged_model(p.logged_models.finalize(model_id, field(body, "status")))}


@router.patch("/{model_id}/tags")
def set_tags(model_id: str, body: Json = Body(...), p: Platform = Depends(platform),
             _: Actor = Depends(editor)) -> Json:  # fmt: skip
    p.logged_models.set_tags(model_id, shapes.from_kv(body.get("tags")))
    return {}


@router.delete("/{model_id}/tags/{key:path}")
def delete_tag(model_id: str, key: str, p: Platform = Depends(platform),
               _: Actor = Depends(editor)) -> Json:  # fmt: skip
    p.logged_models.delete_tag(model_id, key)
    return {}


@router.post("/{model_id}/params")
def log_params(model_id: str, body: Json = Body(...), p: Platform = Depends(platform),
               _: Actor = Depends(editor)) -> Json:  # fmt: skip
    p.logged_models.add_params(model_id, shapes.from_kv(body.get("params")))
    return {}
