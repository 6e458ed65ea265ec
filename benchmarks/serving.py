"""Model serving: a scikit-learn model behind Shipyard's endpoint against ``mlflow models serve``.

The same fitted model (a random forest of 100 trees on scikit-learn's breast-cancer data,
30 features) is registered in Shipyard and saved in MLflow's format. Each server gets the same
load: ``--concurrency`` clients, each sending one-row requests in MLflow's
``dataframe_records`` format (which both accept), ``--requests`` in all after a warm-up. The
load generator is this process (asyncio + httpx). MLflow runs with 2 uvicorn workers (one per
core); Shipyard with its defaults (one process, micro-batching, every prediction logged). Both
servers stay up; the load alternates between them over ``--rounds`` rounds and the medians
are reported (single runs of MLflow varied from 48 to 122 predictions/s here).

    python benchmarks/serving.py [--requests 5000] [--concurrency 16] [--rounds 5]

The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    MLFLOW_REQUIREMENT,
    free_port,
    peer_python,
    start,
    start_shipyard,
    stop,
    wait_http,
)

console = Console(stderr=True, width=120)


def make_model() -> tuple[Any, list[dict[str, float]]]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1).fit(x, y)
    return model, x.to_dict(orient="records")


async def load(url: str, rows: list[dict[str, float]], n: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                body = {"dataframe_records": [rows[i % len(rows)]]}
                t0 = time.perf_counter()
                r = await client.post(url, json=body)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return {"rps": n / elapsed, "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": p99 * 1000, "errors": errors}  # fmt: skip


@contextlib.contextmanager
def shipyard_endpoint(model: Any, rows: list[dict[str, float]], tmp: Path) -> Iterator[str]:
    from shipyard.core.settings import Settings
    from shipyard.sdk import Client

    proc, url = start_shipyard(tmp / "shipyard", tmp / "shipyard.log")
    try:
        with Client(Settings.load(home=tmp / "client"), url=url) as client:
            import pandas as pd

            client.ml.log_model(model, "cancer", input_example=pd.DataFrame(rows[:5]))
            client.registry.set_alias("cancer", "champion", 1)
            client.ml.create_endpoint("cancer-api", model="cancer")
        yield f"{url}/api/v1/endpoints/cancer-api/predict"
    finally:
        stop(proc)


@contextlib.contextmanager
def mlflow_endpoint(model: Any, tmp: Path) -> Iterator[str]:
    import joblib

    py = peer_python("mlflow", MLFLOW_REQUIREMENT, "import mlflow")
    joblib.dump(model, tmp / "model.joblib")
    saved = tmp / "mlflow-model"
    save = (
        "import joblib, sys, mlflow.sklearn; mlflow.sklearn.save_model("
        "joblib.load(sys.argv[1]), sys.argv[2], serialization_format='pickle')"
    )
    subprocess.run([str(py), "-c", save, str(tmp / "model.joblib"), str(saved)], check=True,
                   capture_output=True)  # fmt: skip
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"file://{tmp / 'mlruns'}",
           "PATH": f"{py.parent}:{os.environ.get('PATH', '')}"}  # its uvicorn  # fmt: skip
    cmd = [str(py.parent / "mlflow"), "models", "serve", "-m", str(saved), "--env-manager",
           "local", "-h", "127.0.0.1", "-p", str(port), "-w", "2"]  # fmt: skip
    proc = start(cmd, env, tmp / "mlflow.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/ping", proc, 180, tmp / "mlflow.log")
        yield f"http://127.0.0.1:{port}/invocations"
    finally:
        stop(proc)


def rounds(urls: dict[str, str], rows: list[dict[str, float]], a: argparse.Namespace
           ) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Alternating rounds (both servers up, one loaded at a time); medians per server."""
    seen: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
    for url in urls.values():
        asyncio.run(load(url, rows, 300, a.concurrency))  # warm-up
    for i in range(a.rounds):
        for name, url in urls.items():
            found = asyncio.run(load(url, rows, a.requests // a.rounds, a.concurrency))
            seen[name].append(found)
            console.print(f"round {i + 1}: {name} {found['rps']:,.0f}/s, "
                          f"p99 {found['p99_ms']:.0f} ms")  # fmt: skip
    return {name: {"rps": statistics.median(r["rps"] for r in runs),
                   "p50_ms": statistics.median(r["p50_ms"] for r in runs),
                   "p99_ms": statistics.median(r["p99_ms"] for r in runs),
                   "errors": sum(r["errors"] for r in runs),
                   "rounds_rps": [round(r["rps"], 1) for r in runs]}
            for name, runs in seen.items()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    a = parser.parse_args()
    model, rows = make_model()
    with (
        tempfile.TemporaryDirectory() as tmp,
        shipyard_endpoint(model, rows, Path(tmp)) as ours_url,
        mlflow_endpoint(model, Path(tmp)) as peer_url,
    ):
        found = rounds({"shipyard": ours_url, "mlflow": peer_url}, rows, a)
    ours, peer = found["shipyard"], found["mlflow"]
    table = Table(title=f"{a.requests:,} one-row requests, {a.concurrency} at a time, "
                        f"{a.rounds} alternating rounds (medians)")  # fmt: skip
    for col in ("server", "predictions/s", "p50 ms", "p99 ms", "errors"):
        table.add_column(col)
    for name, r in (("Shipyard", ours), ("mlflow models serve", peer)):
        table.add_row(name, f"{r['rps']:,.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                      str(r["errors"]))  # fmt: skip
    console.print(table)
    ratio = ours["rps"] / peer["rps"]
    met = ratio >= 2 and ours["errors"] == 0
    console.print(f"throughput {ratio:.2f}× MLflow's; target ≥ 2×: {'met' if met else 'MISSED'}")
    print(json.dumps({
        "benchmark": "serving", "requests": a.requests, "concurrency": a.concurrency,
        "throughput_ratio": round(ratio, 2), "p99_ms": round(ours["p99_ms"], 2),
        "p50_ms": round(ours["p50_ms"], 2), "rps": round(ours["rps"], 1),
        "rounds_rps": ours["rounds_rps"], "mlflow": peer, "errors": ours["errors"],
        "targets_met": met, "load_avg_1m": round(os.getloadavg()[0], 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
