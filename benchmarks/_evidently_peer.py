"""Evidently's side of benchmarks/drift_vs_evidently.py, run in Evidently's own environment:
reads the two Parquet files, runs the data-drift preset (best of N), and writes per column
its method, score and verdict as JSON."""

from __future__ import annotations

import json
import resource
import sys
import time

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

NAMES = {"wasserstein": "wasserstein", "jensen": "jensenshannon", "k-s": "ks",
         "chi-square": "chisquare", "z-test": "z", "psi": "psi"}  # fmt: skip


def method_name(display: str) -> str:
    low = display.lower()
    return next((ours for key, ours in NAMES.items() if key in low), display)


def main() -> None:
    ref_path, cur_path, repeat, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    ref, cur = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    numeric = [c for c in ref.columns if pd.api.types.is_float_dtype(ref[c])]
    definition = DataDefinition(
        numerical_columns=numeric, categorical_columns=[c for c in ref.columns if c not in numeric]
    )
    best, snapshot = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
        best = min(best, time.perf_counter() - t0)
    result = snapshot.dict()
    by_metric = {m["id"]: m for m in result["metrics"]}
    columns, dataset_drift = {}, False
    for test in result["tests"]:
        metric = by_metric.get(test["metric_config"]["metric_id"], {})
        config = metric.get("config", {})
        if test["id"] == "drift":
            columns[config["column"]] = {"method": method_name(config.get("method", "")),
                                         "score": float(metric["value"]),
                                         "drifted": test["status"] == "FAIL"}  # fmt: skip
        elif "DriftedColumnsCount" in config.get("type", ""):
            dataset_drift = test["status"] == "FAIL"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(out, "w") as f:
        json.dump({"seconds": best, "columns": columns, "dataset_drift": dataset_drift,
                   "peak_mb": peak, "version": evidently.__version__}, f)  # fmt: skip


if __name__ == "__main__":
    main()
