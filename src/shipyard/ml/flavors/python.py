"""``python``: any object with a ``predict(frame)`` method, or a plain function, saved with
cloudpickle. Loading one runs its code: load only models from people you trust (the registry's
roles and approvals say who may publish one)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.ml.flavors.base import Flavor, pins, register_flavor

if TYPE_CHECKING:
    import pandas as pd

FILE = "model.pkl"


@register_flavor
class PythonFlavor(Flavor):
    name = "python"
    priority = -10  # only when nothing more specific handles the object

    @classmethod
    def handles(cls, model: Any) -> bool:
        return callable(getattr(model, "predict", None)) or callable(model)

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        import cloudpickle

        (folder / FILE).write_bytes(cloudpickle.dumps(model))
        return {"file": FILE, "callable": not callable(getattr(model, "predict", None))}

    def load(self, folder: Path, options: dict[str, Any], trusted: list[str] | None = None) -> Any:
        import pickle

        return pickle.loads((folder / options.get("file", FILE)).read_bytes())

    def predict(self, model: Any, frame: pd.DataFrame) -> Any:
        predict = getattr(model, "predict", None)
        return predict(frame) if callable(predict) else model(frame)

    def requirements(self, model: Any) -> list[str]:
        return pins("cloudpickle", "numpy", "pandas")
