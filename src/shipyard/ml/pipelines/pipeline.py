"""Pipelines: steps wired by their inputs and outputs, run as one tracked run.

    pipe = Pipeline("churn", [load, split, train, evaluate], model="model",
                    register="churn-clf", reference="X_train", input_example="X_test")
    result = pipe.run(params={"C": 0.5}, executor="dask://127.0.0.1:8786")
    result["metrics"], result.model.uri, result.run_id

A run is a tracked run (experiment ``pipeline/NAME`` unless given) with one nested run per step.
Its params are the pipeline parameters; its inputs are the digests of every table or array a
step produced (lineage: datasets → run → model version); a ``metrics`` output (a dict of
numbers) is logged as its metrics. A step whose cache key was computed by an earlier finished
run is not run again: its outputs are taken from that run (``tags.shipyard.cached_from``), and
they are only read when a later step must run on them.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import math
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cloudpickle
import orjson

from shipyard.core.errors import InvalidInput, ShipyardError
from shipyard.ml.pipelines.executors import (
    content_digest,
    execute_step,
    open_executor,
    param_digest,
)
from shipyard.ml.pipelines.steps import Step, plan
from shipyard.tracking.schemas import DatasetInput, MetricPoint, UpdateRun

if TYPE_CHECKING:
    from shipyard.ml.models import ModelInfo
    from shipyard.registry.schemas import Version
    from shipyard.sdk import Client

CACHE_TAG = "shipyard.cache_key"
Progress = Callable[[str, str, int, int], None]  # (event, step, steps done, steps in all)


class StepFailed(ShipyardError):
    """A pipeline step raised: the run is marked FAILED."""

    status = 500


@dataclass
class StepResult:
    name: str
    status: str  # "ran" or "cached"
    seconds: float
    cache_key: str
    run_id: str
    outputs: dict[str, str]  # output → content digest


@dataclass
class _Output:
    digest: str
    dataset: dict[str, Any] | None
    blob: bytes | None = None  # made by this run
    source: tuple[str, str] | None = None  # (run id, artifact path) of a cached step
    loaded: bool = False
    value: Any = None


@dataclass
class PipelineResult:
    pipeline: str
    run_id: str
    steps: list[StepResult]
    model: ModelInfo | None
    _outputs: dict[str, _Output] = field(repr=False)
    _load: Callable[[_Output], Any] = field(repr=False)

    def __getitem__(self, output: str) -> Any:
        if output not in self._outputs:
            raise KeyError(f"no output {output!r}: the outputs are {sorted(self._outputs)}")
        return self._load(self._outputs[output])

    @property
    def cached(self) -> list[str]:
        return [s.name for s in self.steps if s.status == "cached"]

    @property
    def ran(self) -> list[str]:
        return [s.name for s in self.steps if s.status == "ran"]


class Pipeline:
    def __init__(
        self, name: str, steps: Sequence[Step], *, model: str | None = None,
        register: str | None = None, reference: str | None = None,
        input_example: str | None = None, experiment: str | None = None,
    ) -> None:  # fmt: skip
        self.name = name
        self.order, self.producer, self.free = plan(steps)
        for what, out in (("model", model), ("reference", reference),
                          ("input_example", input_example)):  # fmt: skip
            if out is not None and out not in self.producer:
                raise InvalidInput(f"{what}={out!r} is not an output of any step of {name}")
        if register and not model:
            raise InvalidInput("register= needs model=: which output is the model")
        self.model, self.register = model, register
        self.reference, self.input_example = reference, input_example
        self.experiment = experiment or f"pipeline/{name}"

    @property
    def params(self) -> dict[str, Any]:
        """The pipeline's parameters and their defaults (``...``: required)."""
        return dict(self.free)

    def resolve_params(self, given: dict[str, Any] | None) -> dict[str, Any]:
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.free))
        if unknown:
            known = ", ".join(sorted(self.free)) or "none"
            raise InvalidInput(f"unknown parameter(s) {unknown}: the parameters of {self.name} "
                               f"are {known}")  # fmt: skip
        values = {k: given.get(k, d) for k, d in self.free.items()}
        missing = sorted(k for k, v in values.items() if v is ...)
        if missing:
            raise InvalidInput(f"{self.name} needs the parameter(s) {missing}")
        return values

    def run(
        self, params: dict[str, Any] | None = None, *, client: Client | None = None,
        executor: str = "process", workers: int | None = None, cache: bool = True,
        alias: str | None = None, progress: Progress | None = None,
        register: str | None = None,
    ) -> PipelineResult:  # fmt: skip
        """Run the steps (those whose inputs are ready run side by side); register the model
        output as the pipeline's ``register`` (or this call's), and point ``alias`` at it."""
        from shipyard.sdk import get_client

        if register and not self.model:
            raise InvalidInput(f"register= needs a model output: {self.name} has none")
        values = self.resolve_params(params)
        run = _Run(self, client or get_client(), values, cache, progress)
        run.register = register or self.register
        return run.go(executor, workers, alias)


class _Run:
    def __init__(self, pipe: Pipeline, client: Client, params: dict[str, Any], cache: bool,
                 progress: Progress | None) -> None:  # fmt: skip
        self.pipe, self.client, self.params, self.use_cache = pipe, client, params, cache
        self.progress = progress or (lambda *_: None)
        self.outputs: dict[str, _Output] = {}
        self.results: list[StepResult] = []
        self.register = pipe.register
        self.run_id = ""

    def go(self, executor: str, workers: int | None, alias: str | None) -> PipelineResult:
        pipe, client = self.pipe, self.client
        run = client.start_run(
            pipe.experiment,
            run_name=pipe.name,
            tags={"shipyard.pipeline": pipe.name, "shipyard.executor": executor},
        )
        self.run_id = run.id
        try:
            run.log_params({k: _param_text(v) for k, v in self.params.items()})
            self._log_table_params()
            if executor != "inline":
                _ship_by_value(self.pipe.order)
            pool, close = open_executor(executor, workers)
            try:
                self._schedule(pool)
            finally:
                close()
            self._log_lineage()
            model = self._register(alias)
        except BaseException:
            run.end("FAILED")
            raise
        run.end("FINISHED")
        return PipelineResult(pipe.name, run.id, self.results, model, self.outputs, self._load)

    # -- scheduling ----------------------------------------------------------------------------

    def _schedule(self, pool: cf.Executor) -> None:
        pending = list(self.pipe.order)
        running: dict[cf.Future[Any], tuple[Step, str, str]] = {}
        total = len(pending)
        while pending or running:
            for s in [s for s in pending if all(i in self.outputs for i in s.inputs
                                                if i in self.pipe.producer)]:  # fmt: skip
                pending.remove(s)
                key = self._cache_key(s)
                if self._reuse(s, key):
                    self.progress("cached", s.name, len(self.results), total)
                    continue
                self.progress("start", s.name, len(self.results), total)
                child = self._child_run(s, {})
                payload = cloudpickle.dumps((s, self._inputs(s)))
                running[pool.submit(execute_step, payload)] = (s, key, child)
            if not running:
                continue
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                s, key, child = running.pop(fut)
                self._finish(s, key, child, fut)
                self.progress("done", s.name, len(self.results), total)

    def _cache_key(self, s: Step) -> str:
        h = hashlib.sha256(s.code_hash().encode())
        for name in s.inputs:
            out = self.outputs.get(name) if name in self.pipe.producer else None
            h.update(f"\0{name}=".encode())
            h.update((out.digest if out else param_digest(self._param(s, name))).encode())
        return h.hexdigest()

    def _param(self, s: Step, name: str) -> Any:
        value = self.params.get(name, ...)
        return s.defaults.get(name) if value is ... else value

    def _inputs(self, s: Step) -> dict[str, Any]:
        return {n: self._load(self.outputs[n]) if n in self.pipe.producer else self._param(s, n)
                for n in s.inputs}  # fmt: skip

    def _child_run(self, s: Step, tags: dict[str, str]) -> str:
        from shipyard.tracking.schemas import CreateRun

        req = CreateRun(
            experiment=self.pipe.experiment,
            name=s.name,
            parent_run_id=self.run_id,
            tags={"shipyard.pipeline": self.pipe.name, "shipyard.step": s.name, **tags},
        )
        return self.client.tracking.create_run(req).id

    # -- the cache -----------------------------------------------------------------------------

    def _reuse(self, s: Step, key: str) -> bool:
        if not (self.use_cache and s.cache):
            return False
        page = self.client.search_runs(
            f"tags.`{CACHE_TAG}` = '{key}' and status = 'FINISHED'", max_results=1
        )
        if not page.runs:
            return False
        source = page.runs[0]
        made = orjson.loads(source.tags.get("shipyard.outputs", "{}"))
        if set(made) != set(s.outputs):
            return False
        for name, info in made.items():
            self.outputs[name] = _Output(info["digest"], info.get("dataset"),
                                         source=(source.id, f"outputs/{name}.pkl"))  # fmt: skip
        child = self._child_run(s, {"shipyard.cached_from": source.id})
        self.client.tracking.update_run(child, UpdateRun(status="FINISHED"))  # type: ignore[arg-type]
        digests = {n: i["digest"] for n, i in made.items()}
        self.results.append(StepResult(s.name, "cached", 0.0, key, child, digests))
        return True

    def _finish(self, s: Step, key: str, child: str, fut: cf.Future[Any]) -> None:
        tracking = self.client.tracking
        exc = fut.exception()
        if exc is not None:
            tracking.set_tags(child, {"shipyard.error": f"{type(exc).__name__}: {exc}"[:2000]})
            tracking.update_run(child, UpdateRun(status="FAILED"))  # type: ignore[arg-type]
            if isinstance(exc, ShipyardError):
                raise exc
            raise StepFailed(f"step {s.name} failed: {type(exc).__name__}: {exc}") from exc
        reply = fut.result()
        made: dict[str, Any] = {}
        with tempfile.TemporaryDirectory(prefix="shipyard-step-") as tmp:
            for name, (blob, digest, dataset) in reply["outputs"].items():
                path = Path(tmp) / f"{name}.pkl"
                path.write_bytes(blob)
                tracking.log_artifact(child, path, f"outputs/{name}.pkl")
                self.outputs[name] = _Output(digest, dataset, blob=blob)
                made[name] = {"digest": digest, "dataset": dataset}
        tracking.set_tags(child, {CACHE_TAG: key, "shipyard.outputs": orjson.dumps(made).decode()})
        tracking.log_metrics(child, [MetricPoint(key="seconds", value=reply["seconds"])])
        tracking.update_run(child, UpdateRun(status="FINISHED"))  # type: ignore[arg-type]
        digests = {n: m["digest"] for n, m in made.items()}
        self.results.append(StepResult(s.name, "ran", reply["seconds"], key, child, digests))

    def _load(self, out: _Output) -> Any:
        if not out.loaded:
            if out.blob is None:
                assert out.source is not None
                with tempfile.TemporaryDirectory(prefix="shipyard-step-") as tmp:
                    run_id, path = out.source
                    out.blob = self.client.tracking.download_artifact(
                        run_id, path, Path(tmp) / "value.pkl"
                    ).read_bytes()
            out.value, out.loaded = cloudpickle.loads(out.blob), True
        return out.value

    # -- the end of the run ----------------------------------------------------------------

    def _log_table_params(self) -> None:
        """Tables given as parameters (e.g. the recent labeled rows retraining passes in) are
        inputs of the run too."""
        for name, value in self.params.items():
            kind = type(value).__module__.split(".")[0]
            if kind in ("pandas", "numpy") and hasattr(value, "shape"):
                blob = cloudpickle.dumps(value)
                _, ds = content_digest(value, blob)
                if ds is not None:
                    ds = {**ds, "name": name, "context": "parameter"}
                    self.client.tracking.log_input(self.run_id, DatasetInput.model_validate(ds))

    def _log_lineage(self) -> None:
        tracking = self.client.tracking
        for step in self.pipe.order:
            for name in step.outputs:
                ds = self.outputs[name].dataset
                if ds is not None:
                    ds = {**ds, "name": name, "context": step.name}
                    tracking.log_input(self.run_id, DatasetInput.model_validate(ds))
        if "metrics" in self.outputs:
            found = self._load(self.outputs["metrics"])
            if isinstance(found, dict):
                points = [MetricPoint(key=str(k), value=float(v)) for k, v in found.items()
                          if isinstance(v, int | float) and math.isfinite(v)]  # fmt: skip
                tracking.log_metrics(self.run_id, points)

    def _register(self, alias: str | None) -> ModelInfo | None:
        pipe = self.pipe
        if not self.register or not pipe.model:
            return None

        made = self.outputs[pipe.model].digest
        for v in self.client.registry.list_versions(self.register) if self._registered() else []:
            if v.tags.get("shipyard.model_digest") == made:  # the same model: no new version
                info = _info(v)
                break
        else:
            info = self._log_model(made)
        if alias and info.version is not None:
            self.client.registry.set_alias(
                self.register,
                alias,
                info.version,
                reason=f"pipeline {pipe.name}, run {self.run_id}",
            )
        return info

    def _registered(self) -> bool:
        from shipyard.core.errors import NotFound

        try:
            self.client.registry.get_entry(self.register or "")
        except NotFound:
            return False
        return True

    def _log_model(self, digest: str) -> ModelInfo:
        from shipyard.ml.models import log_model

        pipe = self.pipe
        assert self.register and pipe.model
        example = self._load(self.outputs[pipe.input_example]) if pipe.input_example else None
        reference = self._load(self.outputs[pipe.reference]) if pipe.reference else None
        if example is None and reference is not None:  # the training rows show the inputs
            example = reference[:5]
        tags = {"shipyard.pipeline": pipe.name, "shipyard.model_digest": digest}
        return log_model(self.client, self._load(self.outputs[pipe.model]), self.register,
                         run_id=self.run_id, input_example=example, reference_data=reference,
                         tags=tags)  # fmt: skip


def _info(version: Version) -> ModelInfo:
    from shipyard.ml.models import ModelInfo
    from shipyard.ml.signature import Signature

    manifest = version.payload or {}
    signature = manifest.get("signature") or {"inputs": []}
    return ModelInfo(
        name=version.name,
        uri=f"models:/{version.name}/{version.version}",
        flavor=manifest.get("flavor", ""),
        version=version.version,
        run_id=version.source_run_id,
        signature=Signature.model_validate(signature),
    )


def _ship_by_value(steps: Sequence[Step]) -> None:
    """Send the code of steps from the user's own modules with them, so that workers (a Dask
    cluster's, which may not have those files) need only the installed packages."""
    for s in steps:
        module = sys.modules.get(s.fn.__module__)
        origin = str(getattr(module, "__file__", "") or "")
        if module is None or module.__name__ == "__main__" or not origin:
            continue
        if "site-packages" in origin or "dist-packages" in origin:
            continue
        cloudpickle.register_pickle_by_value(module)


def _param_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    kind = type(value).__module__.split(".")[0]
    if kind in ("pandas", "numpy") and hasattr(value, "shape"):
        return (
            f"{type(value).__name__} {'x'.join(map(str, value.shape))} {param_digest(value)[:12]}"
        )
    try:
        options = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY
        return orjson.dumps(value, option=options).decode()
    except TypeError:
        return repr(value)[:500]
