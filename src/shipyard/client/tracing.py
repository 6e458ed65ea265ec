"""The tracing SDK over the REST API."""

from __future__ import annotations

from urllib.parse import quote

from shipyard.client.http import Transport
from shipyard.tracing.api import TracingAPI
from shipyard.tracing.privacy import ProjectSettings
from shipyard.tracing.schemas import Score, ScoreIn, SpanIn, TraceDetail, TracePage, TraceQuery
from shipyard.tracing.stats import StatsQuery, StatsReport


class RemoteTracing(TracingAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def ingest(self, spans: list[SpanIn]) -> int:
        body = {"spans": [s.model_dump(mode="json", exclude_defaults=True) for s in spans]}
        return int(self.t.call("POST", "/api/v1/traces/batch", json=body)["stored"])

    def add_score(self, score: ScoreIn) -> Score:
        data = self.t.call("POST", "/api/v1/scores", json=score.model_dump(mode="json"))
        return Score.model_validate(data)

    def get_trace(self, trace_id: str) -> TraceDetail:
        return TraceDetail.model_validate(self.t.call("GET", f"/api/v1/traces/{trace_id}"))

    def list_traces(self, query: TraceQuery | None = None) -> TracePage:
        params = (query or TraceQuery()).model_dump(exclude_none=True)
        return TracePage.model_validate(self.t.call("GET", "/api/v1/traces", params=params))

    def project_settings(self, project: str) -> ProjectSettings:
        path = f"/api/v1/trace-projects/{quote(project, safe='')}"
        return ProjectSettings.model_validate(self.t.call("GET", path))

    def set_project_settings(self, project: str, settings: ProjectSettings) -> ProjectSettings:
        path = f"/api/v1/trace-projects/{quote(project, safe='')}"
        return ProjectSettings.model_validate(
            self.t.call("PUT", path, json=settings.model_dump(mode="json"))
        )

    def stats(self, query: StatsQuery | None = None) -> StatsReport:
        params = (query or StatsQuery()).model_dump(exclude_none=True)
        return StatsReport.model_validate(self.t.call("GET", "/api/v1/stats", params=params))
