"""The tracing SDK on the local store (embedded mode)."""

from __future__ import annotations

from shipyard.core.identity import Actor
from shipyard.tracing.api import TracingAPI
from shipyard.tracing.privacy import ProjectSettings
from shipyard.tracing.schemas import Score, ScoreIn, SpanIn, TraceDetail, TracePage, TraceQuery
from shipyard.tracing.service import TracingService
from shipyard.tracing.stats import StatsQuery, StatsReport


class LocalTracing(TracingAPI):
    def __init__(self, service: TracingService, actor: Actor) -> None:
        self.service = service
        self.actor = actor

    def ingest(self, spans: list[SpanIn]) -> int:
        return self.service.ingest(self.service.decode_native(spans))

    def add_score(self, score: ScoreIn) -> Score:
        return self.service.add_score(self.actor, score)

    def get_trace(self, trace_id: str) -> TraceDetail:
        return self.service.get_trace(trace_id)

    def list_traces(self, query: TraceQuery | None = None) -> TracePage:
        return self.service.list_traces(query or TraceQuery())

    def project_settings(self, project: str) -> ProjectSettings:
        return self.service.project_settings(project)

    def set_project_settings(self, project: str, settings: ProjectSettings) -> ProjectSettings:
        return self.service.set_project_settings(self.actor, project, settings)

    def stats(self, query: StatsQuery | None = None) -> StatsReport:
        return self.service.stats(query or StatsQuery())
