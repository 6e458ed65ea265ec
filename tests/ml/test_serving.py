"""Model endpoints on a real server (SQLite and PostgreSQL): JSON records and the Open Inference
protocol answer like the model itself, the endpoint follows its alias without a restart,
concurrent requests share model calls, every prediction is a model span, and bad requests get
a 4xx with a JSON error while the endpoint keeps serving."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.core.errors import NotFound, ValidationFailed
from shipyard.core.settings import Settings
from shipyard.sdk import Client


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x, y


def _models(x: pd.DataFrame, y: pd.Series) -> tuple[Any, Any]:
    forest = make_pipeline(
        StandardScaler(), RandomForestClassifier(n_estimators=15, random_state=0)
    )
    always_one = make_pipeline(
        StandardScaler(), LogisticRegression(C=1e-6, class_weight={0: 1e-6, 1: 1})
    )
    return forest.fit(x, y), always_one.fit(x, y)


def _serve(c: Client, model: Any, x: pd.DataFrame, **spec: Any) -> tuple[str, str]:
    """Register ``model`` as v1 of a new model, alias champion, and an endpoint on it."""
    name, endpoint = f"cancer-{uuid.uuid4().hex[:6]}", f"ep-{uuid.uuid4().hex[:6]}"
    c.ml.log_model(model, name, input_example=x.head())
    c.registry.set_alias(name, "champion", 1)
    c.ml.create_endpoint(endpoint, model=name, **spec)
    return name, endpoint


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_an_endpoint_serves_records_and_v2_and_follows_its_alias(
    dialect: str,
    server_for,
    data,  # type: ignore[no-untyped-def]
) -> None:
    x, y = data
    forest, other = _models(x, y)
    server = server_for(dialect)
    with server.client() as c:
        name, endpoint = _serve(c, forest, x, alias="champion", max_wait_ms=1)
        rows = x.iloc[100:110]
        expected = forest.predict(rows).tolist()

        url = f"{server.url}/api/v1/endpoints/{endpoint}/predict"
        started = time.monotonic()  # the first request loads the model (and scikit-learn)
        r = httpx.post(url, json={"records": rows.to_dict(orient="records")}, timeout=60)
        assert r.status_code == 200, r.text
        print(f"first request {time.monotonic() - started:.2f} s")
        body = r.json()
        assert body["predictions"] == expected and body["version"] == 1
        assert r.headers["x-request-id"] == body["request_id"]
        split = {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}
        assert httpx.post(url, json={"dataframe_split": split}).json()["predictions"] == expected
        assert c.ml.predict(endpoint, rows).predictions == expected

        v2 = f"{server.url}/v2/models/{endpoint}"
        per_column = {"inputs": [{"name": col, "shape": [10], "datatype": "FP64",
                                  "data": rows[col].tolist()} for col in rows.columns]}  # fmt: skip
        out = httpx.post(f"{v2}/infer", json=per_column).json()
        assert out["outputs"][0]["data"] == expected and out["model_version"] == "1"
        flat = rows.to_numpy().ravel().tolist()
        matrix = {"id": "req-7", "inputs": [{"name": "input-0", "shape": [10, 30],
                                             "datatype": "FP64", "data": flat}]}  # fmt: skip
        out = httpx.post(f"{v2}/infer", json=matrix).json()
        assert out["outputs"][0]["data"] == expected and out["id"] == "req-7"
        meta = httpx.get(v2).json()
        assert [i["name"] for i in meta["inputs"]] == list(x.columns)
        assert httpx.get(f"{v2}/ready").json()["ready"] is True

        c.ml.log_model(other, name, input_example=x.head())
        c.registry.set_alias(name, "champion", 2)  # a promotion, seen without a restart
        deadline = time.monotonic() + 10
        while httpx.post(url, json={"records": rows.to_dict("records")}).json()["version"] != 2:
            assert time.monotonic() < deadline, "the endpoint never followed the alias"
            time.sleep(0.1)
        assert httpx.post(url, json={"records": rows.to_dict("records")}).json()[
            "predictions"] == other.predict(rows).tolist()  # fmt: skip


def test_bad_requests_get_a_json_4xx_and_the_endpoint_keeps_serving(server_for, data) -> None:  # type: ignore[no-untyped-def]
    x, y = data
    forest, _ = _models(x, y)
    server = server_for("sqlite")
    with server.client() as c:
        _name, endpoint = _serve(c, forest, x)
        with pytest.raises(NotFound):
            c.ml.create_endpoint("nowhere", model="no-such-model")
    good = x.head(2).to_dict(orient="records")
    url = f"{server.url}/api/v1/endpoints/{endpoint}/predict"
    cases: list[tuple[Any, int, str]] = [
        ({"records": []}, 422, "empty batch"),
        ({"records": [{k: v for k, v in good[0].items() if k != "mean area"}]}, 422,
         "missing columns: mean area"),
        ({"records": [{**good[0], "extra": 1}]}, 422, "unexpected columns: extra"),
        ({"records": [{**good[0], "mean area": "large"}]}, 422, "takes numbers"),
        ({"records": [good[0], {**good[1], "mean area": None}]}, 422, "missing values in rows 1"),
        ({"rows": good}, 400, "records"),
        ([1, 2, 3], 400, "JSON object"),
        ({"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}, 400, "needs 1 values"),
    ]  # fmt: skip
    for body, status, message in cases:
        r = httpx.post(url, json=body)
        assert r.status_code == status, (body, r.text)
        assert message in r.json()["error"]["message"]
    r = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 and "error" in r.json()
    r = httpx.post(f"{server.url}/api/v1/endpoints/ghost/predict", json={"records": good})
    assert r.status_code == 404 and r.json()["error"]["type"] == "NotFound"
    bad_v2 = {"inputs": [{"name": "input-0", "shape": [2, 3], "datatype": "FP64",
                          "data": [1, 2, 3, 4, 5, 6]}]}  # fmt: skip
    r = httpx.post(f"{server.url}/v2/models/{endpoint}/infer", json=bad_v2)
    assert r.status_code == 422 and "the model takes 30" in r.json()["error"]["message"]
    r = httpx.post(url, json={"records": good})
    assert r.status_code == 200 and r.json()["predictions"] == forest.predict(x.head(2)).tolist()


def test_concurrent_requests_share_model_calls_and_each_is_logged(server_for, data) -> None:  # type: ignore[no-untyped-def]
    x, y = data
    forest, _ = _models(x, y)
    server = server_for("sqlite")
    with server.client() as c:
        _name, endpoint = _serve(c, forest, x, max_batch=32, max_wait_ms=40)
        url = f"{server.url}/api/v1/endpoints/{endpoint}/predict"

        def one(i: int) -> dict[str, Any]:
            r = httpx.post(url, json={"records": [x.iloc[i].to_dict()]}, timeout=30)
            assert r.status_code == 200, r.text
            return dict(r.json())

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(one, range(48)))
        assert [a["predictions"][0] for a in answers] == forest.predict(x.head(48)).tolist()

        deadline = time.monotonic() + 15
        spans: list[Any] = []
        while len(spans) < 48:
            assert time.monotonic() < deadline, f"only {len(spans)} prediction spans stored"
            spans = []
            for a in answers:
                with contextlib.suppress(NotFound):
                    spans.extend(c.tracing.get_trace(a["request_id"]).spans)
            time.sleep(0.2)
        first = spans[0]
        assert first.kind == "model" and first.attributes["shipyard.model.version"] == 1
        assert first.attributes["shipyard.endpoint"] == endpoint
        logged = json.loads(first.input) if isinstance(first.input, str) else first.input
        assert logged[0] == pytest.approx(x.iloc[int(np.flatnonzero(
            [a["request_id"] == first.trace_id for a in answers])[0])].to_dict())  # fmt: skip
        assert first.output is not None
        assert max(s.attributes["shipyard.batch_rows"] for s in spans) > 1  # shared calls


def test_embedded_endpoints_predict_in_process(tmp_path: Path, data) -> None:  # type: ignore[no-untyped-def]
    x, y = data
    forest, _ = _models(x, y)
    with Client(Settings.load(home=tmp_path / "home")) as c:
        c.ml.log_model(forest, "cancer", input_example=x.head())
        c.registry.set_alias("cancer", "champion", 1)
        c.ml.create_endpoint("cancer-api", model="cancer")
        answer = c.ml.predict("cancer-api", x.tail(5))
        assert answer.predictions == forest.predict(x.tail(5)).tolist()
        with pytest.raises(ValidationFailed, match="unexpected columns"):
            c.ml.predict("cancer-api", x.tail(1).assign(colour="red"))
    assert np.array_equal(forest.predict(x.tail(5)), np.asarray(answer.predictions))
