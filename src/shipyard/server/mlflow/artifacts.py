"""MLflow's artifact protocol (``/api/2.0/mlflow-artifacts/artifacts``): the files of runs
(``<experiment>/<run>/artifacts/<path>``) and of logged models
(``<experiment>/models/<model>/artifacts/<path>``), stored content-addressed like every other
artifact. Also ``/api/3.0/mlflow/server-info``, which the client asks before downloads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.server.deps import editor, platform, viewer
from shipyard.server.streams import stream_blob, upload_to_store

router = APIRouter(prefix="/api/2.0/mlflow-artifacts", tags=["mlflow"], include_in_schema=False)
info = APIRouter(prefix="/api/3.0/mlflow", tags=["mlflow"], include_in_schema=False)
Json = dict[str, Any]


def locate(path: str) -> tuple[str, str, str]:
    """("run" | "model", its id, the path inside its artifacts)."""
    parts = [x for x in path.strip("/").split("/") if x]
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        return "model", parts[2], "/".join(parts[4:])
    if len(parts) >= 3 and parts[2] == "artifacts":
        return "run", parts[1], "/".join(parts[3:])
    raise InvalidInput(f"{path!r} is not under <experiment>/<run>/artifacts or "
                       "<experiment>/models/<model>/artifacts")  # fmt: skip


def _files(p: Platform, kind: str, owner: str) -> dict[str, tuple[str, int]]:
    if kind == "model":
        return {k: (v[0], int(v[1])) for k, v in p.logged_models.get(owner).files.items()}
    return {a.path: (a.digest, a.size) for a in p.tracking.list_artifacts(owner)}


@router.get("/artifacts")
def list_artifacts(path: str = Query(""), p: Platform = Depends(platform),
                   _: Actor = Depends(viewer)) -> Json:  # fmt: skip
    kind, owner, inner = locate(path)
    prefix = f"{inner.rstrip('/')}/" if inner else ""
    children: dict[str, Json] = {}
    for name, (_digest, size) in sorted(_files(p, kind, owner).items()):
        if not name.startswith(prefix):
            continue
        head, sep, _rest = name[len(prefix) :].partition("/")
        if sep:
            children.setdefault(head, {"path": head, "is_dir": True})
        else:
            children[head] = {"path": head, "is_dir": False, "file_size": size}
    return {"files": list(children.values())} if children else {}


@router.get("/artifacts/{path:path}")
def download(path: str, p: Platform = Depends(platform),
             _: Actor = Depends(viewer)) -> StreamingResponse:  # fmt: skip
    kind, owner, inner = locate(path)
    found = _files(p, kind, owner).get(inner)
    if found is None:
        raise NotFound(f"No such artifact: '{path}'")
    return stream_blob(p, found[0])


@router.put("/artifacts/{path:path}")
async def upload(path: str, request: Request, p: Platform = Depends(platform),
                 actor: Actor = Depends(editor)) -> Json:  # fmt: skip
    from starlette.concurrency import run_in_threadpool

    kind, owner, inner = locate(path)
    if not inner:
        raise InvalidInput("give the file's path inside the artifacts")
    if kind == "model":
        await run_in_threadpool(p.logged_models.get, owner)
    else:
        await run_in_threadpool(p.tracking.get_run, owner)
    digest, size = await upload_to_store(request, p)
    if kind == "model":
        await run_in_threadpool(p.logged_models.attach_file, owner, inner, digest, size)
    else:
        await run_in_threadpool(p.tracking.attach_artifact, actor, owner, inner, digest, size)
    return {}


@info.get("/server-info")
def server_info(_: Actor = Depends(viewer)) -> Json:
    return {"store_type": "Shipyard", "workspaces_enabled": False,
            "multipart_uploads_enabled": False, "multipart_downloads_enabled": False}  # fmt: skip
