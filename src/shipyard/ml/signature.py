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
        return check_input(self, data)


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


def jsonable(value: Any) -> Any:
    """Model output as JSON values (NaN as null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") else value
