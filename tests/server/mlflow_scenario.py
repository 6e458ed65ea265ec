"""What a team's MLflow code does, run by the real ``mlflow`` client against the server at
``MLFLOW_TRACKING_URI``; prints one JSON object with what the client saw (for the test)."""

from __future__ import annotations

import json
import sys
import tempfile
import warnings

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

warnings.filterwarnings("ignore")
experiment, model_name = sys.argv[1], sys.argv[2]
mlflow.set_experiment(experiment)
x, y = load_iris(return_X_y=True, as_frame=True)
with mlflow.start_run(run_name="baseline") as run:
    mlflow.log_param("C", 0.5)
    mlflow.log_params({"max_iter": 300, "solver": "lbfgs"})
    mlflow.log_metric("acc", 0.9)
    for step, loss in enumerate([0.9, 0.5, 0.3]):
        mlflow.log_metric("loss", loss, step=step)
    mlflow.log_metrics({"f1": 0.8, "auc": 0.95})
    mlflow.set_tag("team", "ml")
    mlflow.set_tags({"stage": "dev"})
    model = LogisticRegression(C=0.5, max_iter=300).fit(x, y)
    info = mlflow.sklearn.log_model(model, name="model", input_example=x.head(3),
                                    registered_model_name=model_name)  # fmt: skip
    mlflow.log_dict({"a": 1}, "extra/config.json")
with mlflow.start_run(run_name="worse"):
    mlflow.log_param("C", 0.01)
    mlflow.log_metric("acc", 0.4)
    mlflow.set_tag("team", "ml")

client = MlflowClient()
client.set_registered_model_alias(model_name, "champion", info.registered_model_version)
by_alias = client.get_model_version_by_alias(model_name, "champion")
loaded = mlflow.pyfunc.load_model(f"models:/{model_name}@champion")
predicted = loaded.predict(x.head(5)).tolist()
from_run = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
found = mlflow.search_runs(experiment_names=[experiment],
                           filter_string="metrics.acc > 0.5 and params.C = '0.5'",
                           order_by=["metrics.acc DESC"])  # fmt: skip
tagged = client.search_runs([run.info.experiment_id], "tags.team = 'ml'",
                            order_by=["metrics.acc ASC"])  # fmt: skip
fetched = client.get_run(run.info.run_id)
history = client.get_metric_history(run.info.run_id, "loss")
artifacts = [a.path for a in client.list_artifacts(run.info.run_id)]
folder = tempfile.mkdtemp()
downloaded = client.download_artifacts(run.info.run_id, "extra", folder)
with open(f"{downloaded}/config.json") as f:
    config = json.load(f)
registered = [m.name for m in client.search_registered_models()]
versions = client.search_model_versions(f"name='{model_name}'")
missing = mlflow.get_experiment_by_name("no-such-experiment")
client.delete_registered_model_alias(model_name, "champion")
try:
    client.get_model_version_by_alias(model_name, "champion")
    alias_gone = False
except mlflow.exceptions.MlflowException:
    alias_gone = True
print(
    json.dumps(
        {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "model_version": info.registered_model_version,
            "alias_version": by_alias.version,
            "alias_run": by_alias.run_id,
            "predicted": predicted,
            "expected": model.predict(x.head(5)).tolist(),
            "from_run": from_run.predict(x.head(5)).tolist(),
            "found": found["run_id"].tolist(),
            "found_acc": found["metrics.acc"].tolist(),
            "tagged": [r.info.run_name for r in tagged],
            "params": fetched.data.params,
            "metrics": fetched.data.metrics,
            "tags": fetched.data.tags,
            "status": fetched.info.status,
            "history": [(m.step, m.value) for m in history],
            "artifacts": artifacts,
            "config": config,
            "registered": registered,
            "versions": [(v.version, v.status, v.run_id) for v in versions],
            "missing_is_none": missing is None,
            "alias_gone": alias_gone,
        }
    )
)
