"""Models logged by the ``mlflow`` client, read as Shipyard models: a scikit-learn model saved
by MLflow with skops (MLflow 3's default) becomes a Shipyard ``sklearn`` manifest over the same
files, so a version registered through the MLflow API can be served by a Shipyard endpoint and
loaded with ``shipyard.ml.load_model``. Other MLflow flavors stay MLflow-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import yaml

from shipyard.ml.models import FORMAT
from shipyard.ml.signature import ColSpec, Signature, infer_signature

TYPES = {"double": "double", "float": "double", "long": "long", "integer": "long",
         "boolean": "boolean", "string": "string", "datetime": "datetime"}  # fmt: skip


def manifest_from_mlflow(
    name: str, files: dict[str, str], read: Callable[[str], bytes], run_id: str | None
) -> dict[str, Any] | None:
    """A Shipyard manifest for MLflow's files ({path: sha256}), or None when Shipyard cannot
    serve that flavor. ``read`` returns a file's bytes by digest."""
    if "MLmodel" not in files:
        return None
    try:
        mlmodel = yaml.safe_load(read(files["MLmodel"]))
    except yaml.YAMLError:
        return None
    sk = ((mlmodel or {}).get("flavors") or {}).get("sklearn") or {}
    model_file = sk.get("pickled_model")
    if sk.get("serialization_format") != "skops" or model_file not in files:
        return None
    example = _example(files, read)
    signature = _signature(mlmodel.get("signature"), example)
    if signature is None:
        return None
    requirements = []
    if "requirements.txt" in files:
        lines = read(files["requirements.txt"]).decode("utf-8", "replace").splitlines()
        requirements = [x.strip() for x in lines if x.strip() and not x.startswith("#")]
    return {
        "format": FORMAT, "kind": "model", "name": name, "flavor": "sklearn",
        "flavor_options": {"file": model_file}, "files": dict(files),
        "signature": signature.model_dump(mode="json"),
        "input_example": example.head(5).to_dict(orient="records") if example is not None else None,
        "requirements": requirements, "model_class": "mlflow.sklearn", "run_id": run_id,
    }  # fmt: skip


def _example(files: dict[str, str], read: Callable[[str], bytes]) -> Any:
    if "input_example.json" not in files:
        return None
    import pandas as pd

    try:
        data = orjson.loads(read(files["input_example.json"]))
        if isinstance(data, dict) and "columns" in data and "data" in data:
            return pd.DataFrame(data["data"], columns=data["columns"])
        return pd.DataFrame.from_records(data)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None


def _signature(raw: Any, example: Any) -> Signature | None:
    inputs = (raw or {}).get("inputs") if isinstance(raw, dict) else None
    if isinstance(inputs, str):
        try:
            cols = orjson.loads(inputs)
            specs = [ColSpec(name=c["name"], type=TYPES[c["type"]],  # type: ignore[arg-type]
                             required=bool(c.get("required", True))) for c in cols]  # fmt: skip
            return Signature(inputs=specs)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            pass
    if example is not None:
        return infer_signature(example)
    return None
