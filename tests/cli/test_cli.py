"""The command line, on the embedded store and against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.core.settings import Settings
from shipyard.sdk import Client
from tests.conftest import free_port


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_explains_every_command() -> None:
    out = run("--help")
    for group in ("server", "demo", "keys", "audit", "experiments", "runs", "registry"):
        assert group in out
    for group, sub in (("runs", "compare"), ("registry", "rollback"), ("keys", "revoke")):
        assert sub in run(group, "--help")


def _seed() -> tuple[str, str]:
    client = Client(Settings.load())
    with client.start_run("churn", run_name="rf") as a:
        a.log_params({"model": "rf", "depth": 5})
        a.log_metrics({"auc": 0.91, "loss": 0.3})
    with client.start_run("churn", run_name="lr") as b:
        b.log_params({"model": "lr", "depth": 5})
        b.log_metrics({"auc": 0.87, "loss": 0.4})
    for i in range(3):
        client.registry.create_version(
            "churn-model", kind="model", payload={"i": i}, source_run_id=a.id
        )
    client.close()
    return a.id, b.id


def test_tracking_commands() -> None:
    a, b = _seed()
    assert "churn" in run("experiments", "list")
    out = run("runs", "list", "-e", "churn", "-f", "metrics.auc > 0.9")
    assert "rf" in out and "lr" not in out.replace("rf", "")
    data = json.loads(run("runs", "list", "-e", "churn", "-o", "metrics.auc ASC", "--json"))
    assert [r["name"] for r in data] == ["lr", "rf"]
    out = run("runs", "show", a)
    assert "params" in out and "auc" in out and "0.91" in out
    out = run("runs", "compare", a, b)
    assert "param.model" in out and "metric.auc" in out and "0.87" in out


def test_registry_commands() -> None:
    _seed()
    run("registry", "alias", "churn-model", "production", "1", "--reason", "launch")
    run("registry", "alias", "churn-model", "production", "3", "--reason", "retrain")
    out = run("registry", "rollback", "churn-model", "--alias", "production", "--reason", "bad")
    assert "3 → 1" in out
    hist = json.loads(run("registry", "history", "churn-model", "--json"))
    assert [(e["action"], e["to_version"], e["reason"]) for e in hist] == [
        ("set", 1, "launch"),
        ("set", 3, "retrain"),
        ("rollback", 1, "bad"),
    ]
    assert "production→1" in run("registry", "list")
    assert json.loads(run("registry", "show", "churn-model@production", "--json"))["version"] == 1
    assert "3" in run("registry", "versions", "churn-model")
    run("registry", "protect", "churn-model")
    result = CliRunner().invoke(cli, ["registry", "alias", "churn-model", "production", "2"])
    assert result.exit_code != 0
    run("registry", "approve", "churn-model", "2", "--comment", "ok")
    run("registry", "alias", "churn-model", "production", "2")
    assert "dataset" in run("registry", "lineage", "churn-model", "2") or "run" in run(
        "registry", "lineage", "churn-model", "2"
    )


def test_keys_and_audit_commands() -> None:
    out = run("keys", "create", "--role", "editor", "--name", "trainer", "--tenant", "acme")
    key = out.strip().splitlines()[-1]
    assert key.startswith("shy_")
    listed = run("keys", "list")
    assert "trainer" in listed and key not in listed
    key_id = json.loads(run("keys", "list", "--json"))[0]["id"]
    run("keys", "revoke", key_id)
    assert "trainer" not in run("keys", "list")
    audit = json.loads(run("audit", "--json"))
    assert [e["action"] for e in audit][:2] == ["key.revoke", "key.create"]
    assert "key.create" in run("audit", "--action", "key.*")


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "SHIPYARD_HOME": str(tmp_path / "h")}
    proc = subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", "runs", "show", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "no run with id 'nope'" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", "runs", "list", "-f", "[/]"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "error: cannot read the filter" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_works_against_a_server(server_for) -> None:  # type: ignore[no-untyped-def]
    server = server_for("sqlite")
    env = {**os.environ, "SHIPYARD_URL": server.url, "SHIPYARD_HOME": "/nonexistent"}
    with server.client() as c, c.start_run("remote-cli", run_name="via-http") as r:
        r.log_metric("auc", 0.5)
    proc = subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", "runs", "list", "-e", "remote-cli", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert [r["name"] for r in json.loads(proc.stdout)] == ["via-http"]


@pytest.mark.slow
@pytest.mark.timeout(900)  # the demo runs the local model through two eval runs
def test_demo_fills_a_fresh_home_and_serves_it(tmp_path: Path) -> None:
    """The README's first command: `shipyard demo` trains, registers, serves and prints its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(tmp_path / "demo-home")
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "shipyard.cli.main", "demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        text = log.read_text()
        assert url in text
        with Client(Settings.load(home=tmp_path / "c"), url=url) as client:
            runs = client.search_runs(
                "", experiments=["demo-breast-cancer"], order_by=["metrics.final_auc DESC"]
            ).runs
            assert len(runs) == 8 and runs[0].metrics["final_auc"] > 0.95
            assert len(client.tracking.metric_history(runs[0].id, ["test_auc"])[0].steps) >= 60
            champion = client.registry.resolve("breast-cancer-classifier@champion")
            assert champion.source_run_id == runs[0].id
            assert client.registry.resolve("breast-cancer-classifier").version == champion.version
            lineage = client.registry.lineage("breast-cancer-classifier", champion.version)
            assert {d.context for d in lineage.datasets} == {"train", "test"}
            kinds = {e.kind.value for e in client.registry.list_entries()}
            assert kinds == {
                "model",
                "prompt",
                "evalset",
                "route",
                "index",
                "app",
                "endpoint",
                "pipeline",
                "policy",
            }
            from shipyard.tracing.schemas import TraceQuery
            from shipyard.tracing.stats import StatsQuery

            traffic = client.tracing.list_traces(
                TraceQuery(project="demo-support-bot", limit=1000)
            ).traces
            assert len(traffic) == 240 and {t.tenant for t in traffic} == {
                "acme",
                "globex",
                "initech",
            }
            tree = client.tracing.get_trace(traffic[0].trace_id).spans
            assert [s.kind for s in tree] == ["chain", "retrieval", "llm", "guardrail"]
            stats = client.tracing.stats(StatsQuery(by="prompt", project="demo-support-bot"))
            assert sum(g.feedback_count for g in stats.groups) > 20
            assert all(g.latency_p95_ms for g in stats.groups)
            predictions = client.tracing.list_traces(TraceQuery(project="demo-ml")).traces
            assert len(predictions) == 40
            span = client.tracing.get_trace(predictions[0].trace_id).spans[0]
            assert span.kind == "model" and 0.0 <= float(span.output or "nan") <= 1.0
            # the gateway: the local model behind a route, a key with a budget, traced calls
            from shipyard.gateway.ledger import UsageQuery

            usage = client.gateway.usage(UsageQuery(group_by=["route"]))
            by_route = {ln.group["route"]: ln for ln in usage.lines}
            assert by_route["assistant"].requests == 8 and by_route["assistant"].cache_hits == 2
            assert by_route["embed"].requests == 1
            key = (tmp_path / "demo-home" / "demo-app.key").read_text().strip()
            import openai

            with openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as llm:
                raw = llm.chat.completions.with_raw_response.create(
                    model="assistant", temperature=0, max_tokens=8,
                    messages=[{"role": "user", "content": "Say hello."}])  # fmt: skip
                assert raw.parse().choices[0].message.content
                assert raw.headers["x-shipyard-route"] == "assistant"
            limits = {(x.scope, x.subject): x for x in client.gateway.list_limits()}
            assert any(s == "key" and x.daily_usd == 0.05 for (s, _), x in limits.items())
            # prompts and evals: two versions, an eval run of each, a report and a decision
            versions = client.prompts.versions("docs-answer")
            assert [v.version for v in versions] == [2, 1]
            evals = client.search_runs("", experiments=["evals/shipyard-docs"]).runs
            assert len(evals) == 2 and all(r.status.value == "FINISHED" for r in evals)
            by_version = {r.params["prompt_version"]: r for r in evals}
            assert by_version.keys() == {"1", "2"}
            assert all(len(client.evals.results(r.id)) == 16 for r in evals)
            assert all("groundedness/mean" in r.metrics for r in evals)
            decided = "gate: PASS" in text or "gate: FAIL" in text
            assert decided and "comparison report:" in text
            html = (tmp_path / "demo-home" / "reports" / "eval-compare.html").read_text()
            assert "<svg" in html and "groundedness" in html
            production = client.prompts.get("docs-answer").version
            assert production == (2 if "gate: PASS" in text else 1)
            assert len(client.evals.get_evalset("shipyard-docs").spec.cases) == 120
            # RAG: two index versions compared, an app on the local model, a rollback
            assert [v.version for v in client.registry.list_versions("python-docs")] == [2, 1]
            retrieval = client.search_runs("", experiments=["rag/python-docs"]).runs
            assert len(retrieval) == 2 and all(r.metrics["hit@5"] > 0.8 for r in retrieval)
            assert "rollback: python-docs@production v2 → v1" in text
            assert "retrieval-compare.html" in text
            answer = client.rag.ask("python-help", "What does the del statement do?")
            assert answer.citations and answer.index_version == 2
            hits = client.rag.search("python-docs", "the del statement", 3).hits
            assert "del.md" in {h.doc_id for h in hits}
            # guardrails: a policy on the support route; PII redacted, an injection blocked
            import re

            assert "an injection on route 'support' was blocked" in text
            redacted = re.search(r"saw them \(trace ([0-9a-f]{32})\)", text)
            assert redacted is not None
            spans = client.tracing.get_trace(redacted.group(1)).spans
            seen = " ".join(s.input or "" for s in spans)
            assert "<CREDIT_CARD>" in seen and "<EMAIL_ADDRESS>" in seen
            assert "4111 1111 1111 1111" not in seen and "maria.garcia@example.com" not in seen
            verdicts = {(s.name, s.attributes["shipyard.guardrail.stage"],
                         s.attributes["shipyard.guardrail.verdict"])
                        for s in spans if s.kind == "guardrail"}  # fmt: skip
            assert ("guardrail pii", "pre_call", "redact") in verdicts
            # classic ML: a pipeline (run twice, cached), a monitored endpoint, shifted
            # traffic, drift and accuracy alerts, retraining and a decision in the audit log
            runs = client.search_runs("", experiments=["pipeline/cancer-screening"]).runs
            parents = [r for r in runs if r.parent_run_id is None]
            assert len(parents) == 2 and all(r.metrics["accuracy"] > 0.9 for r in parents)
            assert "4 of 4 steps taken from the cache" in text
            alerts = client.ml.alerts("cancer-screening-api")
            assert sorted(a.kind for a in alerts) == ["drift", "performance"]
            decision = next(a.retraining for a in alerts if a.retraining)
            assert decision is not None and decision["outcome"] in ("promoted", "rejected")
            champion = client.registry.get_version("cancer-screening", alias="champion")
            assert champion.version == (2 if decision["outcome"] == "promoted" else 1)
            action = "ml.promote" if decision["outcome"] == "promoted" else "ml.reject"
            from shipyard.core.identity import AuditQuery

            assert client.admin.audit(AuditQuery(action=action, target="cancer-screening")).events
            report = (tmp_path / "demo-home" / "reports" / "ml-drift.html").read_text()
            assert "<svg" in report and "mean radius" in report
            from sklearn.datasets import load_breast_cancer

            rows = load_breast_cancer(as_frame=True).data.tail(3)
            served = client.ml.predict("cancer-screening-api", rows)
            assert served.version == champion.version and len(served.predictions) == 3
    finally:
        proc.terminate()
        proc.wait(30)


def test_traces_and_stats_commands() -> None:
    client = Client(Settings.load())
    with (
        client.span("support-request", user_id="u9", tenant="acme") as root,
        client.span("chat", kind="llm") as llm,
    ):
        llm.set_usage(model="gemma", input_tokens=12, output_tokens=3, cost_usd=0.002)
    client.feedback(root.trace_id, "thumbs", True, "great")
    client.close()
    out = run("traces", "list", "--since", "1h", "--tenant", "acme")
    assert root.trace_id in out and "support-request" in out
    tree = run("traces", "show", root.trace_id)
    assert "[llm] chat" in tree and "gemma" in tree and "tokens 12/3" in tree
    assert "score thumbs = 1.0 (human): great" in tree
    data = json.loads(run("traces", "list", "--json", "--user", "u9"))
    assert [t["trace_id"] for t in data["traces"]] == [root.trace_id]
    stats = run("stats", "--by", "tenant", "--since", "24h")
    assert "acme" in stats and "100% of 1" in stats
    report = json.loads(run("stats", "--by", "model", "--json"))
    assert report["groups"][0]["key"] == "gemma"
