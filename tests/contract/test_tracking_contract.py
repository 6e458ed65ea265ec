"""The tracking SDK behaves the same embedded and remote, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from shipyard import Conflict, InvalidInput, NotFound
from shipyard.sdk import Client
from shipyard.tracking.schemas import RunStatus
from tests.conftest import unique


def test_run_lifecycle_params_metrics_tags(client: Client) -> None:
    exp = unique("churn")
    with client.start_run(exp, run_name="rf-1", tags={"team": "growth"}) as run:
        run.log_params({"model": "rf", "n_estimators": 200, "max_depth": None})
        for step in range(50):
            run.log_metrics({"loss": 1.0 / (step + 1), "auc": 0.5 + step / 100}, step=step)
        run.set_tag("stage", "baseline")
    got = client.tracking.get_run(run.id)
    assert got.status == RunStatus.finished and got.end_time is not None
    assert got.name == "rf-1"
    assert got.params == {"model": "rf", "n_estimators": "200", "max_depth": "None"}
    assert got.metrics["loss"] == pytest.approx(1 / 50)
    assert got.metrics["auc"] == pytest.approx(0.99)
    assert got.tags == {"team": "growth", "stage": "baseline"}
    assert got.system["python"].count(".") == 2
    assert "packages" in got.system and "pydantic" in got.system["packages"]
    assert client.tracking.get_experiment(exp).name == exp


def test_failed_block_marks_run_failed(client: Client) -> None:
    with pytest.raises(ZeroDivisionError), client.start_run(unique("e")) as run:
        run.log_metric("x", 1)
        _ = 1 / 0
    got = client.tracking.get_run(run.id)
    assert got.status == RunStatus.failed
    assert got.metrics == {"x": 1.0}


def test_params_are_write_once(client: Client) -> None:
    with client.start_run(unique("e")) as run:
        run.log_params({"lr": 0.1})
        run.log_params({"lr": 0.1})  # same value again is fine
        with pytest.raises(Conflict) as info:
            run.log_params({"lr": 0.2, "other": 1})
        assert "lr" in str(info.value)
    assert client.tracking.get_run(run.id).params == {"lr": "0.1"}


def test_metric_history_full_and_in_order(client: Client) -> None:
    with client.start_run(unique("e")) as run:
        for step in range(300):
            run.log_metrics({f"m{k}": step * 10 + k for k in range(5)}, step=step)
        run.log_metric("nan_metric", float("nan"))
        run.log_metric("auto", 1.0)
        run.log_metric("auto", 2.0)
    series = {s.key: s for s in client.tracking.metric_history(run.id)}
    assert sorted(series) == ["auto", "m0", "m1", "m2", "m3", "m4", "nan_metric"]
    assert series["m3"].steps == list(range(300))
    assert series["m3"].values == [float(s * 10 + 3) for s in range(300)]
    assert series["nan_metric"].values == [None]
    assert series["auto"].steps == [0, 1]  # steps count up by themselves
    only = client.tracking.metric_history(run.id, ["m1"])
    assert [s.key for s in only] == ["m1"]
    with pytest.raises(NotFound):
        client.tracking.metric_history(run.id, ["missing"])


def test_latest_metric_is_highest_step(client: Client) -> None:
    with client.start_run(unique("e")) as run:
        run.log_metric("acc", 0.9, step=10)
        run.flush()
        run.log_metric("acc", 0.1, step=3)  # a late, older point does not replace the latest
    assert client.tracking.get_run(run.id).metrics["acc"] == pytest.approx(0.9)


def test_bad_metric_values_are_rejected_up_front(client: Client) -> None:
    with client.start_run(unique("e")) as run:
        with pytest.raises(InvalidInput):
            run.log_metric("x", "not a number")
        with pytest.raises(InvalidInput):
            run.log_metrics({"": 1.0})


def test_artifacts_round_trip(client: Client, tmp_path: Path) -> None:
    src = tmp_path / "report"
    (src / "plots").mkdir(parents=True)
    (src / "summary.txt").write_text("auc=0.93")
    (src / "plots" / "roc.csv").write_bytes(b"fpr,tpr\n0,0\n1,1\n")
    single = tmp_path / "model.bin"
    single.write_bytes(bytes(range(256)) * 1000)
    with client.start_run(unique("e")) as run:
        run.log_artifact(src)
        run.log_artifact(single, "models/model.bin")
    arts = {a.path: a for a in client.tracking.list_artifacts(run.id)}
    assert sorted(arts) == ["models/model.bin", "report/plots/roc.csv", "report/summary.txt"]
    assert arts["models/model.bin"].size == 256_000
    out = client.tracking.download_artifact(run.id, "models/model.bin", tmp_path / "dl.bin")
    assert out.read_bytes() == single.read_bytes()
    with pytest.raises(NotFound):
        client.tracking.download_artifact(run.id, "nope.txt", tmp_path / "x")
    with pytest.raises(InvalidInput):
        client.tracking.log_artifact(run.id, single, "../escape")


def test_dataset_inputs(client: Client, tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    csv = tmp_path / "train.csv"
    df.to_csv(csv, index=False)
    with client.start_run(unique("e")) as run:
        run.log_input(df, name="frame", context="train")
        run.log_input(csv, context="eval")
        run.log_input(np.zeros((7, 3)), name="arr")
    inputs = {d.name: d for d in client.tracking.get_run(run.id).inputs}
    assert inputs["frame"].num_rows == 3
    assert (
        inputs["frame"].schema_["columns"] == {"a": "int64", "b": "str"}
        or inputs["frame"].schema_["columns"]["a"] == "int64"
    )
    assert inputs["train"].num_rows == 3 and inputs["train"].schema_["columns"] == ["a", "b"]
    assert inputs["arr"].num_rows == 7
    assert len({d.digest for d in inputs.values()}) == 3
    # the same data gives the same digest
    with client.start_run(unique("e")) as run2:
        run2.log_input(df.copy(), name="frame")
    assert client.tracking.get_run(run2.id).inputs[0].digest == inputs["frame"].digest


def test_search_runs_filters_and_ordering(client: Client) -> None:
    exp = unique("sweep")
    for i, (model, auc) in enumerate([("rf", 0.95), ("rf", 0.85), ("lr", 0.91), ("gb", 0.97)]):
        with client.start_run(exp, run_name=f"r{i}", tags={"kind": "sweep" if i < 3 else "x"}) as r:
            r.log_params({"model": model, "depth": i + 1})
            r.log_metric("auc", auc)
    search = client.search_runs

    def names(flt: str, **kw: object) -> list[str]:
        return [r.name for r in search(flt, experiments=[exp], **kw).runs]  # type: ignore[arg-type]

    assert sorted(names("metrics.auc > 0.9 and params.model = 'rf'")) == ["r0"]
    assert names("metrics.auc > 0.9", order_by=["metrics.auc DESC"]) == ["r3", "r0", "r2"]
    assert sorted(names("params.model IN ('lr', 'gb')")) == ["r2", "r3"]
    assert sorted(names("tags.kind != 'sweep' or metrics.auc < 0.9")) == ["r1", "r3"]
    assert sorted(names("params.depth >= 3")) == ["r2", "r3"]
    assert sorted(names("attributes.name LIKE 'r%' and status = 'FINISHED'")) == [
        "r0",
        "r1",
        "r2",
        "r3",
    ]
    assert names("metrics.missing > 1") == []
    assert sorted(names("metrics.missing IS NULL and not (params.model = 'rf')")) == ["r2", "r3"]
    page = search("", experiments=[exp], order_by=["params.depth ASC"], max_results=3)
    assert [r.name for r in page.runs] == ["r0", "r1", "r2"] and page.next_page_token
    rest = search(
        "",
        experiments=[exp],
        order_by=["params.depth ASC"],
        max_results=3,
        page_token=page.next_page_token,
    )
    assert [r.name for r in rest.runs] == ["r3"] and rest.next_page_token is None
    for bad in ("metrics.auc >", "foo.bar = 1", "metrics.auc = 'x'", "params.a = 1 and"):
        with pytest.raises(InvalidInput):
            search(bad, experiments=[exp])


def test_nested_runs_and_unknown_ids(client: Client) -> None:
    with client.start_run(unique("e")) as parent:
        child = client.start_run(unique("e"), parent_run_id=parent.id)
        with child:
            child.log_metric("x", 1)
    assert client.tracking.get_run(child.id).parent_run_id == parent.id
    with pytest.raises(NotFound):
        client.tracking.get_run("0" * 32)
    with pytest.raises(NotFound):
        client.start_run(unique("e"), parent_run_id="f" * 32)
    assert not math.isnan(client.tracking.get_run(child.id).metrics["x"])
