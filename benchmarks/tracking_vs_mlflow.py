"""Tracking throughput: Shipyard (SDK + server) against MLflow (client + server).

Workload (the same for both, in one run on this machine): RUNS runs × STEPS steps × METRICS
metrics, logged the way each tool's documentation shows for a training loop (MLflow:
``mlflow.log_metrics`` once per step; Shipyard: ``run.log_metrics`` once per step). Then the full
history of every metric of one run is read back (median of several reads). Both servers use
SQLite. Prints both times and the ratios; the last line is a JSON object.

    python benchmarks/tracking_vs_mlflow.py [--runs 100 --steps 200 --metrics 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, start_mlflow, start_shipyard, stop

from shipyard.cli.common import progress_bar
from shipyard.core.settings import Settings
from shipyard.sdk import Client

console = Console(stderr=True)

MLFLOW_SCRIPT = r"""
import json, statistics, sys, time
import mlflow
from mlflow.tracking import MlflowClient

url, runs, steps, metrics, repeat = sys.argv[1], *map(int, sys.argv[2:6])
mlflow.set_tracking_uri(url)
mlflow.set_experiment("bench")
keys = [f"metric_{k}" for k in range(metrics)]
t0 = time.perf_counter()
run_ids = []
for r in range(runs):
    with mlflow.start_run(run_name=f"run-{r}") as run:
        for step in range(steps):
            mlflow.log_metrics({k: step * 0.001 + i for i, k in enumerate(keys)}, step=step)
        run_ids.append(run.info.run_id)
    print(f"progress {r + 1}", file=sys.stderr, flush=True)
log_s = time.perf_counter() - t0
client = MlflowClient(url)
points = 0
def read():
    global points
    points = sum(len(client.get_metric_history(run_ids[0], k)) for k in keys)
times = []
for _ in range(repeat):
    t = time.perf_counter(); read(); times.append(time.perf_counter() - t)
print(json.dumps({"log_s": log_s, "read_s": statistics.median(times), "points_read": points}))
"""


def bench_shipyard(
    work: Path, runs: int, steps: int, metrics: int, repeat: int
) -> dict[str, float]:
    proc, url = start_shipyard(work / "shipyard-home", work / "shipyard-server.log")
    try:
        client = Client(Settings.load(home=work / "shipyard-client"), url=url)
        keys = [f"metric_{k}" for k in range(metrics)]
        run_ids = []
        with progress_bar(console) as bar:
            task = bar.add_task("shipyard: logging", total=runs)
            t0 = time.perf_counter()
            for r in range(runs):
                with client.start_run("bench", run_name=f"run-{r}") as run:
                    for step in range(steps):
                        run.log_metrics(
                            {k: step * 0.001 + i for i, k in enumerate(keys)}, step=step
                        )
                run_ids.append(run.id)
                bar.advance(task)
            log_s = time.perf_counter() - t0
        points = 0

        def read() -> None:
            nonlocal points
            points = sum(len(s.steps) for s in client.tracking.metric_history(run_ids[0]))

        read()  # one warm-up read, as the peer's first read also pays for its connection
        read_s = median_time(read, repeat)
        client.close()
        return {"log_s": log_s, "read_s": read_s, "points_read": points}
    finally:
        stop(proc)


def bench_mlflow(work: Path, runs: int, steps: int, metrics: int, repeat: int) -> dict[str, float]:
    proc, url, py = start_mlflow(work / "mlflow", work / "mlflow-server.log")
    env = dict(os.environ)
    try:
        script = work / "mlflow_bench.py"
        script.write_text(MLFLOW_SCRIPT)
        cmd = [str(py), str(script), url, str(runs), str(steps), str(metrics), str(repeat)]
        child = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert child.stderr is not None and child.stdout is not None
        with progress_bar(console) as bar:
            task = bar.add_task("mlflow:   logging", total=runs)
            for line in child.stderr:
                if line.startswith("progress "):
                    bar.update(task, completed=int(line.split()[1]))
                elif line.strip():
                    console.print(f"[dim]mlflow: {line.rstrip()}[/]")
        out = child.stdout.read()
        if child.wait() != 0:
            raise RuntimeError(f"mlflow benchmark failed: {out}")
        return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]
    finally:
        stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--metrics", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5, help="reads to take the median of")
    args = ap.parse_args()
    total = args.runs * args.steps * args.metrics
    console.print(
        f"workload: {args.runs} runs × {args.steps} steps × {args.metrics} metrics "
        f"= {total:,} points, then the full history of one run"
    )
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        work = Path(tmp)
        ours = bench_shipyard(work, args.runs, args.steps, args.metrics, args.repeat)
        peer = bench_mlflow(work, args.runs, args.steps, args.metrics, args.repeat)
    assert ours["points_read"] == peer["points_read"] == args.steps * args.metrics
    log_speedup = peer["log_s"] / ours["log_s"]
    read_speedup = peer["read_s"] / ours["read_s"]
    print(
        f"logging {total:,} points: shipyard {ours['log_s']:.2f} s "
        f"({total / ours['log_s']:,.0f} points/s), mlflow {peer['log_s']:.2f} s "
        f"({total / peer['log_s']:,.0f} points/s) -> {log_speedup:.1f}x"
    )
    print(
        f"reading {ours['points_read']} points of one run: shipyard {ours['read_s'] * 1000:.1f} ms,"
        f" mlflow {peer['read_s'] * 1000:.1f} ms -> {read_speedup:.1f}x"
    )
    print(
        json.dumps(
            {
                "benchmark": "tracking_vs_mlflow",
                "runs": args.runs,
                "steps": args.steps,
                "metrics": args.metrics,
                "points": total,
                "shipyard_log_s": round(ours["log_s"], 3),
                "mlflow_log_s": round(peer["log_s"], 3),
                "shipyard_read_s": round(ours["read_s"], 5),
                "mlflow_read_s": round(peer["read_s"], 5),
                "log_speedup": round(log_speedup, 2),
                "read_speedup": round(read_speedup, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
