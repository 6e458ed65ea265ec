"""The eval interface of the SDK: a local (store) and a remote (HTTP) implementation.
Eval runs themselves run in the SDK (``shipyard.evals.runner``) and store through this."""

from __future__ import annotations

from abc import ABC, abstractmethod

from shipyard.evals.schemas import CaseResult
from shipyard.evals.store import EvalSet, EvalSetSummary, PutEvalSet


class EvalsAPI(ABC):
    @abstractmethod
    def put_evalset(self, name: str, req: PutEvalSet) -> EvalSet:
        """A new version of the eval set (the set too, on its first); an unchanged set
        returns the newest version when ``req.dedupe``."""

    @abstractmethod
    def get_evalset(
        self, name: str, label: str | None = None, version: int | None = None
    ) -> EvalSet: ...

    @abstractmethod
    def list_evalsets(self, search: str | None = None) -> list[EvalSetSummary]: ...

    @abstractmethod
    def record(self, run_id: str, results: list[CaseResult]) -> int: ...

    @abstractmethod
    def results(self, run_id: str) -> list[CaseResult]: ...
