"""``shipyard ml drift REFERENCE CURRENT`` as a user runs it: CSV and Parquet, the per-column
table and JSON, the HTML page (charts, no rows), exit codes and bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tests.ml.test_drift import _table


def _shipyard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shipyard.cli.main", *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def _files(tmp_path: Path) -> tuple[Path, Path]:
    ref, cur = _table(6000, 1), _table(4000, 2, shift=0.5)
    ref["customer"] = [f"cust-{i:06d}" for i in range(len(ref))]
    cur["customer"] = [f"cust-{i:06d}" for i in range(len(cur))]
    ref.to_csv(tmp_path / "train.csv", index=False)
    cur.to_parquet(tmp_path / "week.parquet")
    return tmp_path / "train.csv", tmp_path / "week.parquet"


def test_json_gives_each_column_its_method_statistic_threshold_and_verdict(
    tmp_path: Path,
) -> None:
    ref, cur = _files(tmp_path)
    done = _shipyard("ml", "drift", str(ref), str(cur), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    by = {c["column"]: c for c in report["columns"]}
    assert set(by) == {"age", "income", "city", "member", "rooms", "steady"}
    assert by["age"]["method"] == "wasserstein" and by["age"]["threshold"] == 0.1
    assert by["age"]["drifted"] is True and by["steady"]["drifted"] is False
    assert by["city"]["method"] == "jensenshannon" and by["city"]["statistic"] > 0.1
    assert report["skipped"][0][0] == "customer"
    assert report["dataset_drift"] is True and report["verdict"] == "drift"
    assert report["tested"] == 6 and report["drifted"] == 3


def test_the_table_the_html_page_and_the_exit_status(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    page = tmp_path / "drift.html"
    done = _shipyard("ml", "drift", str(ref), str(cur), "--html", str(page), "--fail-on-drift")
    assert done.returncode == 3  # the table drifted
    rows = [line for line in done.stdout.splitlines() if line.startswith("│")]
    age = next(r for r in rows if r.split("│")[1].strip() == "age")
    assert "wasserstein" in age and "0.1" in age and "drift" in age
    assert "3 of 6 columns drifted" in done.stdout
    html = page.read_text()
    assert html.count("<svg") == 6 and "Data drift" in html
    raw = pd.read_csv(ref)
    assert "cust-000123" not in html  # ids are never copied into the page
    assert f"{raw.age.iloc[0]:.6f}"[:8] not in html  # nor any row's value

    calm = tmp_path / "calm.csv"
    _table(4000, 3).to_csv(calm, index=False)
    done = _shipyard("ml", "drift", str(ref), str(calm), "--fail-on-drift", "--exclude", "customer",
                     "--method", "age=ks", "--threshold", "ks=0.001")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no drift" in done.stdout


def test_bad_files_and_options_get_a_message_not_a_traceback(tmp_path: Path) -> None:
    ref, _ = _files(tmp_path)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all")
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    narrow = tmp_path / "narrow.csv"
    pd.DataFrame({"age": np.arange(10.0)}).to_csv(narrow, index=False)
    cases = [
        ((str(ref), str(tmp_path / "missing.csv")), "no such file"),
        ((str(ref), str(garbage)), "cannot read"),
        ((str(ref), str(odd)), "not a table file"),
        ((str(ref), str(narrow)), "has no column"),
        ((str(ref), str(ref), "--method", "age=median"), "unknown drift method"),
        ((str(ref), str(ref), "--threshold", "ks=high"), "numbers"),
    ]
    for args, message in cases:
        done = _shipyard("ml", "drift", *args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr
