"""The SDK entry point: ``Client`` (embedded or remote) and the active-run shortcuts.

Embedded (no ``SHIPYARD_URL``): calls go straight to the local store in
``SHIPYARD_HOME``. Remote: calls go to the server at ``SHIPYARD_URL`` with
``SHIPYARD_API_KEY``. The same code works both ways.
"""

from __future__ import annotations

import atexit
import copy
import functools
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shipyard.core.admin_api import AdminAPI
from shipyard.core.batching import Batcher
from shipyard.core.errors import InvalidInput
from shipyard.core.settings import Settings
from shipyard.registry.api import RegistryAPI
from shipyard.tracing.api import TracingAPI
from shipyard.tracing.schemas import Score, ScoreIn, SpanIn, SpanKind
from shipyard.tracing.sdk import open_span, trace_decorator
from shipyard.tracking.api import TrackingAPI
from shipyard.tracking.run import ActiveRun, Point, metric_logger
from shipyard.tracking.schemas import CreateRun, MetricPoint, Run, RunPage, SearchRuns, UpdateRun
from shipyard.tracking.system import collect

if TYPE_CHECKING:
    from shipyard.core.identity import Actor
    from shipyard.evals.api import EvalsAPI
    from shipyard.gateway.api import GatewayAPI
    from shipyard.ml.sdk import Ml
    from shipyard.platform import Platform
    from shipyard.prompts.sdk import Prompts
    from shipyard.rag.sdk import Rag

log = logging.getLogger("shipyard")


class Client:
    """One connection to Shipyard: ``.tracking``, ``.registry`` and ``.admin``."""

    tracking: TrackingAPI
    registry: RegistryAPI
    admin: AdminAPI
    tracing: TracingAPI

    @functools.cached_property
    def gateway(self) -> GatewayAPI:
        """Gateway configuration: routes, upstreams, limits, usage (built on first use)."""
        if self.settings.remote:
            from shipyard.client.gateway import RemoteGateway

            return RemoteGateway(self._transport)
        from shipyard.gateway.local import LocalGateway

        local = LocalGateway(self._platform.gateway, self._actor)
        self._closers.insert(0, local.close)  # before the platform closes under it
        return local

    @functools.cached_property
    def prompts(self) -> Prompts:
        """Prompt versions: fetch (cached), render, complete, label, roll back, diff."""
        from shipyard.prompts.sdk import Prompts

        if self.settings.remote:
            from shipyard.client.prompts import RemotePrompts

            api: Any = RemotePrompts(self._transport)
        else:
            from shipyard.prompts.local import LocalPrompts

            api = LocalPrompts(self._platform.prompts, self._actor)
        return Prompts(api, self.registry, self, self.settings.prompts.prompts_cache_ttl_s)

    @functools.cached_property
    def evals(self) -> EvalsAPI:
        """Eval sets and the stored results of eval runs."""
        if self.settings.remote:
            from shipyard.client.evals import RemoteEvals

            return RemoteEvals(self._transport)
        from shipyard.evals.local import LocalEvals

        return LocalEvals(self._platform.evals, self._actor)

    @functools.cached_property
    def ml(self) -> Ml:
        """Models: log and load them, define endpoints, get predictions."""
        from shipyard.ml.sdk import Ml

        return Ml(self)

    @functools.cached_property
    def rag(self) -> Rag:
        """Indexes: ingest files into versions, search the one behind an alias."""
        from shipyard.rag.sdk import Rag

        if self.settings.remote:
            from shipyard.client.rag import RemoteRag

            return Rag(RemoteRag(self._transport), self)
        from shipyard.rag.apps import build_runner
        from shipyard.rag.local import LocalRag
        from shipyard.rag.service import RagService

        plat = self._platform
        service = RagService(
            self.settings.rag, plat.registry, plat.read_blob, self.spans,
            lambda body: self.gateway.call("embeddings", body).body, db=plat.db,
        )  # fmt: skip

        def gateway(operation: str, body: dict[str, Any], context: dict[str, Any]) -> Any:
            reply = self.gateway.call(operation, body, **context)  # type: ignore[arg-type]
            return reply.body, reply.headers

        runner = build_runner(plat, service.search, gateway, self.spans, self._actor)
        local = LocalRag(service, runner, plat.tracing)
        self._closers.insert(0, local.close)
        return Rag(local, self)

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        url: str | None = None,
        api_key: str | None = None,
        platform: Platform | None = None,
        actor: Actor | None = None,
    ) -> None:
        """``platform``/``actor``: an embedded client over a platform this process already
        runs (the server's own jobs, e.g. retraining), left open when the client closes."""
        self.settings = settings or Settings.load()
        if platform is not None:  # always embedded, whatever SHIPYARD_URL says
            self.settings = copy.copy(platform.settings)
            self.settings.client = platform.settings.client.model_copy(update={"url": None})
        if url is not None:
            self.settings.client.url = url
        if api_key is not None:
            self.settings.client.api_key = api_key
        self._closers: list[Any] = []
        if self.settings.remote:
            from shipyard.client.admin import RemoteAdmin
            from shipyard.client.http import Transport
            from shipyard.client.registry import RemoteRegistry
            from shipyard.client.tracing import RemoteTracing
            from shipyard.client.tracking import RemoteTracking

            transport = Transport(self.settings.client)
            remote = RemoteTracking(transport)
            self.tracking = remote
            self.registry = RemoteRegistry(transport)
            self.admin = RemoteAdmin(transport)
            self.tracing = RemoteTracing(transport)
            self._closers.append(transport.close)
            self._transport = transport

            def send(run_id: str, points: list[Point]) -> None:
                rows = [
                    {"key": k, "value": v, "step": s, "timestamp": t} for _, k, v, s, t in points
                ]
                remote.log_metric_rows(run_id, rows)
        else:
            from shipyard.core.admin import LocalAdmin
            from shipyard.core.identity import Actor
            from shipyard.platform import Platform
            from shipyard.registry.local import LocalRegistry
            from shipyard.tracing.local import LocalTracing
            from shipyard.tracking.local import LocalTracking

            owned = platform is None
            platform = platform or Platform(self.settings)
            actor = actor or Actor.local()
            local = LocalTracking(platform.tracking, actor)
            self.tracking = local
            self.registry = LocalRegistry(platform.registry, actor)
            self.admin = LocalAdmin(platform.admin, actor)
            self.tracing = LocalTracing(platform.tracing, actor)
            if owned:
                self._closers.append(platform.close)
            self._platform, self._actor = platform, actor

            def send(run_id: str, points: list[Point]) -> None:
                pts = [
                    MetricPoint.model_construct(key=k, value=v, step=s, timestamp=t)
                    for _, k, v, s, t in points
                ]
                local.log_metrics(run_id, pts)

        self.metrics = metric_logger(
            send,
            batch_size=self.settings.tracking.metrics_batch_size,
            interval_s=self.settings.tracking.metrics_flush_interval_s,
        )
        tracing = self.tracing
        self.spans: Batcher[SpanIn] = Batcher(
            lambda _key, spans: tracing.ingest(spans),
            batch_size=2000,
            interval_s=self.settings.tracking.metrics_flush_interval_s,
            max_pending=200_000,
            name="shipyard-spans",
        )
        self._closed = False
        # Held until close(): whatever was logged is sent at interpreter exit, even when the
        # caller kept no reference to this client.
        atexit.register(self.close)

    @property
    def remote(self) -> bool:
        return self.settings.remote

    def start_run(
        self,
        experiment: str | None = None,
        *,
        run_name: str | None = None,
        tags: dict[str, Any] | None = None,
        parent_run_id: str | None = None,
        run_id: str | None = None,
    ) -> ActiveRun:
        """Start a run (or, with ``run_id``, continue an existing one)."""
        if run_id is not None:
            run = self.tracking.get_run(run_id)
            if run.status.value != "RUNNING":
                run = self.tracking.update_run(run_id, UpdateRun(status="RUNNING"))  # type: ignore[arg-type]
            return ActiveRun(self.tracking, self.metrics, run)
        req = CreateRun(
            experiment=experiment or os.environ.get("SHIPYARD_EXPERIMENT") or "default",
            name=run_name,
            parent_run_id=parent_run_id,
            tags={k: str(v) for k, v in (tags or {}).items()},
            system=collect(packages=self.settings.tracking.capture_packages),
        )
        return ActiveRun(self.tracking, self.metrics, self.tracking.create_run(req))

    def run(self, run_id: str) -> ActiveRun:
        """A handle on an existing run, to log to it without changing its status."""
        return ActiveRun(self.tracking, self.metrics, self.tracking.get_run(run_id))

    def search_runs(
        self,
        filter: str = "",
        *,
        experiments: list[str] | None = None,
        order_by: list[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> RunPage:
        return self.tracking.search_runs(
            SearchRuns(
                experiments=experiments or [],
                filter=filter,
                order_by=order_by or [],
                max_results=max_results,
                page_token=page_token,
            )
        )

    def flush(self) -> None:
        """Send every metric point and span recorded so far."""
        self.metrics.flush()
        self.spans.flush()

    # -- tracing -----------------------------------------------------------------------------

    def span(self, name: str, kind: SpanKind = "chain", **fields: Any) -> Any:
        """``with client.span("retrieve", kind="retrieval", user_id=...) as span:``."""
        return open_span(self.spans, name, kind, **fields)

    def trace(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        kind: SpanKind = "chain",
        capture: bool = True,
        **fields: Any,
    ) -> Any:
        """Decorate a function (sync or async) so that every call is a span."""
        return trace_decorator(
            lambda: self.spans, fn, name=name, kind=kind, capture=capture, fields=fields
        )

    def feedback(
        self,
        trace_id: str,
        name: str,
        value: float | bool | str,
        comment: str | None = None,
        *,
        span_id: str | None = None,
        source: str = "human",
    ) -> Score:
        """Attach a score (thumbs up/down, a rating, a label) to a trace or one of its spans."""
        score = ScoreIn.model_validate(
            {
                "trace_id": trace_id,
                "span_id": span_id,
                "name": name,
                "value": value,
                "comment": comment,
                "source": source,
            }
        )
        return self.tracing.add_score(score)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        _end_active_runs(self)
        for batcher in (self.metrics, self.spans):
            try:
                batcher.close()
            except Exception as exc:
                log.error("%s: still unsent at close: %s", batcher.name, exc)
        for closer in self._closers:
            closer()


# -- the active-run shortcuts (module-level convenience over one default client) --------------


class _Default:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.client: Client | None = None
        self.runs: list[ActiveRun] = []


_state = _Default()


def _end_active_runs(client: Client) -> None:
    """Finish the shortcut runs of a closing client (at interpreter exit: runs never ended)."""
    while True:
        with _state.lock:
            mine = [r for r in _state.runs if r._logger is client.metrics]
        if not mine:
            return
        run = mine[-1]
        try:
            run.end()
        except Exception as exc:
            log.error("could not end run %s: %s", run.id, exc)
            _forget(run)


def get_client() -> Client:
    """The process's default client, made from the environment on first use."""
    with _state.lock:
        if _state.client is None or _state.client._closed:
            _state.client = Client()
        return _state.client


def set_client(client: Client | None) -> None:
    """Use this client for the shortcuts (None: make a fresh one from the environment)."""
    with _state.lock:
        _state.client = client
        _state.runs.clear()


def start_run(
    experiment: str | None = None,
    *,
    run_name: str | None = None,
    tags: dict[str, Any] | None = None,
    nested: bool = False,
    run_id: str | None = None,
) -> ActiveRun:
    """Start a run and make it the active one: ``with shipyard.start_run(...) as run:``."""
    with _state.lock:
        parent = _state.runs[-1] if _state.runs else None
        if parent is not None and not nested and run_id is None:
            raise InvalidInput(
                f"run {parent.id} is still active: end it first, or pass nested=True"
            )
        client = get_client()
        run = client.start_run(
            experiment,
            run_name=run_name,
            tags=tags,
            parent_run_id=parent.id if (parent and nested) else None,
            run_id=run_id,
        )
        run._on_end = _forget
        _state.runs.append(run)
        return run


def _forget(run: ActiveRun) -> None:
    with _state.lock:
        if run in _state.runs:
            _state.runs.remove(run)


def active_run() -> ActiveRun | None:
    with _state.lock:
        return _state.runs[-1] if _state.runs else None


def _require_run() -> ActiveRun:
    run = active_run()
    if run is None:
        raise InvalidInput("no active run: call shipyard.start_run() first")
    return run


def end_run(status: str = "FINISHED") -> None:
    run = active_run()
    if run is not None:
        run.end(status)


def log_param(key: str, value: Any) -> None:
    _require_run().log_param(key, value)


def log_params(params: dict[str, Any]) -> None:
    _require_run().log_params(params)


def log_metric(key: str, value: Any, step: int | None = None) -> None:
    _require_run().log_metric(key, value, step)


def log_metrics(metrics: dict[str, Any], step: int | None = None) -> None:
    _require_run().log_metrics(metrics, step)


def set_tag(key: str, value: Any) -> None:
    _require_run().set_tag(key, value)


def set_tags(tags: dict[str, Any]) -> None:
    _require_run().set_tags(tags)


def log_artifact(path: str, artifact_path: str | None = None) -> None:
    _require_run().log_artifact(path, artifact_path)


def log_input(data: Any, name: str | None = None, context: str = "") -> None:
    _require_run().log_input(data, name=name, context=context)


def search_runs(filter: str = "", **kw: Any) -> RunPage:
    return get_client().search_runs(filter, **kw)


def get_run(run_id: str) -> Run:
    return get_client().tracking.get_run(run_id)


# -- tracing shortcuts ---------------------------------------------------------------------------


def span(name: str, kind: SpanKind = "chain", **fields: Any) -> Any:
    """``with shipyard.span("retrieve", kind="retrieval") as s:`` on the default client."""
    return get_client().span(name, kind, **fields)


def trace(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    kind: SpanKind = "chain",
    capture: bool = True,
    **fields: Any,
) -> Any:
    """``@shipyard.trace`` or ``@shipyard.trace(kind="llm")``: every call becomes a span."""
    return trace_decorator(
        lambda: get_client().spans, fn, name=name, kind=kind, capture=capture, fields=fields
    )


def feedback(
    trace_id: str, name: str, value: float | bool | str, comment: str | None = None, **kw: Any
) -> Score:
    return get_client().feedback(trace_id, name, value, comment, **kw)


def flush() -> None:
    get_client().flush()
