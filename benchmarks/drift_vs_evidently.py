"""Data drift: Shipyard against Evidently's data-drift preset on the same tables, in one run.

Two tables of 1,000,000 rows × 20 columns (12 numeric, 8 categorical; 7 columns shifted by
different amounts, one of them only slightly) are written once as Parquet. Each tool reads
them in its own process and is timed on the drift computation alone, best of ``--repeat``
runs; both are told which columns are numeric and which categorical, so both pick their
method by the same rule. Agreement is counted on the columns where both used the same method.
A second pass on 1,000 rows a side checks agreement where the rule picks significance tests
(KS, chi-square, z) instead of distances.
Evidently runs in its own virtual environment (it needs pandas < 3).

    python benchmarks/drift_vs_evidently.py [--rows 1000000] [--repeat 3]

The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peer_python

console = Console(stderr=True, width=120)
EVIDENTLY = "evidently==0.7.23 pandas<3 pyarrow"


def make_tables(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Reference and current; returns the names of the columns that were shifted."""
    rng = np.random.default_rng(seed)

    def table(shift: dict[str, float]) -> pd.DataFrame:
        s = shift.get
        cols: dict[str, Any] = {
            "age": rng.normal(40 + s("age", 0) * 10, 12, rows),
            "income": rng.lognormal(10 + s("income", 0), 0.8, rows),
            "balance": rng.normal(1000, 300, rows),
            "tenure_days": rng.exponential(400 * (1 + s("tenure_days", 0)), rows),
            "score": rng.uniform(0, 1 + s("score", 0), rows),
            "sessions": rng.poisson(12, rows).astype(float),
            "latency_ms": rng.gamma(2.0, 40 * (1 + s("latency_ms", 0)), rows),
            "discount": rng.beta(2, 5, rows),
            "temperature": rng.normal(20, 5, rows),
            "items": rng.poisson(3 + s("items", 0), rows).astype(float),
            "ratio": rng.normal(0.5, 0.1, rows),
            "weight": rng.normal(70 + s("weight", 0), 12, rows),
        }
        cats = {
            "country": (["fr", "de", "es", "it", "nl", "be", "pt", "pl"],
                        [0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.05]),
            "device": (["ios", "android", "web"], [0.4, 0.4, 0.2]),
            "plan": (["free", "basic", "pro", "team", "enterprise"],
                     [0.5, 0.2, 0.15, 0.1, 0.05]),
            "channel": ([f"c{i}" for i in range(30)], None),
            "browser": (["chrome", "safari", "firefox", "edge"], [0.6, 0.25, 0.1, 0.05]),
            "segment": (["a", "b", "c", "d", "e", "f"], None),
            "newsletter": (["yes", "no"], [0.3, 0.7]),
            "region": ([f"r{i}" for i in range(12)], None),
        }  # fmt: skip
        for name, (values, p) in cats.items():
            if name == "plan" and s("plan"):
                p = [0.3, 0.25, 0.2, 0.15, 0.1]
            if name == "device" and s("device"):
                p = [0.45, 0.38, 0.17]  # a small move: near the threshold
            cols[name] = rng.choice(values, rows, p=p)
        frame = pd.DataFrame(cols)
        gaps = rng.random(rows) < 0.02  # some missing values
        frame.loc[gaps, "income"] = np.nan
        return frame

    shifted = {"age": 0.5, "income": 0.4, "tenure_days": 0.3, "latency_ms": 0.5, "items": 1.0,
               "plan": 1, "device": 1}  # fmt: skip
    return table({}), table(shifted), sorted(shifted)


def run_shipyard(ref_path: Path, cur_path: Path, repeat: int) -> dict[str, Any]:
    from shipyard.ml.drift import compare

    ref, cur = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    best, report = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        report = compare(ref, cur)
        best = min(best, time.perf_counter() - t0)
    assert report is not None
    columns = {
        c.column: {"method": c.method, "drifted": c.drifted,
                   "score": c.p_value if c.p_value is not None else c.statistic}
        for c in report.columns
    }  # fmt: skip
    return {"seconds": best, "columns": columns, "dataset_drift": report.dataset_drift}


def run_evidently(ref_path: Path, cur_path: Path, repeat: int, out: Path) -> dict[str, Any]:
    py = peer_python("evidently", EVIDENTLY, "import evidently, pyarrow")
    script = Path(__file__).resolve().parent / "_evidently_peer.py"
    done = subprocess.run([str(py), str(script), str(ref_path), str(cur_path), str(repeat),
                           str(out)], capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"evidently failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(out.read_text()))


def _agreement(ours: dict[str, Any], peer: dict[str, Any]) -> tuple[int, int]:
    """(columns where both used the same method, of those, how many got the same verdict)"""
    same_method = agree = 0
    for name, o in ours["columns"].items():
        e = peer["columns"].get(name, {})
        if o["method"] == e.get("method"):
            same_method += 1
            agree += o["drifted"] == e.get("drifted")
    return same_method, agree


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    a = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ref_path, cur_path = Path(tmp) / "reference.parquet", Path(tmp) / "current.parquet"
        with console.status(f"making two tables of {a.rows:,} rows × 20 columns"):
            ref, cur, shifted = make_tables(a.rows)
            ref.to_parquet(ref_path)
            cur.to_parquet(cur_path)
            del ref, cur
        console.print(f"shifted columns: {', '.join(shifted)}")
        with console.status("Shipyard"):
            ours = run_shipyard(ref_path, cur_path, a.repeat)
        ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with console.status("Evidently (its own environment)"):
            peer = run_evidently(ref_path, cur_path, a.repeat, Path(tmp) / "evidently.json")
        with console.status("both again on 1,000 rows a side (significance tests)"):
            small_ref, small_cur, _ = make_tables(1000, seed=1)
            small_ref.to_parquet(ref_path)
            small_cur.to_parquet(cur_path)
            small = _agreement(
                run_shipyard(ref_path, cur_path, 1),
                run_evidently(ref_path, cur_path, 1, Path(tmp) / "small.json"),
            )

    table = Table(title=f"Drift per column, {a.rows:,} rows against {a.rows:,}")
    for col in ("column", "Shipyard method", "score", "verdict", "Evidently method", "score",
                "verdict", "agree"):  # fmt: skip
        table.add_column(col)
    same_method, agree = _agreement(ours, peer)
    for name, o in ours["columns"].items():
        e = peer["columns"].get(name, {})
        comparable = o["method"] == e.get("method")
        same = comparable and o["drifted"] == e.get("drifted")
        table.add_row(name, o["method"], f"{o['score']:.4g}", "drift" if o["drifted"] else "-",
                      e.get("method", "?"), f"{e.get('score', float('nan')):.4g}",
                      "drift" if e.get("drifted") else "-",
                      ("yes" if same else "NO") if comparable else "n/a")  # fmt: skip
    console.print(table)
    speedup = peer["seconds"] / ours["seconds"]
    agreement = agree / same_method if same_method else 0.0
    console.print(f"Shipyard {ours['seconds']:.2f} s (peak {ours_rss:,.0f} MB), Evidently "
                  f"{peer['seconds']:.2f} s (peak {peer['peak_mb']:,.0f} MB): {speedup:.1f}× "
                  f"faster; same verdict on {agree} of {same_method} columns with the same "
                  f"method")  # fmt: skip
    console.print(f"1,000 rows a side: same verdict on {small[1]} of {small[0]} columns with "
                  f"the same method (KS, chi-square, z)")  # fmt: skip
    met = speedup >= 10 and agreement == 1.0
    console.print(f"target ≥ 10× with every verdict the same: {'met' if met else 'MISSED'}")
    print(json.dumps({
        "benchmark": "drift_vs_evidently", "rows": a.rows, "columns": 20,
        "shipyard_s": round(ours["seconds"], 3), "evidently_s": round(peer["seconds"], 3),
        "speedup": round(speedup, 2), "verdict_agreement": round(agreement, 4),
        "columns_same_method": same_method,
        "small_sample_agreement": round(small[1] / small[0], 4) if small[0] else None,
        "shipyard_peak_mb": round(ours_rss),
        "evidently_peak_mb": round(peer["peak_mb"]), "evidently_version": peer["version"],
        "dataset_drift": {"shipyard": ours["dataset_drift"], "evidently": peer["dataset_drift"]},
        "targets_met": met, "load_avg_1m": round(os.getloadavg()[0], 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
