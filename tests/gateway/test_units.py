"""Pieces of the gateway that need no server: prices, the sliding-minute limiter, budget
periods, request keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shipyard.core.errors import BudgetExceeded, InvalidInput, RateLimited
from shipyard.gateway.cache import request_key
from shipyard.gateway.config import LimitSpec
from shipyard.gateway.limits import Budgets, Limiter, periods
from shipyard.gateway.pricing import PriceTable
from shipyard.gateway.schemas import Usage


def test_price_table_defaults_prefixes_and_overrides(tmp_path: Path) -> None:
    table = PriceTable()
    assert table.lookup("gpt-4o-mini-2024-07-18") == table.lookup("gpt-4o-mini")
    assert table.lookup("openai/gpt-4o") == table.lookup("gpt-4o")
    assert table.lookup("no-such-model") is None
    override = tmp_path / "prices.yaml"
    override.write_text("gpt-4o: {input: 1.0, output: 2.0}\nmy-model: {input: 0.5, output: 0.5}\n")
    custom = PriceTable(override)
    price = custom.lookup("gpt-4o")
    assert price is not None and price.cost(Usage(1_000_000, 1_000_000)) == pytest.approx(3.0)
    assert custom.lookup("my-model") is not None
    # cached input tokens are charged at the cached rate
    mini = table.lookup("gpt-4o-mini")
    assert mini is not None
    assert mini.cost(Usage(1_000_000, 0, cached_input_tokens=1_000_000)) == pytest.approx(0.075)
    override.write_text("gpt-4o: {input: -1, output: 2}\n")
    with pytest.raises(InvalidInput, match="gpt-4o"):
        PriceTable(override)


def test_sliding_minute_counts_the_previous_minute_by_overlap() -> None:
    limiter = Limiter()
    spec = [(("key", "k"), LimitSpec(rpm=10))]
    t0 = 1_000_000 * 60.0  # the start of a minute
    for _ in range(10):
        limiter.admit(spec, now=t0 + 50)
    with pytest.raises(RateLimited) as info:
        limiter.admit(spec, now=t0 + 55)
    assert 1 <= info.value.details["retry_after_s"] <= 5
    # 30 s into the next minute, half of the previous minute still counts: 5 used, 5 free
    for _ in range(5):
        limiter.admit(spec, now=t0 + 90)
    with pytest.raises(RateLimited):
        limiter.admit(spec, now=t0 + 90)
    # two minutes later nothing counts
    limiter.admit(spec, now=t0 + 200)


def test_refused_requests_are_not_counted() -> None:
    limiter = Limiter()
    both = [(("key", "k"), LimitSpec(rpm=100)), (("tenant", "t"), LimitSpec(rpm=1))]
    limiter.admit(both, now=60.0)
    with pytest.raises(RateLimited):
        limiter.admit(both, now=61.0)
    assert limiter.store.rates(("key", "k"), 61.0)[0] == 1


def test_budget_periods_are_utc_days_and_months() -> None:
    now = datetime(2026, 3, 17, 15, 30, tzinfo=UTC).timestamp()
    day, month = periods(now)
    assert datetime.fromtimestamp(day / 1000, UTC) == datetime(2026, 3, 17, tzinfo=UTC)
    assert datetime.fromtimestamp(month / 1000, UTC) == datetime(2026, 3, 1, tzinfo=UTC)


def test_budgets_add_pending_spend_to_the_ledger_totals() -> None:
    ledger = {("tenant", "acme"): (4.0, 9.0)}
    budgets = Budgets(lambda subjects, d, m: dict(ledger), lambda: None)
    budgets.sync([("tenant", "acme")])
    spec = [(("tenant", "acme"), LimitSpec(daily_usd=5, monthly_usd=100))]
    budgets.check(spec)
    budgets.add([("tenant", "acme")], 1.5)
    with pytest.raises(BudgetExceeded, match=r"daily budget of \$5\.00"):
        budgets.check(spec)


def test_request_key_ignores_order_and_non_answer_fields() -> None:
    a = {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 0,
         "user": "u1", "stream": True}  # fmt: skip
    b = {"temperature": 0, "messages": [{"content": "x", "role": "user"}], "model": "m",
         "user": "u2"}  # fmt: skip
    assert request_key(("r", "acme"), a) == request_key(("r", "acme"), b)
    assert request_key(("r", "acme"), a) != request_key(("r", "globex"), a)
    assert request_key(("r", "acme"), a) != request_key(("r", "acme"), {**a, "temperature": 0.5})
