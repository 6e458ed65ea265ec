"""The app factory: ``create_app(settings)`` builds everything a server process needs."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from shipyard import __version__
from shipyard.core.identity import Actor, Role
from shipyard.core.settings import Settings
from shipyard.platform import Platform
from shipyard.server import errors
from shipyard.server.bridge import gateway_call
from shipyard.server.fastpath import GatewayFastPath, document
from shipyard.server.middleware import BodyLimit, HttpCounters, HttpMetrics, RequestRate
from shipyard.server.mlflow import artifacts as mlflow_artifacts
from shipyard.server.mlflow import logged_models as mlflow_models
from shipyard.server.mlflow import registry as mlflow_registry
from shipyard.server.mlflow import tracking as mlflow_tracking
from shipyard.server.routers import (
    admin,
    evals,
    gateway,
    health,
    ml,
    prompts,
    rag,
    registry,
    tracing,
    tracking,
)

log = logging.getLogger("shipyard.server")


def _is_upload(path: str) -> bool:
    return path.startswith("/api/v1/artifacts") or "/artifacts/" in path


async def _retention_loop(plat: Platform, interval_s: float) -> None:
    """Delete traces past their project's retention, now and then every ``interval_s``."""
    while True:
        try:
            deleted = await run_in_threadpool(plat.tracing.enforce_retention)
            if deleted:
                log.info("retention: deleted %d traces", deleted)
        except Exception:
            log.exception("retention job failed; will try again")
        await asyncio.sleep(interval_s)


def _gateway_start(plat: Platform) -> None:
    """Apply the routes file, if one is configured, then load the gateway's configuration."""
    path = plat.settings.gateway.gateway_routes_file
    if path is not None:
        import yaml

        from shipyard.core.identity import Actor, Role

        doc = yaml.safe_load(path.read_text())
        report = plat.gateway.config.apply(Actor("config-file", Role.admin), doc)
        log.info("gateway file %s applied: %s", path, report.model_dump())
    plat.gateway.refresh()


async def _monitor_loop(plat: Platform, tick_s: float) -> None:
    """Check the monitored model endpoints whose turn has come (drift, performance, alerts,
    retraining), in a worker thread, one round at a time."""
    if tick_s <= 0:
        return
    while True:
        await asyncio.sleep(tick_s)
        try:
            await run_in_threadpool(plat.monitor.run_due)
        except Exception:
            log.warning("model monitoring round failed", exc_info=True)


def create_app(settings: Settings, *, platform: Platform | None = None) -> FastAPI:
    """A ready app. The platform (database, stores, services) opens here, migrations included."""
    owned = platform is None
    plat = platform or Platform(settings, serving=True)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(plat.tracing.warm_up)
        await run_in_threadpool(_gateway_start, plat)
        # index embedders of type "gateway" call this server's own gateway
        embed = gateway_call(plat, Actor(name="rag", role=Role.viewer), asyncio.get_running_loop())
        plat.rag.gateway_call = lambda body: embed("embeddings", body, {})[0]
        # model endpoints load in the background, so their first request does not wait
        threading.Thread(target=plat.serving.warm_all, name="shipyard-warm-models",
                         daemon=True).start()  # fmt: skip
        tasks = [
            asyncio.create_task(_retention_loop(plat, settings.tracing.retention_interval_s)),
            asyncio.create_task(plat.gateway.refresh_loop()),
            asyncio.create_task(_monitor_loop(plat, settings.ml.ml_monitor_tick_s)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await plat.gateway.close()
            if owned:
                plat.close()

    app = FastAPI(
        title="Shipyard",
        version=__version__,
        description="Tracking, registry and more for ML models and LLM applications.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.platform = plat
    app.state.settings = settings
    app.state.auth_required = settings.auth_required()
    errors.install(app)
    for module in (health, tracking, registry, tracing, admin, gateway, prompts, evals, rag, ml):
        app.include_router(module.router)
    app.include_router(gateway.api)
    app.include_router(ml.v2)
    for mlflow_router in (mlflow_tracking.router, mlflow_models.router, mlflow_registry.router,
                          mlflow_artifacts.router, mlflow_artifacts.info):  # fmt: skip
        app.include_router(mlflow_router)
    counters = HttpCounters(plat.metrics)
    app.add_middleware(HttpMetrics, counters=counters)
    app.add_middleware(
        BodyLimit,
        limit=settings.server.max_body_bytes,
        large_limit=settings.server.max_artifact_bytes,
        large=_is_upload,
    )
    framework_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(framework_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(
        GatewayFastPath,
        platform=plat,
        auth_required=app.state.auth_required,
        max_body_bytes=settings.server.max_body_bytes,
        counters=counters,
    )
    app.add_middleware(RequestRate, rpm=settings.request_rate_limit())  # outermost
    return app
