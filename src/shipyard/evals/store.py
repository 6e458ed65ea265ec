"""Eval sets (registry entries of kind ``evalset``) and the per-case results of eval runs.
The only writer of the ``eval_results`` table."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor, Role
from shipyard.core.ids import now_ms
from shipyard.evals.models import EvalResultRow
from shipyard.evals.schemas import CaseResult, EvalSetSpec
from shipyard.registry.schemas import LATEST, CreateVersion, Kind, Version
from shipyard.registry.service import RegistryService
from shipyard.store.db import Database
from shipyard.tracking.service import TrackingService

MAX_RESULTS_PER_CALL = 5000


class EvalSet(BaseModel):
    """One version of an eval set."""

    name: str
    version: int
    labels: list[str]
    content_hash: str
    description: str
    created_at: int
    created_by: str
    spec: EvalSetSpec

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"


class EvalSetSummary(BaseModel):
    name: str
    description: str
    latest_version: int | None
    labels: dict[str, int]
    updated_at: int


class PutEvalSet(BaseModel):
    spec: EvalSetSpec
    description: str = ""
    dedupe: bool = True


class EvalStore:
    def __init__(self, db: Database, registry: RegistryService, tracking: TrackingService) -> None:
        self.db = db
        self.registry = registry
        self.tracking = tracking

    # -- eval sets -------------------------------------------------------------------------------

    def put_evalset(self, actor: Actor, name: str, req: PutEvalSet) -> EvalSet:
        payload = req.spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        payload["cases"] = [c.dump() for c in req.spec.cases]
        version = self.registry.create_version(
            actor,
            name,
            CreateVersion(payload=payload, description=req.description, dedupe=req.dedupe),
            kind=Kind.evalset,
        )
        return to_evalset(version)

    def get_evalset(
        self, name: str, label: str | None = None, version: int | None = None
    ) -> EvalSet:
        """By version, by label, else the newest version (eval sets default to ``latest``)."""
        if label is None and version is None:
            label = LATEST
        return to_evalset(self.registry.fetch(name, Kind.evalset, version=version, alias=label))

    def list_evalsets(self, search: str | None = None) -> list[EvalSetSummary]:
        return [
            EvalSetSummary(
                name=e.name,
                description=e.description,
                latest_version=e.latest_version,
                labels=e.aliases,
                updated_at=e.updated_at,
            )
            for e in self.registry.list_entries(Kind.evalset, search)
        ]

    # -- results ---------------------------------------------------------------------------------

    def record(self, actor: Actor, run_id: str, results: list[CaseResult]) -> int:
        """Store case results (a case run again replaces its earlier result)."""
        actor.require(Role.editor, "recording eval results")
        if len(results) > MAX_RESULTS_PER_CALL:
            raise InvalidInput(f"at most {MAX_RESULTS_PER_CALL} results per call")
        if not results:
            return 0
        self.tracking.get_run(run_id)  # NotFound for an unknown run
        ts = now_ms()
        rows = [_row(run_id, r, ts) for r in results]
        dialect: Any = postgresql if self.db.dialect == "postgresql" else sqlite
        with self.db.write() as s:
            stmt = dialect.insert(EvalResultRow).values(rows)
            keep = {k: stmt.excluded[k] for k in rows[0] if k not in ("run_id", "case_id")}
            s.execute(stmt.on_conflict_do_update(index_elements=["run_id", "case_id"], set_=keep))
        return len(rows)

    def results(self, run_id: str) -> list[CaseResult]:
        self.tracking.get_run(run_id)
        with self.db.read() as s:
            rows = s.scalars(
                select(EvalResultRow)
                .where(EvalResultRow.run_id == run_id)
                .order_by(EvalResultRow.idx, EvalResultRow.case_id)
            )
            return [_result(r) for r in rows]


def to_evalset(v: Version) -> EvalSet:
    return EvalSet(
        name=v.name,
        version=v.version,
        labels=v.aliases,
        content_hash=v.content_hash,
        description=v.description,
        created_at=v.created_at,
        created_by=v.created_by,
        spec=EvalSetSpec.model_validate(v.payload),
    )


def _row(run_id: str, r: CaseResult, ts: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "case_id": r.case_id,
        "idx": r.index,
        "status": r.status,
        "passed": r.passed,
        "score": r.score,
        "output": r.output,
        "assertions": [a.model_dump() for a in r.assertions],
        "latency_ms": r.latency_ms,
        "cost_usd": r.cost_usd,
        "input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "trace_id": r.trace_id,
        "error": r.error,
        "created_at": ts,
    }


def _result(r: EvalResultRow) -> CaseResult:
    return CaseResult.model_validate(
        {
            "run_id": r.run_id,
            "case_id": r.case_id,
            "index": r.idx,
            "status": r.status,
            "passed": r.passed,
            "score": r.score,
            "output": r.output,
            "assertions": r.assertions,
            "latency_ms": r.latency_ms,
            "cost_usd": r.cost_usd,
            "input_tokens": r.input_tokens,
            "output_tokens": r.output_tokens,
            "trace_id": r.trace_id,
            "error": r.error,
            "created_at": r.created_at,
        }
    )
