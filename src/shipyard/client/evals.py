"""The eval SDK over the REST API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shipyard.client.http import Transport
from shipyard.evals.api import EvalsAPI
from shipyard.evals.schemas import CaseResult
from shipyard.evals.store import EvalSet, EvalSetSummary, PutEvalSet


class RemoteEvals(EvalsAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def put_evalset(self, name: str, req: PutEvalSet) -> EvalSet:
        data = self.t.call(
            "POST",
            f"/api/v1/evalsets/{quote(name, safe='')}/versions",
            json=req.model_dump(mode="json", by_alias=True),
        )
        return EvalSet.model_validate(data)

    def get_evalset(
        self, name: str, label: str | None = None, version: int | None = None
    ) -> EvalSet:
        params: dict[str, Any] = {}
        if label is not None:
            params["label"] = label
        if version is not None:
            params["version"] = version
        data = self.t.call("GET", f"/api/v1/evalsets/{quote(name, safe='')}", params=params)
        return EvalSet.model_validate(data)

    def list_evalsets(self, search: str | None = None) -> list[EvalSetSummary]:
        data = self.t.call("GET", "/api/v1/evalsets", params={"search": search} if search else None)
        return [EvalSetSummary.model_validate(e) for e in data["evalsets"]]

    def record(self, run_id: str, results: list[CaseResult]) -> int:
        body = {"results": [r.model_dump(mode="json") for r in results]}
        data = self.t.call(
            "POST", f"/api/v1/evals/runs/{quote(run_id, safe='')}/results", json=body
        )
        return int(data["recorded"])

    def results(self, run_id: str) -> list[CaseResult]:
        data = self.t.call("GET", f"/api/v1/evals/runs/{quote(run_id, safe='')}/results")
        return [CaseResult.model_validate(r) for r in data["results"]]
