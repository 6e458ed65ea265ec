"""``client.ml``: log and load models, define endpoints, and get predictions.

Predictions run in this process when the client is embedded (no batching: one call per
request), and on the server when remote (``POST /api/v1/endpoints/NAME/predict``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
from pydantic import ValidationError

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.core.plugins import options_problem
from shipyard.ml import models
from shipyard.ml.drift import DriftReport
from shipyard.ml.log import HOUR_MS, LabelIn, Labels, Performance
from shipyard.ml.monitor import Alert, CheckResult
from shipyard.ml.retrain import Decision
from shipyard.ml.serving import Prediction, check_spec
from shipyard.ml.signature import as_frame
from shipyard.registry.api import create_labelled_version
from shipyard.registry.schemas import Kind, with_article

if TYPE_CHECKING:
    from shipyard.ml.models import LoadedModel, ModelInfo
    from shipyard.registry.schemas import Version
    from shipyard.sdk import Client


JOB_TIMEOUT_S = 3600.0  # a check may retrain: a pipeline run on the server


class Ml:
    def __init__(self, client: Client) -> None:
        self.client = client

    def log_model(self, model: Any, name: str, **options: Any) -> ModelInfo:
        """See ``shipyard.ml.log_model``."""
        return models.log_model(self.client, model, name, **options)

    def load_model(self, uri: str, *, trusted: list[str] | None = None) -> LoadedModel:
        return models.load_model(self.client, uri, trusted=trusted)

    def create_endpoint(
        self, name: str, *, description: str = "", promote: bool = True, **spec: Any
    ) -> Version:
        """A new version of endpoint ``name`` (model, alias, max_batch, max_wait_ms,
        log_predictions, monitor), served at once: its ``production`` label moves to it
        (``promote=False`` keeps the served version; roll back by moving the label back).
        The model must exist."""
        endpoint = check_spec(spec)
        try:
            found = self.client.registry.get_entry(endpoint.model)
        except NotFound:
            raise NotFound(f"no model {endpoint.model!r}: log and register it first") from None
        if found.kind != Kind.model:
            raise InvalidInput(f"{endpoint.model} is {with_article(found.kind)}, not a model")
        payload = endpoint.model_dump(mode="json")
        registry = self.client.registry
        version = create_labelled_version(registry, name, Kind.endpoint, payload, description)
        if promote and registry.get_entry(name).aliases.get("production") != version.version:
            registry.set_alias(name, "production", version.version, "endpoint updated")
        self.warm(name)
        return version

    def warm(self, endpoint: str) -> None:
        """Load the endpoint's model where it is served, so no request waits for it; a model
        that cannot load yet (no version behind the alias) is loaded by the first request."""
        try:
            if not self.client.settings.remote:
                self.client._platform.serving.resolve_endpoint(endpoint)
            else:
                path = f"/v2/models/{quote(endpoint, safe='')}/ready"
                self.client._transport.call("GET", path)
        except NotFound:
            pass

    def log_labels(self, endpoint: str, labels: list[dict[str, Any]]) -> int:
        """Ground truth by request id: ``{"request_id", "label"[, "row"]}`` or
        ``{"request_id", "labels": [one per row]}``."""
        try:
            req = Labels(labels=[LabelIn.model_validate(x) for x in labels])
        except ValidationError as exc:
            raise options_problem("labels", exc) from None
        if not self.client.settings.remote:
            return self.client._platform.prediction_log.label(req)
        path = f"/api/v1/endpoints/{quote(endpoint, safe='')}/labels"
        body = req.model_dump(mode="json", exclude_none=True)
        return int(self.client._transport.call("POST", path, json=body)["stored"])

    def performance(
        self, endpoint: str, *, since_ms: int | None = None, until_ms: int | None = None,
        window_ms: int = HOUR_MS,
    ) -> Performance:  # fmt: skip
        """Accuracy, precision, recall, F1, ROC AUC (classifiers) or MAE, RMSE, R²
        (regressors) of the labeled predictions: overall, per model version, per window."""
        if not self.client.settings.remote:
            plat = self.client._platform
            return plat.serving.performance(endpoint, plat.prediction_log, since_ms, until_ms,
                                            window_ms)  # fmt: skip
        params = {k: v for k, v in {"since_ms": since_ms, "until_ms": until_ms,
                                    "window_ms": window_ms}.items() if v is not None}  # fmt: skip
        path = f"/api/v1/endpoints/{quote(endpoint, safe='')}/performance"
        return Performance.model_validate(self.client._transport.call("GET", path, params=params))

    def drift(
        self, endpoint: str, *, since_ms: int | None = None, until_ms: int | None = None
    ) -> DriftReport:
        """The endpoint's production rows in a window (the last day by default) against the
        profile of the current model's training data (``log_model(reference_data=...)``)."""
        if not self.client.settings.remote:
            plat = self.client._platform
            return plat.serving.drift(endpoint, plat.prediction_log, since_ms, until_ms)
        params = {k: v for k, v in {"since_ms": since_ms, "until_ms": until_ms}.items()
                  if v is not None}  # fmt: skip
        path = f"/api/v1/endpoints/{quote(endpoint, safe='')}/drift"
        return DriftReport.model_validate(self.client._transport.call("GET", path, params=params))

    def check(self, endpoint: str) -> CheckResult:
        """Check the endpoint now, as its monitor's schedule would (alerts and retraining
        included); an endpoint without a monitor is checked with the defaults."""
        if not self.client.settings.remote:
            return self.client._platform.monitor.check(endpoint)
        path = f"/api/v1/endpoints/{quote(endpoint, safe='')}/check"
        return CheckResult.model_validate(
            self.client._transport.call("POST", path, timeout=JOB_TIMEOUT_S)
        )

    def alerts(self, endpoint: str, limit: int = 100) -> list[Alert]:
        if not self.client.settings.remote:
            self.client._platform.serving.spec(endpoint)
            return self.client._platform.monitor.alerts(endpoint, limit)
        path = f"/api/v1/endpoints/{quote(endpoint, safe='')}/alerts"
        found = self.client._transport.call("GET", path, params={"limit": limit})
        return [Alert.model_validate(a) for a in found["alerts"]]

    def retrain(self, endpoint: str, reason: str = "asked for") -> Decision:
        """Run the endpoint's retraining pipeline now; its model becomes ``challenger`` and
        replaces the champion only if it wins on recent labeled rows by the margin."""
        if not self.client.settings.remote:
            monitor = self.client._platform.monitor
            assert monitor.retrain is not None
            return monitor.retrain(endpoint, reason)
        path = f"/api/v1/endpoints/{quote(endpoint, safe='')}/retrain"
        body = {"reason": reason}
        return Decision.model_validate(
            self.client._transport.call("POST", path, json=body, timeout=JOB_TIMEOUT_S)
        )

    def predict(self, endpoint: str, data: Any) -> Prediction:
        """Predictions from an endpoint for records, a column dict or a DataFrame."""
        if not self.client.settings.remote:
            return self.client._platform.serving.predict(endpoint, data)
        frame = as_frame(data)
        records = orjson.loads(frame.to_json(orient="records", date_format="iso"))
        path = f"/api/v1/endpoints/{quote(endpoint, safe='')}/predict"
        return Prediction.model_validate(
            self.client._transport.call("POST", path, json={"records": records})
        )
