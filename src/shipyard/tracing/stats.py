"""Aggregates over a time window: per group (model, prompt version, route, tenant, feature,
user, project), and as a time series. A request is a trace; its latency is the trace's."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from shipyard.core.ids import now_ms
from shipyard.tracing.models import ScoreRow, TraceRow

GroupBy = Literal["model", "prompt", "route", "tenant", "feature", "user", "project", "none"]
DAY_MS = 86_400_000


class StatsQuery(BaseModel):
    by: GroupBy = "none"
    since_ms: int | None = Field(default=None, ge=0, le=2**62, description="default: 24 h ago")
    until_ms: int | None = Field(default=None, ge=0, le=2**62, description="default: now")
    project: str | None = None
    bucket_ms: int | None = Field(default=None, ge=1000, le=366 * DAY_MS)
    limit: int = Field(default=50, ge=1, le=1000, description="groups, busiest first")


class GroupStats(BaseModel):
    key: str | None
    requests: int
    errors: int
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    scores: dict[str, float] = Field(default_factory=dict)  # mean of each numeric score
    feedback_count: int = 0
    feedback_positive_share: float | None = None


class SeriesPoint(BaseModel):
    bucket_ms: int
    key: str | None
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_avg_ms: float


class StatsReport(BaseModel):
    by: GroupBy
    since_ms: int
    until_ms: int
    groups: list[GroupStats]
    series: list[SeriesPoint]


def _group_cols(by: GroupBy) -> list[Any]:
    t = TraceRow
    options: dict[str, list[Any]] = {
        "model": [t.model],
        "prompt": [t.prompt_name, t.prompt_version],
        "route": [t.route],
        "tenant": [t.tenant],
        "feature": [t.feature],
        "user": [t.user_id],
        "project": [t.project],
        "none": [literal("all")],
    }
    return options[by]


def _key(values: tuple[Any, ...]) -> str | None:
    if all(v is None for v in values):
        return None
    return "/".join("" if v is None else str(v) for v in values)


def compute(s: Session, q: StatsQuery) -> StatsReport:
    until = q.until_ms if q.until_ms is not None else now_ms()
    since = q.since_ms if q.since_ms is not None else until - DAY_MS
    t = TraceRow
    where = [t.start_ms >= since, t.start_ms < until]
    if q.project:
        where.append(t.project == q.project)
    cols = _group_cols(q.by)
    n = len(cols)
    is_error = case((t.status == "error", 1), else_=0)
    latency = t.end_ms - t.start_ms

    totals = s.execute(
        select(*cols, func.count(), func.sum(is_error), func.sum(t.input_tokens),
               func.sum(t.output_tokens), func.sum(t.cost_usd))
        .select_from(t).where(*where).group_by(*cols).order_by(func.count().desc()).limit(q.limit)
    ).all()  # fmt: skip
    groups: dict[str | None, GroupStats] = {}
    for row in totals:
        key = _key(tuple(row[:n]))
        requests, errors = int(row[n]), int(row[n + 1] or 0)
        groups[key] = GroupStats(
            key=key, requests=requests, errors=errors, error_rate=errors / requests,
            latency_p50_ms=None, latency_p95_ms=None, latency_p99_ms=None,
            input_tokens=int(row[n + 2] or 0), output_tokens=int(row[n + 3] or 0),
            cost_usd=float(row[n + 4] or 0.0),
        )  # fmt: skip

    _percentiles(s, cols, where, latency, groups)
    _scores(s, cols, where, groups)
    series: list[SeriesPoint] = []
    if q.bucket_ms:
        bucket = (t.start_ms // q.bucket_ms) * q.bucket_ms
        for row in s.execute(
            select(bucket, *cols, func.count(), func.sum(is_error), func.sum(t.input_tokens),
                   func.sum(t.output_tokens), func.sum(t.cost_usd), func.avg(latency))
            .select_from(t).where(*where).group_by(bucket, *cols).order_by(bucket)
        ):  # fmt: skip
            key = _key(tuple(row[1 : n + 1]))
            if key not in groups:
                continue
            series.append(SeriesPoint(
                bucket_ms=int(row[0]), key=key, requests=int(row[n + 1]),
                errors=int(row[n + 2] or 0), input_tokens=int(row[n + 3] or 0),
                output_tokens=int(row[n + 4] or 0), cost_usd=float(row[n + 5] or 0.0),
                latency_avg_ms=float(row[n + 6] or 0.0),
            ))  # fmt: skip
    return StatsReport(
        by=q.by, since_ms=since, until_ms=until, groups=list(groups.values()), series=series
    )


def _percentiles(
    s: Session,
    cols: list[Any],
    where: list[Any],
    latency: Any,
    groups: dict[str | None, GroupStats],
) -> None:
    """Exact p50/p95/p99 per group with window functions (both databases have them)."""
    n = len(cols)
    rn = func.row_number().over(partition_by=cols, order_by=latency).label("rn")
    cnt = func.count().over(partition_by=cols).label("cnt")
    inner = (
        select(*[c.label(f"g{i}") for i, c in enumerate(cols)], latency.label("lat"), rn, cnt)
        .where(*where)
        .subquery()
    )
    wanted = [(inner.c.cnt * p + 99) // 100 for p in (50, 95, 99)]
    g = [inner.c[f"g{i}"] for i in range(n)]
    rows = s.execute(
        select(*g, inner.c.rn, inner.c.cnt, inner.c.lat).where(
            (inner.c.rn == wanted[0]) | (inner.c.rn == wanted[1]) | (inner.c.rn == wanted[2])
        )
    )
    for row in rows:
        stats = groups.get(_key(tuple(row[:n])))
        if stats is None:
            continue
        rank, count, lat = int(row[n]), int(row[n + 1]), float(row[n + 2])
        for p, field in ((50, "latency_p50_ms"), (95, "latency_p95_ms"), (99, "latency_p99_ms")):
            if rank == (count * p + 99) // 100:
                setattr(stats, field, lat)


def _scores(
    s: Session, cols: list[Any], where: list[Any], groups: dict[str | None, GroupStats]
) -> None:
    n = len(cols)
    sc = ScoreRow
    joined = and_(sc.trace_id == TraceRow.trace_id)
    for row in s.execute(
        select(*cols, sc.name, func.avg(sc.value)).select_from(TraceRow).join(sc, joined)
        .where(*where, sc.value.is_not(None)).group_by(*cols, sc.name)
    ):  # fmt: skip
        stats = groups.get(_key(tuple(row[:n])))
        if stats is not None:
            stats.scores[row[n]] = float(row[n + 1])
    positive = case((sc.value > 0, 1), else_=0)
    for row in s.execute(
        select(*cols, func.count(), func.sum(positive), func.count(sc.value))
        .select_from(TraceRow).join(sc, joined)
        .where(*where, sc.source == "human").group_by(*cols)
    ):  # fmt: skip
        stats = groups.get(_key(tuple(row[:n])))
        if stats is not None:
            stats.feedback_count = int(row[n])
            rated = int(row[n + 2] or 0)
            stats.feedback_positive_share = int(row[n + 1] or 0) / rated if rated else None


# -- retrieval coverage ---------------------------------------------------------------------------


class RetrievalStats(BaseModel):
    """Searches of one index version in a window: how many found something close enough."""

    index: str
    version: int | None
    requests: int
    covered: int  # best cosine score ≥ threshold
    share_covered: float
    best_score_mean: float | None
    best_score_p50: float | None
    threshold: float


def retrieval_coverage(
    s: Session, index: str | None, threshold: float, since_ms: int | None, until_ms: int | None
) -> list[RetrievalStats]:
    """Per index version, the share of retrieval spans whose best score reaches
    ``threshold`` (spans record ``shipyard.retrieval.best_score``)."""
    import orjson

    from shipyard.tracing.models import SpanRow

    until = until_ms if until_ms is not None else now_ms()
    since = since_ms if since_ms is not None else until - DAY_MS
    stmt = select(SpanRow.index_name, SpanRow.index_version, SpanRow.attributes).where(
        SpanRow.kind == "retrieval", SpanRow.start_ms >= since, SpanRow.start_ms < until,
        SpanRow.index_name.is_not(None),
    )  # fmt: skip
    if index is not None:
        stmt = stmt.where(SpanRow.index_name == index)
    groups: dict[tuple[str, int | None], list[float | None]] = {}
    for name, version, attrs in s.execute(stmt):
        best = orjson.loads(attrs).get("shipyard.retrieval.best_score") if attrs else None
        groups.setdefault((str(name), version), []).append(
            float(best) if isinstance(best, int | float) else None)  # fmt: skip
    out = []
    for (name, version), bests in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        scored = sorted(b for b in bests if b is not None)
        covered = sum(1 for b in scored if b >= threshold)
        out.append(RetrievalStats(
            index=name, version=version, requests=len(bests), covered=covered,
            share_covered=covered / len(bests), threshold=threshold,
            best_score_mean=sum(scored) / len(scored) if scored else None,
            best_score_p50=scored[len(scored) // 2] if scored else None,
        ))  # fmt: skip
    return out
