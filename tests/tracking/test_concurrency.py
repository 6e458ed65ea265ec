"""Processes logging to one run at once lose nothing; acknowledged writes survive kill -9."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.core.settings import Settings
from shipyard.sdk import Client
from tests.conftest import ServerProcess, unique

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 8
POINTS = 1500


def _spawn(
    env: dict[str, str], run_id: str, worker: int, experiment: str, *extra: str
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "tests.helpers.log_worker",
        "--run-id",
        run_id,
        "--worker",
        str(worker),
        "--points",
        str(POINTS),
        "--experiment",
        experiment,
        *extra,
    ]
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _run_workers(env: dict[str, str], client: Client, *extra: str) -> None:
    experiment = unique("shared")
    with client.start_run(experiment, run_name="shared") as shared:
        pass
    procs = [_spawn(env, shared.id, w, experiment, *extra) for w in range(WORKERS)]
    for p in procs:
        out, _ = p.communicate(timeout=240)
        assert p.returncode == 0, out.decode()
    series = {s.key: s for s in client.tracking.metric_history(shared.id)}
    assert len(series) == 2 * WORKERS
    for w in range(WORKERS):
        for suffix, sign in (("a", 1), ("b", -1)):
            s = series[f"w{w}.{suffix}"]
            assert s.steps == list(range(POINTS))
            assert s.values == [float(sign * i) for i in range(POINTS)]
    run = client.tracking.get_run(shared.id)
    assert run.params == {f"worker_{w}": str(w) for w in range(WORKERS)}
    own = client.search_runs("", experiments=[experiment], max_results=100).runs
    assert sorted(r.name for r in own) == sorted(["shared", *(f"own-{w}" for w in range(WORKERS))])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.slow
def test_eight_processes_embedded_sqlite(tmp_path: Path) -> None:
    home = tmp_path / "shared-home"
    client = Client(Settings.load(home=home))
    _run_workers(_env(SHIPYARD_HOME=str(home)), client)
    client.close()


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_eight_processes_remote(
    tmp_path: Path, dialect: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres").fresh_database() if dialect == "postgresql" else None
    server = ServerProcess(tmp_path / "srv", database_url=url).start()
    try:
        with server.client() as client:
            _run_workers(_env(SHIPYARD_HOME=str(tmp_path / "c"), SHIPYARD_URL=server.url), client)
    finally:
        server.stop()


def test_exit_without_end_flushes_metrics(tmp_path: Path) -> None:
    """Points still buffered when the interpreter exits normally are written at exit."""
    home = tmp_path / "h"
    client = Client(Settings.load(home=home))
    experiment = unique("exit")
    with client.start_run(experiment) as run:
        pass
    proc = _spawn(_env(SHIPYARD_HOME=str(home)), run.id, 0, experiment, "--no-close")
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out.decode()
    series = {s.key: s for s in client.tracking.metric_history(run.id)}
    assert len(series["w0.a"].steps) == POINTS
    client.close()


def test_exit_flushes_even_without_a_reference_to_the_client(tmp_path: Path) -> None:
    script = (
        "import shipyard\n"
        "def main():\n"
        "    run = shipyard.Client().start_run('orphan')\n"
        "    for i in range(500):\n"
        "        run.log_metric('a', i)\n"
        "    shipyard.start_run('fluent').log_metric('b', 1)  # never ended by hand\n"
        "    print(run.id)\n"
        "main()\n"
    )
    env = _env(SHIPYARD_HOME=str(tmp_path / "h"))
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    client = Client(Settings.load(home=tmp_path / "h"))
    run_id = proc.stdout.strip()
    assert len(client.tracking.metric_history(run_id, ["a"])[0].steps) == 500
    fluent = client.search_runs("", experiments=["fluent"]).runs[0]
    assert fluent.status.value == "FINISHED" and fluent.metrics == {"b": 1.0}
    client.close()


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "srv").start()
    with server.client() as client:
        with client.start_run(unique("durable")) as run:
            for step in range(2000):
                run.log_metrics({"loss": 1 / (step + 1)}, step=step)
            run.flush()  # every point acknowledged by the server
        client.registry.create_version("durable-model", kind="model", payload={"a": 1})
        client.registry.set_alias("durable-model", "production", 1)
    server.kill9()
    restarted = ServerProcess(server.home)
    restarted.port, restarted.url = server.port, server.url
    restarted.start()
    try:
        with restarted.client() as client:
            assert len(client.tracking.metric_history(run.id)[0].steps) == 2000
            assert client.tracking.get_run(run.id).status.value == "FINISHED"
            assert client.registry.resolve("durable-model@production").version == 1
    finally:
        restarted.stop()
