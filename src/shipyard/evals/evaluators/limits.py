"""Budgets per case: ``cost`` and ``latency``.

Within the limit scores 1; over it, the score is limit / actual (twice the limit: 0.5)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field

from shipyard.evals.evaluators import base
from shipyard.evals.evaluators.base import Evaluator, register_evaluator
from shipyard.evals.schemas import EvalCase, Output, Verdict


def _within(actual: float | None, limit: float, what: str, show: Callable[[float], str]) -> Verdict:
    if actual is None:
        return Verdict(0.0, False, f"no {what} recorded", error=True)
    shown, allowed = show(actual), show(limit)
    if actual <= limit:
        return Verdict(1.0, True, f"{what} {shown} is within {allowed}")
    return Verdict(limit / actual, False, f"{what} {shown} is over the limit of {allowed}")


@register_evaluator
class Cost(Evaluator):
    """The case cost at most ``max_usd``."""

    name = "cost"

    class Options(base.Options):
        max_usd: float = Field(ge=0)

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        return _within(output.cost_usd, self.options.max_usd, "cost", lambda v: f"${v:.6g}")


@register_evaluator
class Latency(Evaluator):
    """The answer took at most ``max_ms`` milliseconds."""

    name = "latency"

    class Options(base.Options):
        max_ms: float = Field(ge=0)

    options: Options

    def evaluate(self, case: EvalCase, output: Output) -> Verdict:
        return _within(output.latency_ms, self.options.max_ms, "latency", lambda v: f"{v:.0f} ms")
