"""The prediction log, embedded and remote on SQLite and PostgreSQL: predictions are kept, labels
posted later by request id (even before the log is written, and again to correct one) join
them, and the performance figures equal scikit-learn's on the same pairs."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression

from shipyard.core.errors import InvalidInput, ValidationFailed
from shipyard.sdk import Client


def _endpoint(c: Client, model: object, x: object) -> str:
    name, endpoint = f"m-{uuid.uuid4().hex[:6]}", f"ep-{uuid.uuid4().hex[:6]}"
    c.ml.log_model(model, name, input_example=x.head())  # type: ignore[attr-defined]
    c.registry.set_alias(name, "champion", 1)
    c.ml.create_endpoint(endpoint, model=name)
    return endpoint


def test_classifier_performance_from_labels_posted_later(client: Client) -> None:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    forest = RandomForestClassifier(n_estimators=10, max_depth=2, random_state=0)
    forest.fit(x.iloc[:300], y.iloc[:300])
    endpoint = _endpoint(client, forest, x)
    rows = x.iloc[300:360]
    answers = [client.ml.predict(endpoint, rows.iloc[i : i + 5]) for i in range(0, 60, 5)]
    truth = y.iloc[300:360].tolist()
    truth[3] = 1 - truth[3]  # a label corrected below
    labels = [{"request_id": a.request_id, "labels": truth[i * 5 : i * 5 + 5]}
              for i, a in enumerate(answers[:10])]  # fmt: skip
    assert client.ml.log_labels(endpoint, labels) == 50
    truth[3] = y.iloc[303]
    client.ml.log_labels(endpoint, [{"request_id": answers[0].request_id, "row": 3,
                                     "label": int(truth[3])}])  # fmt: skip

    report = client.ml.performance(endpoint)
    assert report.task == "classification"
    assert report.predictions == 60 and report.labeled == 50
    predicted = forest.predict(rows.iloc[:50])
    expected = truth[:50]
    assert report.metrics["accuracy"] == pytest.approx(metrics.accuracy_score(expected, predicted))
    assert report.metrics["f1"] == pytest.approx(metrics.f1_score(expected, predicted))
    assert report.metrics["recall"] == pytest.approx(metrics.recall_score(expected, predicted))
    proba = forest.predict_proba(rows.iloc[:50])[:, 1]
    assert report.metrics["roc_auc"] == pytest.approx(metrics.roc_auc_score(expected, proba))
    assert report.by_version[1] == report.metrics
    assert sum(w.labeled for w in report.windows) == 50

    with pytest.raises((ValidationFailed, InvalidInput)):
        client.ml.log_labels(endpoint, [{"request_id": "not-an-id", "label": 1}])
    with pytest.raises((ValidationFailed, InvalidInput)):
        client.ml.log_labels(endpoint, [{"request_id": answers[0].request_id}])


def test_regressor_performance_and_windows(client: Client) -> None:
    x, y = load_diabetes(return_X_y=True, as_frame=True)
    model = LinearRegression().fit(x.iloc[:300], y.iloc[:300])
    endpoint = _endpoint(client, model, x)
    answer = client.ml.predict(endpoint, x.iloc[300:340])
    client.ml.log_labels(endpoint, [{"request_id": answer.request_id,
                                     "labels": y.iloc[300:340].tolist()}])  # fmt: skip
    report = client.ml.performance(endpoint, window_ms=60_000)
    predicted = model.predict(x.iloc[300:340])
    truth = y.iloc[300:340].to_numpy()
    assert report.task == "regression" and report.labeled == 40
    assert report.metrics["mae"] == pytest.approx(metrics.mean_absolute_error(truth, predicted))
    assert report.metrics["rmse"] == pytest.approx(
        np.sqrt(metrics.mean_squared_error(truth, predicted)))  # fmt: skip
    assert report.metrics["r2"] == pytest.approx(metrics.r2_score(truth, predicted))
    assert len(report.windows) >= 1 and report.window_ms == 60_000
    with pytest.raises(InvalidInput, match="windows"):
        client.ml.performance(endpoint, window_ms=1000, since_ms=0)
