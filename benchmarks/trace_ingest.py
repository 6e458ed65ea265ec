"""Sustained OTLP/HTTP span ingestion: ``shipyard server`` (embedded SQLite) against the OTLP
endpoint of ``mlflow server`` (SQLite), with the same protobuf payloads, then every span
counted back from each store.

Payloads look like LLM application traffic: traces of five spans (chain → retrieval, llm,
guardrail, tool) with GenAI and OpenInference attributes and short inputs/outputs, 512 spans
per export request (the OpenTelemetry batch processor's default), sent by several concurrent
exporters. Shipyard gets ``--spans`` spans; the peer gets the same payloads for up to
``--peer-seconds``. Prints spans/s for each, the ratio and lost spans; the last line is JSON.

    python benchmarks/trace_ingest.py [--spans 400000 --senders 4 --peer-seconds 60]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import start_mlflow, start_shipyard, stop

from shipyard.cli.common import progress_bar

console = Console(stderr=True)
BATCH = 512
KINDS = ("CHAIN", "RETRIEVER", "LLM", "GUARDRAIL", "TOOL")
QUESTIONS = [
    "How do I reset my password?",
    "What is the refund policy for annual plans?",
    "Can I export my data to CSV?",
    "Why was my card declined?",
]


def _kv(key: str, value: object) -> KeyValue:
    v = AnyValue()
    if isinstance(value, bool):
        v.bool_value = value
    elif isinstance(value, int):
        v.int_value = value
    elif isinstance(value, float):
        v.double_value = value
    else:
        v.string_value = str(value)
    return KeyValue(key=key, value=v)


def make_payloads(total: int, seed: int = 7) -> list[bytes]:
    """``total`` spans (traces of 5) as OTLP protobuf requests of BATCH spans, all ids unique."""
    rnd = random.Random(seed)
    now = time.time_ns()
    payloads: list[bytes] = []
    made = 0
    while made < total:
        req = ExportTraceServiceRequest()
        rs = req.resource_spans.add()
        rs.resource.attributes.extend([_kv("service.name", "support-bot")])
        ss = rs.scope_spans.add()
        ss.scope.name = "bench"
        while len(ss.spans) < BATCH and made < total:
            trace_id, root = rnd.randbytes(16), rnd.randbytes(8)
            q = rnd.choice(QUESTIONS)
            for j, kind in enumerate(KINDS):
                if len(ss.spans) >= BATCH or made >= total:
                    break
                sp = ss.spans.add()
                sp.trace_id, sp.span_id = trace_id, root if j == 0 else rnd.randbytes(8)
                if j:
                    sp.parent_span_id = root
                sp.name = ["answer", "retrieve", "chat gemma3-270m", "pii-check", "lookup"][j]
                sp.kind = 1
                start_ns = now + made * 1000
                sp.start_time_unix_nano = start_ns
                sp.end_time_unix_nano = start_ns + rnd.randint(1, 900) * 1_000_000
                sp.status.code = 1
                attrs = [
                    _kv("openinference.span.kind", kind),
                    _kv("user.id", f"user-{made % 97}"),
                    _kv("session.id", f"s-{made % 331}"),
                    _kv("shipyard.tenant", "acme"),
                ]
                if kind == "CHAIN":
                    attrs += [
                        _kv("input.value", q),
                        _kv(
                            "output.value",
                            "Open Settings → "
                            "Security and choose Reset password; a link is e-mailed.",
                        ),
                    ]
                if kind == "LLM":
                    attrs += [
                        _kv("gen_ai.operation.name", "chat"),
                        _kv("gen_ai.provider.name", "local"),
                        _kv("gen_ai.request.model", "gemma3-270m"),
                        _kv("gen_ai.request.temperature", 0.2),
                        _kv("gen_ai.usage.input_tokens", rnd.randint(50, 800)),
                        _kv("gen_ai.usage.output_tokens", rnd.randint(5, 200)),
                        _kv("input.value", f"Context: ...\nQuestion: {q}\nAnswer:"),
                    ]
                if kind == "RETRIEVER":
                    attrs += [
                        _kv("retrieval.documents.0.document.id", "kb-12#3"),
                        _kv("retrieval.documents.0.document.score", 0.83),
                    ]
                sp.attributes.extend(attrs)
                made += 1
        payloads.append(req.SerializeToString())
    return payloads


def send_all(
    url: str,
    payloads: list[bytes],
    senders: int,
    headers: dict[str, str],
    deadline_s: float | None,
    label: str,
) -> tuple[int, int, float]:
    """Post every payload (or until the deadline); returns (spans acked, failed requests, s)."""
    lock = threading.Lock()
    state = {"next": 0, "acked": 0, "failed": 0}
    sizes = [
        ExportTraceServiceRequest.FromString(p).resource_spans[0].scope_spans[0].spans
        for p in payloads[:1]
    ]
    del sizes
    counts = [
        len(ExportTraceServiceRequest.FromString(p).resource_spans[0].scope_spans[0].spans)
        for p in payloads
    ]
    start_t = time.perf_counter()
    stop_at = start_t + deadline_s if deadline_s else None

    def worker() -> None:
        with httpx.Client(timeout=120) as client:
            while True:
                with lock:
                    i = state["next"]
                    if i >= len(payloads) or (stop_at and time.perf_counter() > stop_at):
                        return
                    state["next"] += 1
                try:
                    resp = client.post(url, content=payloads[i], headers=headers)
                except httpx.HTTPError:  # the server went away: nothing was acknowledged
                    with lock:
                        state["failed"] += 1
                    continue
                with lock:
                    if resp.status_code == 200:
                        state["acked"] += counts[i]
                    else:
                        state["failed"] += 1
                        if state["failed"] <= 3:
                            console.print(f"{label}: HTTP {resp.status_code} {resp.text[:200]}")
                    bar.update(task, completed=state["acked"])

    with progress_bar(console) as bar:
        task = bar.add_task(f"{label}: spans", total=sum(counts))
        threads = [threading.Thread(target=worker) for _ in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return state["acked"], state["failed"], time.perf_counter() - start_t


def count_rows(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def run_shipyard(work: Path, payloads: list[bytes], senders: int) -> dict[str, float]:
    proc, url = start_shipyard(work / "shipyard", work / "shipyard.log")
    try:
        acked, failed, secs = send_all(
            f"{url}/v1/traces",
            payloads,
            senders,
            {"content-type": "application/x-protobuf"},
            None,
            "shipyard",
        )
    finally:
        stop(proc)
    stored = count_rows(work / "shipyard" / "shipyard.db", "spans")
    return {"acked": acked, "failed": failed, "seconds": secs, "stored": stored}


def run_kill9(work: Path, payloads: list[bytes], senders: int, after_s: float) -> dict[str, float]:
    """Ingest, ``kill -9`` the server mid-stream, then count what is on disk."""
    proc, url = start_shipyard(work / "killed", work / "killed.log")
    killer = threading.Timer(after_s, proc.kill)
    killer.start()
    try:
        acked, failed, secs = send_all(
            f"{url}/v1/traces",
            payloads,
            senders,
            {"content-type": "application/x-protobuf"},
            None,
            "shipyard (killed)",
        )
    finally:
        killer.cancel()
        proc.kill()
        proc.wait(10)
    stored = count_rows(work / "killed" / "shipyard.db", "spans")
    return {"acked": acked, "failed": failed, "seconds": secs, "stored": stored}


def run_mlflow(work: Path, payloads: list[bytes], senders: int, seconds: float) -> dict[str, float]:
    proc, url, _py = start_mlflow(work / "mlflow", work / "mlflow.log")
    try:
        acked, failed, secs = send_all(
            f"{url}/v1/traces",
            payloads,
            senders,
            {"content-type": "application/x-protobuf", "x-mlflow-experiment-id": "0"},
            seconds,
            "mlflow",
        )
    finally:
        stop(proc)
    stored = count_rows(work / "mlflow" / "mlflow.db", "spans")
    return {"acked": acked, "failed": failed, "seconds": secs, "stored": stored}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spans", type=int, default=400_000)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--peer-seconds", type=float, default=60.0)
    ap.add_argument(
        "--kill9-after",
        type=float,
        default=5.0,
        help="also kill -9 a server this many seconds into a run (0: skip)",
    )
    args = ap.parse_args()
    console.print(f"building {args.spans:,} spans of OTLP payloads ({BATCH} per request)...")
    payloads = make_payloads(args.spans)
    with tempfile.TemporaryDirectory(prefix="shipyard-trace-bench-") as tmp:
        work = Path(tmp)
        ours = run_shipyard(work, payloads, args.senders)
        peer = run_mlflow(work, payloads, args.senders, args.peer_seconds)
        killed = (
            run_kill9(work, payloads, args.senders, args.kill9_after) if args.kill9_after else None
        )
    rate = ours["acked"] / ours["seconds"]
    peer_rate = peer["acked"] / peer["seconds"]
    lost = int(ours["acked"] - ours["stored"])
    peer_lost = int(peer["acked"] - peer["stored"])
    print(
        f"shipyard: {ours['acked']:,.0f} spans acknowledged in {ours['seconds']:.1f} s = "
        f"{rate:,.0f} spans/s; {ours['stored']:,.0f} counted back, lost {lost}, "
        f"failed requests {ours['failed']:.0f}"
    )
    print(
        f"mlflow:   {peer['acked']:,.0f} spans acknowledged in {peer['seconds']:.1f} s = "
        f"{peer_rate:,.0f} spans/s; {peer['stored']:,.0f} counted back, lost {peer_lost}, "
        f"failed requests {peer['failed']:.0f}"
    )
    print(f"speedup: {rate / peer_rate:.1f}x")
    kill_lost = None
    if killed is not None:
        kill_lost = int(max(0, killed["acked"] - killed["stored"]))
        print(
            f"kill -9 after {args.kill9_after:.0f} s: {killed['acked']:,.0f} spans acknowledged, "
            f"{killed['stored']:,.0f} on disk, acknowledged but lost: {kill_lost}"
        )
    print(
        json.dumps(
            {
                "benchmark": "trace_ingest",
                "spans": int(ours["acked"]),
                "senders": args.senders,
                "spans_per_s": round(rate),
                "peer_spans_per_s": round(peer_rate, 1),
                "speedup": round(rate / peer_rate, 1),
                "lost": lost,
                "peer_lost": peer_lost,
                "failed_requests": int(ours["failed"]),
                "peer_failed_requests": int(peer["failed"]),
                "kill9_acked": int(killed["acked"]) if killed else None,
                "kill9_lost": kill_lost,
            }
        )
    )


if __name__ == "__main__":
    main()
