"""Describe a dataset logged as a run input: digest, schema and row count.

Accepts a pandas DataFrame, a NumPy array, or a file path (CSV, Parquet, JSONL or any
other file, which is then hashed as bytes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from shipyard.core.errors import InvalidInput
from shipyard.store.artifacts import sha256_file
from shipyard.tracking.schemas import DatasetInput


def describe(data: Any, *, name: str | None = None, context: str = "") -> DatasetInput:
    if isinstance(data, str | Path):
        return _from_path(Path(data), name, context)
    kind = type(data).__module__.split(".")[0]
    if kind == "pandas" and hasattr(data, "columns"):
        return _from_frame(data, name, context)
    if kind == "numpy" and hasattr(data, "dtype"):
        return _from_array(data, name, context)
    raise InvalidInput(
        f"log_input takes a DataFrame, an array or a file path, not {type(data).__name__}"
    )


def _from_frame(df: Any, name: str | None, context: str) -> DatasetInput:
    import pandas as pd

    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    schema = {"columns": {str(c): str(t) for c, t in df.dtypes.items()}}
    return DatasetInput(
        name=name or "dataframe",
        digest=h.hexdigest(),
        schema=schema,
        num_rows=len(df),
        source=None,
        context=context,
    )


def _from_array(arr: Any, name: str | None, context: str) -> DatasetInput:
    import numpy as np

    contiguous = np.ascontiguousarray(arr)
    h = hashlib.sha256(f"{contiguous.dtype}{contiguous.shape}".encode())
    h.update(contiguous.tobytes())
    return DatasetInput(
        name=name or "array",
        digest=h.hexdigest(),
        schema={"dtype": str(arr.dtype), "shape": list(arr.shape)},
        num_rows=int(arr.shape[0]) if arr.ndim else 1,
        source=None,
        context=context,
    )


def _from_path(path: Path, name: str | None, context: str) -> DatasetInput:
    if not path.is_file():
        raise InvalidInput(f"no dataset file at {path}")
    schema: dict[str, Any] = {"format": path.suffix.lstrip(".").lower() or "bytes"}
    rows: int | None = None
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with path.open("r", encoding="utf-8", errors="replace") as f:
            header = f.readline().rstrip("\r\n")
            rows = sum(1 for line in f if line.strip())
        sep = "\t" if suffix == ".tsv" else ","
        schema["columns"] = [c.strip().strip('"') for c in header.split(sep)]
    elif suffix in (".jsonl", ".ndjson"):
        with path.open("rb") as fb:
            rows = sum(1 for line in fb if line.strip())
    elif suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            meta = pq.read_metadata(path)
            rows = meta.num_rows
            schema["columns"] = {f.name: str(f.physical_type) for f in meta.schema}
        except ImportError:
            pass
    return DatasetInput(
        name=name or path.stem,
        digest=sha256_file(path),
        schema=schema,
        num_rows=rows,
        source=str(path.resolve()),
        context=context,
    )
