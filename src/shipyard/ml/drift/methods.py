"""Drift methods: one statistic per column between a reference and a current distribution.

    class DriftMethod:
        name            the name it is chosen by (``--method``, ``DriftOptions.methods``)
        kinds           the column kinds it applies to ("numeric", "categorical")
        threshold       its default threshold
        test(ref, cur)  -> Measured(statistic, p_value or None)
        drifted(m, t)   p-value methods: p < t; distance methods: statistic >= t

Both sides arrive as ``Summary`` objects (see ``shipyard.ml.drift.profile``): sorted values
with weights for numeric columns, counts per category for categorical ones. Third-party
methods load through the entry-point group ``shipyard.drift_methods``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from shipyard.core.errors import InvalidInput
from shipyard.core.plugins import PluginRegistry

if TYPE_CHECKING:
    from shipyard.ml.drift.profile import Summary


@dataclass(frozen=True)
class Measured:
    statistic: float
    p_value: float | None = None


class DriftMethod(ABC):
    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = ("numeric", "categorical")
    threshold: ClassVar[float]
    is_test: ClassVar[bool] = False  # a p-value test (drift below) or a distance (drift above)
    label: ClassVar[str] = ""

    @abstractmethod
    def measure(self, ref: Summary, cur: Summary) -> Measured: ...

    def drifted(self, measured: Measured, threshold: float) -> bool:
        if self.is_test:
            assert measured.p_value is not None
            return measured.p_value < threshold
        return measured.statistic >= threshold


METHODS: PluginRegistry[DriftMethod] = PluginRegistry(
    "drift method", lambda cls: cls.name, ("shipyard.ml.drift.methods",), "shipyard.drift_methods"
)


def register_method(cls: type[DriftMethod]) -> type[DriftMethod]:
    return METHODS.register(cls)


def method(name: str) -> DriftMethod:
    return METHODS.get(name)()


@register_method
class ChiSquare(DriftMethod):
    name = "chisquare"
    threshold = 0.05
    is_test = True
    label = "chi-square p-value"

    def measure(self, ref: Summary, cur: Summary) -> Measured:
        from scipy.stats import chi2

        ref_counts, observed = ref.shares_with(cur)  # counts, or bins of a numeric column
        expected = ref_counts / ref_counts.sum() * observed.sum()
        if np.any((expected == 0) & (observed > 0)):
            return Measured(math.inf, 0.0)  # a category the reference never had
        keep = expected > 0
        stat = float((((observed - expected) ** 2)[keep] / expected[keep]).sum())
        dof = int(keep.sum()) - 1
        return Measured(stat, float(chi2.sf(stat, dof)) if dof > 0 else 1.0)


@register_method
class ZTest(DriftMethod):
    """Two proportions (pooled), for columns with at most two values: the first value in
    sorted order against the rest."""

    name = "z"
    threshold = 0.05
    is_test = True
    label = "z-test p-value"

    def measure(self, ref: Summary, cur: Summary) -> Measured:
        from scipy.stats import norm

        keys = sorted(set(ref.counts) | set(cur.counts), key=repr)
        if not (ref.counts and cur.counts) or len(keys) > 2:
            raise InvalidInput("the z-test compares columns of at most two values")
        first = keys[0]
        n1, n2 = ref.n, cur.n
        p1 = ref.counts.get(first, 0) / n1
        p2 = cur.counts.get(first, 0) / n2
        pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        if spread == 0:
            return Measured(0.0, 1.0)  # both sides one and the same value
        z = (p1 - p2) / spread
        return Measured(abs(z), float(2 * norm.sf(abs(z))))


@register_method
class JensenShannon(DriftMethod):
    """Jensen-Shannon distance (square root of the divergence, natural log) between the
    shares of each value; numeric columns are binned first (see ``Summary.shares``)."""

    name = "jensenshannon"
    threshold = 0.1
    label = "Jensen-Shannon distance"

    def measure(self, ref: Summary, cur: Summary) -> Measured:
        p, q = ref.shares_with(cur)
        p, q = p / p.sum(), q / q.sum()
        m = (p + q) / 2

        def kl(x: np.ndarray) -> float:
            nz = x > 0
            return float((x[nz] * np.log(x[nz] / m[nz])).sum())

        return Measured(math.sqrt(max((kl(p) + kl(q)) / 2, 0.0)))


@register_method
class PSI(DriftMethod):
    """Population stability index over ten reference-quantile bins (categories as they are);
    empty shares count as 0.0001."""

    name = "psi"
    threshold = 0.1
    label = "PSI"

    def measure(self, ref: Summary, cur: Summary) -> Measured:
        p, q = ref.shares_with(cur, quantile_bins=10)
        p = np.maximum(p / p.sum(), 1e-4)
        q = np.maximum(q / q.sum(), 1e-4)
        return Measured(float(((p - q) * np.log(p / q)).sum()))


@register_method
class KS(DriftMethod):
    """Kolmogorov-Smirnov two-sample test (scipy's, exact for small samples)."""

    name = "ks"
    kinds = ("numeric",)
    threshold = 0.05
    is_test = True
    label = "K-S p-value"

    def measure(self, ref: Summary, cur: Summary) -> Measured:
        from scipy.stats import ks_2samp

        if ref.exact and cur.exact:
            found = ks_2samp(ref.values, cur.values)
            return Measured(float(found.statistic), float(found.pvalue))
        # a summarised side: the statistic from the two CDFs, the asymptotic p-value
        from scipy.stats import kstwo

        stat = ks_statistic(ref, cur)
        n = ref.n * cur.n / (ref.n + cur.n)
        return Measured(stat, float(kstwo.sf(stat, max(round(n), 1))))


@register_method
class Wasserstein(DriftMethod):
    """Wasserstein-1 distance divided by the reference's standard deviation (floor 0.001)."""

    name = "wasserstein"
    kinds = ("numeric",)
    threshold = 0.1
    label = "Wasserstein distance (normed)"

    def measure(self, ref: Summary, cur: Summary) -> Measured:
        return Measured(wasserstein(ref, cur) / max(ref.std, 0.001))


def _cdfs(a: Summary, b: Summary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both CDFs just right of every breakpoint of the pooled values."""
    points = np.concatenate([a.values, b.values])
    points.sort(kind="stable")
    fa = a.cumulative[np.searchsorted(a.values, points, side="right")]
    fb = b.cumulative[np.searchsorted(b.values, points, side="right")]
    return points, fa, fb


def wasserstein(a: Summary, b: Summary) -> float:
    """The area between the two CDFs (exact for the samples or sketches given)."""
    if a.exact and b.exact and a.n == b.n:
        return float(np.abs(a.values - b.values).mean())  # equal sizes: sorted pairs
    points, fa, fb = _cdfs(a, b)
    return float((np.abs(fa - fb)[:-1] * np.diff(points)).sum())


def ks_statistic(a: Summary, b: Summary) -> float:
    _, fa, fb = _cdfs(a, b)
    return float(np.abs(fa - fb).max())
