"""Inputs that used to slip through: each gets a clear error (or the right answer), never a 500."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shipyard import InvalidInput
from shipyard.sdk import Client
from tests.conftest import unique


def test_invalid_points_fail_at_the_call_and_lose_nothing_else(client: Client) -> None:
    with client.start_run(unique("e")) as run:
        for i in range(100):
            run.log_metric("loss", i)
        for bad in ({"k" * 251: 1}, {"": 1}, {"bad\nname": 1}):
            with pytest.raises(InvalidInput):
                run.log_metrics(bad)
        with pytest.raises(InvalidInput):
            run.log_metric("x", 1, step=2**63)
        with pytest.raises(InvalidInput):
            run.log_metric("x", 1, timestamp=-5)
        run.log_metric("huge", 10**400)  # too large for a float: stored as not-a-number
    series = {s.key: s for s in client.tracking.metric_history(run.id)}
    assert len(series["loss"].steps) == 100 and series["huge"].values == [None]
    assert client.tracking.metric_history(run.id, []) == client.tracking.metric_history(run.id)


def test_numeric_param_comparisons_ignore_text_values(client: Client) -> None:
    exp = unique("p")
    for name, lr in (("a", "0.1"), ("b", "auto"), ("c", "0.001"), ("d", "1e-4")):
        with client.start_run(exp, run_name=name) as r:
            r.log_params({"lr": lr, "pat": f"{name}_x" if name != "d" else "dxx"})
    names = lambda flt: sorted(r.name for r in client.search_runs(flt, experiments=[exp]).runs)  # noqa: E731
    assert names("params.lr > 0.005") == ["a"]
    assert names("params.lr < 1") == ["a", "c", "d"]
    assert names("params.lr = 'auto'") == ["b"]
    assert names("params.lr IN (0.1, 0.0001)") == ["a", "d"]
    assert names("params.pat LIKE '_\\_x'") == ["a", "b", "c"]  # \\_ is a literal underscore
    ordered = client.search_runs("", experiments=[exp], order_by=["params.lr DESC"]).runs
    assert [r.name for r in ordered] == ["a", "c", "d", "b"]  # numbers by value, text last
    for bad in (
        "start_time > 'abc'",
        "name > 3",
        "metrics.x LIKE 'a%'",
        "params.lr LIKE 3",
        "params.lr IN (1, 'a')",
    ):
        with pytest.raises(InvalidInput):
            client.search_runs(bad, experiments=[exp])


def test_values_the_databases_cannot_store_are_refused(client: Client, tmp_path: Path) -> None:
    with client.start_run(unique("e")) as run:
        with pytest.raises(InvalidInput):
            run.log_params({"p": "nul\x00byte"})
        with pytest.raises(InvalidInput):
            run.set_tag("t", "nul\x00byte")
    with pytest.raises(InvalidInput):
        client.registry.create_version(unique("m"), kind="model", payload={"x": float("nan")})
    with pytest.raises(InvalidInput):
        client.registry.resolve("m/²")
    with pytest.raises(InvalidInput):
        client.registry.resolve("m/99999999999999999999")
    with pytest.raises(InvalidInput):
        client.registry.create_version("trailing\n", kind="model", payload={})
    big = client.registry.create_version(unique("m"), kind="model", payload={"n": 2**70})
    assert client.registry.get_version(big.name, version=1).payload == {"n": 2**70}


def test_unicode_artifact_names_and_odd_paths(client: Client, tmp_path: Path) -> None:
    src = tmp_path / "模型 final.bin"
    src.write_bytes(b"abc")
    with client.start_run(unique("e")) as run:
        run.log_artifact(src)
    out = tmp_path / "out"
    out.mkdir()
    got = client.tracking.download_artifact(run.id, "/模型 final.bin", out)
    assert got == out / "模型 final.bin" and got.read_bytes() == b"abc"


def test_experiment_names_with_slashes(client: Client) -> None:
    name = unique("team/churn")
    client.tracking.create_experiment(name)
    assert client.tracking.get_experiment(name).name == name


def test_concurrent_first_runs_of_a_new_experiment(client: Client) -> None:
    exp = unique("race")
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work() -> None:
        try:
            barrier.wait()
            with client.start_run(exp) as r:
                r.log_params({"x": 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(client.search_runs("", experiments=[exp]).runs) == 6


def test_a_move_to_the_same_version_is_not_a_rollback_step(client: Client) -> None:
    name = unique("m")
    for _ in range(2):
        client.registry.create_version(name, kind="model", payload={})
    client.registry.set_alias(name, "prod", 1)
    client.registry.set_alias(name, "prod", 2)
    client.registry.set_alias(name, "prod", 2)
    assert client.registry.rollback(name, "prod").to_version == 1
