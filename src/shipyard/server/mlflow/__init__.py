"""MLflow's REST API on Shipyard's tracking and registry, so that the official ``mlflow``
client works against a Shipyard server: ``MLFLOW_TRACKING_URI=http://shipyard:8000``.

Served: experiments, runs (create, get, update, log-metric/-parameter/-batch/-inputs, set-tag,
outputs, search), metric history, MLflow 3 logged models, registered models, model versions,
aliases, and the ``mlflow-artifacts`` file protocol. Errors come back in MLflow's shape
(``{"error_code", "message"}``). Ids are Shipyard's; experiment ``"0"`` is Shipyard's
``default`` experiment.
"""
