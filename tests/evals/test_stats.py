"""The paired statistics, checked against scipy (a dev-only dependency)."""

from __future__ import annotations

import random

import pytest
from scipy import stats as sp

from shipyard.evals.stats import paired_bootstrap, wilcoxon_signed_rank


def _continuous(n: int, seed: int, shift: float) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    a = [rng.random() for _ in range(n)]
    return a, [x + shift + rng.gauss(0, 0.3) for x in a]


def _tied(n: int, seed: int) -> tuple[list[float], list[float]]:
    """Scores in quarter steps: many tied and many zero differences."""
    rng = random.Random(seed)
    a = [rng.randint(0, 4) / 4 for _ in range(n)]
    return a, [rng.randint(0, 4) / 4 for _ in range(n)]


@pytest.mark.parametrize(
    ("n", "seed", "shift"), [(5, 1, 0.0), (9, 2, 0.2), (16, 3, 0.1), (25, 4, -0.15)]
)
def test_wilcoxon_exact_matches_scipy(n: int, seed: int, shift: float) -> None:
    a, b = _continuous(n, seed, shift)
    ours = wilcoxon_signed_rank(a, b)
    ref = sp.wilcoxon(a, b, zero_method="wilcox", method="exact", alternative="two-sided")
    assert ours.method == "exact"
    assert ours.n == n
    assert ours.statistic == pytest.approx(float(ref.statistic))
    assert ours.p_value == pytest.approx(float(ref.pvalue), abs=1e-6)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        _continuous(26, 5, 0.05),
        _continuous(200, 6, 0.03),
        _tied(12, 7),
        _tied(40, 8),
        _tied(300, 9),
        ([0.0, 0.25, 0.5, 0.25, 0.5, 0.75], [0.25, 0.5, 0.75, 0.0, 0.5, 1.0]),
    ],
)
def test_wilcoxon_normal_approximation_matches_scipy(a: list[float], b: list[float]) -> None:
    ours = wilcoxon_signed_rank(a, b)
    ref = sp.wilcoxon(
        a, b, zero_method="wilcox", correction=True, method="asymptotic", alternative="two-sided"
    )
    assert ours.method == "normal"
    assert ours.n == sum(1 for x, y in zip(a, b, strict=True) if round(y - x, 12) != 0)
    assert ours.statistic == pytest.approx(float(ref.statistic))
    assert ours.p_value == pytest.approx(float(ref.pvalue), abs=1e-3)


def test_wilcoxon_is_symmetric_in_its_arguments() -> None:
    a, b = _tied(50, 10)
    assert wilcoxon_signed_rank(a, b).p_value == pytest.approx(wilcoxon_signed_rank(b, a).p_value)


def test_wilcoxon_no_differences_gives_p_one() -> None:
    result = wilcoxon_signed_rank([0.5, 0.2, 1.0], [0.5, 0.2, 1.0])
    assert (result.p_value, result.n, result.statistic) == (1.0, 0, 0.0)


def test_wilcoxon_float_noise_is_a_tie_not_a_difference() -> None:
    # 0.7 - 0.6 and 0.8 - 0.7 differ in the last bits; as scores they are the same step
    result = wilcoxon_signed_rank([0.6, 0.7, 0.3], [0.7, 0.8, 0.3 + 1e-15])
    assert result.n == 2
    assert result.method == "normal"  # the two differences tie


def test_wilcoxon_small_clear_shift_is_not_significant() -> None:
    # three cases can never reach p < 0.05 exactly: the smallest two-sided p is 2/8
    assert wilcoxon_signed_rank([0.1, 0.2, 0.3], [0.9, 0.8, 0.7]).p_value == pytest.approx(0.25)


def test_paired_samples_must_have_the_same_length() -> None:
    with pytest.raises(ValueError, match="length"):
        wilcoxon_signed_rank([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="length"):
        paired_bootstrap([1.0], [1.0, 2.0])


def test_bootstrap_finds_a_clear_shift() -> None:
    rng = random.Random(11)
    a = [rng.random() for _ in range(200)]
    b = [x + 0.2 + rng.gauss(0, 0.05) for x in a]
    boot = paired_bootstrap(a, b)
    assert boot.ci_low < 0.2 < boot.ci_high
    assert boot.ci_low < boot.mean_diff < boot.ci_high
    assert boot.ci_high - boot.ci_low < 0.05
    assert boot.p_value < 0.05
    assert boot.p_value == pytest.approx(2 / 2001)  # no resample crossed zero
    assert paired_bootstrap(b, a).mean_diff == pytest.approx(-boot.mean_diff)


def test_bootstrap_identical_samples() -> None:
    a = [0.1, 0.5, 0.9, 1.0, 0.0] * 10
    boot = paired_bootstrap(a, list(a))
    assert boot.p_value == 1.0
    assert (boot.mean_diff, boot.ci_low, boot.ci_high) == (0.0, 0.0, 0.0)


def test_bootstrap_noise_only_is_not_significant() -> None:
    a, b = _continuous(100, 12, 0.0)
    boot = paired_bootstrap(a, b)
    assert boot.ci_low < 0 < boot.ci_high
    assert boot.p_value > 0.2


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    a, b = _continuous(60, 13, 0.05)
    assert paired_bootstrap(a, b, seed=3) == paired_bootstrap(a, b, seed=3)
    assert paired_bootstrap(a, b, seed=3).ci_low != paired_bootstrap(a, b, seed=4).ci_low


def test_bootstrap_p_value_agrees_with_wilcoxon_on_a_moderate_shift() -> None:
    a, b = _continuous(80, 14, 0.12)
    boot, wil = paired_bootstrap(a, b), wilcoxon_signed_rank(a, b)
    assert boot.p_value < 0.05
    assert wil.p_value < 0.05


def test_bootstrap_empty_and_bad_arguments() -> None:
    assert paired_bootstrap([], []).p_value == 1.0
    with pytest.raises(ValueError, match="resamples"):
        paired_bootstrap([1.0], [2.0], resamples=0)
