"""``onnx``: ONNX models, run with ONNX Runtime.

A model with one 2-D input gets the request's columns in signature order as one matrix; a
model with one input per column gets each column. The first output is the prediction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core.errors import ValidationFailed
from shipyard.ml.flavors.base import Flavor, pins, register_flavor

if TYPE_CHECKING:
    import pandas as pd

FILE = "model.onnx"
DTYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int64)": "int64",
          "tensor(int32)": "int32", "tensor(bool)": "bool", "tensor(string)": "object"}  # fmt: skip


@register_flavor
class OnnxFlavor(Flavor):
    name = "onnx"
    priority = 10

    @classmethod
    def handles(cls, model: Any) -> bool:
        return type(model).__name__ == "ModelProto" and hasattr(model, "SerializeToString")

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        (folder / FILE).write_bytes(model.SerializeToString())
        return {"file": FILE}

    def load(self, folder: Path, options: dict[str, Any], trusted: list[str] | None = None) -> Any:
        return _session((folder / options.get("file", FILE)).read_bytes())

    def predict(self, model: Any, frame: pd.DataFrame) -> Any:
        if self.handles(model):  # the ModelProto itself, at logging time
            model = _session(model.SerializeToString())
        inputs = model.get_inputs()
        if len(inputs) == 1:
            feed = {inputs[0].name: frame.to_numpy().astype(DTYPES.get(inputs[0].type, "float32"))}
        else:
            missing = [i.name for i in inputs if i.name not in frame.columns]
            if missing:
                raise ValidationFailed(f"the model's inputs {missing} are not columns")
            feed = {i.name: frame[[i.name]].to_numpy().astype(DTYPES.get(i.type, "float32"))
                    for i in inputs}  # fmt: skip
        return model.run(None, feed)[0]

    def requirements(self, model: Any) -> list[str]:
        return pins("onnxruntime", "numpy")


def _session(data: bytes) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
