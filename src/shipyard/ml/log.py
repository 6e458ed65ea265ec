"""The prediction log: every row an endpoint predicted, ground-truth labels posted later by
request id, and model performance over time windows.

Classifiers get accuracy, precision, recall and F1 (binary: of the positive class, the
second of the model's classes; more classes: macro averages) and ROC AUC when the endpoint
logged the positive-class probability. Regressors get MAE, RMSE and R². The only writer of
``ml_predictions`` and ``ml_labels``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from shipyard.core.errors import InvalidInput
from shipyard.core.ids import now_ms
from shipyard.ml.records import LabelRow, PredictionRow
from shipyard.store.db import Database

if TYPE_CHECKING:
    import pandas as pd

MAX_LABELS_PER_CALL = 10_000
MAX_WINDOWS = 500
WINDOW_ROWS = 200_000  # newest rows of a window that drift is computed on
HOUR_MS = 3_600_000


class LabelIn(BaseModel):
    request_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    row: int = Field(default=0, ge=0, le=1_000_000)
    label: Any = None
    labels: list[Any] | None = None  # one per row of the request, instead of row + label

    @model_validator(mode="after")
    def _one_way(self) -> LabelIn:
        if (self.labels is None) == (self.label is None):
            raise ValueError("give label (with row, default 0) or labels (one per row)")
        return self


class Labels(BaseModel):
    labels: list[LabelIn] = Field(min_length=1, max_length=MAX_LABELS_PER_CALL)


class Window(BaseModel):
    start_ms: int
    end_ms: int
    predictions: int
    labeled: int
    metrics: dict[str, float | None]


class Performance(BaseModel):
    endpoint: str
    task: Literal["classification", "regression"]
    since_ms: int
    until_ms: int
    window_ms: int
    predictions: int
    labeled: int
    metrics: dict[str, float | None]  # over the whole span
    by_version: dict[int, dict[str, float | None]]
    windows: list[Window]


def _dump(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def classification_metrics(y: list[Any], p: list[Any], scores: list[float | None],
                           positive: Any) -> dict[str, float | None]:  # fmt: skip
    from sklearn import metrics as m

    if not y:
        return dict.fromkeys(("accuracy", "precision", "recall", "f1", "roc_auc"))
    values = {repr(v) for v in y} | {repr(v) for v in p}
    binary = len(values) <= 2 and positive is not None
    kw: dict[str, Any] = {"pos_label": positive, "average": "binary"} if binary else {
        "average": "macro"}  # fmt: skip
    y_s, p_s = [repr(v) for v in y], [repr(v) for v in p]
    if binary:
        kw["pos_label"] = repr(positive)
    out: dict[str, float | None] = {
        "accuracy": float(m.accuracy_score(y_s, p_s)),
        "precision": float(m.precision_score(y_s, p_s, zero_division=0, **kw)),
        "recall": float(m.recall_score(y_s, p_s, zero_division=0, **kw)),
        "f1": float(m.f1_score(y_s, p_s, zero_division=0, **kw)),
        "roc_auc": None,
    }
    scored = [(yv, s) for yv, s in zip(y, scores, strict=True) if s is not None]
    if binary and len(scored) == len(y) and len({repr(v) for v in y}) == 2:
        truth = [1 if repr(yv) == repr(positive) else 0 for yv, _ in scored]
        out["roc_auc"] = float(m.roc_auc_score(truth, [s for _, s in scored]))
    return out


def regression_metrics(y: list[Any], p: list[Any]) -> dict[str, float | None]:
    import numpy as np

    pairs = [(float(a), float(b)) for a, b in zip(y, p, strict=True)
             if isinstance(a, int | float) and isinstance(b, int | float)]  # fmt: skip
    if not pairs:
        return dict.fromkeys(("mae", "rmse", "r2"))
    t = np.array([a for a, _ in pairs])
    q = np.array([b for _, b in pairs])
    err = q - t
    spread = float(((t - t.mean()) ** 2).sum())
    return {"mae": float(np.abs(err).mean()), "rmse": float(math.sqrt((err**2).mean())),
            "r2": 1 - float((err**2).sum()) / spread if spread > 0 else None}  # fmt: skip


class PredictionLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _insert(self, table: Any, rows: list[dict[str, Any]], replace: bool) -> None:
        dialect: Any = postgresql if self.db.dialect == "postgresql" else sqlite
        with self.db.write() as s:
            for start in range(0, len(rows), 1000):
                stmt = dialect.insert(table).values(rows[start : start + 1000])
                keys = ["request_id", "row"]
                if replace:
                    keep = {k: stmt.excluded[k] for k in rows[0] if k not in keys}
                    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=keep)
                else:
                    stmt = stmt.on_conflict_do_nothing(index_elements=keys)
                s.execute(stmt)

    def write(self, rows: list[dict[str, Any]]) -> int:
        """Predicted rows (from the serving batcher): request_id, row, endpoint, model,
        version, ts_ms, features (the row), prediction (any JSON value), score, latency_ms."""
        if not rows:
            return 0
        self._insert(PredictionRow, [{**r, "prediction": _dump(r["prediction"]),
                                      "features": _dump(r["features"])} for r in rows],
                     replace=False)  # fmt: skip
        return len(rows)

    def label(self, req: Labels) -> int:
        ts = now_ms()
        rows: list[dict[str, Any]] = []
        for item in req.labels:
            values = item.labels if item.labels is not None else [item.label]
            start = 0 if item.labels is not None else item.row
            rows.extend({"request_id": item.request_id, "row": start + i, "label": _dump(v),
                         "ts_ms": ts} for i, v in enumerate(values))  # fmt: skip
        if len(rows) > MAX_LABELS_PER_CALL:
            raise InvalidInput(f"at most {MAX_LABELS_PER_CALL} labels per call")
        self._insert(LabelRow, rows, replace=True)
        return len(rows)

    def window(self, endpoint: str, version: int, since_ms: int, until_ms: int,
               limit: int = WINDOW_ROWS) -> pd.DataFrame:  # fmt: skip
        """The rows one model version predicted in a window (newest first, at most ``limit``),
        with the prediction as a column: what drift is computed on."""
        import pandas as pd

        p = PredictionRow
        with self.db.read() as s:
            found = s.execute(
                select(p.features, p.prediction).where(
                    p.endpoint == endpoint, p.version == version, p.ts_ms >= since_ms,
                    p.ts_ms < until_ms,
                ).order_by(p.ts_ms.desc()).limit(limit)
            ).all()  # fmt: skip
        rows = [{**orjson.loads(f), "prediction": orjson.loads(q)} for f, q in found]
        return pd.DataFrame.from_records(rows)

    def labeled(self, endpoint: str, since_ms: int, limit: int = WINDOW_ROWS
                ) -> tuple[pd.DataFrame, list[Any]]:  # fmt: skip
        """The features of an endpoint's labeled rows since a time (newest first, at most
        ``limit``) and their labels: what a champion and a challenger are compared on."""
        import pandas as pd

        p, lab = PredictionRow, LabelRow
        with self.db.read() as s:
            found = s.execute(
                select(p.features, lab.label)
                .join(lab, (lab.request_id == p.request_id) & (lab.row == p.row))
                .where(p.endpoint == endpoint, p.ts_ms >= since_ms)
                .order_by(p.ts_ms.desc()).limit(limit)
            ).all()  # fmt: skip
        frame = pd.DataFrame.from_records([orjson.loads(f) for f, _ in found])
        return frame, [orjson.loads(y) for _, y in found]

    def performance(
        self, endpoint: str, task: Literal["classification", "regression"], *,
        positive: Any = None, since_ms: int | None = None, until_ms: int | None = None,
        window_ms: int = HOUR_MS,
    ) -> Performance:  # fmt: skip
        until = until_ms if until_ms is not None else now_ms() + 1
        default_span = min(24 * HOUR_MS, MAX_WINDOWS * window_ms)  # the last day, if it fits
        since = since_ms if since_ms is not None else until - default_span
        if since >= until:
            raise InvalidInput("since must come before until")
        if window_ms < 1000 or (until - since) / window_ms > MAX_WINDOWS:
            raise InvalidInput(f"windows of at least 1 s, at most {MAX_WINDOWS} of them")
        p, lab = PredictionRow, LabelRow
        bucket = (p.ts_ms - since) // window_ms
        in_span = (p.endpoint == endpoint, p.ts_ms >= since, p.ts_ms < until)
        with self.db.read() as s:
            counts = dict(s.execute(select(bucket, func.count()).where(*in_span).group_by(bucket)
                                    ).all())  # fmt: skip
            pairs = s.execute(
                select(p.ts_ms, p.version, p.prediction, p.score, lab.label)
                .join(lab, (lab.request_id == p.request_id) & (lab.row == p.row))
                .where(*in_span)
            ).all()  # fmt: skip

        def score(items: list[Any]) -> dict[str, float | None]:
            y = [orjson.loads(r.label) for r in items]
            q = [orjson.loads(r.prediction) for r in items]
            if task == "regression":
                return regression_metrics(y, q)
            return classification_metrics(y, q, [r.score for r in items], positive)

        windows = []
        for i in range(math.ceil((until - since) / window_ms)):
            lo = since + i * window_ms
            inside = [r for r in pairs if lo <= r.ts_ms < lo + window_ms]
            n = int(counts.get(i, 0))
            if n or inside:
                windows.append(Window(start_ms=lo, end_ms=min(lo + window_ms, until),
                                      predictions=n, labeled=len(inside),
                                      metrics=score(inside)))  # fmt: skip
        versions = sorted({int(r.version) for r in pairs})
        return Performance(
            endpoint=endpoint, task=task, since_ms=since, until_ms=until, window_ms=window_ms,
            predictions=int(sum(counts.values())), labeled=len(pairs), metrics=score(list(pairs)),
            by_version={v: score([r for r in pairs if r.version == v]) for v in versions},
            windows=windows,
        )  # fmt: skip
