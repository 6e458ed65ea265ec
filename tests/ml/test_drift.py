"""Drift: each statistic agrees with scipy's, the method follows the stated rule, shifted
columns are caught and unshifted ones are not, stored profiles give the same verdicts, and
bad input is refused with a message."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from shipyard.core.errors import InvalidInput
from shipyard.ml.drift import DriftOptions, Profile, compare, summarise
from shipyard.ml.drift.compare import choose_method


def _table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shares = [0.4, 0.3, 0.2, 0.1] if not shift else [0.1, 0.2, 0.3, 0.4]
    return pd.DataFrame({
        "age": rng.normal(40 + 8 * shift, 10, n),
        "income": rng.lognormal(10, 1 + shift, n),
        "city": rng.choice(["paris", "lyon", "nice", "lille"], n, p=shares),
        "member": rng.integers(0, 2, n),
        "rooms": rng.integers(1, 4, n).astype(float),
        "steady": rng.normal(0, 1, n),
    })  # fmt: skip


def test_each_statistic_matches_scipy_on_the_same_data() -> None:
    ref, cur = _table(5000, 1), _table(3000, 2, shift=0.3)
    large = compare(ref, cur)
    for name in ("age", "income", "steady"):
        found = large.column(name)
        assert found.method == "wasserstein"
        expected = stats.wasserstein_distance(ref[name], cur[name]) / np.std(ref[name])
        assert found.statistic == pytest.approx(expected, rel=1e-9)
    keys = sorted(set(ref.city))
    p = [(ref.city == k).mean() for k in keys]
    q = [(cur.city == k).mean() for k in keys]
    assert large.column("city").method == "jensenshannon"
    assert large.column("city").statistic == pytest.approx(distance.jensenshannon(p, q), 1e-9)

    ref, cur = _table(800, 3), _table(600, 4, shift=0.15)
    small = compare(ref, cur)
    ks = small.column("age")
    assert ks.method == "ks"
    assert ks.p_value == pytest.approx(stats.ks_2samp(ref.age, cur.age).pvalue, rel=1e-9)
    chi = small.column("city")
    observed = cur.city.value_counts().sort_index()
    expected = ref.city.value_counts().sort_index() / len(ref) * len(cur)
    assert chi.method == "chisquare"
    assert chi.p_value == pytest.approx(stats.chisquare(observed, expected).pvalue, rel=1e-9)
    z = small.column("member")
    p1, p2 = (ref.member == 0).mean(), (cur.member == 0).mean()
    pooled = ((ref.member == 0).sum() + (cur.member == 0).sum()) / (len(ref) + len(cur))
    score = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / len(ref) + 1 / len(cur)))
    assert z.method == "z"
    assert z.p_value == pytest.approx(2 * stats.norm.sf(abs(score)), rel=1e-9)


def test_shifted_columns_drift_and_steady_ones_do_not() -> None:
    for n_ref, n_cur in ((800, 700), (20_000, 15_000)):
        report = compare(_table(n_ref, 5), _table(n_cur, 6, shift=0.5))
        drifted = {c.column for c in report.columns if c.drifted}
        assert {"age", "income", "city"} <= drifted
        assert "steady" not in drifted and "member" not in drifted
        assert report.dataset_drift is (report.share >= 0.5)
    same = compare(_table(20_000, 7), _table(20_000, 8))
    assert same.drifted == 0 and same.verdict == "no drift"


@pytest.mark.parametrize(
    ("kind_values", "n_ref", "expected"),
    [
        (("numeric", 50), 1000, "ks"), (("numeric", 50), 1001, "wasserstein"),
        (("numeric", 4), 500, "chisquare"), (("numeric", 4), 5000, "jensenshannon"),
        (("numeric", 2), 500, "z"), (("categorical", 7), 900, "chisquare"),
        (("categorical", 2), 900, "z"), (("categorical", 7), 5000, "jensenshannon"),
    ],
)  # fmt: skip
def test_the_method_follows_the_stated_rule(
    kind_values: tuple[str, int], n_ref: int, expected: str
) -> None:
    kind, values = kind_values
    rng = np.random.default_rng(0)
    if kind == "numeric" and values > 20:
        ref = pd.Series(rng.normal(size=n_ref))
    elif kind == "numeric":
        ref = pd.Series(rng.integers(0, values, n_ref).astype(float))
    else:
        ref = pd.Series(rng.choice([f"v{i}" for i in range(values)], n_ref))
    a, b = summarise(ref), summarise(ref.iloc[: n_ref // 2], kind=summarise(ref).kind)
    assert choose_method(a, b, DriftOptions(), "x") == expected


def test_integer_codes_with_few_values_are_categories_and_ids_are_not_compared() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"grade": rng.integers(0, 8, 3000),
                        "user": [f"u{i}" for i in range(3000)]})  # fmt: skip
    report = compare(ref, ref.sample(frac=0.5, random_state=1))
    assert report.column("grade").kind == "categorical"
    assert [name for name, _ in report.skipped] == ["user"]


def test_missing_values_are_left_out_and_counted() -> None:
    ref = _table(4000, 9)
    cur = _table(4000, 10)
    cur.loc[::4, "age"] = np.nan
    cur.loc[1::4, "age"] = np.inf
    cur["city"] = cur["city"].where(np.arange(len(cur)) % 5 != 0, None)
    report = compare(ref, cur)
    assert report.column("age").current_missing_share == pytest.approx(0.5)
    assert report.column("age").current_n == 2000 and not report.column("age").drifted
    assert report.column("city").current_missing_share == pytest.approx(0.2)
    cur["rooms"] = np.nan
    empty = compare(ref, cur).column("rooms")
    assert empty.method == "" and not empty.drifted and "no values" in empty.note


def test_a_category_the_reference_never_had_is_drift() -> None:
    ref = pd.DataFrame({"plan": ["free"] * 300 + ["pro"] * 200})
    cur = pd.DataFrame({"plan": ["free"] * 280 + ["pro"] * 200 + ["enterprise"] * 20})
    found = compare(ref, cur).column("plan")
    assert found.method == "chisquare" and found.drifted and found.p_value == 0.0


def test_a_stored_profile_gives_the_verdicts_of_the_full_reference() -> None:
    ref, cur = _table(60_000, 11), _table(30_000, 12, shift=0.08)
    exact = compare(ref, cur)
    profile = Profile.from_json(json.loads(json.dumps(Profile.from_frame(ref).to_json())))
    assert profile.rows == 60_000 and not profile.columns["age"].exact
    assert profile.columns["age"].values.shape[0] == 4096  # a sketch, not the rows
    stored = compare(profile, cur)
    for a, b in zip(exact.columns, stored.columns, strict=True):
        assert (a.column, a.method, a.drifted) == (b.column, b.method, b.drifted)
        assert b.statistic == pytest.approx(a.statistic, rel=0.02, abs=1e-3)


def test_options_name_methods_and_thresholds_and_bad_ones_are_refused() -> None:
    ref, cur = _table(5000, 13), _table(5000, 14, shift=0.1)
    named = compare(ref, cur, DriftOptions(methods={"age": "psi"}, numeric_method="ks",
                                           thresholds={"ks": 0.01, "income": 0.5}))  # fmt: skip
    assert named.column("age").method == "psi"
    assert named.column("steady").method == "ks" and named.column("steady").threshold == 0.01
    assert named.column("income").threshold == 0.5
    with pytest.raises(InvalidInput, match="unknown drift method"):
        compare(ref, cur, DriftOptions(methods={"age": "t-test"}))
    with pytest.raises(InvalidInput, match="does not apply"):
        compare(ref, cur, DriftOptions(methods={"city": "ks"}))
    with pytest.raises(InvalidInput, match="at most two values"):
        compare(ref, cur, DriftOptions(methods={"age": "z"}))
    with pytest.raises(InvalidInput, match="no column city"):
        compare(ref, cur.drop(columns=["city"]))
    with pytest.raises(InvalidInput, match="no such column: nope"):
        compare(ref, cur, DriftOptions(columns=["age", "nope"]))
