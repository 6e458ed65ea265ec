"""MLflow's model registry API (``/api/2.0/mlflow/registered-models|model-versions``) on
Shipyard's registry: registered models are entries of kind ``model``, versions are versions,
aliases are aliases (with their history)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from shipyard.core.errors import Conflict, InvalidInput, NotFound
from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.registry.schemas import CreateEntry, CreateVersion, Kind, UpdateEntry, Version
from shipyard.server.deps import editor, platform, viewer
from shipyard.server.mlflow import shapes
from shipyard.server.mlflow.tracking import field, optional

router = APIRouter(prefix="/api/2.0/mlflow", tags=["mlflow"], include_in_schema=False)
Json = dict[str, Any]
_CONDITION = re.compile(
    r"\s*((?:tags?\.)?(?:`[^`]+`|[\w.]+))\s*(=|!=|LIKE|ILIKE)\s*('(?:[^']|'')*'|\"[^\"]*\")\s*",
    re.IGNORECASE,
)


def matcher(text: str) -> Callable[[dict[str, Any]], bool]:
    """A registry search filter (``name = 'x' AND tags.k != 'v'``...) as a test on a dict of
    attributes with a ``tags`` dict."""
    tests = []
    for part in re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE) if text.strip() else []:
        m = _CONDITION.fullmatch(part)
        if m is None:
            raise InvalidInput(f"unsupported filter {part!r}: use NAME = 'value' joined by AND")
        ident, op, raw = m.group(1), m.group(2).upper(), m.group(3)[1:-1].replace("''", "'")
        tests.append(_test(ident, op, raw))
    return lambda item: all(t(item) for t in tests)


def _test(ident: str, op: str, value: str) -> Callable[[dict[str, Any]], bool]:
    prefix, dot, rest = ident.partition(".")
    if dot and prefix.lower() in ("tag", "tags"):
        key = rest.strip("`")

        def get(item: dict[str, Any]) -> Any:
            return item["tags"].get(key)
    else:
        name = ident.strip("`").lower()

        def get(item: dict[str, Any]) -> Any:
            return item.get(name)

    if op in ("=", "!="):
        same = op == "="
        return lambda item: (str(get(item)) == value if get(item) is not None else False) == same
    pattern = "^" + re.escape(value).replace("%", ".*").replace("_", ".") + "$"
    flags = re.IGNORECASE if op == "ILIKE" else 0
    return lambda item: (
        get(item) is not None and re.match(pattern, str(get(item)), flags) is not None
    )


def _model_entry(p: Platform, name: str) -> Any:
    entry = p.registry.get_entry(name)
    if entry.kind != Kind.model:
        raise NotFound(f"Registered Model with name={name} not found ({name} is a {entry.kind})")
    return entry


def _registered(p: Platform, name: str) -> Json:
    entry = _model_entry(p, name)
    latest = (
        p.registry.get_version(name, version=entry.latest_version) if entry.latest_version else None
    )
    return shapes.registered_model(entry, latest)


# -- registered models ---------------------------------------------------------------------------


@router.post("/registered-models/create")
def create_registered_model(body: Json = Body(...), p: Platform = Depends(platform),
                            actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    name = field(body, "name")
    try:
        p.registry.get_entry(name)
    except NotFound:
        pass
    else:
        raise Conflict(f"Registered Model (name={name}) already exists.")
    p.registry.create_entry(actor, CreateEntry(
        name=name, kind=Kind.model, description=str(body.get("description") or ""),
        tags=shapes.from_kv(body.get("tags")), protected_aliases=[],
    ))  # fmt: skip
    return {"registered_model": _registered(p, name)}


@router.get("/registered-models/get")
def get_registered_model(name: str = Query(...), p: Platform = Depends(platform),
                         _: Actor = Depends(viewer)) -> Json:  # fmt: skip
    return {"registered_model": _registered(p, name)}


@router.get("/registered-models/search")
def search_registered_models(
    filter: str = "", max_results: int = Query(100, ge=1, le=10_000),
    p: Platform = Depends(platform), _: Actor = Depends(viewer),
) -> Json:  # fmt: skip
    test = matcher(filter)
    found = [e for e in p.registry.list_entries(Kind.model)
             if test({"name": e.name, "tags": e.tags})]  # fmt: skip
    return {"registered_models": [_registered(p, e.name) for e in found[:max_results]]}


@router.patch("/registered-models/update")
def update_registered_model(body: Json = Body(...), p: Platform = Depends(platform),
                            actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    name = field(body, "name")
    _model_entry(p, name)
    p.registry.update_entry(actor, name, UpdateEntry(description=body.get("description")))
    return {"registered_model": _registered(p, name)}


@router.post("/registered-models/set-tag")
def set_registered_model_tag(body: Json = Body(...), p: Platform = Depends(platform),
                             actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    name = field(body, "name")
    entry = _model_entry(p, name)
    tags = {**entry.tags, field(body, "key"): str(body.get("value", ""))}
    p.registry.update_entry(actor, name, UpdateEntry(tags=tags))
    return {}


@router.delete("/registered-models/delete-tag")
def delete_registered_model_tag(body: Json = Body(...), p: Platform = Depends(platform),
                                actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    name, key = field(body, "name"), field(body, "key")
    entry = _model_entry(p, name)
    p.registry.update_entry(actor, name, UpdateEntry(tags={k: v for k, v in entry.tags.items()
                                                           if k != key}))  # fmt: skip
    return {}


@router.post("/registered-models/alias")
def set_alias(body: Json = Body(...), p: Platform = Depends(platform),
              actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    name, alias = field(body, "name"), field(body, "alias")
    _model_entry(p, name)
    p.registry.set_alias(actor, name, alias, _number(field(body, "version")), "mlflow client")
    return {}


@router.delete("/registered-models/alias")
def delete_alias(body: Json | None = Body(None), name: str | None = None,
                 alias: str | None = None, p: Platform = Depends(platform),
                 actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    given = {"name": name, "alias": alias, **(body or {})}
    p.registry.delete_alias(actor, field(given, "name"), field(given, "alias"), "mlflow client")
    return {}


@router.get("/registered-models/alias")
def get_by_alias(name: str = Query(...), alias: str = Query(...), p: Platform = Depends(platform),
                 _: Actor = Depends(viewer)) -> Json:  # fmt: skip
    _model_entry(p, name)
    try:
        version = p.registry.get_version(name, alias=alias)
    except NotFound:
        raise InvalidInput(f"Registered model alias {alias} not found.") from None
    return {"model_version": shapes.model_version(version)}


@router.post("/registered-models/get-latest-versions")
@router.get("/registered-models/get-latest-versions")
def latest_versions(
    body: Json | None = Body(None), name: str | None = None, p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Json:  # fmt: skip
    entry = _model_entry(p, field({"name": name, **(body or {})}, "name"))
    if entry.latest_version is None:
        return {"model_versions": []}
    latest = p.registry.get_version(entry.name, version=entry.latest_version)
    return {"model_versions": [shapes.model_version(latest)]}


# -- model versions ------------------------------------------------------------------------------


def _number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"version must be a number, not {value!r}") from None


@router.post("/model-versions/create")
def create_model_version(body: Json = Body(...), p: Platform = Depends(platform),
                         actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    name, source = field(body, "name"), str(body.get("source") or "")
    _model_entry(p, name)
    model_id, run = optional(body, "model_id"), optional(body, "run_id")
    payload, run_id = _mlflow_payload(p, name, source, model_id, run)
    version = p.registry.create_version(actor, name, CreateVersion(
        payload=payload, source_run_id=run_id, description=str(body.get("description") or ""),
        tags=shapes.from_kv(body.get("tags")),
    ))  # fmt: skip
    if payload.get("model_id"):
        _note_registration(p, payload["model_id"], name, version.version)
    return {"model_version": shapes.model_version(version, with_aliases=False)}


def _mlflow_payload(
    p: Platform, name: str, source: str, model_id: Any, run_id: Any
) -> tuple[Json, Any]:
    """The version's payload: where MLflow's files are (a logged model, or run artifacts)."""
    m = re.fullmatch(r"models:/(m-[0-9a-f]+)", source)
    model_id = model_id or (m.group(1) if m else None)
    if model_id:
        from shipyard.ml.mlflow_format import manifest_from_mlflow

        lm = p.logged_models.get(str(model_id))
        files = {path: entry[0] for path, entry in lm.files.items()}
        run = run_id or lm.source_run_id
        found = manifest_from_mlflow(name, files, p.read_blob, run)  # servable by Shipyard
        payload = found or {"format": "mlflow", "files": files}
        return {**payload, "source": source or f"models:/{lm.id}", "model_id": lm.id}, run
    if not source:
        raise InvalidInput("missing value for required parameter 'source'")
    return {"format": "mlflow", "source": source}, run_id or None


def _note_registration(p: Platform, model_id: str, name: str, version: int) -> None:
    import orjson

    lm = p.logged_models.get(model_id)
    try:
        known = orjson.loads(lm.tags.get("mlflow.modelVersions", "[]"))
    except orjson.JSONDecodeError:
        known = []
    known = [*known, {"name": name, "version": version}]
    p.logged_models.set_tags(model_id, {"mlflow.modelVersions": orjson.dumps(known).decode()})


@router.get("/model-versions/get")
def get_model_version(
    name: str = Query(...), version: str = Query(...), p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Json:  # fmt: skip
    _model_entry(p, name)
    return {
        "model_version": shapes.model_version(
            p.registry.get_version(name, version=_number(version))
        )
    }


@router.get("/model-versions/search")
def search_model_versions(
    filter: str = "", max_results: int = Query(10_000, ge=1, le=200_000),
    p: Platform = Depends(platform), _: Actor = Depends(viewer),
) -> Json:  # fmt: skip
    test = matcher(filter)
    found: list[Version] = []
    for e in p.registry.list_entries(Kind.model):
        for v in p.registry.list_versions(e.name):
            item = {"name": v.name, "version_number": str(v.version), "run_id": v.source_run_id,
                    "source": (v.payload or {}).get("source"), "tags": v.tags}  # fmt: skip
            if test(item):
                found.append(v)
    return {"model_versions": [shapes.model_version(v, with_aliases=False)
                               for v in found[:max_results]]}  # fmt: skip


@router.get("/model-versions/get-download-uri")
def download_uri(name: str = Query(...), version: str = Query(...), p: Platform = Depends(platform),
                 _: Actor = Depends(viewer)) -> Json:  # fmt: skip
    v = p.registry.get_version(name, version=_number(version))
    payload = v.payload or {}
    if payload.get("model_id"):
        lm = p.logged_models.get(payload["model_id"])
        return {"artifact_uri": f"mlflow-artifacts:/{lm.experiment_id}/models/{lm.id}/artifacts"}
    source = str(payload.get("source") or "")
    m = re.fullmatch(r"runs:/([0-9a-f]+)/(.*)", source)
    if m:
        run = p.tracking.get_run(m.group(1))
        return {
            "artifact_uri": f"mlflow-artifacts:/{run.experiment_id}/{run.id}/artifacts/{m.group(2)}"
        }
    if source.startswith("mlflow-artifacts:"):
        return {"artifact_uri": source}
    raise InvalidInput(f"{name} version {version} was not logged by an MLflow client: load it "
                       f"with shipyard.ml.load_model('models:/{name}/{version}')")  # fmt: skip
