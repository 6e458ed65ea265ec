"""The official ``mlflow`` client against a real Shipyard server, on SQLite and PostgreSQL: a
team's MLflow code runs unchanged with ``MLFLOW_TRACKING_URI`` pointing at Shipyard, and what
it logged is Shipyard's own runs, registry versions and aliases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from shipyard.core.errors import ValidationFailed

SCENARIO = Path(__file__).with_name("mlflow_scenario.py")


def _mlflow(url: str, *args: str, cwd: Path) -> dict[str, Any]:
    env = {**os.environ, "MLFLOW_TRACKING_URI": url, "MLFLOW_DISABLE_TELEMETRY": "true",
           "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}  # fmt: skip
    env.pop("SHIPYARD_URL", None)
    done = subprocess.run([sys.executable, str(SCENARIO), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_mlflow_client_works_unchanged_against_shipyard(
    server_for, dialect: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    server = server_for(dialect)
    experiment, model = f"mlflow-{uuid.uuid4().hex[:6]}", f"iris-{uuid.uuid4().hex[:6]}"
    seen = _mlflow(server.url, experiment, model, cwd=tmp_path)

    assert seen["predicted"] == seen["expected"] and seen["from_run"] == seen["expected"]
    assert seen["model_version"] == "1" and seen["alias_version"] == "1"
    assert seen["alias_run"] == seen["run_id"]
    assert seen["found"] == [seen["run_id"]] and seen["found_acc"] == [0.9]
    assert seen["tagged"] == ["worse", "baseline"]  # ordered by metrics.acc ASC
    assert seen["params"] == {"C": "0.5", "max_iter": "300", "solver": "lbfgs"}
    assert seen["metrics"] == {"acc": 0.9, "auc": 0.95, "f1": 0.8, "loss": 0.3}
    assert seen["tags"]["team"] == "ml" and seen["tags"]["stage"] == "dev"
    assert seen["tags"]["mlflow.runName"] == "baseline" and seen["status"] == "FINISHED"
    assert seen["history"] == [[0, 0.9], [1, 0.5], [2, 0.3]]
    assert seen["artifacts"] == ["extra"] and seen["config"] == {"a": 1}
    assert model in seen["registered"]
    assert seen["versions"] == [["1", "READY", seen["run_id"]]]
    assert seen["missing_is_none"] and seen["alias_gone"]

    # What MLflow logged is Shipyard's own: the run, the version and its lineage.
    client = server.client()
    run = client.tracking.get_run(seen["run_id"])
    assert client.tracking.get_experiment(experiment).id == seen["experiment_id"]
    assert run.params["C"] == "0.5" and run.metrics["acc"] == 0.9 and run.status == "FINISHED"
    version = client.registry.get_version(model, version=1)
    assert version.kind == "model" and version.source_run_id == seen["run_id"]
    assert {"MLmodel", "model.skops"} <= set(version.payload["files"])
    assert client.registry.lineage(model, 1).run.id == seen["run_id"]  # type: ignore[union-attr]
    events = client.registry.history(model, "champion")
    assert [(e.action, e.to_version) for e in events] == [("set", 1), ("delete", None)]

    # A model registered through MLflow is a Shipyard model: it loads, and an endpoint serves it.
    from sklearn.datasets import load_iris

    rows = load_iris(as_frame=True).data.head(5)
    assert client.ml.load_model(f"models:/{model}/1").predict(rows).tolist() == seen["expected"]
    client.registry.set_alias(model, "champion", 1)
    client.ml.create_endpoint(f"{model}-api", model=model)
    served = client.ml.predict(f"{model}-api", rows)
    assert served.predictions == seen["expected"] and served.version == 1
    with pytest.raises(ValidationFailed, match="missing columns"):
        client.ml.predict(f"{model}-api", rows.drop(columns=["petal width (cm)"]))


def test_mlflow_errors_come_back_in_mlflow_shape(server_for) -> None:  # type: ignore[no-untyped-def]
    base = server_for("sqlite").url
    with httpx.Client(base_url=base, timeout=30) as http:
        missing = http.get("/api/2.0/mlflow/experiments/get-by-name",
                           params={"experiment_name": "nope"})  # fmt: skip
        assert missing.status_code == 404
        assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        unknown = http.post("/api/2.0/mlflow/no-such-endpoint", json={})
        assert unknown.status_code == 404 and unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"
        bad = http.post("/api/2.0/mlflow/runs/log-metric", json={"key": "x", "value": 1})
        assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "run_id" in bad.json()["message"]
        broken = http.post("/api/2.0/mlflow/runs/create", content=b"{not json",
                           headers={"content-type": "application/json"})  # fmt: skip
        assert broken.status_code == 400
        assert broken.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        made = http.post("/api/2.0/mlflow/experiments/create", json={"name": f"e-{uuid.uuid4()}"})
        created = http.post("/api/2.0/mlflow/runs/create",
                            json={"experiment_id": made.json()["experiment_id"]})  # fmt: skip
        run = created.json()["run"]
        nan = http.post("/api/2.0/mlflow/runs/log-metric",
                        json={"run_id": run["info"]["run_id"], "key": "m", "value": "NaN",
                              "timestamp": 1, "step": 0})  # fmt: skip
        assert nan.status_code == 200
        word = http.post("/api/2.0/mlflow/runs/log-metric",
                         json={"run_id": run["info"]["run_id"], "key": "m", "value": "high",
                               "timestamp": 1, "step": 0})  # fmt: skip
        assert word.status_code == 400 and "not a number" in word.json()["message"]
        outside = http.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": "../etc"})
        assert outside.status_code == 400


JUNK: list[Any] = [
    {}, [], "text", 7, {"run_id": {"a": 1}}, {"run_id": "nope", "key": "k", "value": "v"},
    {"experiment_ids": 5, "max_results": "many"}, {"metrics": "x", "run_id": "r"},
    {"tags": 3, "name": "x"}, {"experiment_id": ["0"], "start_time": "soon"},
    {"name": 1, "version": "one", "alias": {}}, {"status": "SOMETIMES", "run_id": "r"},
    {"models": [{"model_id": 4, "step": "x"}], "run_id": "r"},
    {"filter": "name = ", "max_results": -1},
]  # fmt: skip


def test_no_junk_request_to_the_mlflow_api_is_a_500(server_for) -> None:  # type: ignore[no-untyped-def]
    server = server_for("sqlite")
    routes = [(m, r.path) for r in server_app_routes() for m in r.methods
              if r.path.startswith(("/api/2.0/mlflow", "/api/3.0/mlflow"))]  # fmt: skip
    assert len(routes) > 30
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for method, path in routes:
            url = (
                path.replace("{model_id}", "m-0")
                .replace("{key:path}", "k")
                .replace("{path:path}", "1/2/artifacts/x")
            )
            for body in JUNK:
                resp = http.request(method, url, json=body, params={"path": "x", "name": "y"})
                assert resp.status_code < 500, (method, url, body, resp.text)
                if resp.status_code >= 400:
                    assert "error_code" in resp.json(), (method, url, resp.text)


def server_app_routes() -> list[Any]:
    from shipyard.server.mlflow import artifacts, logged_models, registry, tracking

    routers = (tracking.router, logged_models.router, registry.router, artifacts.router,
               artifacts.info)  # fmt: skip
    return [r for router in routers for r in router.routes if hasattr(r, "methods")]
