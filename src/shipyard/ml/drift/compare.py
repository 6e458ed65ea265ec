"""Drift between a reference and a current table, column by column, and for the whole table.

The method per column, unless one is named (``DriftOptions.methods``, or one per kind):

By column, for a reference of at most 1,000 values / of more than 1,000:

- numeric, more than 5 distinct values (both sides together): Kolmogorov-Smirnov (p < 0.05) /
  Wasserstein distance over the reference's standard deviation (≥ 0.1);
- numeric with 3-5 values, and categorical with more than 2: chi-square (p < 0.05) /
  Jensen-Shannon distance (≥ 0.1);
- any column with 1-2 values: z-test of two proportions (p < 0.05) / Jensen-Shannon (≥ 0.1).

Small samples get a significance test; large ones a distance, because with a million rows a
test calls every trivial difference significant. PSI is available by name (``psi``, ≥ 0.1).
The table has drifted when the share of drifted columns reaches ``drift_share`` (0.5).
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.errors import InvalidInput
from shipyard.ml.drift.methods import METHODS, method
from shipyard.ml.drift.profile import Profile, Summary, summarise

if TYPE_CHECKING:
    import pandas as pd

SMALL_SAMPLE = 1000


def worker_count() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class DriftOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    methods: dict[str, str] = Field(default_factory=dict)  # column -> method
    numeric_method: str | None = None
    categorical_method: str | None = None
    thresholds: dict[str, float] = Field(default_factory=dict)  # method or column -> threshold
    drift_share: float = Field(default=0.5, gt=0, le=1)
    columns: list[str] | None = None  # only these
    exclude: list[str] = Field(default_factory=list)
    small_sample: int = Field(default=SMALL_SAMPLE, ge=1)


class Chart(BaseModel):
    """Shares per bin or category on both sides (at most 20), for the report's bars."""

    labels: list[str]
    reference: list[float]
    current: list[float]


class ColumnDrift(BaseModel):
    column: str
    kind: str
    method: str
    label: str
    statistic: float | None
    p_value: float | None = None
    threshold: float
    drifted: bool
    reference_n: int
    current_n: int
    current_missing_share: float = 0.0
    note: str = ""
    chart: Chart | None = None


class DriftReport(BaseModel):
    columns: list[ColumnDrift]
    tested: int
    drifted: int
    share: float
    drift_share: float
    dataset_drift: bool
    reference_rows: int
    current_rows: int
    seconds: float = 0.0
    skipped: list[tuple[str, str]] = Field(default_factory=list)
    verdict: Literal["drift", "no drift"] = "no drift"

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(name)


def choose_method(ref: Summary, cur: Summary, options: DriftOptions, column: str) -> str:
    named = options.methods.get(column) or (
        options.numeric_method if ref.kind == "numeric" else options.categorical_method
    )
    if named:
        found = method(named)  # unknown names are InvalidInput
        if ref.kind not in found.kinds:
            raise InvalidInput(f"drift method {named!r} does not apply to {ref.kind} column "
                               f"{column!r}")  # fmt: skip
        return named
    if ref.counts and cur.counts:
        values = len(set(ref.counts) | set(cur.counts))
    else:
        values = max(ref.distinct, cur.distinct, 6)
    small = ref.n <= options.small_sample
    if ref.kind == "numeric":
        if small:
            return "z" if values <= 2 else "chisquare" if values <= 5 else "ks"
        return "jensenshannon" if values <= 5 else "wasserstein"
    if small:
        return "z" if values <= 2 else "chisquare"
    return "jensenshannon"


def _threshold(name: str, column: str, options: DriftOptions) -> float:
    if column in options.thresholds:
        return options.thresholds[column]
    if name in options.thresholds:
        return options.thresholds[name]
    return METHODS.get(name).threshold


def _chart(ref: Summary, cur: Summary) -> Chart:
    if ref.counts and cur.counts:
        top = sorted(set(ref.counts) | set(cur.counts),
                     key=lambda k: -(ref.counts.get(k, 0) + cur.counts.get(k, 0)))  # fmt: skip
        shown = top[:20]
        a = [ref.counts.get(k, 0) / ref.n for k in shown]
        b = [cur.counts.get(k, 0) / cur.n for k in shown]
        labels = [str(k) for k in shown]
        if len(top) > 20:
            labels.append(f"{len(top) - 20} more")
            a.append(max(0.0, 1 - sum(a)))
            b.append(max(0.0, 1 - sum(b)))
        return Chart(labels=labels, reference=a, current=b)
    import numpy as np

    lo = float(min(ref.values[0], cur.values[0]))
    hi = float(max(ref.values[-1], cur.values[-1]))
    edges = np.linspace(lo, hi, 21) if hi > lo else np.array([lo, lo + 1.0])
    labels = [f"{x:.4g}" for x in edges[:-1]]
    return Chart(labels=labels, reference=(ref.mass(edges) / ref.n).tolist(),
                 current=(cur.mass(edges) / cur.n).tolist())  # fmt: skip


def compare_column(column: str, ref: Summary, cur: Summary, options: DriftOptions) -> ColumnDrift:
    total = cur.n + cur.missing
    missing = cur.missing / total if total else 0.0
    if ref.n == 0 or cur.n == 0:
        side = "reference" if ref.n == 0 else "current"
        return ColumnDrift(column=column, kind=ref.kind, method="", label="", statistic=None,
                           threshold=0.0, drifted=False, reference_n=ref.n, current_n=cur.n,
                           current_missing_share=missing,
                           note=f"no values on the {side} side")  # fmt: skip
    name = choose_method(ref, cur, options, column)
    found = method(name)
    measured = found.measure(ref, cur)
    threshold = _threshold(name, column, options)
    statistic = measured.statistic if math.isfinite(measured.statistic) else None
    return ColumnDrift(column=column, kind=ref.kind, method=name, label=found.label,
                       statistic=statistic, p_value=measured.p_value, threshold=threshold,
                       drifted=found.drifted(measured, threshold), reference_n=ref.n,
                       current_n=cur.n, current_missing_share=missing,
                       note="" if statistic is not None else "values the reference never had",
                       chart=_chart(ref, cur))  # fmt: skip


def _selected(names: list[str], options: DriftOptions) -> list[str]:
    chosen = options.columns if options.columns is not None else names
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise InvalidInput(f"no such column: {', '.join(unknown)}")
    return [c for c in chosen if c not in set(options.exclude)]


def compare(
    reference: pd.DataFrame | Profile, current: pd.DataFrame, options: DriftOptions | None = None
) -> DriftReport:
    """Drift of ``current`` against ``reference`` (a table, or a stored profile)."""
    options = options or DriftOptions()
    started = time.perf_counter()
    if isinstance(reference, Profile):
        ref_names = list(reference.columns)
        ref_rows = reference.rows
    else:
        ref_names = [str(c) for c in reference.columns]
        ref_rows = int(reference.shape[0])
    names = _selected(ref_names, options)
    cur_names = {str(c) for c in current.columns}
    missing = [c for c in names if c not in cur_names]
    if missing:
        raise InvalidInput(f"the current data has no column {', '.join(missing)}")

    def one(name: str) -> ColumnDrift | tuple[str, str]:
        if isinstance(reference, Profile):
            ref = reference.columns[name]
        else:
            ref = summarise(reference[name])
        if ref.kind == "text":
            return (name, "looks like free text or ids (most values distinct): not compared")
        cur = summarise(current[name], kind=ref.kind)
        return compare_column(name, ref, cur, options)

    with ThreadPoolExecutor(worker_count()) as pool:
        results = list(pool.map(one, names))
    columns = [r for r in results if isinstance(r, ColumnDrift)]
    skipped = [r for r in results if isinstance(r, tuple)]
    tested = [c for c in columns if c.method]
    drifted = sum(c.drifted for c in tested)
    share = drifted / len(tested) if tested else 0.0
    dataset = bool(tested) and share >= options.drift_share
    return DriftReport(columns=columns, tested=len(tested), drifted=drifted, share=share,
                       drift_share=options.drift_share, dataset_drift=dataset,
                       reference_rows=ref_rows, current_rows=int(current.shape[0]),
                       seconds=time.perf_counter() - started, skipped=skipped,
                       verdict="drift" if dataset else "no drift")  # fmt: skip
