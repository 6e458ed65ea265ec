"""Drift of a live endpoint, embedded and remote on SQLite and PostgreSQL: production rows in
the prediction log against the profile of the training data logged with the model."""

from __future__ import annotations

import uuid

import pytest
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.core.errors import InvalidInput
from shipyard.sdk import Client


def test_shifted_traffic_drifts_and_the_training_like_traffic_does_not(client: Client) -> None:
    x, y = load_wine(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x, y)
    name, endpoint = f"wine-{uuid.uuid4().hex[:6]}", f"ep-{uuid.uuid4().hex[:6]}"
    client.ml.log_model(model, name, input_example=x.head(), reference_data=x)
    manifest = client.registry.get_version(name, version=1).payload
    assert manifest["reference"] == "reference.json" and "reference.json" in manifest["files"]
    client.registry.set_alias(name, "champion", 1)
    client.ml.create_endpoint(endpoint, model=name)
    with pytest.raises(InvalidInput, match="no predictions"):
        client.ml.drift(endpoint)

    client.ml.predict(endpoint, x)  # production looks like training
    calm = client.ml.drift(endpoint)
    assert calm.reference_rows == len(x) and calm.current_rows == len(x)
    assert calm.drifted == 0 and not calm.dataset_drift
    assert {c.column for c in calm.columns} == set(x.columns) | {"prediction"}

    shifted = x.assign(alcohol=x.alcohol + 2.0, proline=x.proline * 1.8)
    for _ in range(3):
        client.ml.predict(endpoint, shifted)
    report = client.ml.drift(endpoint)
    drifted = {c.column for c in report.columns if c.drifted}
    assert {"alcohol", "proline"} <= drifted
    assert "hue" not in drifted and report.current_rows == 4 * len(x)

    plain = f"plain-{uuid.uuid4().hex[:6]}"
    client.ml.log_model(model, plain, input_example=x.head())
    client.registry.set_alias(plain, "champion", 1)
    client.ml.create_endpoint(f"{plain}-api", model=plain)
    client.ml.predict(f"{plain}-api", x.head(3))
    with pytest.raises(InvalidInput, match="reference_data"):
        client.ml.drift(f"{plain}-api")
