"""OTLP/HTTP ingest with the real OpenTelemetry SDK and exporter, against a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from tests.conftest import ServerProcess


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    url = (
        request.getfixturevalue("postgres").fresh_database()
        if request.param == "postgresql"
        else None
    )
    s = ServerProcess(tmp_path_factory.mktemp("otlp"), database_url=url).start()
    yield s
    s.stop()


def _provider(server: ServerProcess, project: str, *, batch: bool = False) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": project}))
    exporter = OTLPSpanExporter(endpoint=f"{server.url}/v1/traces", timeout=10)
    provider.add_span_processor(
        BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    )
    return provider


def _trace(server: ServerProcess, trace_id: str) -> dict:  # type: ignore[type-arg]
    resp = httpx.get(f"{server.url}/api/v1/traces/{trace_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_genai_spans_from_the_otel_sdk(server: ServerProcess) -> None:
    provider = _provider(server, "support-bot")
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("answer-question") as root:
        root.set_attribute("user.id", "u-42")
        root.set_attribute("session.id", "s-7")
        root.set_attribute("shipyard.tenant", "acme")
        root.set_attribute("shipyard.feature", "faq")
        root.set_attribute("input.value", "How do I reset my password?")
        with tracer.start_as_current_span("retrieve") as r:
            r.set_attribute("openinference.span.kind", "RETRIEVER")
            r.set_attribute("retrieval.documents.0.document.id", "doc-1")
            r.set_attribute("shipyard.index.name", "help-center")
            r.set_attribute("shipyard.index.version", 4)
        with tracer.start_as_current_span("chat gemma") as llm:
            llm.set_attribute("gen_ai.operation.name", "chat")
            llm.set_attribute("gen_ai.provider.name", "local")
            llm.set_attribute("gen_ai.request.model", "gemma3-270m")
            llm.set_attribute("gen_ai.request.temperature", 0.2)
            llm.set_attribute("gen_ai.usage.input_tokens", 120)
            llm.set_attribute("gen_ai.usage.output_tokens", 30)
            llm.set_attribute("gen_ai.usage.cache_read.input_tokens", 100)
            llm.set_attribute("shipyard.cost_usd", 0.0004)
            llm.set_attribute("shipyard.prompt.name", "support-answer")
            llm.set_attribute("shipyard.prompt.version", 3)
            llm.add_event("gen_ai.first_token")
        root.set_attribute("output.value", "Use the reset link.")
        trace_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    detail = _trace(server, trace_id)
    t = detail["trace"]
    assert t["project"] == "support-bot" and t["name"] == "answer-question"
    assert (t["user_id"], t["session_id"], t["tenant"], t["feature"]) == (
        "u-42",
        "s-7",
        "acme",
        "faq",
    )
    assert t["input"] == "How do I reset my password?" and t["output"] == "Use the reset link."
    assert (t["input_tokens"], t["output_tokens"], t["span_count"]) == (120, 30, 3)
    assert t["cost_usd"] == pytest.approx(0.0004)
    assert (t["model"], t["prompt_name"], t["prompt_version"]) == (
        "gemma3-270m",
        "support-answer",
        3,
    )
    spans = detail["spans"]
    assert [s["name"] for s in spans] == ["answer-question", "retrieve", "chat gemma"]
    assert [s["kind"] for s in spans] == ["chain", "retrieval", "llm"]
    llm_span = spans[2]
    assert llm_span["parent_id"] == spans[0]["span_id"]
    assert (llm_span["provider"], llm_span["operation"], llm_span["cached_input_tokens"]) == (
        "local",
        "chat",
        100,
    )
    assert llm_span["attributes"]["gen_ai.request.temperature"] == 0.2
    assert spans[1]["attributes"]["retrieval.documents.0.document.id"] == "doc-1"
    assert (spans[1]["index_name"], spans[1]["index_version"]) == ("help-center", 4)
    assert 0 <= llm_span["ttft_ms"] <= llm_span["duration_ms"]


def test_errors_and_exceptions_are_recorded(server: ServerProcess) -> None:
    provider = _provider(server, "errs")
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("job") as root:
        try:
            with tracer.start_as_current_span("tool call") as tool:
                tool.set_attribute("openinference.span.kind", "TOOL")
                raise ValueError("upstream timed out")
        except ValueError:
            root.set_status(Status(StatusCode.ERROR, "tool failed"))
        trace_id = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    detail = _trace(server, trace_id)
    assert detail["trace"]["status"] == "error" and detail["trace"]["error_count"] == 2
    tool = next(s for s in detail["spans"] if s["name"] == "tool call")
    assert tool["status"] == "error" and tool["error"] == "ValueError: upstream timed out"


def test_many_spans_through_the_batch_processor(server: ServerProcess) -> None:
    provider = _provider(server, "bulk", batch=True)
    tracer = provider.get_tracer("app")
    ids = []
    for i in range(300):
        with tracer.start_as_current_span(f"req-{i}") as root:
            with tracer.start_as_current_span("llm") as s:
                s.set_attribute("gen_ai.operation.name", "chat")
                s.set_attribute("gen_ai.usage.output_tokens", i)
            ids.append(format(root.get_span_context().trace_id, "032x"))
    provider.force_flush()
    provider.shutdown()
    page = httpx.get(f"{server.url}/api/v1/traces", params={"project": "bulk", "limit": 1000})
    got = {t["trace_id"]: t for t in page.json()["traces"]}
    assert set(ids) <= set(got)
    assert sum(got[i]["output_tokens"] for i in ids) == sum(range(300))


def test_otlp_json_and_gzip(server: ServerProcess) -> None:
    import gzip

    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "json-app"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "embed",
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000250000000",
                                "status": {"code": "STATUS_CODE_OK"},
                                "attributes": [
                                    {
                                        "key": "openinference.span.kind",
                                        "value": {"stringValue": "EMBEDDING"},
                                    },
                                    {"key": "llm.token_count.prompt", "value": {"intValue": "17"}},
                                    {
                                        "key": "tag.tags",
                                        "value": {
                                            "arrayValue": {
                                                "values": [
                                                    {"stringValue": "beta"},
                                                    {"stringValue": "eu"},
                                                ]
                                            }
                                        },
                                    },
                                ],
                            }
                        ]
                    }
                ],
            }
        ]
    }
    resp = httpx.post(
        f"{server.url}/v1/traces",
        content=gzip.compress(json.dumps(body).encode()),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert resp.status_code == 200 and resp.json() == {}
    detail = _trace(server, trace_id)
    assert detail["trace"]["project"] == "json-app" and detail["trace"]["tags"] == ["beta", "eu"]
    span = detail["spans"][0]
    assert (span["kind"], span["input_tokens"], span["duration_ms"]) == ("embedding", 17, 250.0)
    tagged = httpx.get(f"{server.url}/api/v1/traces", params={"tag": "eu"}).json()["traces"]
    assert [t["trace_id"] for t in tagged] == [trace_id]


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"\x00garbage\xff", "application/x-protobuf"),
        (b"{not json", "application/json"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]}',
            "application/json",
        ),
        (b"{}", "text/plain"),
    ],
)
def test_malformed_otlp_is_a_4xx(server: ServerProcess, body: bytes, ctype: str) -> None:
    resp = httpx.post(f"{server.url}/v1/traces", content=body, headers={"content-type": ctype})
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["error"]["type"] == "InvalidInput"


def test_native_batch_scores_and_duplicates(server: ServerProcess) -> None:
    tid = "ab" * 16
    spans = [
        {
            "trace_id": tid,
            "span_id": "01" * 8,
            "name": "rag-answer",
            "kind": "chain",
            "start_time_ms": 1_700_000_000_000,
            "end_time_ms": 1_700_000_001_500,
            "user_id": "u1",
            "input": {"question": "q"},
            "output": "a",
        },
        {
            "trace_id": tid,
            "span_id": "02" * 8,
            "parent_id": "01" * 8,
            "name": "gen",
            "kind": "llm",
            "start_time_ms": 1_700_000_000_100,
            "end_time_ms": 1_700_000_001_400,
            "model": "gpt-x",
            "input_tokens": 10,
            "output_tokens": 5,
            "cost_usd": 0.01,
        },
    ]
    for _ in range(2):  # an exporter retry sends the same spans again
        resp = httpx.post(f"{server.url}/api/v1/traces/batch", json={"spans": spans})
        assert resp.status_code == 200 and resp.json() == {"stored": 2}
    detail = _trace(server, tid)
    assert len(detail["spans"]) == 2 and detail["trace"]["latency_ms"] == 1500
    assert (detail["trace"]["span_count"], detail["trace"]["input_tokens"]) == (2, 10)
    assert detail["trace"]["input"] == '{"question":"q"}'
    score = httpx.post(
        f"{server.url}/api/v1/scores",
        json={"trace_id": tid, "name": "thumbs", "value": True, "comment": "good"},
    )
    assert score.status_code == 201 and score.json()["kind"] == "boolean"
    assert _trace(server, tid)["scores"][0]["comment"] == "good"
    found = httpx.get(
        f"{server.url}/api/v1/traces", params={"score_name": "thumbs", "min_score": 1}
    ).json()["traces"]
    assert [t["trace_id"] for t in found] == [tid]
    bad = httpx.post(f"{server.url}/api/v1/traces/batch", json={"spans": [{"trace_id": "x"}]})
    assert bad.status_code == 422


def test_acknowledged_spans_survive_kill_9(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "srv").start()
    provider = _provider(server, "durable", batch=True)
    tracer = provider.get_tracer("app")
    for i in range(500):
        with tracer.start_as_current_span(f"op-{i}"):
            pass
    assert provider.force_flush(30_000)  # every export answered 2xx
    server.kill9()
    provider.shutdown()
    restarted = ServerProcess(server.home)
    restarted.port, restarted.url = server.port, server.url
    restarted.start()
    try:
        page = httpx.get(
            f"{restarted.url}/api/v1/traces", params={"project": "durable", "limit": 1000}
        ).json()
        assert len(page["traces"]) == 500
    finally:
        restarted.stop()


def test_prometheus_metrics(server: ServerProcess) -> None:
    tid = "cd" * 16
    spans = [
        {
            "trace_id": tid,
            "span_id": f"{i:016x}",
            "name": "gen",
            "kind": "llm",
            "start_time_ms": 1_700_000_000_000,
            "end_time_ms": 1_700_000_000_300,
            "model": "prom-model",
            "tenant": "prom-tenant",
            "input_tokens": 100,
            "output_tokens": 20,
            "cost_usd": 0.5,
        }
        for i in range(3)
    ]
    assert httpx.post(f"{server.url}/api/v1/traces/batch", json={"spans": spans}).status_code == 200
    text = httpx.get(f"{server.url}/metrics").text
    assert (
        'shipyard_llm_requests_total{model="prom-model",route="",tenant="prom-tenant",'
        'status="ok"} 3' in text
    )
    assert (
        'shipyard_llm_tokens_total{model="prom-model",route="",tenant="prom-tenant",'
        'direction="input"} 300' in text
    )
    assert (
        'shipyard_llm_cost_usd_total{model="prom-model",route="",tenant="prom-tenant"} 1.5' in text
    )
    assert (
        'shipyard_llm_request_duration_seconds_bucket{model="prom-model",route="",le="0.5"} 3'
        in text
    )
    assert (
        'shipyard_http_requests_total{method="POST",route="/api/v1/traces/batch",'
        'status="200"}' in text
    )


def test_decode_workers_go_away_with_a_killed_server(tmp_path: Path) -> None:
    import os
    import time

    server = ServerProcess(tmp_path / "srv")
    server.env["SHIPYARD_DECODE_WORKERS"] = "1"
    server.start()
    assert server.proc is not None
    parent = server.proc.pid
    children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == parent]
    assert children, "the server started a decode worker"
    server.kill9()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(c) for c in children):
        time.sleep(0.1)
    assert not any(_alive(c) for c in children)


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
