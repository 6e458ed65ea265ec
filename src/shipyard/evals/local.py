"""The eval SDK on the local store (embedded mode)."""

from __future__ import annotations

from shipyard.core.identity import Actor
from shipyard.evals.api import EvalsAPI
from shipyard.evals.schemas import CaseResult
from shipyard.evals.store import EvalSet, EvalSetSummary, EvalStore, PutEvalSet


class LocalEvals(EvalsAPI):
    def __init__(self, store: EvalStore, actor: Actor) -> None:
        self.store = store
        self.actor = actor

    def put_evalset(self, name: str, req: PutEvalSet) -> EvalSet:
        return self.store.put_evalset(self.actor, name, req)

    def get_evalset(
        self, name: str, label: str | None = None, version: int | None = None
    ) -> EvalSet:
        return self.store.get_evalset(name, label, version)

    def list_evalsets(self, search: str | None = None) -> list[EvalSetSummary]:
        return self.store.list_evalsets(search)

    def record(self, run_id: str, results: list[CaseResult]) -> int:
        return self.store.record(self.actor, run_id, results)

    def results(self, run_id: str) -> list[CaseResult]:
        return self.store.results(run_id)
