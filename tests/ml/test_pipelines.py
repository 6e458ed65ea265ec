"""Pipelines: steps run by their inputs and outputs, cached by content (a step that ran before
on the same code and inputs is not run again), tracked as runs with dataset lineage, on a local
process pool and on a real Dask cluster; the CLI runs files and registered pipelines."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.core.errors import InvalidInput
from shipyard.ml.pipelines import Pipeline, StepFailed, step
from shipyard.sdk import Client
from shipyard.tracking.datasets import describe
from tests.ml import pipeline_steps as steps


@pytest.fixture
def step_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "steps.log"
    monkeypatch.setenv("SHIPYARD_TEST_STEP_LOG", str(path))
    yield path


def _fresh() -> dict[str, object]:
    """Parameters no other test uses: steps are cached by content, across runs and tests."""
    return {"salt": uuid.uuid4().hex, "rows": random.randint(250, 569)}


def _ran(path: Path) -> list[str]:
    found = path.read_text().split() if path.exists() else []
    path.unlink(missing_ok=True)
    return sorted(found)


def test_a_pipeline_run_is_tracked_with_lineage_and_registers_its_model(
    client: Client, step_log: Path
) -> None:
    name, fresh = f"cancer-{uuid.uuid4().hex[:8]}", _fresh()
    result = steps.cancer(name).run({**fresh, "C": 0.5}, client=client, executor="process")
    assert result.ran == ["load", "split", "train", "evaluate"] and result.cached == []
    assert _ran(step_log) == ["evaluate", "load", "split", "train"]
    assert 0.85 < result["metrics"]["accuracy"] <= 1.0

    run = client.tracking.get_run(result.run_id)
    assert run.status == "FINISHED" and run.params["C"] == "0.5"
    assert run.params["salt"] == fresh["salt"]
    assert run.params["test_size"] == "0.3" and run.params["rows"] == str(fresh["rows"])
    assert run.metrics["accuracy"] == pytest.approx(result["metrics"]["accuracy"])
    children = client.search_runs(f"parent_run_id = '{run.id}'", max_results=10).runs
    assert sorted(c.name for c in children) == ["evaluate", "load", "split", "train"]
    assert all(c.status == "FINISHED" and c.metrics["seconds"] >= 0 for c in children)

    assert result.model is not None and result.model.uri == f"models:/{name}/1"
    lineage = client.registry.lineage(name, 1)
    assert lineage.run is not None and lineage.run.id == run.id
    digests = {d.name: d.digest for d in lineage.datasets}
    assert digests["X_train"] == describe(result["X_train"]).digest
    assert digests["X"] == describe(result["X"]).digest
    assert {d.context for d in lineage.datasets} == {"load", "split"}
    served = client.ml.load_model(f"models:/{name}/1")
    assert served.predict(result["X_test"]).shape == (len(result["X_test"]),)


def test_unchanged_steps_are_skipped_and_changed_ones_rerun(client: Client, step_log: Path) -> None:
    pipe, fresh = steps.cancer(), _fresh()
    first = pipe.run(fresh, client=client, executor="inline")
    assert _ran(step_log) == ["evaluate", "load", "split", "train"]

    again = pipe.run(fresh, client=client, executor="inline")
    assert again.cached == ["load", "split", "train", "evaluate"] and _ran(step_log) == []
    assert again["metrics"] == first["metrics"]  # read back from the first run's outputs
    cached_from = client.tracking.get_run(again.steps[0].run_id).tags["shipyard.cached_from"]
    assert cached_from == first.steps[0].run_id

    stronger = pipe.run({**fresh, "C": 0.01}, client=client, executor="inline")
    assert stronger.cached == ["load", "split"] and _ran(step_log) == ["evaluate", "train"]
    # the new C reached the model (its metrics may tie on a small test split; its weights not)
    shrunk = abs(stronger["model"][-1].coef_).sum()
    assert shrunk < 0.5 * abs(first["model"][-1].coef_).sum()

    # Data is hashed by content: the same rows made again under another salt give the same
    # digests, so the steps after the one that ran are taken from the cache.
    remade = pipe.run({**fresh, "salt": "another"}, client=client, executor="inline")
    assert remade.ran == ["load"] and remade.cached == ["split", "train", "evaluate"]
    assert remade.steps[0].outputs == first.steps[0].outputs
    assert _ran(step_log) == ["load"]

    everything = pipe.run(fresh, client=client, executor="inline", cache=False)
    assert everything.ran == ["load", "split", "train", "evaluate"]
    assert [s.outputs for s in everything.steps[:2]] == [s.outputs for s in first.steps[:2]]


def test_a_pipeline_runs_on_a_dask_cluster(client: Client) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:  # fmt: skip
        address = cluster.scheduler_address.removeprefix("tcp://")
        workers = set(cluster.scheduler_info["workers"])
        result = steps.placement.run({"salt": uuid.uuid4().hex}, client=client,
                                     executor=f"dask://{address}")  # fmt: skip
        assert result["where"] in workers and result["where_too"] in workers

        name = f"cancer-dask-{uuid.uuid4().hex[:8]}"
        trained = steps.cancer(name).run(_fresh(), client=client,
                                         executor=f"dask://{address}")  # fmt: skip
        assert trained.ran == ["load", "split", "train", "evaluate"]
        assert trained.model is not None and trained.model.version == 1
    run = client.tracking.get_run(trained.run_id)
    assert run.tags["shipyard.executor"] == f"dask://{address}"


def test_a_failing_step_fails_the_run_and_says_which(client: Client) -> None:
    with pytest.raises(StepFailed, match="step fails failed: ZeroDivisionError"):
        steps.broken.run({"salt": uuid.uuid4().hex}, client=client, executor="inline")
    failed = client.search_runs("tags.`shipyard.step` = 'fails'", max_results=1).runs[0]
    assert failed.status == "FAILED" and "ZeroDivisionError" in failed.tags["shipyard.error"]
    parent = client.tracking.get_run(failed.parent_run_id or "")
    assert parent.status == "FAILED"


def test_pipelines_that_cannot_run_are_refused_before_running() -> None:
    @step(outputs="a")
    def one(b: int) -> int:
        return b

    @step(outputs="b")
    def two(a: int) -> int:
        return a

    with pytest.raises(InvalidInput, match="cycle"):
        Pipeline("loop", [one, two])

    @step(outputs="a")
    def again(x: int) -> int:
        return x

    with pytest.raises(InvalidInput, match="output 'a' comes from both one and again"):
        Pipeline("dup", [one, again])
    with pytest.raises(InvalidInput, match="not a step"):
        Pipeline("plain", [len])  # type: ignore[list-item]
    with pytest.raises(InvalidInput, match="unknown parameter"):
        steps.cancer().resolve_params({"salt": "x", "Cee": 1})
    with pytest.raises(InvalidInput, match=r"needs the parameter\(s\) \['salt'\]"):
        steps.cancer().resolve_params({})
    with pytest.raises(InvalidInput, match="model='nope' is not an output"):
        Pipeline("bad", [steps.load], model="nope")
    pair = step(lambda x: (x, x), outputs=["p", "q", "r"], name="pair")
    with pytest.raises(InvalidInput, match="returned 2 values, declared outputs are"):
        pair.split_outputs((1, 2))


def test_the_cli_runs_a_file_and_a_registered_pipeline(tmp_path: Path, step_log: Path) -> None:
    source = Path(steps.__file__)
    runner = CliRunner()
    salt, rows = uuid.uuid4().hex, random.randint(250, 569)
    target = f"{source}:pipe"
    result = runner.invoke(cli, ["ml", "pipeline", "run", target, "-p", f"salt={salt}",
                                 "-p", f"rows={rows}", "-p", "C=0.5", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout[result.stdout.index("{") :])
    assert [s["status"] for s in body["steps"]] == ["ran"] * 4
    assert body["model"]["uri"] == "models:/cancer-from-cli/1"

    args = ["-p", f"salt={salt}", "-p", f"rows={rows}", "-p", "C=0.5"]
    done = runner.invoke(cli, ["ml", "pipeline", "register", "nightly", target, *args])
    assert done.exit_code == 0, done.output
    again = runner.invoke(cli, ["ml", "pipeline", "run", "nightly", "--json"])
    assert again.exit_code == 0, again.output
    body = json.loads(again.stdout[again.stdout.index("{") :])
    assert [s["status"] for s in body["steps"]] == ["cached"] * 4
    assert body["model"]["version"] == 1  # the same model: no new version

    bad = runner.invoke(cli, ["ml", "pipeline", "run", f"{source}:nothing_here"])
    assert isinstance(bad.exception, InvalidInput)
    assert "nothing_here is nothing, not a shipyard Pipeline" in str(bad.exception)
    wrong = runner.invoke(cli, ["ml", "pipeline", "register", "x", target, "-p", "Cee=1"])
    assert isinstance(wrong.exception, InvalidInput)
    assert "unknown parameter(s) ['Cee']" in str(wrong.exception)
