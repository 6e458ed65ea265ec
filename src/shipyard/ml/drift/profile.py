"""Column summaries and dataset profiles: what drift is computed from.

A ``Summary`` is one column on one side, with missing values (NaN, ±inf, None) left out:

- numeric: the sorted values, or, in a stored profile of more than ``SKETCH_POINTS`` values, that
  many equally spaced quantiles (a sketch: Wasserstein and KS against it are within a
  fraction of a percent of the exact figure); the exact mean and standard deviation; the count
  of each value when there are at most ``FEW_VALUES`` distinct ones.
- categorical: the count of each value.

Column kinds follow the usual rule: floats are numeric; integers are numeric unless they have
at most 10 distinct values; booleans, categoricals and strings are categorical; strings with
more distinct values than half their rows (ids, free text) are not compared.

A ``Profile`` is the summaries of a whole table: the reference kept with a model (from its
training data) is one, so production windows are compared without the training rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

SKETCH_POINTS = 4096
FEW_VALUES = 20  # counts kept for numeric columns with at most this many distinct values
INT_CATEGORICAL = 10  # integer columns with at most this many distinct values are categories


@dataclass
class Summary:
    kind: str  # numeric | categorical | text
    n: int  # values present
    missing: int = 0
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # sorted (numeric)
    exact: bool = True  # values are every value, not a sketch
    mean: float = 0.0
    std: float = 0.0
    distinct: int = 0
    counts: dict[Any, int] = field(default_factory=dict)

    @cached_property
    def cumulative(self) -> np.ndarray:
        """cumulative[j]: the share of the mass in the first j sorted values."""
        m = self.values.shape[0]
        return np.arange(m + 1, dtype=np.float64) / max(m, 1)

    def mass(self, edges: np.ndarray) -> np.ndarray:
        """Counts per bin between consecutive edges (the last bin closed)."""
        inner = np.searchsorted(self.values, edges[1:-1], side="left")
        cuts = np.concatenate([[0], inner, [self.values.shape[0]]])
        return np.diff(cuts).astype(np.float64) * (self.n / max(self.values.shape[0], 1))

    def shares_with(
        self, other: Summary, quantile_bins: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Both sides as counts over common cells: values when both sides counted them,
        else bins (reference quantiles when ``quantile_bins``, else equal width, Sturges)."""
        if self.counts and other.counts:
            keys = sorted(set(self.counts) | set(other.counts), key=repr)
            return (np.array([self.counts.get(k, 0) for k in keys], dtype=np.float64),
                    np.array([other.counts.get(k, 0) for k in keys], dtype=np.float64))  # fmt: skip
        edges = self.bin_edges(other, quantile_bins)
        return self.mass(edges), other.mass(edges)

    def bin_edges(self, other: Summary, quantile_bins: int | None = None) -> np.ndarray:
        lo = float(min(self.values[0], other.values[0]))
        hi = float(max(self.values[-1], other.values[-1]))
        if quantile_bins:
            inner = np.quantile(self.values, np.linspace(0, 1, quantile_bins + 1)[1:-1])
            return np.unique(np.concatenate([[lo], inner, [hi]]))
        bins = math.ceil(math.log2(max(self.n + other.n, 2))) + 1
        return np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo, lo + 1.0])

    # -- storage ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "n": self.n, "missing": self.missing,
                "values": self.values.tolist(), "exact": self.exact, "mean": self.mean,
                "std": self.std, "distinct": self.distinct,
                "counts": [[k, v] for k, v in self.counts.items()]}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(kind=data["kind"], n=data["n"], missing=data.get("missing", 0),
                   values=np.asarray(data.get("values", []), dtype=np.float64),
                   exact=data.get("exact", True), mean=data.get("mean", 0.0),
                   std=data.get("std", 0.0), distinct=data.get("distinct", 0),
                   counts={_key(k): int(v) for k, v in data.get("counts", [])})  # fmt: skip

    def sketch(self, points: int = SKETCH_POINTS) -> Summary:
        """This summary with at most ``points`` values (equally spaced quantiles)."""
        if self.kind != "numeric" or self.values.shape[0] <= points:
            return self
        grid = (np.arange(points) + 0.5) / points
        values = np.quantile(self.values, grid, method="inverted_cdf")
        return Summary(kind=self.kind, n=self.n, missing=self.missing, values=values,
                       exact=False, mean=self.mean, std=self.std, distinct=self.distinct,
                       counts=self.counts)  # fmt: skip


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def _py(value: Any) -> Any:
    """numpy scalars as plain Python values (JSON keys and equality across sides)."""
    return value.item() if hasattr(value, "item") else value


def column_kind(series: pd.Series) -> str:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_float_dtype(dtype):
        return "numeric"
    if pd.api.types.is_integer_dtype(dtype):
        return "categorical" if series.nunique(dropna=True) <= INT_CATEGORICAL else "numeric"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    present = series.dropna()
    if len(present) > 20 and present.nunique() > len(present) / 2:
        return "text"
    return "categorical"


def summarise(series: pd.Series, kind: str | None = None) -> Summary:
    """One column, exactly (every value kept)."""
    import pandas as pd

    kind = kind or column_kind(series)
    total = int(series.shape[0])
    if kind == "numeric":
        arr = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        arr = arr[np.isfinite(arr)]
        arr.sort()
        n = int(arr.shape[0])
        if n == 0:
            return Summary(kind, 0, missing=total)
        distinct = 1 + int(np.count_nonzero(arr[1:] != arr[:-1]))
        counts: dict[Any, int] = {}
        if distinct <= FEW_VALUES:
            uniq, cnt = np.unique(arr, return_counts=True)
            counts = {_py(u): int(c) for u, c in zip(uniq, cnt, strict=True)}
        return Summary(kind, n, missing=total - n, values=arr, mean=float(arr.mean()),
                       std=float(arr.std()), distinct=distinct, counts=counts)  # fmt: skip
    present = series.dropna()
    if pd.api.types.is_float_dtype(present.dtype):
        present = present[np.isfinite(present.to_numpy())]
    found = present.value_counts(sort=False)
    counts = {_py(k): int(v) for k, v in found.items() if v > 0}
    n = int(sum(counts.values()))
    return Summary(kind, n, missing=total - n, distinct=len(counts), counts=counts)


@dataclass
class Profile:
    """The summaries of a table, by column (numeric ones sketched for storage)."""

    columns: dict[str, Summary]
    rows: int

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, sketch: bool = True) -> Profile:
        from concurrent.futures import ThreadPoolExecutor

        from shipyard.ml.drift.compare import worker_count

        names = [str(c) for c in frame.columns]
        with ThreadPoolExecutor(worker_count()) as pool:
            found = list(pool.map(lambda c: summarise(frame[c]), frame.columns))
        return cls({n: (s.sketch() if sketch else s) for n, s in zip(names, found, strict=True)},
                   rows=int(frame.shape[0]))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {"format": 1, "rows": self.rows,
                "columns": {k: v.to_json() for k, v in self.columns.items()}}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        return cls({k: Summary.from_json(v) for k, v in data["columns"].items()},
                   rows=int(data["rows"]))  # fmt: skip
