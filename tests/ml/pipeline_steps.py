"""Steps of the pipelines under test. Each step that runs appends its name to the file named by
``SHIPYARD_TEST_STEP_LOG``, so tests can tell a step that ran from one that was skipped."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from shipyard.ml.pipelines import Pipeline, step


def _ran(name: str) -> None:
    path = os.environ.get("SHIPYARD_TEST_STEP_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{name}\n")


@step(outputs=["X", "y"])
def load(salt: str, rows: int = 300) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_breast_cancer

    _ran("load")
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x.head(rows), y.head(rows)


@step(outputs=["X_train", "X_test", "y_train", "y_test"])
def split(X: pd.DataFrame, y: pd.Series, test_size: float = 0.3) -> tuple[Any, ...]:
    from sklearn.model_selection import train_test_split

    _ran("split")
    return tuple(train_test_split(X, y, test_size=test_size, random_state=0, stratify=y))


@step(outputs="model")
def train(X_train: pd.DataFrame, y_train: pd.Series, C: float = 1.0) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _ran("train")
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000)).fit(
        X_train, y_train
    )


@step(outputs="metrics")
def evaluate(model: Any, X_test: pd.DataFrame, y_test: pd.Series) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    _ran("evaluate")
    pred = model.predict(X_test)
    return {"accuracy": accuracy_score(y_test, pred), "f1": f1_score(y_test, pred)}


def cancer(register: str | None = None) -> Pipeline:
    return Pipeline("cancer", [load, split, train, evaluate], model="model", register=register,
                    reference="X_train", input_example="X_test")  # fmt: skip


@step(outputs="where")
def where_left(salt: str) -> str:
    from distributed import get_worker

    return get_worker().address


@step(outputs="where_too")
def where_right(salt: str) -> str:
    from distributed import get_worker

    return get_worker().address


placement = Pipeline("placement", [where_left, where_right])


@step(outputs="half")
def fails(salt: str) -> float:
    return 1 / 0


broken = Pipeline("broken", [load, fails])
pipe = cancer("cancer-from-cli")


@step(outputs=["X_train", "y_train"])
def recent_rows(recent_data: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The endpoint's recent labeled rows, which retraining passes in."""
    _ran("recent_rows")
    return recent_data.drop(columns=["label"]), recent_data["label"]


retrain = Pipeline("retrain", [recent_rows, train], model="model", reference="X_train")
