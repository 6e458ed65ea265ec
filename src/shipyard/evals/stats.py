"""Paired statistics for comparing two eval runs case by case, in pure Python.

Both tests take the per-case values of run A and run B in the same case order and look at
the differences ``b - a``:

- :func:`paired_bootstrap`: the mean difference with a percentile confidence interval and a
  two-sided bootstrap p-value. Deterministic for a given seed.
- :func:`wilcoxon_signed_rank`: the Wilcoxon signed-rank test (zero differences dropped,
  average ranks for ties), exact for small samples without ties, else the normal
  approximation with tie and continuity corrections (the same as ``scipy.stats.wilcoxon``
  and R's ``wilcox.test``).

Differences are rounded to 12 decimal places before they are ranked, so that score
differences equal on paper (``0.7 - 0.6`` and ``0.8 - 0.7``) tie and float noise counts as
no difference.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Bootstrap", "Wilcoxon", "paired_bootstrap", "wilcoxon_signed_rank"]

EXACT_MAX_N = 25
_DECIMALS = 12


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """Mean of ``b - a``, its percentile confidence interval and a two-sided p-value."""

    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    resamples: int
    confidence: float


@dataclass(frozen=True, slots=True)
class Wilcoxon:
    """``statistic`` is the smaller of the positive and negative rank sums; ``n`` counts the
    non-zero differences; ``method`` says how the p-value was found."""

    statistic: float
    p_value: float
    n: int
    method: Literal["exact", "normal"]


def _differences(a: Sequence[float], b: Sequence[float]) -> list[float]:
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length ({len(a)} and {len(b)})")
    return [float(y) - float(x) for x, y in zip(a, b, strict=True)]


def paired_bootstrap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Bootstrap:
    """Resample the cases with replacement ``resamples`` times and take the mean of ``b - a``
    each time. The p-value is twice the share of resampled means on the other side of zero
    from the observed mean (zero counts as the other side), with the +1 correction, at most 1.
    """
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    diffs = _differences(a, b)
    n = len(diffs)
    if n == 0:
        return Bootstrap(0.0, 0.0, 0.0, 1.0, 0, resamples, confidence)
    observed = math.fsum(diffs) / n
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(diffs, k=n)) / n for _ in range(resamples))
    if observed > 0:
        other = sum(1 for m in means if m <= 0)
    elif observed < 0:
        other = sum(1 for m in means if m >= 0)
    else:
        other = resamples
    p_value = min(1.0, 2.0 * (other + 1) / (resamples + 1))
    tail = (1.0 - confidence) / 2
    return Bootstrap(
        mean_diff=observed,
        ci_low=_quantile(means, tail),
        ci_high=_quantile(means, 1.0 - tail),
        p_value=p_value,
        n=n,
        resamples=resamples,
        confidence=confidence,
    )


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def wilcoxon_signed_rank(a: Sequence[float], b: Sequence[float]) -> Wilcoxon:
    """Two-sided Wilcoxon signed-rank test of ``b - a`` against a median of zero."""
    diffs = [round(d, _DECIMALS) for d in _differences(a, b)]
    diffs = [d for d in diffs if d != 0]
    n = len(diffs)
    if n == 0:
        return Wilcoxon(statistic=0.0, p_value=1.0, n=0, method="exact")
    ranks, tie_sizes = _average_ranks([abs(d) for d in diffs])
    r_plus = sum(r for r, d in zip(ranks, diffs, strict=True) if d > 0)
    r_minus = n * (n + 1) / 2 - r_plus
    statistic = min(r_plus, r_minus)
    has_ties = any(t > 1 for t in tie_sizes)
    if n <= EXACT_MAX_N and not has_ties:
        return Wilcoxon(statistic, _exact_p(round(r_plus), n), n, "exact")
    return Wilcoxon(statistic, _normal_p(r_plus, n, tie_sizes), n, "normal")


def _average_ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """1-based ranks with ties given their average rank, and the size of each tie group."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    sizes: list[int] = []
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and values[order[end]] == values[order[start]]:
            end += 1
        rank = (start + 1 + end) / 2
        for i in order[start:end]:
            ranks[i] = rank
        sizes.append(end - start)
        start = end
    return ranks, sizes


def _exact_p(r_plus: int, n: int) -> float:
    """Two-sided p-value from the exact null distribution of the positive rank sum: the
    number of subsets of ``{1..n}`` with each sum, counted by dynamic programming."""
    top = n * (n + 1) // 2
    counts = [1] + [0] * top
    for rank in range(1, n + 1):
        for total in range(top, rank - 1, -1):
            counts[total] += counts[total - rank]
    below = sum(counts[: r_plus + 1])
    above = sum(counts[r_plus:])
    return min(1.0, 2 * min(below, above) / 2**n)


def _normal_p(r_plus: float, n: int, tie_sizes: Sequence[int]) -> float:
    mean = n * (n + 1) / 4
    tie_term = sum(t**3 - t for t in tie_sizes) / 2
    sd = math.sqrt((n * (n + 1) * (2 * n + 1) - tie_term) / 24)
    z = (r_plus - mean) / sd
    z -= math.copysign(0.5, z) / sd if z != 0 else 0.0
    return min(1.0, math.erfc(abs(z) / math.sqrt(2)))
