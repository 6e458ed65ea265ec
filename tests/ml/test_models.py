"""Model flavors through the SDK, embedded and remote, on SQLite and PostgreSQL: a model logged
comes back predicting the same, with its signature, example and requirements; requests are
checked against the signature; tampered files and untrusted types are refused."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from shipyard.core.errors import InvalidInput, PermissionDenied, StoreError, ValidationFailed
from shipyard.core.settings import Settings
from shipyard.ml.models import load_model, log_model
from shipyard.sdk import Client
from shipyard.tracking.schemas import CreateRun


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series, Any]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=20, random_state=0))
    return x, y, model.fit(x, y)


def test_a_scikit_learn_pipeline_round_trips_through_the_registry(client: Client, cancer) -> None:  # type: ignore[no-untyped-def]
    x, _, model = cancer
    name = _name("cancer")
    run = client.tracking.create_run(CreateRun(experiment="ml-tests"))
    info = log_model(client, model, name, input_example=x.head(8), run_id=run.id)
    assert info.flavor == "sklearn" and info.version == 1 and info.uri == f"models:/{name}/1"
    assert [c.name for c in info.signature.inputs] == list(x.columns)
    assert {c.type for c in info.signature.inputs} == {"double"}
    assert info.signature.outputs[0].type == "long"

    version = client.registry.get_version(name, version=1)
    assert version.source_run_id == run.id
    manifest = version.payload
    assert any(r.startswith("scikit-learn==") for r in manifest["requirements"])
    assert len(manifest["input_example"]) == 5 and set(manifest["input_example"][0]) == set(x)
    assert manifest["model_class"].endswith("Pipeline")

    client.registry.set_alias(name, "champion", 1)
    for uri in (f"models:/{name}/1", f"models:/{name}@champion"):
        loaded = load_model(client, uri)
        assert np.array_equal(loaded.predict(x), model.predict(x))
        records = x.tail(3).to_dict(orient="records")
        assert np.array_equal(loaded.predict(records), model.predict(x.tail(3)))
        assert np.allclose(loaded.predict_proba(x.head(4)), model.predict_proba(x.head(4)))
    kept = client.tracking.list_artifacts(run.id)
    assert {f"models/{name}/model.skops", f"models/{name}/manifest.json"} <= {a.path for a in kept}


def test_a_model_kept_in_its_run_only_loads_from_the_run(client: Client) -> None:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    model = LinearRegression().fit(x, y)
    run = client.tracking.create_run(CreateRun(experiment="ml-tests"))
    info = log_model(client, model, "diabetes", register=False, input_example=x.head(),
                     run_id=run.id)  # fmt: skip
    assert info.version is None and info.uri == f"runs:/{run.id}/models/diabetes"
    loaded = load_model(client, info.uri)
    assert np.allclose(loaded.predict(x.head(20)), model.predict(x.head(20)))
    with pytest.raises(InvalidInput, match="start a run"):
        log_model(client, model, "orphan", register=False, input_example=x.head())


def _onnx_linear(weights: np.ndarray, bias: float) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(weights.astype(np.float32).reshape(-1, 1), "w")
    b = numpy_helper.from_array(np.array([bias], dtype=np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"]),
         helper.make_node("Add", ["xw", "b"], ["y"])],
        "linear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, len(weights)])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])], [w, b],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


class Doubler:
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["value"].to_numpy() * 2


def test_onnx_and_python_models_predict_after_loading(client: Client) -> None:
    weights = np.array([0.5, -1.0, 2.0])
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 2.0], "c": [4.0, 4.0, 1.0]})
    name = _name("linear")
    info = log_model(client, _onnx_linear(weights, 0.25), name, input_example=frame)
    assert info.flavor == "onnx"
    loaded = load_model(client, info.uri)
    expected = frame.to_numpy() @ weights + 0.25
    assert np.allclose(loaded.predict(frame).reshape(-1), expected, atol=1e-5)

    name = _name("doubler")
    info = log_model(client, Doubler(), name, input_example=pd.DataFrame({"value": [1.5, 2.0]}))
    assert info.flavor == "python"
    assert list(load_model(client, info.uri).predict([{"value": 4.0}])) == [8.0]


def test_requests_are_checked_against_the_signature(tmp_path: Path, cancer) -> None:  # type: ignore[no-untyped-def]
    x, _, model = cancer
    with Client(Settings.load(home=tmp_path / "home")) as c:
        info = log_model(c, model, "cancer", input_example=x.head())
        loaded = load_model(c, info.uri)
    good = x.head(2).to_dict(orient="records")
    cases: list[tuple[Any, str]] = [
        ([], "empty batch"),
        ([{k: v for k, v in good[0].items() if k != "mean radius"}],
         "missing columns: mean radius"),
        ([{**good[0], "colour": "red"}], "unexpected columns: colour"),
        ([{**good[0], "mean area": "big"}, good[1]], "'mean area' takes numbers; rows 0 are not"),
        ([good[0], {**good[1], "mean texture": None}],
         "'mean texture' has missing values in rows 1"),
        ([{**good[0], "mean area": True}], "'mean area' takes numbers"),
        ([{**good[0], "mean area": float("inf")}], "infinite values"),
        ("not a table", "cannot use a str"),
    ]  # fmt: skip
    for data, message in cases:
        with pytest.raises((ValidationFailed, InvalidInput), match=message.replace("(", r"\(")):
            loaded.predict(data)
    assert len(loaded.predict(good)) == 2  # the same model still answers


def test_tampered_files_and_untrusted_types_are_refused(tmp_path: Path, cancer) -> None:  # type: ignore[no-untyped-def]
    x, y, _ = cancer
    with Client(Settings.load(home=tmp_path / "home")) as c:
        info = log_model(c, LinearRegression().fit(x, y), "plain", input_example=x.head())
        digest = c.registry.get_version("plain", version=1).payload["files"]["model.skops"]
        blob = next((tmp_path / "home").rglob(digest))
        blob.chmod(0o644)
        blob.write_bytes(blob.read_bytes()[:-10] + b"0123456789")
        with pytest.raises(StoreError, match="fails its hash check"):
            load_model(c, info.uri)

        odd = make_pipeline(FunctionTransformer(_halve), LinearRegression()).fit(x, y)
        info = log_model(c, odd, "odd", input_example=x.head())
        with pytest.raises(PermissionDenied, match=r"tests\.ml\.test_models\._halve"):
            load_model(c, info.uri)
        trusted = load_model(c, info.uri, trusted=["tests.ml.test_models._halve"])
        assert np.allclose(trusted.predict(x.head()), odd.predict(x.head()))

        with pytest.raises(InvalidInput, match="input_example"):
            log_model(c, odd, "no-example")
        with pytest.raises(InvalidInput, match="no flavor saves a int"):
            log_model(c, 42, "number", input_example=x.head())
        with pytest.raises(InvalidInput, match="use models:/NAME"):
            load_model(c, "s3://bucket/model")


def _halve(frame: pd.DataFrame) -> pd.DataFrame:
    return frame / 2


def test_scored_predictions_equal_the_models_own(cancer) -> None:  # type: ignore[no-untyped-def]
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    from shipyard.ml.flavors.sklearn import SklearnFlavor

    x, y, _ = cancer
    flavor = SklearnFlavor()
    for model in (
        make_pipeline(StandardScaler(), LogisticRegression()), ExtraTreesClassifier(20),
        HistGradientBoostingClassifier(max_iter=20),
        make_pipeline(StandardScaler(), CalibratedClassifierCV(SVC(), ensemble=False)),
    ):  # fmt: skip
        model.fit(x, y)
        predicted, scores = flavor.predict_scored(model, x)
        assert np.array_equal(predicted, model.predict(x)), type(model).__name__
        assert np.allclose(scores, model.predict_proba(x)[:, 1])
