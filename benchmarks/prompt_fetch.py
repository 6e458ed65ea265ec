"""Prompt fetch latency: Shipyard's SDK against the MLflow prompt registry, side by side.

Both servers run on 127.0.0.1 on SQLite, each with one prompt (the same template, model and
parameters) labelled ``production``. Three ways of fetching it are timed in each tool:

* uncached: ``client.prompts.get(name, cache_ttl_s=0)`` against
  ``mlflow.genai.load_prompt("prompts:/NAME@production", cache_ttl_seconds=0)``;
* raw API: ``client.prompts.api.fetch(name)`` against
  ``MlflowClient().get_prompt_version_by_alias(name, "production")`` (no cache layer at all);
* cached: ``client.prompts.get(name)`` against ``mlflow.genai.load_prompt(uri)``, both with
  their default TTL (60 s), timed in batches and reported per call.

The rounds alternate between the tools (the machine is a shared VM: drift hits both alike); a
p50 is the median of the rounds' p50s, a p95 and a mean are over every call. MLflow runs in its
own virtual environment (``benchmarks/_mlflow_prompts.py``); without one, only Shipyard's
figures are printed, with how to make it. The last line printed is a JSON object.

    python benchmarks/prompt_fetch.py [--calls 2000] [--cached-calls 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CACHE, MLFLOW_REQUIREMENT, start_mlflow, start_shipyard, stop

from shipyard.core.settings import Settings
from shipyard.sdk import Client

console = Console(stderr=True)

NAME = "support-answer"
TEMPLATE = """You are the support assistant of Acme Cloud. Answer the customer's question using
only the context below. If the context does not contain the answer, say so and offer to open a
ticket; never invent product names, prices or deadlines. Keep the answer under 150 words, use
plain language, and end with one follow-up question.

Context:
{{context}}

Question: {{question}}
"""
MODEL, PARAMS = "gpt-4o-mini", {"temperature": 0.2, "max_tokens": 512}
MODES = ("uncached", "raw", "cached")
TARGET_UNCACHED_MS, TARGET_CACHED_US = 2.0, 10.0
LANGFUSE_PUBLISHED_P50_MS = 37.0  # Langfuse's own published figure, quoted, not measured here
MLFLOW_VENV = CACHE / "mlflow-venv"


# -- measuring -----------------------------------------------------------------------------------


def latencies_ms(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def per_call_us(fn: Callable[[], object], n: int, batch: int) -> list[float]:
    """Microseconds per call of each batch of ``batch`` calls (a call is too short to time)."""
    out = []
    for _ in range(max(1, n // batch)):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        out.append((time.perf_counter() - t0) * 1e6 / batch)
    return out


class ShipyardSide:
    """Remote SDK clients of a real ``shipyard server``, measured in this process.

    The uncached mode has a client of its own: ``get(name, cache_ttl_s=0)`` stores nothing,
    but it still answers from an entry that a ``get`` with a TTL stored before (as the cached
    mode's do), so on a shared client it would time the cache, not the server.
    """

    def __init__(self, url: str, home: Path) -> None:
        self.clients = []
        for sub in ("cached", "uncached"):
            settings = Settings.load(home=home / sub)
            settings.prompts.prompts_cache_ttl_s = 60.0  # the default, whatever the env says
            self.clients.append(Client(settings, url=url))
        prompts, self.uncached = self.clients[0].prompts, self.clients[1].prompts
        prompts.create(NAME, TEMPLATE, model=MODEL, params=PARAMS, labels=["production"])
        got = self.uncached.get(NAME, cache_ttl_s=0)
        assert got.data.spec.template == TEMPLATE and got.data.spec.model == MODEL, got.data
        self.fns: dict[str, Callable[[], object]] = {
            "uncached": lambda: self.uncached.get(NAME, cache_ttl_s=0),
            "raw": lambda: prompts.api.fetch(NAME),
            "cached": lambda: prompts.get(NAME),
        }

    def measure(self, mode: str, n: int, batch: int) -> list[float]:
        if mode == "cached":
            return per_call_us(self.fns[mode], n, batch)
        out = latencies_ms(self.fns[mode], n)
        assert not self.uncached.cache._entries, "the uncached client cached a prompt"
        return out

    def close(self) -> None:
        for client in self.clients:
            client.close()


class MlflowSide:
    """``_mlflow_prompts.py`` in the MLflow environment, driven one command at a time."""

    def __init__(self, py: Path, url: str, work: Path) -> None:
        template = work / "template.txt"
        template.write_text(TEMPLATE, encoding="utf-8")
        self.log = work / "mlflow-client.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.update(MLFLOW_ENABLE_TELEMETRY="false", DO_NOT_TRACK="1", PYTHONUNBUFFERED="1")
        helper = Path(__file__).resolve().parent / "_mlflow_prompts.py"
        with self.log.open("w") as err:
            self.proc = subprocess.Popen(
                [str(py), str(helper), url, NAME, str(template)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, env=env,
            )  # fmt: skip
        try:
            self.info = self._read()
        except Exception:
            self.close()
            raise

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the MLflow helper exited:\n{self.log.read_text()[-3000:]}")
        msg: dict[str, Any] = json.loads(line)
        if "error" in msg:
            raise RuntimeError(msg["error"])
        return msg

    def measure(self, mode: str, n: int, batch: int) -> list[float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{mode} {n} {batch}\n" if mode == "cached" else f"{mode} {n}\n")
        self.proc.stdin.flush()
        msg = self._read()
        return list(msg["us" if mode == "cached" else "ms"])

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        stop(self.proc)  # type: ignore[arg-type]


def mlflow_python(setup: bool) -> Path | None:
    """The MLflow environment's Python, or None (with how to make one) when there is none."""
    py = MLFLOW_VENV / "bin" / "python"
    ok = (
        py.exists()
        and subprocess.run([py, "-c", "import mlflow"], capture_output=True).returncode == 0
    )
    if ok or setup:
        return py  # start_mlflow makes the environment when it is missing
    console.print(
        f"[yellow]MLflow is not set up in {MLFLOW_VENV}: measuring Shipyard only.[/]\n"
        "To compare, make the environment once (about 2 minutes, ~820 MB) and run again:\n"
        f"  python -m venv {MLFLOW_VENV}\n"
        f"  {MLFLOW_VENV}/bin/pip install '{MLFLOW_REQUIREMENT}'\n"
        "or run this script with --setup-peer."
    )
    return None


# -- the run ---------------------------------------------------------------------------------------


def run_rounds(sides: dict[str, Any], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """``results[tool][mode]`` = {"rounds": [p50 of each round], "all": [every sample]}."""
    per_round = {
        "uncached": max(1, args.calls // args.rounds),
        "raw": max(1, args.calls // args.rounds),
        "cached": max(args.batch, args.cached_calls // args.rounds),
    }
    for tool, side in sides.items():  # warm-up: connections, imports, caches
        for mode in MODES:
            side.measure(mode, args.warmup if mode != "cached" else 10 * args.batch, args.batch)
        console.print(f"  {tool}: warmed up")
    results: dict[str, dict[str, Any]] = {
        t: {m: {"rounds": [], "all": []} for m in MODES} for t in sides
    }
    order = list(sides)
    for r in range(args.rounds):
        tools = order if r % 2 == 0 else order[::-1]  # who goes first alternates
        for mode in MODES:
            for tool in tools:
                samples = sides[tool].measure(mode, per_round[mode], args.batch)
                results[tool][mode]["rounds"].append(statistics.median(samples))
                results[tool][mode]["all"] += samples
        line = ", ".join(f"{t} {results[t]['uncached']['rounds'][-1]:.3f} ms" for t in sides)
        console.print(f"  round {r + 1}/{args.rounds}: uncached p50 {line}")
    return results


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def summary(res: dict[str, Any]) -> dict[str, float]:
    return {
        "p50": statistics.median(res["rounds"]),
        "p95": pct(res["all"], 0.95),
        "mean": statistics.fmean(res["all"]),
        "n": len(res["all"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=2000, help="uncached (and raw) fetches per tool")
    ap.add_argument("--cached-calls", type=int, default=200_000, help="cached fetches per tool")
    ap.add_argument("--batch", type=int, default=1000, help="cached calls timed together")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    ap.add_argument("--warmup", type=int, default=200, help="uncached fetches before timing")
    ap.add_argument("--setup-peer", action="store_true", help="make the MLflow environment")
    ap.add_argument("--shipyard-only", action="store_true", help="leave MLflow out")
    args = ap.parse_args()
    load = [os.getloadavg()[0]]  # before anything of ours runs: other work on the machine
    CACHE.mkdir(parents=True, exist_ok=True)
    py = None if args.shipyard_only else mlflow_python(args.setup_peer)
    sides: dict[str, Any] = {}
    procs: list[Any] = []
    peer_error = None
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        work = Path(tmp)
        try:
            console.print("starting shipyard server ...")
            proc, url = start_shipyard(
                work / "shipyard-home", work / "shipyard.log", {"SHIPYARD_HOST": "127.0.0.1"}
            )
            procs.append(proc)
            sides["shipyard"] = ShipyardSide(url, work / "shipyard-client")
            if py is not None:
                console.print("starting mlflow server (about 30 s) ...")
                try:
                    mproc, murl, mpy = start_mlflow(work / "mlflow", work / "mlflow.log")
                    procs.append(mproc)
                    sides["mlflow"] = MlflowSide(mpy, murl, work)
                except Exception as exc:  # still report Shipyard's figures
                    peer_error = str(exc)
                    console.print(f"[red]MLflow could not be measured:[/] {exc}")
            results = run_rounds(sides, args)
            load.append(os.getloadavg()[0])
            mlflow_version = sides["mlflow"].info["mlflow"] if "mlflow" in sides else None
        finally:
            for side in reversed(list(sides.values())):
                side.close()
            for p in reversed(procs):
                stop(p)
    report(results, mlflow_version, peer_error, load, args)


def report(results: dict[str, Any], mlflow_version: str | None, peer_error: str | None,
           load: list[float], args: argparse.Namespace) -> None:  # fmt: skip
    s = {t: {m: summary(results[t][m]) for m in MODES} for t in results}
    ours, peer = s["shipyard"], s.get("mlflow")
    ratio = {m: peer[m]["p50"] / ours[m]["p50"] for m in MODES} if peer else {}
    units = {"uncached": "ms", "raw": "ms", "cached": "µs"}
    labels = {
        "uncached": "uncached fetch",
        "raw": "raw API fetch (no cache layer)",
        "cached": "cached fetch (default TTL)",
    }
    table = Table(title=f"Prompt fetch on loopback ({args.rounds} interleaved rounds)")
    table.add_column("mode")
    for col in ("Shipyard p50", "Shipyard p95", "MLflow p50", "MLflow p95", "MLflow / Shipyard"):
        table.add_column(col, justify="right")
    for m in MODES:
        u, fmt = units[m], "{:.3f}" if m != "cached" else "{:.2f}"
        theirs = [fmt.format(peer[m][k]) + f" {u}" for k in ("p50", "p95")] if peer else ["-"] * 2
        table.add_row(
            labels[m], fmt.format(ours[m]["p50"]) + f" {u}", fmt.format(ours[m]["p95"]) + f" {u}",
            *theirs, f"{ratio[m]:.1f}x" if peer else "-",
        )  # fmt: skip
    out = Console(width=120)
    out.print(table)
    unc_ok = ours["uncached"]["p50"] < TARGET_UNCACHED_MS
    cached_ok = ours["cached"]["p50"] < TARGET_CACHED_US
    out.print(
        f"targets: uncached p50 < {TARGET_UNCACHED_MS:g} ms: {'met' if unc_ok else 'MISSED'} "
        f"({ours['uncached']['p50']:.3f} ms); cached p50 < {TARGET_CACHED_US:g} µs: "
        f"{'met' if cached_ok else 'MISSED'} ({ours['cached']['p50']:.2f} µs)"
    )
    out.print(
        f"Langfuse's published uncached p50: {LANGFUSE_PUBLISHED_P50_MS:g} ms (as published, "
        "not measured here)"
    )
    rounds = ", ".join(f"{v:.3f}" for v in results["shipyard"]["uncached"]["rounds"])
    out.print(f"Shipyard uncached p50 per round (ms): {rounds}")
    if peer:
        rounds = ", ".join(f"{v:.3f}" for v in results["mlflow"]["uncached"]["rounds"])
        out.print(f"MLflow uncached p50 per round (ms): {rounds}")
    cores = os.cpu_count() or 1
    out.print(f"load average (1 min) at start/end: {load[0]:.2f} / {load[1]:.2f} on {cores} CPUs")
    if load[0] > 1:
        out.print(
            "[yellow]other work was running at the start: absolute figures are pessimistic[/]"
        )

    def r(x: float | None, nd: int) -> float | None:
        return None if x is None else round(x, nd)

    def peer_value(m: str, k: str) -> float | None:
        return peer[m][k] if peer else None

    print(json.dumps({
        "benchmark": "prompt_fetch",
        "rounds": args.rounds,
        "calls": ours["uncached"]["n"],
        "cached_calls": int(ours["cached"]["n"] * args.batch),
        "mlflow_version": mlflow_version,
        "shipyard_uncached_p50_ms": r(ours["uncached"]["p50"], 4),
        "shipyard_uncached_p95_ms": r(ours["uncached"]["p95"], 4),
        "shipyard_uncached_mean_ms": r(ours["uncached"]["mean"], 4),
        "shipyard_raw_p50_ms": r(ours["raw"]["p50"], 4),
        "shipyard_raw_p95_ms": r(ours["raw"]["p95"], 4),
        "shipyard_cached_p50_us": r(ours["cached"]["p50"], 3),
        "shipyard_cached_p95_us": r(ours["cached"]["p95"], 3),
        "mlflow_uncached_p50_ms": r(peer_value("uncached", "p50"), 4),
        "mlflow_uncached_p95_ms": r(peer_value("uncached", "p95"), 4),
        "mlflow_uncached_mean_ms": r(peer_value("uncached", "mean"), 4),
        "mlflow_raw_p50_ms": r(peer_value("raw", "p50"), 4),
        "mlflow_raw_p95_ms": r(peer_value("raw", "p95"), 4),
        "mlflow_cached_p50_us": r(peer_value("cached", "p50"), 3),
        "mlflow_cached_p95_us": r(peer_value("cached", "p95"), 3),
        "uncached_ratio_vs_mlflow": r(ratio.get("uncached"), 2),
        "raw_ratio_vs_mlflow": r(ratio.get("raw"), 2),
        "cached_ratio_vs_mlflow": r(ratio.get("cached"), 2),
        "langfuse_published_uncached_p50_ms": LANGFUSE_PUBLISHED_P50_MS,
        "target_uncached_p50_ms": TARGET_UNCACHED_MS,
        "target_cached_p50_us": TARGET_CACHED_US,
        "targets_met": bool(unc_ok and cached_ok),
        "load_avg_1m": [round(x, 2) for x in load],
        "peer_error": peer_error,
    }, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
