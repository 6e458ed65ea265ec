"""The tracing interface of the SDK: a local (store) and a remote (HTTP) implementation."""

from __future__ import annotations

from abc import ABC, abstractmethod

from shipyard.tracing.privacy import ProjectSettings
from shipyard.tracing.schemas import Score, ScoreIn, SpanIn, TraceDetail, TracePage, TraceQuery
from shipyard.tracing.stats import StatsQuery, StatsReport


class TracingAPI(ABC):
    @abstractmethod
    def ingest(self, spans: list[SpanIn]) -> int:
        """Store spans now (the SDK's background exporter batches into this)."""

    @abstractmethod
    def add_score(self, score: ScoreIn) -> Score: ...

    @abstractmethod
    def get_trace(self, trace_id: str) -> TraceDetail: ...

    @abstractmethod
    def list_traces(self, query: TraceQuery | None = None) -> TracePage: ...

    @abstractmethod
    def project_settings(self, project: str) -> ProjectSettings: ...

    @abstractmethod
    def set_project_settings(self, project: str, settings: ProjectSettings) -> ProjectSettings:
        """Privacy and retention of a project's traces (admins)."""

    @abstractmethod
    def stats(self, query: StatsQuery | None = None) -> StatsReport:
        """Requests, errors, latency percentiles, tokens, cost and scores per group."""
