"""The classic-ML part of ``shipyard demo``: a pipeline trains a breast-cancer classifier on
scikit-learn's bundled data; an endpoint serves it and watches itself; production traffic
shifts (a new scanner reads every measurement 40% higher); the scheduled check finds drift and
a drop in accuracy, retraining makes a challenger, and the challenger is compared with the
champion on labeled rows it never saw and promoted or rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from shipyard.cli.common import console, progress_bar
from shipyard.ml.pipelines import Pipeline, register_pipeline, step
from shipyard.sdk import Client

MODEL = "cancer-screening"
ENDPOINT = "cancer-screening-api"
RETRAIN = "cancer-screening-retrain"
HISTORY_ROWS = 400  # the first rows are the training history; the rest come as traffic
SHIFT = 1.4


@step(outputs=["X", "y"])
def load(rows: int = HISTORY_ROWS) -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x.head(rows), y.head(rows)


@step(outputs=["X_train", "X_test", "y_train", "y_test"])
def split(X: pd.DataFrame, y: pd.Series, test_size: float = 0.25) -> tuple[Any, ...]:
    from sklearn.model_selection import train_test_split

    return tuple(train_test_split(X, y, test_size=test_size, random_state=0, stratify=y))


@step(outputs="model")
def train(X_train: pd.DataFrame, y_train: pd.Series, C: float = 1.0) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    return model.fit(X_train, y_train)


@step(outputs="metrics")
def evaluate(model: Any, X_test: pd.DataFrame, y_test: pd.Series) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, roc_auc_score

    return {"accuracy": accuracy_score(y_test, model.predict(X_test)),
            "roc_auc": roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])}  # fmt: skip


@step(outputs=["X_train", "y_train"])
def recent(recent_data: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """What production saw lately, with the labels that came back."""
    return recent_data.drop(columns=["label"]), recent_data["label"].astype(int)


TRAINING = Pipeline("cancer-screening", [load, split, train, evaluate], model="model",
                    register=MODEL, reference="X_train", input_example="X_test")  # fmt: skip
RETRAINING = Pipeline("cancer-screening-retrain", [recent, train], model="model",
                      reference="X_train")  # fmt: skip
MONITOR = {
    "every_s": 600, "window_s": 86400, "min_rows": 50,
    "performance": {"metric": "accuracy", "min": 0.9, "min_labels": 30},
    "retrain": {"pipeline": RETRAIN, "metric": "accuracy", "margin": 0.02, "min_labels": 30},
}  # fmt: skip


def _run(client: Client, pipe: Pipeline, params: dict[str, Any], alias: str | None) -> Any:
    with progress_bar() as bar:
        task = bar.add_task(f"pipeline {pipe.name}", total=len(pipe.order))

        def report(event: str, name: str, done: int, _total: int) -> None:
            bar.update(task, completed=done, description=f"pipeline {pipe.name}: {name} {event}")

        return pipe.run(params, client=client, executor="process", alias=alias, progress=report)


def _traffic(client: Client, rows: pd.DataFrame, truth: pd.Series) -> float:
    """Requests of 20 rows, their labels posted afterwards; returns the accuracy seen."""
    right = 0
    for start in range(0, len(rows), 20):
        answer = client.ml.predict(ENDPOINT, rows.iloc[start : start + 20])
        labels = truth.iloc[start : start + 20].tolist()
        client.ml.log_labels(ENDPOINT, [{"request_id": answer.request_id, "labels": labels}])
        right += sum(int(p == t) for p, t in zip(answer.predictions, labels, strict=True))
    return right / len(rows)


def _wait_for(client: Client, version: int) -> None:
    """Until the endpoint has followed its alias to ``version`` (within seconds)."""
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, model = client._platform.serving.resolve_endpoint(ENDPOINT)
        if model.version == version:
            return
        time.sleep(0.2)


def ml_demo(client: Client, reports: Path) -> dict[str, Any]:
    from sklearn.datasets import load_breast_cancer

    from shipyard.ml.drift.html import render

    first = _run(client, TRAINING, {}, alias="champion")
    again = _run(client, TRAINING, {}, alias=None)
    cached = f"{len(again.cached)} of {len(again.steps)} steps taken from the cache"
    console.print(
        f"pipeline {TRAINING.name}: {MODEL} v{first.model.version} "
        f"(test accuracy {first['metrics']['accuracy']:.3f}); run again: {cached}"
    )
    register_pipeline(client, RETRAIN, f"{__name__}:RETRAINING", executor="process")
    client.ml.create_endpoint(ENDPOINT, model=MODEL, monitor=MONITOR)

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    live_x, live_y = x.iloc[HISTORY_ROWS:], y.iloc[HISTORY_ROWS:]
    calm = _traffic(client, live_x, live_y)
    quiet = client.ml.check(ENDPOINT)
    console.print(f"{ENDPOINT}: {len(live_x)} rows requested, accuracy {calm:.3f}, drift: "
                  f"{(quiet.drift or {}).get('verdict')}, alerts: {len(quiet.alerts)}")  # fmt: skip
    shifted = _traffic(client, live_x * SHIFT, live_y)
    report = client.ml.drift(ENDPOINT)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "ml-drift.html").write_text(render(report, f"{ENDPOINT}: drift"), encoding="utf-8")
    result = client.ml.check(ENDPOINT)
    console.print(f"a new scanner reads {SHIFT - 1:.0%} higher: accuracy {shifted:.3f}; "
                  f"{report.drifted} of {report.tested} columns drifted "
                  f"(report: {reports / 'ml-drift.html'})")  # fmt: skip
    decision: dict[str, Any] = {}
    for alert in result.alerts:
        console.print(f"  alert {alert.kind}: {alert.message[:110]}")
        decision = alert.retraining or decision
    if decision:
        console.print(f"  retraining: {decision['outcome']}: {decision.get('message')}")
    serving = client.registry.get_version(MODEL, alias="champion").version
    _wait_for(client, serving)
    after = _traffic(client, live_x.tail(60) * SHIFT, live_y.tail(60))
    console.print(f"{ENDPOINT} now serves {MODEL} v{serving}: accuracy {after:.3f} "
                  "on new shifted traffic")  # fmt: skip
    return {"ml_decision": decision.get("outcome"), "ml_champion": serving}
