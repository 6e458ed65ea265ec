"""The usage ledger: one row per gateway call, written in batches off the serving path, and
summed for budgets and cost reports. The only writer of ``gateway_usage``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, insert, select

from shipyard.core.batching import Batcher
from shipyard.core.errors import InvalidInput
from shipyard.gateway.limits import Subject
from shipyard.gateway.models import UsageRow
from shipyard.store.db import Database

GROUPS = ("tenant", "feature", "user_id", "session_id", "key_id", "route", "model", "upstream")


@dataclass(slots=True)
class UsageRecord:
    id: str
    time_ms: int
    key_id: str | None
    tenant: str | None
    feature: str | None
    user_id: str | None
    session_id: str | None
    route: str
    route_version: int | None
    upstream: str | None
    model: str | None
    operation: str
    status: str
    error_type: str | None
    cache: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cost_usd: float
    latency_ms: float
    ttft_ms: float | None
    attempts: int
    trace_id: str | None


class UsageQuery(BaseModel):
    since_ms: int | None = None
    until_ms: int | None = None
    group_by: list[Literal[GROUPS]] = Field(default_factory=lambda: ["tenant"])  # type: ignore[valid-type]
    tenant: str | None = None
    key_id: str | None = None
    route: str | None = None


class UsageLine(BaseModel):
    group: dict[str, str | None]
    requests: int
    errors: int
    cache_hits: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageReport(BaseModel):
    since_ms: int | None
    until_ms: int | None
    group_by: list[str]
    lines: list[UsageLine]
    total: UsageLine


class UsageLedger:
    def __init__(self, db: Database, *, interval_s: float = 0.2) -> None:
        self.db = db
        self._batcher: Batcher[UsageRecord] = Batcher(
            self._write,
            batch_size=5000,
            interval_s=interval_s,
            max_pending=1_000_000,
            name="shipyard-usage",
        )

    def record(self, rec: UsageRecord) -> None:
        self._batcher.add(rec)

    def record_many(self, recs: list[UsageRecord]) -> None:
        self._batcher.add_many(recs)

    def flush(self) -> None:
        self._batcher.flush()

    def close(self) -> None:
        self._batcher.close()

    def _write(self, _key: str, records: list[UsageRecord]) -> None:
        with self.db.write() as s:
            s.execute(insert(UsageRow), [asdict(r) for r in records])

    def spend(
        self, subjects: list[Subject], day_start: int, month_start: int
    ) -> dict[Subject, tuple[float, float]]:
        """USD spent by each subject since the day start and since the month start."""
        out: dict[Subject, tuple[float, float]] = {}
        by_scope: dict[str, list[str]] = {}
        for scope, ident in subjects:
            by_scope.setdefault(scope, []).append(ident)
        u = UsageRow.__table__.c
        with self.db.read() as s:
            for scope, idents in by_scope.items():
                col = u.key_id if scope == "key" else u.tenant
                day_sum = func.sum(u.cost_usd).filter(u.time_ms >= day_start)
                rows = s.execute(
                    select(col, day_sum, func.sum(u.cost_usd))
                    .where(col.in_(idents), u.time_ms >= month_start)
                    .group_by(col)
                ).all()
                for ident, day, month in rows:
                    out[(scope, ident)] = (float(day or 0.0), float(month or 0.0))
        return out

    def report(self, q: UsageQuery) -> UsageReport:
        u = UsageRow.__table__.c
        if len(set(q.group_by)) != len(q.group_by):
            raise InvalidInput("group_by lists a field twice")
        cols = [u[g] for g in q.group_by]
        measures = (
            func.count(),
            func.sum(func.coalesce((u.status == "error").cast(_int()), 0)),
            func.sum(func.coalesce(u.cache.in_(("hit", "semantic")).cast(_int()), 0)),
            func.sum(u.input_tokens),
            func.sum(u.output_tokens),
            func.sum(u.cost_usd),
        )
        conds = []
        if q.since_ms is not None:
            conds.append(u.time_ms >= q.since_ms)
        if q.until_ms is not None:
            conds.append(u.time_ms < q.until_ms)
        for name in ("tenant", "key_id", "route"):
            value = getattr(q, name)
            if value is not None:
                conds.append(u[name] == value)
        with self.db.read() as s:
            rows = s.execute(
                select(*cols, *measures).where(*conds).group_by(*cols).order_by(*cols)
            ).all()
            total = s.execute(select(*measures).where(*conds)).one()
        n = len(cols)
        lines = [_line(dict(zip(q.group_by, r[:n], strict=True)), r[n:]) for r in rows]
        lines.sort(key=lambda line: -line.cost_usd)
        return UsageReport(
            since_ms=q.since_ms, until_ms=q.until_ms, group_by=list(q.group_by),
            lines=lines, total=_line({}, tuple(total)),
        )  # fmt: skip


def _int() -> Any:
    from sqlalchemy import Integer

    return Integer()


def _line(group: dict[str, Any], m: tuple[Any, ...]) -> UsageLine:
    return UsageLine(
        group={k: (None if v is None else str(v)) for k, v in group.items()},
        requests=int(m[0] or 0),
        errors=int(m[1] or 0),
        cache_hits=int(m[2] or 0),
        input_tokens=int(m[3] or 0),
        output_tokens=int(m[4] or 0),
        cost_usd=float(m[5] or 0.0),
    )
