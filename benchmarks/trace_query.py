"""Trace queries at scale: filtered trace lists against 1,000,000 spans in the embedded SQLite.

Fills a fresh store with TRACES × 5 spans of synthetic LLM traffic (users, sessions, tenants,
features, models, prompt versions, tags, errors, latencies, costs, scores), then runs each kind
of filtered list query (newest first, 50 per page) with varied values and reports p50/p95 per
filter. The last line is a JSON object with ``p95_ms`` (the worst filter's p95).

    python benchmarks/trace_query.py [--traces 200000 --repeat 40]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console

from shipyard.cli.common import progress_bar
from shipyard.core.ids import now_ms
from shipyard.core.settings import Settings
from shipyard.platform import Platform
from shipyard.tracing.records import SpanRecord, to_rows
from shipyard.tracing.schemas import TraceQuery

console = Console(stderr=True)
TENANTS = [f"tenant-{i}" for i in range(20)]
FEATURES = [
    "faq",
    "search",
    "summarize",
    "chat",
    "triage",
    "extract",
    "translate",
    "code",
    "email",
    "sql",
]
MODELS = [
    "gemma3-270m",
    "gpt-4o-mini",
    "claude-haiku",
    "llama-3-8b",
    "mistral-7b",
    "qwen-2-7b",
    "phi-3",
    "gpt-4o",
]
TAGS = ["beta", "eu", "us", "mobile", "web", "vip", "internal"]


def generate(rnd: random.Random, n_traces: int, end_ms: int, chunk: int = 10_000):
    """Chunks of spans, five per trace, spread over the 30 days before ``end_ms``."""
    span_no = 0
    for start in range(0, n_traces, chunk):
        spans: list[SpanRecord] = []
        for t in range(start, min(n_traces, start + chunk)):
            trace_id = f"{rnd.getrandbits(128):032x}"
            t0 = end_ms - rnd.randint(0, 30 * 86_400_000)
            user, tenant = f"user-{rnd.randint(0, 4999)}", rnd.choice(TENANTS)
            session = f"sess-{t // 4}"
            feature, model = rnd.choice(FEATURES), rnd.choice(MODELS)
            version = rnd.randint(1, 12)
            tags = rnd.sample(TAGS, rnd.randint(0, 2))
            error = rnd.random() < 0.03
            latency = int(rnd.lognormvariate(6.5, 0.8))
            root = f"{rnd.getrandbits(64):016x}"
            for j, kind in enumerate(("chain", "retrieval", "llm", "guardrail", "tool")):
                span_no += 1
                llm = kind == "llm"
                spans.append(SpanRecord(
                    trace_id=trace_id, span_id=root if j == 0 else f"{rnd.getrandbits(64):016x}",
                    parent_id=None if j == 0 else root, project="bench", name=kind, kind=kind,
                    status="error" if error and llm else "ok", start_ms=t0 + j,
                    duration_ms=float(latency if j == 0 else latency // 3),
                    model=model if llm else None,
                    prompt_name="support" if llm else None, prompt_version=version if llm else None,
                    input_tokens=rnd.randint(50, 2000) if llm else None,
                    output_tokens=rnd.randint(5, 400) if llm else None,
                    cost_usd=rnd.random() * 0.01 if llm else None,
                    input="question" if j == 0 else None, output="answer" if j == 0 else None,
                    attributes='{"gen_ai.request.temperature":0.2}' if llm else None,
                    user_id=user, session_id=session, tenant=tenant, feature=feature, tags=tags,
                ))  # fmt: skip
        yield spans


def fill(p: Platform, n_traces: int, end_ms: int) -> float:
    rnd = random.Random(11)
    t0 = time.perf_counter()
    with progress_bar(console) as bar:
        task = bar.add_task("writing spans", total=n_traces * 5)
        for spans in generate(rnd, n_traces, end_ms):
            p.tracing.store.write(to_rows(spans))
            bar.advance(task, len(spans))
    return time.perf_counter() - t0


def add_scores(p: Platform, n: int) -> None:
    from shipyard.core.identity import Actor, Role
    from shipyard.tracing.schemas import ScoreIn

    actor = Actor("bench", Role.admin)
    page = p.tracing.list_traces(TraceQuery(limit=1000))
    ids = [t.trace_id for t in page.traces]
    rnd = random.Random(3)
    for i in range(min(n, len(ids))):
        p.tracing.add_score(
            actor, ScoreIn(trace_id=ids[i], name="thumbs", value=rnd.random() < 0.8)
        )


def queries(rnd: random.Random, end_ms: int) -> dict[str, TraceQuery]:
    day = 86_400_000
    return {
        "recent (no filter)": TraceQuery(),
        "user": TraceQuery(user_id=f"user-{rnd.randint(0, 4999)}"),
        "session": TraceQuery(session_id=f"sess-{rnd.randint(0, 49_999)}"),
        "tenant + last 24h": TraceQuery(tenant=rnd.choice(TENANTS), since_ms=end_ms - day),
        "feature + 7-day window": TraceQuery(
            feature=rnd.choice(FEATURES), since_ms=end_ms - 14 * day, until_ms=end_ms - 7 * day
        ),
        "model + errors": TraceQuery(model=rnd.choice(MODELS), status="error"),
        "prompt version": TraceQuery(prompt_name="support", prompt_version=rnd.randint(1, 12)),
        "latency > 5 s": TraceQuery(min_latency_ms=5000),
        "cost range": TraceQuery(min_cost_usd=0.0095, max_cost_usd=0.01),
        "tag": TraceQuery(tag=rnd.choice(TAGS)),
        "score thumbs = 0": TraceQuery(score_name="thumbs", max_score=0),
        "tenant + model + errors": TraceQuery(
            tenant=rnd.choice(TENANTS), model=rnd.choice(MODELS), status="error"
        ),
        "model that matches nothing": TraceQuery(model="no-such-model"),
        "name that matches nothing": TraceQuery(name="no-such-name"),
        "tag that matches nothing": TraceQuery(tag="no-such-tag"),
        "latency > 1 h (none)": TraceQuery(min_latency_ms=3_600_000),
        "user + tag (rare)": TraceQuery(user_id=f"user-{rnd.randint(0, 4999)}", tag="vip"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--traces", type=int, default=200_000, help="five spans each")
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()
    end = now_ms()
    with tempfile.TemporaryDirectory(prefix="shipyard-query-bench-") as tmp:
        p = Platform(Settings.load(home=Path(tmp)))
        secs = fill(p, args.traces, end)
        console.print(f"wrote {args.traces * 5:,} spans in {secs:.0f} s")
        add_scores(p, 1000)
        timings: dict[str, list[float]] = {}
        rnd = random.Random(5)
        for _ in range(args.repeat):
            for label, q in queries(rnd, end).items():
                t0 = time.perf_counter()
                p.tracing.list_traces(q.model_copy(update={"limit": 50}))
                timings.setdefault(label, []).append((time.perf_counter() - t0) * 1000)
        p.close()
    report = {}
    for label, ts in timings.items():
        ts.sort()
        p95 = ts[min(len(ts) - 1, int(len(ts) * 0.95))]
        report[label] = round(p95, 1)
        print(f"{label:28s} p50 {statistics.median(ts):7.1f} ms   p95 {p95:7.1f} ms")
    worst = max(report.values())
    print(f"worst filter p95: {worst:.1f} ms over {args.traces * 5:,} spans")
    print(
        json.dumps(
            {
                "benchmark": "trace_query",
                "spans": args.traces * 5,
                "p95_ms": worst,
                "p95_ms_by_filter": report,
            }
        )
    )


if __name__ == "__main__":
    main()
