"""Models logged by MLflow 3 clients: the only writer of ``logged_models``.

An MLflow 3 client logs a model as its own object (``POST /api/2.0/mlflow/logged-models``),
uploads its files under the model's artifact root, then finalizes it. Shipyard keeps the row
and the files (content-addressed, in the same artifact store as everything else); registering
such a model makes a registry version whose files are these.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from shipyard.core import audit
from shipyard.core.errors import InvalidInput, NotFound
from shipyard.core.identity import Actor
from shipyard.core.ids import new_id, now_ms
from shipyard.store.artifacts import ArtifactStore
from shipyard.store.db import Database
from shipyard.tracking.models import ExperimentRow, LoggedModelRow, RunRow
from shipyard.tracking.schemas import check_artifact_path

STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


class LoggedModel(BaseModel):
    id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    status: str
    model_type: str
    created_at: int
    updated_at: int
    created_by: str
    tags: dict[str, str]
    params: dict[str, str]
    files: dict[str, list[Any]]  # path → [digest, size]
    outputs: list[list[Any]]  # [run_id, step]


def _model(row: LoggedModelRow) -> LoggedModel:
    return LoggedModel.model_validate(row, from_attributes=True)


class LoggedModels:
    def __init__(self, db: Database, artifacts: ArtifactStore) -> None:
        self.db, self.artifacts = db, artifacts

    def create(
        self, actor: Actor, experiment_id: str, name: str, *, source_run_id: str | None = None,
        params: dict[str, str] | None = None, tags: dict[str, str] | None = None,
        model_type: str = "",
    ) -> LoggedModel:  # fmt: skip
        if not name or len(name) > 500:
            raise InvalidInput("a logged model needs a name (up to 500 characters)")
        now = now_ms()
        with self.db.write() as s:
            if s.get(ExperimentRow, experiment_id) is None:
                raise NotFound(f"no experiment with id {experiment_id}")
            if source_run_id is not None and s.get(RunRow, source_run_id) is None:
                raise NotFound(f"no run {source_run_id}")
            outputs = [[source_run_id, 0]] if source_run_id else []
            row = LoggedModelRow(
                id=f"m-{new_id()}", experiment_id=experiment_id, name=name,
                source_run_id=source_run_id, status=STATUSES[0], model_type=model_type or "",
                created_at=now, updated_at=now, created_by=actor.name, tags=dict(tags or {}),
                params=dict(params or {}), files={}, outputs=outputs,
            )  # fmt: skip
            s.add(row)
            audit.record(s, actor, "logged_model.create", "logged_model", row.id,
                         after={"name": name, "run": source_run_id})  # fmt: skip
            return _model(row)

    def get(self, model_id: str) -> LoggedModel:
        with self.db.read() as s:
            return _model(self._row(s, model_id))

    def _row(self, s: Any, model_id: str) -> LoggedModelRow:
        row = s.get(LoggedModelRow, model_id)
        if row is None:
            raise NotFound(f"no logged model {model_id!r}")
        return row

    def _change(self, model_id: str, change: Any) -> LoggedModel:
        with self.db.write() as s:
            row = self._row(s, model_id)
            change(row)
            row.updated_at = now_ms()
            return _model(row)

    def finalize(self, model_id: str, status: str) -> LoggedModel:
        if status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
        return self._change(model_id, lambda r: setattr(r, "status", status))

    def set_tags(self, model_id: str, tags: dict[str, str]) -> LoggedModel:
        return self._change(model_id, lambda r: setattr(r, "tags", {**r.tags, **tags}))

    def delete_tag(self, model_id: str, key: str) -> LoggedModel:
        def drop(r: LoggedModelRow) -> None:
            if key not in r.tags:
                raise NotFound(f"logged model {model_id} has no tag {key!r}")
            r.tags = {k: v for k, v in r.tags.items() if k != key}

        return self._change(model_id, drop)

    def add_params(self, model_id: str, params: dict[str, str]) -> LoggedModel:
        return self._change(model_id, lambda r: setattr(r, "params", {**r.params, **params}))

    def add_output(self, run_id: str, model_id: str, step: int) -> None:
        def link(r: LoggedModelRow) -> None:
            if [run_id, step] not in r.outputs:
                r.outputs = [*r.outputs, [run_id, step]]

        with self.db.read() as s:
            if s.get(RunRow, run_id) is None:
                raise NotFound(f"no run {run_id}")
        self._change(model_id, link)

    def attach_file(self, model_id: str, path: str, digest: str, size: int) -> None:
        """Record a blob already in the artifact store as the model's file at ``path``."""
        path = check_artifact_path(path)
        if not self.artifacts.exists(digest):
            raise NotFound(f"artifact {digest} is not in the artifact store")
        self._change(model_id, lambda r: setattr(r, "files", {**r.files, path: [digest, size]}))

    def search(
        self, experiment_ids: list[str], *, name: str | None = None,
        source_run_id: str | None = None, run_ids: list[str] | None = None,
    ) -> list[LoggedModel]:  # fmt: skip
        """Newest first. ``run_ids``: the models that are outputs of those runs."""
        m = LoggedModelRow
        stmt = select(m).order_by(m.created_at.desc())
        if experiment_ids:
            stmt = stmt.where(m.experiment_id.in_(experiment_ids))
        if name is not None:
            stmt = stmt.where(m.name == name)
        if source_run_id is not None:
            stmt = stmt.where(m.source_run_id == source_run_id)
        with self.db.read() as s:
            found = [_model(r) for r in s.scalars(stmt.limit(10_000))]
        if run_ids is not None:
            wanted = set(run_ids)
            found = [f for f in found if any(o[0] in wanted for o in f.outputs)]
        return found
