"""Rate limits (requests and tokens per minute) and USD budgets (per UTC day and month),
per API key and per tenant.

Rates are counted in a sliding minute (the current minute plus the previous one, weighted
by how much of it still falls inside the last 60 seconds). Counting happens behind the
small :class:`RateStore` interface; the in-process store serves one server, and a shared
store (Redis) slots in behind the same two methods for several replicas.

Spend is kept in memory and re-read from the usage ledger every ``sync_s`` seconds, so
several replicas converge on the ledger's totals; between reads, each replica adds what it
spent itself."""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime

from shipyard.core.errors import BudgetExceeded, RateLimited
from shipyard.gateway.config import LimitSpec

Subject = tuple[str, str]  # (scope, id): ("key", key_id) or ("tenant", name)


class RateStore(ABC):
    @abstractmethod
    def add(self, subject: Subject, requests: int, tokens: int, now: float) -> None: ...

    @abstractmethod
    def rates(self, subject: Subject, now: float) -> tuple[float, float, float, float]:
        """(requests, tokens) in the sliding minute, and the previous minute's raw counts."""


class MemoryRates(RateStore):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # subject → [minute, requests, tokens, previous requests, previous tokens]
        self._w: dict[Subject, list[float]] = {}

    def _roll(self, subject: Subject, minute: int) -> list[float]:
        w = self._w.get(subject)
        if w is None:
            w = self._w[subject] = [minute, 0, 0, 0, 0]
        elif w[0] != minute:
            if w[0] == minute - 1:
                w[3], w[4] = w[1], w[2]
            else:
                w[3], w[4] = 0, 0
            w[0], w[1], w[2] = minute, 0, 0
        return w

    def add(self, subject: Subject, requests: int, tokens: int, now: float) -> None:
        with self._lock:
            w = self._roll(subject, int(now // 60))
            w[1] += requests
            w[2] += tokens

    def rates(self, subject: Subject, now: float) -> tuple[float, float, float, float]:
        with self._lock:
            w = self._roll(subject, int(now // 60))
            keep = 1.0 - (now % 60) / 60.0
            return w[1] + w[3] * keep, w[2] + w[4] * keep, w[3], w[4]


def wait_s(current: float, previous: float, limit: float, now: float) -> float:
    """Seconds until the sliding count drops below ``limit`` (with nothing new added)."""
    into = now % 60
    this_minute = current - previous * (1.0 - into / 60.0)
    if this_minute >= limit or previous <= 0:
        return 60.0 - into  # only the next minute frees room
    excess = current - limit + 1
    return max(0.0, min(60.0 - into, 60.0 * excess / previous))


class Limiter:
    def __init__(self, store: RateStore | None = None) -> None:
        self.store = store or MemoryRates()

    def admit(self, limits: list[tuple[Subject, LimitSpec]], now: float | None = None) -> None:
        """Count one request against every subject, or raise RateLimited (counting nothing)."""
        now = time.time() if now is None else now
        for subject, spec in limits:
            if spec.rpm is None and spec.tpm is None:
                continue
            reqs, toks, prev_r, prev_t = self.store.rates(subject, now)
            if spec.rpm is not None and reqs + 1 > spec.rpm:
                raise _limited(subject, f"{spec.rpm} requests per minute",
                               wait_s(reqs, prev_r, spec.rpm, now))  # fmt: skip
            if spec.tpm is not None and toks >= spec.tpm:
                raise _limited(subject, f"{spec.tpm} tokens per minute",
                               wait_s(toks, prev_t, spec.tpm, now))  # fmt: skip
        for subject, spec in limits:
            if spec.rpm is not None or spec.tpm is not None:
                self.store.add(subject, 1, 0, now)

    def used(self, subjects: list[Subject], tokens: int, now: float | None = None) -> None:
        if tokens <= 0:
            return
        now = time.time() if now is None else now
        for subject in subjects:
            self.store.add(subject, 0, tokens, now)


def _limited(subject: Subject, what: str, wait_s: float) -> RateLimited:
    retry = max(1, math.ceil(wait_s))
    return RateLimited(
        f"rate limit reached for {subject[0]} {subject[1]!r}: {what}; retry in {retry} s",
        code="rate_limit_exceeded",
        retry_after_s=retry,
    )


# -- budgets -----------------------------------------------------------------------------------


def periods(now_s: float) -> tuple[int, int]:
    """Start (ms) of the UTC day and the UTC month containing ``now_s``."""
    t = datetime.fromtimestamp(now_s, UTC)
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    return int(day.timestamp() * 1000), int(month.timestamp() * 1000)


SpendQuery = Callable[[list[Subject], int, int], dict[Subject, tuple[float, float]]]


class Budgets:
    """Spend per subject for the current UTC day and month."""

    def __init__(self, query: SpendQuery, flush: Callable[[], None]) -> None:
        self._query = query
        self._flush = flush
        self._lock = threading.Lock()
        self._base: dict[Subject, tuple[float, float]] = {}
        self._pending: dict[Subject, float] = {}
        self._period: tuple[int, int] = (0, 0)

    def sync(self, subjects: list[Subject], now: float | None = None) -> None:
        """Re-read spend of ``subjects`` from the ledger (call off the event loop)."""
        now = time.time() if now is None else now
        day, month = periods(now)
        with self._lock:
            self._pending = {}  # what is recorded from here on stays pending
        self._flush()  # everything recorded before is now in the ledger
        base = self._query(subjects, day, month) if subjects else {}
        with self._lock:
            self._base = base
            self._period = (day, month)

    def spent(self, subject: Subject) -> tuple[float, float]:
        with self._lock:
            d, m = self._base.get(subject, (0.0, 0.0))
            extra = self._pending.get(subject, 0.0)
        return d + extra, m + extra

    def add(self, subjects: list[Subject], cost: float) -> None:
        if cost <= 0:
            return
        with self._lock:
            for s in subjects:
                self._pending[s] = self._pending.get(s, 0.0) + cost

    def check(self, limits: list[tuple[Subject, LimitSpec]], now: float | None = None) -> None:
        now = time.time() if now is None else now
        day_start, month_start = periods(now)
        if (day_start, month_start) != self._period and self._period != (0, 0):
            # a new day or month began since the last sync: its spend starts from zero
            with self._lock:
                if day_start != self._period[0]:
                    self._base = {k: (0.0, m) for k, (_, m) in self._base.items()}
                if month_start != self._period[1]:
                    self._base = {k: (d, 0.0) for k, (d, _) in self._base.items()}
                self._period = (day_start, month_start)
        for subject, spec in limits:
            if spec.daily_usd is None and spec.monthly_usd is None:
                continue
            day, month = self.spent(subject)
            if spec.daily_usd is not None and day >= spec.daily_usd:
                raise _exhausted(subject, "daily", spec.daily_usd, day)
            if spec.monthly_usd is not None and month >= spec.monthly_usd:
                raise _exhausted(subject, "monthly", spec.monthly_usd, month)


def _exhausted(subject: Subject, period: str, limit: float, spent: float) -> BudgetExceeded:
    when = "at 00:00 UTC" if period == "daily" else "on the 1st of the month, 00:00 UTC"
    return BudgetExceeded(
        f"the {period} budget of ${limit:.2f} for {subject[0]} {subject[1]!r} is used up "
        f"(spent ${spent:.4f}); it resets {when}",
        code="budget_exceeded",
    )
