"""Scheduled checks of model endpoints: drift and performance over a recent window, alerts to
webhooks (debounced per kind), and retraining when an alert fires.

An endpoint is watched when its spec has a ``monitor`` section:

    {"every_s": 300, "window_s": 3600, "min_rows": 100,
     "drift": {"drift_share": 0.5, "thresholds": {"ks": 0.01}},
     "performance": {"metric": "f1", "min": 0.85},
     "webhooks": ["https://hooks.example.com/ml"], "debounce_s": 3600,
     "retrain": {"pipeline": "churn-train", "metric": "f1", "margin": 0.01, "min_labels": 50}}

Every server replica runs the schedule; a lease row in ``ml_monitor_state`` makes sure that one
of them checks a given endpoint at a time, so alerts are not sent twice. An alert of a kind
already sent within ``debounce_s`` is not sent again (the check reports it as suppressed).
This module is the only writer of ``ml_monitor_state`` and ``ml_alerts``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from shipyard.core.errors import Conflict, InvalidInput, NotFound, ShipyardError
from shipyard.core.ids import new_id, now_ms
from shipyard.ml.drift import DriftOptions
from shipyard.ml.records import AlertRow, MonitorStateRow

if TYPE_CHECKING:
    from shipyard.ml.log import PredictionLog
    from shipyard.ml.retrain import Decision
    from shipyard.ml.serving import ServingService
    from shipyard.store.db import Database

log = logging.getLogger("shipyard.ml.monitor")
HIGHER_IS_BETTER = {"accuracy": True, "precision": True, "recall": True, "f1": True,
                    "roc_auc": True, "r2": True, "mae": False, "rmse": False}  # fmt: skip
LEASE_MS = 10 * 60 * 1000  # a replica that dies mid-check frees the endpoint after this


def check_metric(metric: str) -> str:
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"unknown metric {metric!r}: use one of {', '.join(HIGHER_IS_BETTER)}")
    return metric


class PerformanceRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = "accuracy"
    min: float | None = None  # alert below this (metrics where higher is better)
    max: float | None = None  # alert above this (mae, rmse)
    min_labels: int = Field(default=30, ge=1, description="labeled rows needed to judge")

    @model_validator(mode="after")
    def _bound(self) -> PerformanceRule:
        check_metric(self.metric)
        if (self.min is None) == (self.max is None):
            raise ValueError("give the metric's floor (min) or its ceiling (max)")
        return self


class RetrainSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pipeline: str = Field(min_length=1, description="the registered pipeline to run")
    metric: str = "accuracy"
    margin: float = Field(default=0.0, ge=0, description="how much better the challenger must be")
    min_labels: int = Field(default=50, ge=1, description="labeled rows needed to compare")
    holdout: float = Field(
        default=0.3,
        ge=0,
        lt=1,
        description="share of the newest labeled "
        "rows kept from the pipeline's recent_data to compare on",
    )

    @model_validator(mode="after")
    def _metric(self) -> RetrainSpec:
        check_metric(self.metric)
        return self


class MonitorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every_s: float = Field(default=300, ge=1, description="how often the endpoint is checked")
    window_s: float = Field(default=3600, ge=1, description="how far back a check looks")
    min_rows: int = Field(default=100, ge=1, description="predictions needed to judge drift")
    drift: DriftOptions = Field(default_factory=DriftOptions)
    performance: PerformanceRule | None = None
    webhooks: list[str] = Field(default_factory=list)
    debounce_s: float = Field(default=3600, ge=0, description="an alert kind is sent once per this")
    retrain: RetrainSpec | None = None

    @model_validator(mode="after")
    def _urls(self) -> MonitorSpec:
        for url in self.webhooks:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"webhook {url!r} is not an http(s) URL")
        return self


class Alert(BaseModel):
    id: str
    endpoint: str
    kind: Literal["drift", "performance"]
    ts_ms: int
    message: str
    details: dict[str, Any]
    deliveries: list[dict[str, Any]]
    retraining: dict[str, Any] | None = None


class CheckResult(BaseModel):
    endpoint: str
    ts_ms: int
    rows: int = 0
    drift: dict[str, Any] | None = None  # share, drifted columns, verdict
    performance: dict[str, Any] | None = None  # metric, value, labeled rows
    alerts: list[Alert] = Field(default_factory=list)
    suppressed: list[str] = Field(default_factory=list)  # alert kinds inside their debounce
    notes: list[str] = Field(default_factory=list)


def _alert(row: AlertRow) -> Alert:
    return Alert.model_validate(row, from_attributes=True)


class Monitor:
    def __init__(
        self, db: Database, serving: ServingService, predictions: PredictionLog,
        retrain: Callable[[str, str], Decision] | None = None, *, timeout_s: float = 5.0,
    ) -> None:  # fmt: skip
        self.db, self.serving, self.predictions = db, serving, predictions
        self.retrain = retrain
        self.owner = uuid.uuid4().hex
        self.timeout_s = timeout_s

    # -- the schedule --------------------------------------------------------------------------

    def run_due(self) -> list[CheckResult]:
        """Check every monitored endpoint whose turn has come (and whose lease this replica
        wins); one endpoint's failure does not stop the others."""
        from shipyard.registry.schemas import Kind

        done = []
        for entry in self.serving.registry.list_entries(Kind.endpoint):
            try:
                spec = self.serving.spec(entry.name)
            except (NotFound, InvalidInput):
                continue
            if spec.monitor is None or not self._claim(entry.name, spec.monitor.every_s):
                continue
            try:
                done.append(self._check(entry.name))
            except Exception as exc:
                log.warning("checking endpoint %s failed: %s", entry.name, exc, exc_info=True)
            finally:
                self._release(entry.name)
        return done

    def _claim(self, endpoint: str, every_s: float | None) -> bool:
        """Take the endpoint's lease if no one holds it (and, with ``every_s``, if its check
        is due); the first sight of an endpoint starts its schedule."""
        now = now_ms()
        dialect: Any = postgresql if self.db.dialect == "postgresql" else sqlite
        st = MonitorStateRow
        due = [st.last_check_ms <= now - int(every_s * 1000)] if every_s is not None else []
        with self.db.write() as s:
            s.execute(dialect.insert(st).values(endpoint=endpoint, last_check_ms=now,
                      lease_until_ms=0, lease_owner="", last_alert_ms={})
                      .on_conflict_do_nothing(index_elements=["endpoint"]))  # fmt: skip
            won = s.execute(
                update(st).where(st.endpoint == endpoint, st.lease_until_ms < now, *due)
                .values(lease_until_ms=now + LEASE_MS, lease_owner=self.owner)
            ).rowcount  # type: ignore[attr-defined]  # fmt: skip
        return bool(won)

    def _release(self, endpoint: str) -> None:
        st = MonitorStateRow
        with self.db.write() as s:
            s.execute(update(st).where(st.endpoint == endpoint, st.lease_owner == self.owner)
                      .values(lease_until_ms=0, last_check_ms=now_ms()))  # fmt: skip

    # -- one check -----------------------------------------------------------------------------

    def check(self, endpoint: str) -> CheckResult:
        """Drift and performance of the endpoint over its monitor's window (defaults when it
        has none); alerts sent and retraining started as its spec says."""
        self.serving.spec(endpoint)  # 404 for an unknown endpoint
        if not self._claim(endpoint, None):
            raise Conflict(f"{endpoint} is being checked right now: try again in a moment")
        try:
            return self._check(endpoint)
        finally:
            self._release(endpoint)

    def _check(self, endpoint: str) -> CheckResult:
        spec = self.serving.spec(endpoint)
        mon = spec.monitor or MonitorSpec()
        now = now_ms()
        since = now - int(mon.window_s * 1000)
        result = CheckResult(endpoint=endpoint, ts_ms=now)
        fired: list[tuple[Literal["drift", "performance"], str, dict[str, Any]]] = []
        self._check_drift(endpoint, mon, since, now, result, fired)
        self._check_performance(endpoint, mon, since, now, result, fired)
        if fired:
            self._raise(endpoint, mon, result, fired)
        return result

    def _check_drift(self, endpoint: str, mon: MonitorSpec, since: int, now: int,
                     result: CheckResult, fired: list[Any]) -> None:  # fmt: skip
        try:
            report = self.serving.drift(endpoint, self.predictions, since, now + 1, mon.drift)
        except InvalidInput as exc:
            result.notes.append(f"drift not checked: {exc.message}")
            return
        result.rows = report.current_rows
        drifted = [c.column for c in report.columns if c.drifted]
        result.drift = {
            "share": report.share,
            "drift_share": report.drift_share,
            "drifted": drifted,
            "tested": report.tested,
            "verdict": report.verdict,
        }
        if report.current_rows < mon.min_rows:
            result.notes.append(f"drift not judged: {report.current_rows} rows in the window, "
                                f"{mon.min_rows} needed")  # fmt: skip
            return
        if report.dataset_drift:
            message = (
                f"{endpoint}: {len(drifted)} of {report.tested} columns drifted "
                f"({report.share:.0%} ≥ {report.drift_share:.0%}): {', '.join(drifted)}"
            )
            fired.append(("drift", message, {**result.drift, "rows": report.current_rows}))

    def _check_performance(self, endpoint: str, mon: MonitorSpec, since: int, now: int,
                           result: CheckResult, fired: list[Any]) -> None:  # fmt: skip
        rule = mon.performance
        if rule is None:
            return
        window = max(1000, now + 1 - since)
        perf = self.serving.performance(endpoint, self.predictions, since, now + 1, window)
        value = perf.metrics.get(rule.metric)
        result.performance = {"metric": rule.metric, "value": value, "labeled": perf.labeled}
        if value is None or perf.labeled < rule.min_labels:
            result.notes.append(f"performance not judged: {perf.labeled} labeled rows, "
                                f"{rule.min_labels} needed")  # fmt: skip
            return
        low = rule.min is not None and value < rule.min
        high = rule.max is not None and value > rule.max
        if low or high:
            bound = f"< {rule.min}" if low else f"> {rule.max}"
            message = f"{endpoint}: {rule.metric} {value:.4g} {bound} ({perf.labeled} labeled)"
            fired.append(("performance", message, dict(result.performance)))

    # -- alerts --------------------------------------------------------------------------------

    def _raise(self, endpoint: str, mon: MonitorSpec, result: CheckResult,
               fired: list[Any]) -> None:  # fmt: skip
        now = result.ts_ms
        sent = self._last_alerts(endpoint)
        fresh = []
        for kind, message, details in fired:
            if now - int(sent.get(kind, 0)) < mon.debounce_s * 1000:
                result.suppressed.append(kind)
                continue
            fresh.append(Alert(id=new_id(), endpoint=endpoint, kind=kind, ts_ms=now,
                               message=message, details=details, deliveries=[]))  # fmt: skip
        if not fresh:
            return
        for alert in fresh:
            alert.deliveries = [self._deliver(url, alert) for url in mon.webhooks]
        if mon.retrain is not None and self.retrain is not None:
            fresh[0].retraining = self._retrain(endpoint, fresh[0].message)
        self._store(endpoint, fresh, {**sent, **{a.kind: now for a in fresh}})
        result.alerts.extend(fresh)

    def _retrain(self, endpoint: str, reason: str) -> dict[str, Any]:
        assert self.retrain is not None
        try:
            return self.retrain(endpoint, reason).model_dump(mode="json")
        except ShipyardError as exc:
            log.warning("retraining %s failed: %s", endpoint, exc.message)
            return {"outcome": "failed", "error": f"{exc.type}: {exc.message}"}
        except Exception as exc:
            log.warning("retraining %s failed", endpoint, exc_info=True)
            return {"outcome": "failed", "error": f"{type(exc).__name__}: {exc}"}

    def _deliver(self, url: str, alert: Alert) -> dict[str, Any]:
        """POST the alert; three tries with a short back-off. Never raises."""
        body = alert.model_dump(mode="json", exclude={"deliveries", "retraining"})
        error = ""
        for attempt in range(3):
            try:
                resp = httpx.post(url, json={"type": "shipyard.ml.alert", **body},
                                  timeout=self.timeout_s)  # fmt: skip
                if resp.status_code < 300:
                    return {"url": url, "status": resp.status_code, "error": None}
                error = f"HTTP {resp.status_code}"
                if resp.status_code < 500 and resp.status_code != 429:
                    break
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.25 * (attempt + 1))
        log.warning("alert %s not delivered to %s: %s", alert.id, url, error)
        return {"url": url, "status": None, "error": error}

    def _last_alerts(self, endpoint: str) -> dict[str, Any]:
        with self.db.read() as s:
            found = s.get(MonitorStateRow, endpoint)
            return dict(found.last_alert_ms) if found is not None else {}

    def _store(self, endpoint: str, alerts: list[Alert], last: dict[str, Any]) -> None:
        dialect: Any = postgresql if self.db.dialect == "postgresql" else sqlite
        with self.db.write() as s:
            for a in alerts:
                s.add(AlertRow(**a.model_dump()))
            stmt = dialect.insert(MonitorStateRow).values(
                endpoint=endpoint, last_check_ms=0, lease_until_ms=0, lease_owner="",
                last_alert_ms=last,
            )  # fmt: skip
            s.execute(stmt.on_conflict_do_update(index_elements=["endpoint"],
                                                 set_={"last_alert_ms": last}))  # fmt: skip

    def alerts(self, endpoint: str, limit: int = 100) -> list[Alert]:
        with self.db.read() as s:
            rows = s.scalars(select(AlertRow).where(AlertRow.endpoint == endpoint)
                             .order_by(AlertRow.ts_ms.desc()).limit(limit)).all()  # fmt: skip
            return [_alert(r) for r in rows]
