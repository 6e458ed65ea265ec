"""Monitoring and retraining, embedded and remote on SQLite and PostgreSQL: a check finds drift
and a performance drop in shifted traffic, sends both alerts to a real webhook (once: a second
check is debounced), runs the registered pipeline on the recent labeled rows, and promotes its
model only when it beats the champion by the margin; every decision is in the audit log. A
server checks monitored endpoints on its own schedule."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.core.errors import NotFound
from shipyard.core.identity import AuditQuery
from shipyard.ml.pipelines import register_pipeline
from shipyard.sdk import Client
from tests.ml import pipeline_steps


class Hook:
    """A webhook receiver on 127.0.0.1 that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", 0))
                hook.received.append(json.loads(self.rfile.read(size)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series, Any]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return x, y, model.fit(x.head(300), y.head(300))


def _serve(client: Client, cancer: Any, monitor: dict[str, Any]) -> tuple[str, str]:
    x, _, model = cancer
    name, endpoint = f"cancer-{uuid.uuid4().hex[:6]}", f"ep-{uuid.uuid4().hex[:6]}"
    client.ml.log_model(model, name, input_example=x.head(), reference_data=x.head(300))
    client.registry.set_alias(name, "champion", 1)
    client.ml.create_endpoint(endpoint, model=name, monitor=monitor)
    return name, endpoint


def _shifted_traffic(client: Client, endpoint: str, cancer: Any) -> None:
    """Production moves: every feature reads 40% higher, labels as before."""
    x, y, _ = cancer
    rows, truth = x.tail(260) * 1.4, y.tail(260)
    for start in range(0, len(rows), 65):
        answer = client.ml.predict(endpoint, rows.iloc[start : start + 65])
        labels = truth.iloc[start : start + 65].tolist()
        client.ml.log_labels(endpoint, [{"request_id": answer.request_id, "labels": labels}])


def _pipeline(client: Client) -> str:
    name = f"retrain-{uuid.uuid4().hex[:6]}"
    register_pipeline(client, name, f"{Path(pipeline_steps.__file__)}:retrain", executor="inline")
    return name


def _audit(client: Client, action: str, model: str) -> list[Any]:
    return client.admin.audit(AuditQuery(action=action, target=model)).events


def test_alerts_fire_once_and_a_better_challenger_is_promoted(
    client: Client, cancer: Any, hook: Hook
) -> None:
    monitor = {
        "every_s": 86400, "window_s": 3600, "min_rows": 50, "webhooks": [hook.url],
        "performance": {"metric": "accuracy", "min": 0.9, "min_labels": 50},
        "retrain": {"pipeline": _pipeline(client), "metric": "accuracy", "margin": 0.02,
                    "min_labels": 50},
    }  # fmt: skip
    model, endpoint = _serve(client, cancer, monitor)
    _shifted_traffic(client, endpoint, cancer)

    result = client.ml.check(endpoint)
    kinds = sorted(a.kind for a in result.alerts)
    assert kinds == ["drift", "performance"] and result.suppressed == []
    assert result.drift is not None and result.drift["verdict"] == "drift"
    assert result.performance is not None and result.performance["value"] < 0.9
    assert sorted(h["kind"] for h in hook.received) == ["drift", "performance"]
    assert all(h["type"] == "shipyard.ml.alert" and h["endpoint"] == endpoint
               for h in hook.received)  # fmt: skip
    assert all(d["status"] == 204 for a in result.alerts for d in a.deliveries)

    decision = next(a.retraining for a in result.alerts if a.retraining)
    assert decision is not None and decision["outcome"] == "promoted", decision
    assert decision["champion"] == 1 and decision["challenger"] == 2
    assert decision["challenger_value"] >= decision["champion_value"] + 0.02
    assert decision["labeled"] == 78 and decision["trained_on"] == 182  # newest 30% held out
    assert client.registry.get_version(model, alias="champion").version == 2
    assert client.registry.get_version(model, alias="challenger").version == 2
    lineage = client.registry.lineage(model, 2)
    assert any(d.name == "recent_data" and d.num_rows == 182 for d in lineage.datasets)
    [entry] = _audit(client, "ml.promote", model)
    assert entry.after["challenger_value"] == decision["challenger_value"]
    assert entry.before == {"version": 1, "accuracy": decision["champion_value"]}

    again = client.ml.check(endpoint)  # inside the debounce: nothing is sent again
    assert again.alerts == [] and sorted(again.suppressed) == ["performance"]
    assert len(hook.received) == 2
    stored = client.ml.alerts(endpoint)
    assert [a.kind for a in stored] == kinds[::-1] or sorted(a.kind for a in stored) == kinds
    assert any(a.retraining and a.retraining["outcome"] == "promoted" for a in stored)


def test_a_challenger_that_does_not_win_by_the_margin_is_rejected(
    client: Client, cancer: Any
) -> None:
    rule = {"pipeline": _pipeline(client), "metric": "f1", "margin": 0.9}
    monitor = {"every_s": 86400, "min_rows": 50, "retrain": rule}
    model, endpoint = _serve(client, cancer, monitor)
    _shifted_traffic(client, endpoint, cancer)

    decision = client.ml.retrain(endpoint, "weekly")
    assert decision.outcome == "rejected" and decision.challenger == 2
    assert "does not win" in decision.message and decision.reason == "weekly"
    assert client.registry.get_version(model, alias="champion").version == 1
    assert client.registry.get_version(model, alias="challenger").version == 2
    [entry] = _audit(client, "ml.reject", model)
    assert entry.after["margin"] == 0.9 and entry.after["metric"] == "f1"


def test_an_endpoint_without_labels_is_not_compared_and_bad_monitors_are_refused(
    client: Client, cancer: Any
) -> None:
    monitor = {"every_s": 86400, "retrain": {"pipeline": _pipeline(client), "min_labels": 50}}
    model, endpoint = _serve(client, cancer, monitor)
    x = cancer[0]
    client.ml.predict(endpoint, x.head(20))
    result = client.ml.check(endpoint)
    assert result.alerts == [] and any("drift not judged" in n for n in result.notes)
    with pytest.raises(Exception, match="recent_data"):  # no labeled rows to learn from
        client.ml.retrain(endpoint)
    assert client.registry.get_version(model, alias="champion").version == 1
    with pytest.raises(Exception, match="floor"):
        _serve(client, cancer, {"performance": {"metric": "f1"}})
    with pytest.raises(Exception, match="unknown metric"):
        _serve(client, cancer, {"retrain": {"pipeline": "p", "metric": "lift"}})
    with pytest.raises(NotFound):
        client.ml.check("no-such-endpoint")


def test_a_server_checks_monitored_endpoints_on_its_schedule(
    server_for, cancer: Any, hook: Hook
) -> None:  # type: ignore[no-untyped-def]
    client = server_for("sqlite").client()
    monitor = {"every_s": 1, "min_rows": 50, "webhooks": [hook.url], "debounce_s": 3600}
    _, endpoint = _serve(client, cancer, monitor)
    _shifted_traffic(client, endpoint, cancer)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not hook.received:
        time.sleep(0.2)
    assert [h["kind"] for h in hook.received] == ["drift"]
    assert [a.kind for a in client.ml.alerts(endpoint)] == ["drift"]
    again = client.ml.check(endpoint)  # the drift is still there, inside the debounce
    assert again.suppressed == ["drift"] and again.alerts == [] and len(hook.received) == 1


def test_the_cli_checks_lists_alerts_and_retrains(tmp_path: Path, cancer: Any) -> None:
    from click.testing import CliRunner

    from shipyard.cli.main import cli

    client = Client()
    pipeline = _pipeline(client)
    model, endpoint = _serve(client, cancer, {"every_s": 86400})
    _shifted_traffic(client, endpoint, cancer)
    client.close()  # its prediction log is written; the commands below are other clients
    monitor = tmp_path / "monitor.yaml"
    monitor.write_text(f"min_rows: 50\nretrain:\n  pipeline: {pipeline}\n  margin: 0.02\n")
    runner = CliRunner()
    made = runner.invoke(cli, ["ml", "endpoint", endpoint, "--model", model,
                               "--monitor", str(monitor)], catch_exceptions=False)  # fmt: skip
    assert made.exit_code == 0, made.output
    out = runner.invoke(cli, ["ml", "check", endpoint], catch_exceptions=False)
    assert "drift: drift" in out.output and "ALERT drift" in out.output
    assert "retraining promoted: challenger v2 wins" in out.output
    listed = runner.invoke(cli, ["ml", "alerts", endpoint], catch_exceptions=False)
    assert "drift" in listed.output and "promoted" in listed.output
    again = runner.invoke(cli, ["ml", "retrain", endpoint, "--json"], catch_exceptions=False)
    body = json.loads(again.output)
    assert body["outcome"] == "rejected" and body["champion"] == 2  # the same data, same model
