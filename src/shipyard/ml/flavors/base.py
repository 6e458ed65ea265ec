"""The model flavor plug-in interface: how one kind of model is saved, loaded and called.

    class Flavor:
        name                      the name stored with the model
        handles(model)            whether this flavor saves such an object
        save(model, folder)       write the model's files; return options kept in the manifest
        load(folder, options, trusted)
                                  the model object back from those files
        predict(model, frame)     outputs for a DataFrame (default: ``model.predict(frame)``)

Built-ins: ``sklearn`` (skops: no pickle, only known types load), ``onnx`` (ONNX Runtime) and
``python`` (any object with ``predict``, by cloudpickle: load only models you trust). Third-party
flavors load through the entry-point group ``shipyard.model_flavors``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from shipyard.core.errors import InvalidInput
from shipyard.core.plugins import PluginRegistry

if TYPE_CHECKING:
    import pandas as pd


class Flavor(ABC):
    name: ClassVar[str]
    priority: ClassVar[int] = 0  # the most specific flavor that handles a model wins

    @classmethod
    @abstractmethod
    def handles(cls, model: Any) -> bool: ...

    @abstractmethod
    def save(self, model: Any, folder: Path) -> dict[str, Any]: ...

    @abstractmethod
    def load(self, folder: Path, options: dict[str, Any], trusted: list[str] | None = None) -> Any:
        """``trusted``: type names the caller vouches for (flavors that check types)."""

    def predict(self, model: Any, frame: pd.DataFrame) -> Any:
        return model.predict(frame)

    def predict_scored(self, model: Any, frame: pd.DataFrame) -> tuple[Any, Any]:
        """Predictions and, for a binary classifier, the positive class's probability."""
        return self.predict(model, frame), None

    def requirements(self, model: Any) -> list[str]:
        return []


FLAVORS: PluginRegistry[Flavor] = PluginRegistry(
    "model flavor", lambda cls: cls.name,
    ("shipyard.ml.flavors.sklearn", "shipyard.ml.flavors.onnx", "shipyard.ml.flavors.python"),
    "shipyard.model_flavors",
)  # fmt: skip


def register_flavor(cls: type[Flavor]) -> type[Flavor]:
    return FLAVORS.register(cls)


def flavor_for(model: Any, name: str | None = None) -> Flavor:
    if name:
        return FLAVORS.get(name)()
    found = [FLAVORS.get(n) for n in FLAVORS if FLAVORS.get(n).handles(model)]
    if not found:
        raise InvalidInput(
            f"no flavor saves a {type(model).__name__}: give a scikit-learn estimator, an ONNX "
            f"model, or an object with a predict method"
        )
    return max(found, key=lambda cls: cls.priority)()


def version_of(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def pins(*packages: str) -> list[str]:
    return [f"{p}=={v}" for p in packages if (v := version_of(p))]
