"""Model signatures: the columns a model takes and gives, and checking a request against them.

A signature is inferred from an input example (a DataFrame, a 2-D array, records) and the
model's output on it, or given. Checking turns JSON-like records into the DataFrame the model
was trained on — columns in training order, numbers as numbers — or raises ``ValidationFailed``
(HTTP 422) naming every problem: an empty batch, missing or unexpected columns, a value of the
wrong type, a missing value in a column that never had one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from shipyard.core.errors import InvalidInput, ValidationFailed

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ColType = Literal["double", "long", "boolean", "string", "datetime"]
MAX_PROBLEMS = 10


class ColSpec(BaseModel):
    name: str
    type: ColType
    required: bool = True  # False: missing values are allowed


class Signature(BaseModel):
    inputs: list[ColSpec]
    outputs: list[ColSpec] = Field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.inputs]

    def check(self, data: Any) -> pd.DataFrame:
        """Records (a list of dicts), a column dict, or a DataFrame → the model's input frame."""
        return frame_of(self, *check_columns(self, data))


def _col_type(series: pd.Series) -> ColType:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "long"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def as_frame(data: Any, columns: list[str] | None = None) -> pd.DataFrame:
    """An input example or a batch as a DataFrame (arrays get columns x0, x1...)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, np.ndarray):
        if data.ndim == 1:
            data = data.reshape(1, -1)
        if data.ndim != 2:
            raise InvalidInput(f"an input of {data.ndim} dimensions: give rows × columns")
        names = columns or [f"x{i}" for i in range(data.shape[1])]
        return pd.DataFrame(data, columns=names)
    if isinstance(data, dict):
        return pd.DataFrame(data)
    if isinstance(data, list):
        return pd.DataFrame.from_records(data)
    raise InvalidInput(f"cannot use a {type(data).__name__} as model input: give a DataFrame, "
                       f"an array or a list of records")  # fmt: skip


def _outputs(output: Any) -> list[ColSpec]:
    import numpy as np
    import pandas as pd

    if output is None:
        return []
    if isinstance(output, pd.DataFrame):
        return [ColSpec(name=str(c), type=_col_type(output[c])) for c in output.columns]
    arr = np.asarray(output)
    if arr.ndim <= 1:
        return [ColSpec(name="prediction", type=_col_type(pd.Series(arr.reshape(-1))))]
    return [ColSpec(name=f"prediction_{i}", type=_col_type(pd.Series(arr[:, i])))
            for i in range(arr.shape[1])]  # fmt: skip


def infer_signature(example: Any, output: Any = None) -> Signature:
    frame = as_frame(example)
    inputs = [ColSpec(name=str(c), type=_col_type(frame[c]),
                      required=not bool(frame[c].isna().any())) for c in frame.columns]  # fmt: skip
    return Signature(inputs=inputs, outputs=_outputs(output))


# -- checking ----------------------------------------------------------------------------------
def _rows(mask: np.ndarray) -> str:
    import numpy as np

    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:5])
    return shown + (f" and {len(idx) - 5} more" if len(idx) > 5 else "")


def _convert(spec: ColSpec, values: pd.Series, problems: list[str]) -> pd.Series:
    import numpy as np
    import pandas as pd

    missing = values.isna().to_numpy()
    if spec.type in ("double", "long"):
        numeric_kinds = {int, float, np.integer, np.floating}
        bad = np.array([not (m or (isinstance(v, tuple(numeric_kinds)) and not isinstance(v, bool)))
                        for v, m in zip(values.tolist(), missing, strict=True)])  # fmt: skip
        if bad.any():
            problems.append(f"column {spec.name!r} takes numbers; rows {_rows(bad)} are not")
            return values
        out = pd.to_numeric(values, errors="coerce").astype(np.float64)
        if spec.type == "long":
            whole = out.dropna()
            if not (whole == np.floor(whole)).all():
                problems.append(f"column {spec.name!r} takes whole numbers")
                return values
            if not missing.any():
                return out.astype(np.int64)
        inf = np.isinf(out.to_numpy())
        if inf.any():
            problems.append(f"column {spec.name!r}: infinite values in rows {_rows(inf)}")
        return out
    if spec.type == "boolean":
        bad = np.array([not (m or isinstance(v, bool | np.bool_))
                        for v, m in zip(values.tolist(), missing, strict=True)])  # fmt: skip
        if bad.any():
            problems.append(f"column {spec.name!r} takes true/false; rows {_rows(bad)} are not")
        return values
    if spec.type == "datetime":
        out = pd.to_datetime(values, errors="coerce")
        bad = out.isna().to_numpy() & ~missing
        if bad.any():
            problems.append(f"column {spec.name!r} takes dates; rows {_rows(bad)} are not")
        return out
    bad = np.array([not (m or isinstance(v, str)) for v, m in
                    zip(values.tolist(), missing, strict=True)])  # fmt: skip
    if bad.any():
        problems.append(f"column {spec.name!r} takes text; rows {_rows(bad)} are not")
    return values


def check_input(signature: Signature, data: Any) -> pd.DataFrame:
    import pandas as pd

    try:
        frame = as_frame(data)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"the input is not a table: {exc}") from None
    if frame.shape[0] == 0:
        raise ValidationFailed("empty batch: send at least one record")
    expected = signature.columns
    given = [str(c) for c in frame.columns]
    frame.columns = pd.Index(given)
    problems: list[str] = []
    missing = [c for c in expected if c not in given]
    extra = [c for c in given if c not in expected]
    if missing:
        problems.append(f"missing columns: {', '.join(missing[:20])}")
    if extra:
        problems.append(f"unexpected columns: {', '.join(extra[:20])}")
    if problems:
        raise ValidationFailed("; ".join(problems), expected=expected)
    out: dict[str, Any] = {}
    for spec in signature.inputs:
        values = frame[spec.name]
        nulls = values.isna().to_numpy()
        if spec.required and nulls.any():
            problems.append(f"column {spec.name!r} has missing values in rows {_rows(nulls)}")
            continue
        out[spec.name] = _convert(spec, values.astype(object), problems)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise ValidationFailed("; ".join(problems[:MAX_PROBLEMS]))
    return pd.DataFrame(out, columns=expected)


# -- the fast path: JSON records, checked in plain Python, one array per column ----------------
def _is_number(v: Any) -> bool:
    import numpy as np

    t = type(v)
    if t is float or t is int:
        return True
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_)  # fmt: skip


def _is_missing(v: Any) -> bool:
    return v is None or (type(v) is float and v != v)


def _record_keys(signature: Signature, data: list[Any]) -> list[str]:
    expected = signature.columns
    wanted = set(expected)
    missing: set[str] = set()
    extra: set[str] = set()
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            return [f"row {i} is not an object of column values"]
        if rec.keys() != wanted:
            missing |= wanted - rec.keys()
            extra |= {str(k) for k in rec.keys() - wanted}
    problems = []
    if missing:
        problems.append(f"missing columns: {', '.join([c for c in expected if c in missing][:20])}")
    if extra:
        problems.append(f"unexpected columns: {', '.join(sorted(extra)[:20])}")
    return problems


def _column(spec: ColSpec, values: list[Any], problems: list[str]) -> Any:
    import numpy as np

    absent = [i for i, v in enumerate(values) if _is_missing(v)]
    if spec.required and absent:
        problems.append(f"column {spec.name!r} has missing values in rows "
                        f"{_rows(np.isin(np.arange(len(values)), absent))}")  # fmt: skip
        return None
    present = [(i, v) for i, v in enumerate(values) if not _is_missing(v)] if absent else list(
        enumerate(values))  # fmt: skip
    if spec.type in ("double", "long"):
        bad = [i for i, v in present if not _is_number(v)]
        if bad:
            problems.append(f"column {spec.name!r} takes numbers; rows "
                            f"{_rows(np.isin(np.arange(len(values)), bad))} are not")  # fmt: skip
            return None
        arr = np.array([np.nan if _is_missing(v) else v for v in values], dtype=np.float64)
        if np.isinf(arr).any():
            problems.append(f"column {spec.name!r}: infinite values in rows {_rows(np.isinf(arr))}")
            return None
        if spec.type == "long":
            finite = arr[~np.isnan(arr)]
            if not (finite == np.floor(finite)).all():
                problems.append(f"column {spec.name!r} takes whole numbers")
                return None
            if not absent:
                return arr.astype(np.int64)
        return arr
    kinds: dict[str, tuple[type, ...]] = {"boolean": (bool, np.bool_), "string": (str,)}
    if spec.type in kinds:
        bad = [i for i, v in present if not isinstance(v, kinds[spec.type])]
        if bad:
            word = "true/false" if spec.type == "boolean" else "text"
            problems.append(f"column {spec.name!r} takes {word}; rows "
                            f"{_rows(np.isin(np.arange(len(values)), bad))} are not")  # fmt: skip
            return None
        return np.array([None if _is_missing(v) else v for v in values], dtype=object)
    import pandas as pd

    out = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")
    bad_mask = out.isna().to_numpy() & ~np.isin(np.arange(len(values)), absent)
    if bad_mask.any():
        problems.append(f"column {spec.name!r} takes dates; rows {_rows(bad_mask)} are not")
        return None
    return out.to_numpy()


def check_columns(signature: Signature, data: Any) -> tuple[dict[str, Any], int]:
    """The input as one array per signature column, checked; every problem is named."""
    if not (isinstance(data, list) and all(isinstance(r, dict) for r in data[:1])):
        frame = check_input(signature, data)
        return {c: frame[c].to_numpy() for c in frame.columns}, int(frame.shape[0])
    if not data:
        raise ValidationFailed("empty batch: send at least one record")
    problems = _record_keys(signature, data)
    if problems:
        raise ValidationFailed("; ".join(problems), expected=signature.columns)
    columns: dict[str, Any] = {}
    for spec in signature.inputs:
        columns[spec.name] = _column(spec, [rec[spec.name] for rec in data], problems)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise ValidationFailed("; ".join(problems[:MAX_PROBLEMS]))
    return columns, len(data)


def frame_of(signature: Signature, columns: dict[str, Any], rows: int) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns, columns=signature.columns, index=pd.RangeIndex(rows), copy=False)


def jsonable(value: Any) -> Any:
    """Model output as JSON values (NaN as null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value
