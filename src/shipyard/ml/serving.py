"""Model endpoints: a named endpoint serves the model version behind an alias, reloads when the
alias moves, checks every request against the model's signature, gathers concurrent requests
into micro-batches, and logs every prediction as a ``model`` span.

An endpoint is a registry entry of kind ``endpoint`` (versioned like any other; its first
version is ``production``) whose payload is an ``EndpointSpec``. Its request id is the trace
id of the prediction's span, so labels posted later find it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.errors import InvalidInput, ShipyardError
from shipyard.core.loading import LoadingCache
from shipyard.ml.drift import DriftOptions, DriftReport
from shipyard.ml.log import HOUR_MS, Performance, PredictionLog
from shipyard.ml.models import LoadedModel, open_model
from shipyard.ml.monitor import MonitorSpec
from shipyard.ml.signature import check_columns, frame_of, jsonable
from shipyard.registry.follow import AliasFollower
from shipyard.registry.schemas import DEFAULT_ALIAS, Kind, Version

if TYPE_CHECKING:
    from shipyard.core.batching import Batcher
    from shipyard.core.settings import MlSettings
    from shipyard.registry.service import RegistryService
    from shipyard.tracing.schemas import SpanIn

Download = Callable[[str, Path], None]
SMALL_REQUEST = 64  # rows checked on the event loop; larger requests in a worker thread
log = logging.getLogger("shipyard.ml")


class EndpointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="the registered model's name")
    alias: str = Field("champion", min_length=1, description="the alias the endpoint follows")
    max_batch: int = Field(64, ge=1, le=10_000, description="rows per model call at most")
    max_wait_ms: float = Field(2.0, ge=0, le=1000, description="how long a batch waits to fill")
    log_predictions: bool = Field(True, description="a model span per request")
    monitor: MonitorSpec | None = Field(None, description="scheduled drift/performance checks")


class Prediction(BaseModel):
    endpoint: str
    model: str
    version: int
    request_id: str
    predictions: list[Any]


class ModelFailed(ShipyardError):
    """The model raised on input that passed its signature."""


@dataclass
class _Waiting:
    columns: dict[str, Any]  # one checked array per signature column
    rows: int
    future: asyncio.Future[Any]


@dataclass
class MicroBatcher:
    """Concurrent requests for one model version, run as one call of up to ``max_batch`` rows
    (a request larger than that runs alone). The model runs in a worker thread."""

    run: Callable[[dict[str, Any], int], Any]
    max_batch: int
    max_wait_s: float
    queue: asyncio.Queue[_Waiting] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None

    async def submit(self, columns: dict[str, Any], rows: int) -> tuple[Any, Any, int]:
        """This request's outputs, their positive-class scores (binary classifiers, else
        None), and how many rows the model call that made them had."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(columns, rows, loop.create_future())
        self.queue.put_nowait(waiting)
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._drain())
        return await waiting.future

    async def _drain(self) -> None:
        import numpy as np

        while not self.queue.empty():
            batch = [self.queue.get_nowait()]
            rows = batch[0].rows
            deadline = time.monotonic() + self.max_wait_s
            while rows < self.max_batch:
                if self.queue.empty():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    await asyncio.sleep(min(left, 0.0005))
                    continue
                nxt = self.queue._queue[0]  # type: ignore[attr-defined]
                if rows + nxt.rows > self.max_batch:
                    break
                batch.append(self.queue.get_nowait())
                rows += nxt.rows
            if len(batch) == 1:
                columns = batch[0].columns
            else:
                columns = {c: np.concatenate([w.columns[c] for w in batch])
                           for c in batch[0].columns}  # fmt: skip
            try:
                out, scores = await asyncio.to_thread(self.run, columns, rows)
            except Exception as exc:  # the model's own failure, for every request in the batch
                for w in batch:
                    if not w.future.done():
                        w.future.set_exception(ModelFailed(f"the model failed: {exc}"))
                continue
            start = 0
            for w in batch:
                part = out.iloc[start : start + w.rows] if hasattr(out, "iloc") else np.asarray(
                    out)[start : start + w.rows]  # fmt: skip
                part_scores = None if scores is None else scores[start : start + w.rows]
                start += w.rows
                if not w.future.done():
                    w.future.set_result((part, part_scores, rows))


def _run(model: LoadedModel, columns: dict[str, Any], rows: int) -> tuple[Any, Any]:
    """Predictions, and for a binary classifier the positive class's probability (logged for
    ROC AUC)."""
    frame = frame_of(model.signature, columns, rows)
    if not model.binary:
        return model.flavor.predict(model.native, frame), None
    out, scores = model.flavor.predict_scored(model.native, frame)
    return out, None if scores is None else scores.tolist()


def outputs_as_json(out: Any) -> list[Any]:
    import numpy as np

    if hasattr(out, "to_dict"):
        return [{k: jsonable(v) for k, v in row.items()} for row in out.to_dict("records")]
    arr = np.asarray(out)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    return [jsonable(v) if np.ndim(v) == 0 else [jsonable(x) for x in v] for v in arr]


class ServingService:
    def __init__(
        self, settings: MlSettings, registry: RegistryService, download: Download,
        exporter: Batcher[SpanIn] | None = None,
        predictions: Batcher[dict[str, Any]] | None = None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.registry = registry
        self.download = download
        self.exporter = exporter
        self.predictions = predictions  # rows for the prediction log (shipyard.ml.log)
        self.aliases = AliasFollower(registry, settings.ml_alias_ttl_s)
        self._models: LoadingCache[tuple[str, int], LoadedModel] = LoadingCache(
            settings.ml_max_loaded
        )
        self._batchers: dict[tuple[str, int, int, float], MicroBatcher] = {}
        self._specs: dict[str, EndpointSpec] = {}

    # -- what an endpoint serves ---------------------------------------------------------
    def spec(self, name: str) -> EndpointSpec:
        version = self.aliases.fetch(name, Kind.endpoint, DEFAULT_ALIAS)
        found = self._specs.get(version.content_hash)
        if found is None:
            found = self._specs[version.content_hash] = EndpointSpec.model_validate(version.payload)
        return found

    def model(self, spec: EndpointSpec) -> LoadedModel:
        version = self.aliases.fetch(spec.model, Kind.model, spec.alias)
        return self._models.get((spec.model, version.version), lambda: self._load(version))

    def load_version(self, model: str, version: int) -> LoadedModel:
        """One version of a model, from the same cache the endpoints use."""
        found = self.registry.get_version(model, version=version)
        return self._models.get((model, version), lambda: self._load(found))

    def _load(self, version: Version) -> LoadedModel:
        manifest = dict(version.payload or {})
        folder = Path(tempfile.mkdtemp(prefix="shipyard-serve-"))
        try:
            for file_name, digest in manifest.get("files", {}).items():
                self.download(digest, folder / file_name)
            uri = f"models:/{version.name}/{version.version}"
            return open_model(manifest, folder, uri, version.version)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # -- predicting ----------------------------------------------------------------------
    def predict(self, name: str, data: Any) -> Prediction:
        """One request, in the calling thread (embedded use)."""
        spec, model = self.resolve_endpoint(name)
        started = time.time()
        columns, rows = check_columns(model.signature, data)
        try:
            out, scores = _run(model, columns, rows)
        except Exception as exc:
            raise ModelFailed(f"the model failed: {exc}") from None
        logged = data if isinstance(data, list) else None
        return self._answer(name, spec, model, logged, columns, (out, scores), started, rows)

    async def predict_async(self, name: str, data: Any) -> Prediction:
        """One request on the server: checked, then batched with its neighbours."""
        found = self.cached_endpoint(name)
        if found is None:
            found = await asyncio.to_thread(self.resolve_endpoint, name)
        spec, model = found
        started = time.time()
        if isinstance(data, list) and len(data) <= SMALL_REQUEST:
            columns, rows = check_columns(model.signature, data)  # microseconds: no thread hop
        else:
            columns, rows = await asyncio.to_thread(check_columns, model.signature, data)
        key = (spec.model, model.version or 0, spec.max_batch, spec.max_wait_ms)
        batcher = self._batchers.get(key)
        if batcher is None:
            batcher = self._batchers[key] = MicroBatcher(
                functools.partial(_run, model), spec.max_batch, spec.max_wait_ms / 1000
            )
        out, scores, batch_rows = await batcher.submit(columns, rows)
        logged = data if isinstance(data, list) else None
        return self._answer(name, spec, model, logged, columns, (out, scores), started,
                            batch_rows)  # fmt: skip

    def cached_endpoint(self, name: str) -> tuple[EndpointSpec, LoadedModel] | None:
        """The endpoint and its model when both lookups are fresh in memory (no I/O)."""
        endpoint = self.aliases.fresh(name, Kind.endpoint, DEFAULT_ALIAS)
        spec = self._specs.get(endpoint.content_hash) if endpoint is not None else None
        if spec is None:
            return None
        version = self.aliases.fresh(spec.model, Kind.model, spec.alias)
        if version is None:
            return None
        loaded = self._models.peek((spec.model, version.version))
        return (spec, loaded) if loaded is not None else None

    def resolve_endpoint(self, name: str) -> tuple[EndpointSpec, LoadedModel]:
        spec = self.spec(name)
        return spec, self.model(spec)

    def _answer(self, name: str, spec: EndpointSpec, model: LoadedModel, records: Any,
                columns: dict[str, Any], result: tuple[Any, Any], started: float,
                batch_rows: int) -> Prediction:  # fmt: skip
        predictions = outputs_as_json(result[0])
        request_id = uuid.uuid4().hex
        if not spec.log_predictions:
            return Prediction(endpoint=name, model=spec.model, version=model.version or 0,
                              request_id=request_id, predictions=predictions)  # fmt: skip
        if records is None:  # a DataFrame or a column dict: its checked columns as records
            names = list(columns)
            records = [dict(zip(names, (jsonable(v) for v in row), strict=True))
                       for row in zip(*columns.values(), strict=True)]  # fmt: skip
        if self.predictions is not None:
            scores = result[1] or [None] * len(predictions)
            ts, latency = int(started * 1000), (time.time() - started) * 1000
            self.predictions.add_many([
                {"request_id": request_id, "row": i, "endpoint": name, "model": spec.model,
                 "version": model.version or 0, "ts_ms": ts, "features": f, "prediction": p,
                 "score": s, "latency_ms": latency}
                for i, (f, p, s) in enumerate(zip(records, predictions, scores, strict=True))
            ])  # fmt: skip
        if self.exporter is not None:
            self._log(name, model, records, predictions, request_id, started, batch_rows)
        return Prediction(endpoint=name, model=spec.model, version=model.version or 0,
                          request_id=request_id, predictions=predictions)  # fmt: skip

    def _log(self, name: str, model: LoadedModel, records: list[Any], predictions: list[Any],
             request_id: str, started: float, batch_rows: int) -> None:  # fmt: skip
        from shipyard.tracing.schemas import SpanIn

        assert self.exporter is not None
        ended = time.time()
        self.exporter.add(SpanIn(
            trace_id=request_id, span_id=uuid.uuid4().hex[:16], name=f"predict {name}",
            kind="model", model=model.name, start_time_ms=started * 1000,
            end_time_ms=ended * 1000, status="ok",
            input=records, output=predictions,
            attributes={"shipyard.endpoint": name, "shipyard.model.name": model.name,
                        "shipyard.model.version": model.version or 0,
                        "shipyard.request_id": request_id, "shipyard.rows": len(records),
                        "shipyard.batch_rows": batch_rows},
        ))  # fmt: skip

    # -- the prediction log --------------------------------------------------------------
    def performance(
        self, name: str, log: PredictionLog, since_ms: int | None = None,
        until_ms: int | None = None, window_ms: int = HOUR_MS,
    ) -> Performance:  # fmt: skip
        """Metrics of the endpoint's labeled predictions, overall, per model version and per
        window; the task (classification or regression) is the current model's."""
        _, model = self.resolve_endpoint(name)
        self.flush()  # this process's predictions first
        regression = not model.classes and bool(model.signature.outputs) and all(
            o.type == "double" for o in model.signature.outputs)  # fmt: skip
        positive = model.classes[1] if model.classes and len(model.classes) == 2 else None
        return log.performance(name, "regression" if regression else "classification",
                               positive=positive, since_ms=since_ms, until_ms=until_ms,
                               window_ms=window_ms)  # fmt: skip

    def drift(
        self, name: str, log: PredictionLog, since_ms: int | None = None,
        until_ms: int | None = None, options: DriftOptions | None = None,
    ) -> DriftReport:  # fmt: skip
        """The current model version's production rows in a window (the last day by
        default) against the profile of its training data, the prediction included."""
        from shipyard.ml.drift import compare

        _, model = self.resolve_endpoint(name)
        if model.reference is None:
            raise InvalidInput(
                f"{model.uri} was logged without reference_data: log it with "
                f"reference_data=<training features> to watch its drift"
            )
        self.flush()
        until = until_ms if until_ms is not None else int(time.time() * 1000) + 1
        since = since_ms if since_ms is not None else until - 24 * HOUR_MS
        frame = log.window(name, model.version or 0, since, until)
        if frame.empty:
            raise InvalidInput(f"{name} made no predictions with {model.uri} in that window")
        return compare(model.reference, frame, options)

    def flush(self) -> None:
        """Write the predictions this process logged so far."""
        if self.predictions is not None:
            self.predictions.flush()

    def warm_all(self) -> None:
        """Load the model behind every endpoint's production version (at server start)."""
        try:
            names = [e.name for e in self.registry.list_entries(Kind.endpoint)]
        except Exception:  # a store that is not ready yet: the first request loads instead
            log.warning("could not list model endpoints to warm them", exc_info=True)
            return
        for name in names:
            try:
                self.resolve_endpoint(name)
            except Exception as exc:  # one broken endpoint must not stop the others
                log.warning("endpoint %s not loaded: %s", name, exc)

    def close(self) -> None:
        self._models.clear()


def read_payload(body: Any) -> Any:
    """The rows of a predict request: ``{"records": [...]}`` (also MLflow's
    ``dataframe_records``, ``dataframe_split`` and ``inputs``, and ``instances``)."""
    if not isinstance(body, dict):
        raise InvalidInput('send a JSON object such as {"records": [{"column": value}]}')
    for key in ("records", "dataframe_records", "instances"):
        if key in body:
            if not isinstance(body[key], list):
                raise InvalidInput(f"{key} must be a list of records")
            return body[key]
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        if (
            not isinstance(split, dict)
            or not isinstance(split.get("columns"), list)
            or not isinstance(split.get("data"), list)
        ):
            raise InvalidInput("dataframe_split takes {columns: [...], data: [[...], ...]}")
        columns = split["columns"]
        rows = split["data"]
        if any(not isinstance(r, list) or len(r) != len(columns) for r in rows):
            raise InvalidInput(f"every row of dataframe_split needs {len(columns)} values")
        return [dict(zip(columns, r, strict=True)) for r in rows]
    if "inputs" in body and isinstance(body["inputs"], dict | list):
        return body["inputs"]
    raise InvalidInput('send {"records": [{"column": value}, ...]}')


def check_spec(raw: dict[str, Any]) -> EndpointSpec:
    try:
        return EndpointSpec.model_validate(raw)
    except ValueError as exc:
        raise InvalidInput(f"endpoint: {exc}") from None
