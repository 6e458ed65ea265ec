"""Model endpoints: /api/v1/endpoints (Shipyard's JSON) and /v2 (the Open Inference protocol)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from shipyard.core.identity import Actor
from shipyard.ml.drift import DriftReport
from shipyard.ml.log import HOUR_MS, Labels, Performance
from shipyard.ml.monitor import Alert, CheckResult
from shipyard.ml.retrain import Decision
from shipyard.ml.serving import Prediction, read_payload
from shipyard.ml.v2 import InferRequest, output_tensors, to_columns
from shipyard.platform import Platform
from shipyard.registry.schemas import Entry, Kind
from shipyard.server.deps import editor, platform, viewer

router = APIRouter(prefix="/api/v1/endpoints", tags=["ml"])
v2 = APIRouter(prefix="/v2", tags=["ml"])


class EndpointList(BaseModel):
    endpoints: list[Entry]


@router.get("")
def list_endpoints(p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> EndpointList:
    return EndpointList(endpoints=p.registry.list_entries(Kind.endpoint))


@router.post("/{name}/predict")
async def predict(
    name: str, response: Response, body: Any = Body(...), p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Prediction:  # fmt: skip
    """Predictions for JSON records from the model version behind the endpoint's alias."""
    answer = await p.serving.predict_async(name, read_payload(body))
    response.headers["x-request-id"] = answer.request_id
    return answer


@router.post("/{name}/labels")
def labels(
    name: str, req: Labels, p: Platform = Depends(platform), _: Actor = Depends(editor)
) -> dict[str, int]:
    """Ground truth for earlier predictions, by request id (and row); a label posted again
    replaces the earlier one."""
    return {"stored": p.prediction_log.label(req)}


class AlertList(BaseModel):
    alerts: list[Alert]


class RetrainRequest(BaseModel):
    reason: str = Field(default="asked for", max_length=2000)


@router.post("/{name}/check")
def check(name: str, p: Platform = Depends(platform), _: Actor = Depends(editor)) -> CheckResult:
    """Check the endpoint now, as its schedule would: drift and performance over its monitor's
    window; alerts sent (unless debounced) and retraining started as its spec says."""
    return p.monitor.check(name)


@router.get("/{name}/alerts")
def alerts(
    name: str, limit: int = Query(100, ge=1, le=1000), p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> AlertList:  # fmt: skip
    """The endpoint's alerts, newest first, with their deliveries and retraining decisions."""
    p.serving.spec(name)  # 404 for an unknown endpoint
    return AlertList(alerts=p.monitor.alerts(name, limit))


@router.post("/{name}/retrain")
def retrain(
    name: str, req: RetrainRequest | None = None, p: Platform = Depends(platform),
    _: Actor = Depends(editor),
) -> Decision:  # fmt: skip
    """Run the endpoint's retraining now: its pipeline makes a challenger, which replaces the
    champion only if it wins on recent labeled rows by the configured margin."""
    assert p.monitor.retrain is not None
    return p.monitor.retrain(name, (req or RetrainRequest()).reason)


@router.get("/{name}/performance")
def performance(
    name: str, since_ms: int | None = None, until_ms: int | None = None,
    window_ms: int = Query(HOUR_MS, ge=1000), p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Performance:  # fmt: skip
    """Metrics of the labeled predictions: overall, per model version, per window."""
    return p.serving.performance(name, p.prediction_log, since_ms, until_ms, window_ms)


@router.get("/{name}/drift", response_model=None)
def drift(
    name: str, since_ms: int | None = None, until_ms: int | None = None,
    format: str = Query("json", pattern="^(json|html)$"), p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> DriftReport | HTMLResponse:  # fmt: skip
    """The current model's production rows in a window against its training data's profile;
    ``format=html`` gives the one-page report (charts, no rows)."""
    report = p.serving.drift(name, p.prediction_log, since_ms, until_ms)
    if format == "html":
        from shipyard.ml.drift.html import render

        return HTMLResponse(render(report, f"Data drift: endpoint {name}"))
    return report


@v2.get("/health/live")
def live() -> dict[str, bool]:
    return {"live": True}


@v2.get("/health/ready")
def ready() -> dict[str, bool]:
    return {"ready": True}


@v2.get("/models/{name}")
def metadata(name: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> Any:
    model = p.serving.resolve_endpoint(name)[1]
    v2_types = {"double": "FP64", "long": "INT64", "boolean": "BOOL", "string": "BYTES",
                "datetime": "BYTES"}  # fmt: skip
    sig = model.signature
    return {"name": name, "versions": [str(model.version)], "platform": "shipyard",
            "inputs": [{"name": c.name, "datatype": v2_types[c.type], "shape": [-1]}
                       for c in sig.inputs],
            "outputs": [{"name": c.name, "datatype": v2_types[c.type], "shape": [-1]}
                        for c in sig.outputs]}  # fmt: skip


@v2.get("/models/{name}/ready")
def model_ready(name: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> Any:
    model = p.serving.resolve_endpoint(name)[1]
    return {"name": name, "ready": True, "version": str(model.version)}


@v2.post("/models/{name}/infer")
async def infer(
    name: str, req: InferRequest, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> Any:
    """Open Inference protocol: one tensor per column, or one [rows, columns] tensor."""
    import asyncio

    model = (await asyncio.to_thread(p.serving.resolve_endpoint, name))[1]
    answer = await p.serving.predict_async(name, to_columns(req, model.signature))
    outputs = output_tensors(answer.predictions)
    return {"model_name": name, "model_version": str(answer.version),
            "id": req.id or answer.request_id, "outputs": outputs}  # fmt: skip
