"""The CI gate: a candidate ships only when the evals say it is not worse than the baseline.

Both sides run the same eval set version (a finished run with the same fingerprint is reused,
an unfinished one resumed). The candidate fails when its pass rate is under the floor, or when
the pass rate, the mean score or any assertion's mean drops below the baseline's by more than
the allowed regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shipyard.evals.compare import Comparison, RunSide, compare
from shipyard.evals.runner import EvalReport

if TYPE_CHECKING:
    from shipyard.sdk import Client


@dataclass(slots=True)
class GateDecision:
    passed: bool
    reasons: list[str]  # why it failed (empty when it passed)
    checks: list[str] = field(default_factory=list)  # every check made, in words
    comparison: Comparison | None = None


def run_side(client: Client, report: EvalReport) -> RunSide:
    return RunSide(
        run_id=report.run_id,
        label=report.target,
        params=report.params,
        metrics=report.metrics,
        results=client.evals.results(report.run_id),
    )


def side_of_run(client: Client, run_id: str) -> RunSide:
    run = client.tracking.get_run(run_id)
    label = run.tags.get("shipyard.eval.target") or run.name or run_id
    return RunSide(
        run_id=run.id,
        label=label,
        params=dict(run.params),
        metrics={k: v for k, v in run.metrics.items() if v is not None},
        results=client.evals.results(run_id),
    )


def decide(
    baseline: RunSide, candidate: RunSide, *, min_pass_rate: float | None,
    max_regression: float, resamples: int = 2000,
) -> GateDecision:  # fmt: skip
    comp = compare(baseline, candidate, resamples=resamples)
    reasons, checks = [], []
    errors = sum(r.status == "error" for r in candidate.results)
    if errors:
        reasons.append(f"{errors} candidate case(s) failed to run (re-run to retry them)")
    if not comp.metrics:
        reasons.append("the two runs have no finished cases in common")
    rate = next((m for m in comp.metrics if m.kind == "pass_rate"), None)
    if min_pass_rate is not None and rate is not None:
        ok = rate.mean_b >= min_pass_rate
        checks.append(f"pass rate {rate.mean_b:.3f} ≥ {min_pass_rate:.3f}: {'ok' if ok else 'NO'}")
        if not ok:
            reasons.append(f"pass rate {rate.mean_b:.3f} is under the minimum {min_pass_rate:.3f}")
    for m in comp.metrics:
        drop = m.mean_a - m.mean_b
        ok = drop <= max_regression + 1e-12
        checks.append(
            f"{m.name}: {m.mean_a:.3f} → {m.mean_b:.3f} (drop {max(drop, 0):.3f} ≤ "
            f"{max_regression:.3f}): {'ok' if ok else 'NO'}"
        )
        if not ok:
            sig = "significant" if m.significant else "not significant"
            reasons.append(
                f"{m.name} fell from {m.mean_a:.3f} to {m.mean_b:.3f} ({drop:.3f} > allowed "
                f"{max_regression:.3f}; p={m.p_bootstrap:.3g}, {sig})"
            )
    return GateDecision(not reasons, reasons, checks, comp)
