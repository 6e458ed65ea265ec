"""Classic ML: model flavors, signatures, logging and loading models, and data drift.

info = shipyard.ml.log_model(model, name="churn", input_example=X.head())
model = shipyard.ml.load_model("models:/churn@champion")
model.predict(records)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.ml.models import LoadedModel, ModelInfo
    from shipyard.ml.signature import Signature


def log_model(
    model: Any, name: str, *, register: bool = True, flavor: str | None = None,
    input_example: Any = None, signature: Signature | None = None,
    requirements: list[str] | None = None, description: str = "",
    tags: dict[str, str] | None = None, reference_data: Any = None,
) -> ModelInfo:  # fmt: skip
    """Save ``model`` (scikit-learn, ONNX, or any object with ``predict``) with its signature,
    input example and requirements; register a version of ``name`` (kind ``model``) whose source
    run is the active run, or with ``register=False`` keep it in the active run only.
    ``reference_data`` (the training features) is profiled for drift monitoring."""
    from shipyard.ml import models
    from shipyard.sdk import get_client

    return models.log_model(
        get_client(), model, name, register=register, flavor=flavor, input_example=input_example,
        signature=signature, requirements=requirements, description=description, tags=tags,
        reference_data=reference_data,
    )  # fmt: skip


def load_model(uri: str, *, trusted: list[str] | None = None) -> LoadedModel:
    """``models:/NAME@ALIAS``, ``models:/NAME/VERSION``, ``models:/NAME`` or
    ``runs:/RUN_ID/models/NAME``; every file is checked against its recorded sha256."""
    from shipyard.ml import models
    from shipyard.sdk import get_client

    return models.load_model(get_client(), uri, trusted=trusted)


__all__ = ["load_model", "log_model"]
