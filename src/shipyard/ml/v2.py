"""The Open Inference (V2) protocol over Shipyard's endpoints: request tensors to the model's
columns, predictions back to output tensors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from shipyard.core.errors import ValidationFailed
from shipyard.ml.signature import Signature

DATATYPES = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
             "FP16", "FP32", "FP64", "BYTES"}  # fmt: skip


class Tensor(BaseModel):
    name: str = Field(min_length=1)
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(BaseModel):
    id: str | None = None
    inputs: list[Tensor] = Field(min_length=1)
    parameters: dict[str, Any] | None = None


def _rows(tensor: Tensor) -> list[list[Any]]:
    """A tensor's data as rows (``data`` may be flat, row-major, or nested)."""
    if tensor.datatype not in DATATYPES:
        raise ValidationFailed(f"input {tensor.name!r}: unknown datatype {tensor.datatype!r}")
    if not tensor.shape or any(d < 0 for d in tensor.shape) or len(tensor.shape) > 2:
        raise ValidationFailed(f"input {tensor.name!r}: shape must be [rows] or [rows, columns]")
    flat: list[Any] = []
    for item in tensor.data:
        flat.extend(item if isinstance(item, list) else [item])
    rows = tensor.shape[0]
    width = tensor.shape[1] if len(tensor.shape) == 2 else 1
    if len(flat) != rows * width:
        raise ValidationFailed(f"input {tensor.name!r}: shape {tensor.shape} needs "
                               f"{rows * width} values, got {len(flat)}")  # fmt: skip
    return [flat[i * width : (i + 1) * width] for i in range(rows)]


def to_columns(req: InferRequest, signature: Signature) -> dict[str, list[Any]]:
    """One 2-D tensor holds every column in signature order; otherwise a tensor per column."""
    columns = signature.columns
    if len(req.inputs) == 1 and req.inputs[0].name not in columns:
        rows = _rows(req.inputs[0])
        if rows and len(rows[0]) != len(columns):
            raise ValidationFailed(
                f"input {req.inputs[0].name!r} has {len(rows[0])} columns; the model takes "
                f"{len(columns)}: {', '.join(columns)}"
            )
        return {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    out: dict[str, list[Any]] = {}
    for tensor in req.inputs:
        rows = _rows(tensor)
        if rows and len(rows[0]) != 1:
            raise ValidationFailed(f"input {tensor.name!r}: one column per tensor, or a single "
                                   f"tensor of every column")  # fmt: skip
        out[tensor.name] = [r[0] for r in rows]
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise ValidationFailed("input tensors have different numbers of rows")
    return out


def _datatype(values: list[Any]) -> str:
    flat = [x for v in values for x in (v if isinstance(v, list) else [v])]
    if all(isinstance(x, bool) for x in flat):
        return "BOOL"
    if all(isinstance(x, int) and not isinstance(x, bool) for x in flat):
        return "INT64"
    if all((isinstance(x, int | float) and not isinstance(x, bool)) or x is None for x in flat):
        return "FP64"
    return "BYTES"


def output_tensors(predictions: list[Any]) -> list[dict[str, Any]]:
    if predictions and isinstance(predictions[0], dict):
        names = list(predictions[0])
        return [{"name": n, "shape": [len(predictions)],
                 "datatype": _datatype([p[n] for p in predictions]),
                 "data": [p[n] for p in predictions]} for n in names]  # fmt: skip
    if predictions and isinstance(predictions[0], list):
        width = len(predictions[0])
        return [{"name": "predict", "shape": [len(predictions), width],
                 "datatype": _datatype(predictions),
                 "data": [x for row in predictions for x in row]}]  # fmt: skip
    return [{"name": "predict", "shape": [len(predictions)], "datatype": _datatype(predictions),
             "data": predictions}]  # fmt: skip
