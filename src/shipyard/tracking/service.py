"""The tracking service: the only writer of the tracking tables.

Every write runs in one transaction together with its audit event.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.errors import Conflict, InvalidInput, NotFound
from shipyard.core.identity import Actor
from shipyard.core.ids import new_id, now_ms
from shipyard.store.artifacts import ArtifactStore, check_digest
from shipyard.store.db import Database, retry_on_conflict
from shipyard.tracking.models import (
    DatasetRow,
    ExperimentRow,
    LatestMetricRow,
    MetricRow,
    ParamRow,
    RunArtifactRow,
    RunInputRow,
    RunRow,
    RunTagRow,
)
from shipyard.tracking.schemas import (
    MAX_INT,
    ArtifactInfo,
    CreateExperiment,
    CreateRun,
    DatasetInput,
    Experiment,
    MetricPoint,
    MetricSeries,
    Run,
    RunPage,
    RunStatus,
    SearchRuns,
    UpdateRun,
    as_number,
    check_artifact_path,
    check_key,
    check_text,
)
from shipyard.tracking.search import parse_filter, parse_order_by

PARAM_VALUE_MAX = 8000
TAG_VALUE_MAX = 8000


def _experiment(row: ExperimentRow) -> Experiment:
    return Experiment.model_validate(row, from_attributes=True)


class TrackingService:
    def __init__(self, db: Database, artifacts: ArtifactStore) -> None:
        self.db = db
        self.artifacts = artifacts
        mark = "?" if db.is_sqlite else "%s"
        self._insert_metrics_sql = (
            f"INSERT INTO {MetricRow.__tablename__} (run_id, key, value, step, timestamp) "
            f"VALUES ({', '.join([mark] * 5)})"
        )

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(self, actor: Actor, req: CreateExperiment) -> Experiment:
        with self.db.write() as s:
            if s.scalars(select(ExperimentRow).where(ExperimentRow.name == req.name)).first():
                raise Conflict(f"experiment {req.name!r} already exists")
            row = self._new_experiment(s, actor, req)
            return _experiment(row)

    def _new_experiment(self, s: Session, actor: Actor, req: CreateExperiment) -> ExperimentRow:
        row = ExperimentRow(
            id=new_id(),
            name=req.name,
            description=req.description,
            tags=req.tags,
            created_at=now_ms(),
            created_by=actor.name,
        )
        s.add(row)
        s.flush()
        audit.record(s, actor, "experiment.create", "experiment", req.name, after=req.model_dump())
        return row

    def get_experiment(self, name_or_id: str) -> Experiment:
        with self.db.read() as s:
            return _experiment(self._experiment_row(s, name_or_id))

    def _experiment_row(self, s: Session, name_or_id: str) -> ExperimentRow:
        row = s.scalars(select(ExperimentRow).where(ExperimentRow.name == name_or_id)).first()
        row = row or s.get(ExperimentRow, name_or_id)
        if row is None:
            raise NotFound(f"no experiment named {name_or_id!r}")
        return row

    def list_experiments(self) -> list[Experiment]:
        with self.db.read() as s:
            rows = s.scalars(select(ExperimentRow).order_by(ExperimentRow.created_at))
            return [_experiment(r) for r in rows]

    # -- runs --------------------------------------------------------------------------------

    def create_run(self, actor: Actor, req: CreateRun) -> Run:
        for k in req.tags:
            check_key("tag", k)
        # another writer may create the experiment at the same moment
        return retry_on_conflict(lambda: self._create_run(actor, req))

    def _create_run(self, actor: Actor, req: CreateRun) -> Run:
        with self.db.write() as s:
            exp = s.scalars(select(ExperimentRow).where(ExperimentRow.name == req.experiment))
            exp_row = exp.first() or self._new_experiment(
                s, actor, CreateExperiment(name=req.experiment)
            )
            if req.parent_run_id and s.get(RunRow, req.parent_run_id) is None:
                raise NotFound(f"parent run {req.parent_run_id!r} does not exist")
            run_id = new_id()
            row = RunRow(
                id=run_id,
                experiment_id=exp_row.id,
                name=req.name or f"run-{run_id[-8:]}",
                status=RunStatus.running.value,
                start_time=req.start_time or now_ms(),
                end_time=None,
                parent_run_id=req.parent_run_id,
                created_by=actor.name,
                system=req.system,
            )
            s.add(row)
            s.flush()
            s.add_all(
                RunTagRow(run_id=run_id, key=k, value=v, value_num=as_number(v))
                for k, v in req.tags.items()
            )
            audit.record(
                s,
                actor,
                "run.create",
                "run",
                run_id,
                after={"experiment": req.experiment, "name": row.name, "tags": req.tags},
            )
            s.flush()
            return self._hydrate(s, [row])[0]

    def get_run(self, run_id: str) -> Run:
        with self.db.read() as s:
            return self._hydrate(s, [self._run_row(s, run_id)])[0]

    def _run_row(self, s: Session, run_id: str) -> RunRow:
        row = s.get(RunRow, run_id)
        if row is None:
            raise NotFound(f"no run with id {run_id!r}")
        return row

    def update_run(self, actor: Actor, run_id: str, req: UpdateRun) -> Run:
        with self.db.write() as s:
            row = self._run_row(s, run_id)
            before = {"status": row.status, "end_time": row.end_time, "name": row.name}
            if req.name is not None:
                row.name = req.name
            if req.status is not None:
                row.status = req.status.value
                if req.status != RunStatus.running:
                    row.end_time = req.end_time or row.end_time or now_ms()
                else:
                    row.end_time = None
            elif req.end_time is not None:
                row.end_time = req.end_time
            after = {"status": row.status, "end_time": row.end_time, "name": row.name}
            audit.record(s, actor, "run.update", "run", run_id, before=before, after=after)
            s.flush()
            return self._hydrate(s, [row])[0]

    def log_params(self, actor: Actor, run_id: str, params: dict[str, Any]) -> None:
        """Params are write-once: the same value again is fine, a different one is a Conflict."""
        values = {check_key("param", k): _param_text(v) for k, v in params.items()}

        def write() -> None:
            with self.db.write() as s:
                self._run_row(s, run_id)
                self._insert_params(s, run_id, values)
                audit.record(s, actor, "run.log_params", "run", run_id, after=values)

        retry_on_conflict(write)

    def _insert_params(self, s: Session, run_id: str, values: dict[str, str]) -> None:
        existing = dict(
            s.execute(
                select(ParamRow.key, ParamRow.value).where(
                    ParamRow.run_id == run_id, ParamRow.key.in_(list(values))
                )
            ).all()
        )
        clashes = {
            k: (existing[k], v) for k, v in values.items() if k in existing and existing[k] != v
        }
        if clashes:
            desc = "; ".join(f"{k}: stored {a!r}, new {b!r}" for k, (a, b) in clashes.items())
            raise Conflict(f"params are write-once and these differ: {desc}", keys=list(clashes))
        s.add_all(
            ParamRow(run_id=run_id, key=k, value=v, value_num=as_number(v))
            for k, v in values.items()
            if k not in existing
        )
        s.flush()

    def set_tags(self, actor: Actor, run_id: str, tags: dict[str, str]) -> None:
        for k, v in tags.items():
            check_key("tag", k)
            check_text(f"tag {k!r}", str(v), TAG_VALUE_MAX)

        def write() -> None:
            with self.db.write() as s:
                self._run_row(s, run_id)
                for k, v in tags.items():
                    s.merge(RunTagRow(run_id=run_id, key=k, value=str(v), value_num=as_number(v)))
                audit.record(s, actor, "run.set_tags", "run", run_id, after=dict(tags))

        retry_on_conflict(write)

    def log_metrics(self, actor: Actor, run_id: str, points: Sequence[MetricPoint]) -> int:
        """Store a batch of points in one transaction; returns how many were stored."""
        if not points:
            return 0
        ts = now_ms()
        rows = [
            (run_id, p.key, p.value, p.step, p.timestamp if p.timestamp is not None else ts)
            for p in points
        ]
        latest: dict[str, tuple[str, str, float | None, int, int]] = {}
        for r in rows:
            cur = latest.get(r[1])
            if cur is None or (r[3], r[4]) >= (cur[3], cur[4]):
                latest[r[1]] = r
        for key in latest:  # each distinct name once, not each point
            check_key("metric", key)
        with self.db.write() as s:
            self._run_row(s, run_id)
            # the hot path: one executemany straight through the driver
            s.connection().exec_driver_sql(self._insert_metrics_sql, rows)
            self._upsert_latest(
                s,
                [
                    {"run_id": r[0], "key": r[1], "value": r[2], "step": r[3], "timestamp": r[4]}
                    for r in latest.values()
                ],
            )
            audit.record(
                s,
                actor,
                "run.log_metrics",
                "run",
                run_id,
                after={"points": len(rows), "keys": sorted(latest)[:50]},
            )
        return len(rows)

    def _upsert_latest(self, s: Session, rows: list[dict[str, Any]]) -> None:
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        stmt = dialect.insert(LatestMetricRow).values(rows)
        t = LatestMetricRow.__table__.c
        newer = (stmt.excluded.step > t.step) | and_(
            stmt.excluded.step == t.step, stmt.excluded.timestamp >= t.timestamp
        )
        s.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.run_id, t.key],
                set_={
                    "value": stmt.excluded.value,
                    "step": stmt.excluded.step,
                    "timestamp": stmt.excluded.timestamp,
                },
                where=newer,
            )
        )

    def metric_history(self, run_id: str, keys: Iterable[str] | None = None) -> list[MetricSeries]:
        """Every point of the run's metrics (all of them when ``keys`` is None), step order."""
        with self.db.read() as s:
            self._run_row(s, run_id)
            stmt = (
                select(MetricRow.key, MetricRow.step, MetricRow.value, MetricRow.timestamp)
                .where(MetricRow.run_id == run_id)
                .order_by(MetricRow.key, MetricRow.step, MetricRow.timestamp, MetricRow.seq)
            )
            wanted = list(keys) if keys else None
            if wanted is not None:
                stmt = stmt.where(MetricRow.key.in_(wanted))
            series: dict[str, MetricSeries] = {}
            for key, step, value, timestamp in s.execute(stmt):
                cur = series.get(key)
                if cur is None:
                    cur = series[key] = MetricSeries(key=key, steps=[], values=[], timestamps=[])
                cur.steps.append(step)
                cur.values.append(value)
                cur.timestamps.append(timestamp)
            if wanted is not None:
                missing = [k for k in wanted if k not in series]
                if missing:
                    raise NotFound(f"run {run_id} has no metric named {missing[0]!r}")
            return list(series.values())

    # -- artifacts and inputs ----------------------------------------------------------------

    def log_artifact(
        self, actor: Actor, run_id: str, path: str, chunks: Iterable[bytes]
    ) -> ArtifactInfo:
        path = check_artifact_path(path)
        with self.db.read() as s:
            self._run_row(s, run_id)
        digest, size = self.artifacts.put_stream(chunks)
        return self.attach_artifact(actor, run_id, path, digest, size)

    def attach_artifact(
        self, actor: Actor, run_id: str, path: str, digest: str, size: int
    ) -> ArtifactInfo:
        """Record a blob already in the artifact store as the run's artifact at ``path``."""
        path = check_artifact_path(path)
        if not self.artifacts.exists(digest):
            raise NotFound(f"artifact {digest} is not in the artifact store")
        return retry_on_conflict(lambda: self._attach(actor, run_id, path, digest, size))

    def _attach(self, actor: Actor, run_id: str, path: str, digest: str, size: int) -> ArtifactInfo:
        with self.db.write() as s:
            self._run_row(s, run_id)
            row = RunArtifactRow(
                run_id=run_id, path=path, digest=digest, size=size, created_at=now_ms()
            )
            s.merge(row)
            audit.record(
                s,
                actor,
                "run.log_artifact",
                "run",
                run_id,
                after={"path": path, "digest": digest, "size": size},
            )
        return ArtifactInfo(path=path, digest=digest, size=size, created_at=row.created_at)

    def list_artifacts(self, run_id: str) -> list[ArtifactInfo]:
        with self.db.read() as s:
            self._run_row(s, run_id)
            rows = s.scalars(
                select(RunArtifactRow)
                .where(RunArtifactRow.run_id == run_id)
                .order_by(RunArtifactRow.path)
            )
            return [ArtifactInfo.model_validate(r, from_attributes=True) for r in rows]

    def get_artifact(self, run_id: str, path: str) -> ArtifactInfo:
        path = check_artifact_path(path)
        with self.db.read() as s:
            row = s.get(RunArtifactRow, (run_id, path))
            if row is None:
                raise NotFound(f"run {run_id} has no artifact {path!r}")
            return ArtifactInfo.model_validate(row, from_attributes=True)

    def log_input(self, actor: Actor, run_id: str, ds: DatasetInput) -> None:
        check_key("dataset", ds.name)
        check_digest(ds.digest)
        retry_on_conflict(lambda: self._log_input(actor, run_id, ds))

    def _log_input(self, actor: Actor, run_id: str, ds: DatasetInput) -> None:
        with self.db.write() as s:
            self._run_row(s, run_id)
            row = s.scalars(
                select(DatasetRow).where(DatasetRow.name == ds.name, DatasetRow.digest == ds.digest)
            ).first()
            if row is None:
                row = DatasetRow(
                    id=new_id(),
                    name=ds.name,
                    digest=ds.digest,
                    schema_=ds.schema_,
                    num_rows=ds.num_rows,
                    source=ds.source,
                    created_at=now_ms(),
                )
                s.add(row)
                s.flush()
            s.merge(RunInputRow(run_id=run_id, dataset_id=row.id, context=ds.context))
            audit.record(
                s, actor, "run.log_input", "run", run_id, after=ds.model_dump(exclude={"schema_"})
            )

    # -- search ------------------------------------------------------------------------------

    def search_runs(self, req: SearchRuns) -> RunPage:
        offset = _decode_token(req.page_token)
        with self.db.read() as s:
            stmt = select(RunRow)
            if req.experiments:
                ids = [self._experiment_row(s, e).id for e in req.experiments]
                stmt = stmt.where(RunRow.experiment_id.in_(ids))
            cond = parse_filter(req.filter)
            if cond is not None:
                stmt = stmt.where(cond)
            joins, order = parse_order_by(req.order_by)
            for alias, on in joins:
                stmt = stmt.outerjoin(alias, on)
            stmt = stmt.order_by(*order, RunRow.start_time.desc(), RunRow.id.desc())
            stmt = stmt.offset(offset).limit(req.max_results + 1)
            rows = list(s.scalars(stmt))
            more = len(rows) > req.max_results
            rows = rows[: req.max_results]
            token = _encode_token(offset + len(rows)) if more else None
            return RunPage(runs=self._hydrate(s, rows), next_page_token=token)

    def latest_points(self, run_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
        """The latest point of every metric of these runs: (key, value, step, timestamp)."""
        out: dict[str, list[tuple[Any, ...]]] = {r: [] for r in run_ids}
        m = LatestMetricRow
        with self.db.read() as s:
            for rid, k, v, step, ts in s.execute(
                select(m.run_id, m.key, m.value, m.step, m.timestamp).where(m.run_id.in_(run_ids))
            ):
                out[rid].append((k, v, step, ts))
        return out

    def _hydrate(self, s: Session, rows: Sequence[RunRow]) -> list[Run]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        params: dict[str, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[str, dict[str, float | None]] = {i: {} for i in ids}
        tags: dict[str, dict[str, str]] = {i: {} for i in ids}
        inputs: dict[str, list[DatasetInput]] = {i: [] for i in ids}
        for rid, k, v in s.execute(
            select(ParamRow.run_id, ParamRow.key, ParamRow.value).where(ParamRow.run_id.in_(ids))
        ):
            params[rid][k] = v
        for rid, k, fv in s.execute(
            select(LatestMetricRow.run_id, LatestMetricRow.key, LatestMetricRow.value).where(
                LatestMetricRow.run_id.in_(ids)
            )
        ):
            metrics[rid][k] = fv
        for rid, k, v in s.execute(
            select(RunTagRow.run_id, RunTagRow.key, RunTagRow.value).where(
                RunTagRow.run_id.in_(ids)
            )
        ):
            tags[rid][k] = v
        for rid, ctx, ds in s.execute(
            select(RunInputRow.run_id, RunInputRow.context, DatasetRow)
            .join(DatasetRow, DatasetRow.id == RunInputRow.dataset_id)
            .where(RunInputRow.run_id.in_(ids))
        ):
            inputs[rid].append(
                DatasetInput(
                    name=ds.name,
                    digest=ds.digest,
                    schema=ds.schema_,
                    num_rows=ds.num_rows,
                    source=ds.source,
                    context=ctx,
                )
            )
        return [
            Run(
                id=r.id,
                experiment_id=r.experiment_id,
                name=r.name,
                status=RunStatus(r.status),
                start_time=r.start_time,
                end_time=r.end_time,
                parent_run_id=r.parent_run_id,
                created_by=r.created_by,
                params=params[r.id],
                metrics=metrics[r.id],
                tags=tags[r.id],
                system=r.system,
                inputs=inputs[r.id],
            )
            for r in rows
        ]


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return check_text("param value", text, PARAM_VALUE_MAX)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "o":
            raise ValueError
        return min(max(0, int(value)), MAX_INT)
    except ValueError:
        raise InvalidInput("invalid page_token") from None
