"""Helpers the benchmarks share: free ports, server processes, peer virtual environments."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "shipyard-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout_s}s:\n{log.read_text()[-3000:]}")


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def peer_python(name: str, requirement: str, probe: str) -> Path:
    """A virtual environment with one peer tool, made once and kept in the user's cache."""
    venv = CACHE / f"{name}-venv"
    py = venv / "bin" / "python"
    if py.exists() and subprocess.run([py, "-c", probe], capture_output=True).returncode == 0:
        return py
    print(f"setting up {requirement} in {venv} (once; takes a few minutes)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([py, "-m", "pip", "install", "-q", *requirement.split()], check=True)
    return py


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


MLFLOW_REQUIREMENT = "mlflow==3.17.2"


def start_shipyard(
    home: Path, log: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``shipyard server`` on a fresh port with only ``SHIPYARD_HOME`` (and ``extra_env``) set;
    waits until healthy."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home)
    env.update(extra_env or {})
    cmd = [sys.executable, "-m", "shipyard.cli.main", "server", "--port", str(port)]
    proc = start(cmd, env, log)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz", proc, 120, log)
    return proc, url


def start_mlflow(store: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """``mlflow server`` on SQLite in ``store`` from its own environment; waits until healthy.
    Returns the process, its URL and the Python of its environment."""
    py = peer_python("mlflow", MLFLOW_REQUIREMENT, "import mlflow")
    port = free_port()
    store.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({"MLFLOW_ENABLE_TELEMETRY": "false", "DO_NOT_TRACK": "1"})
    cmd = [str(py.parent / "mlflow"), "server", "--backend-store-uri",
           f"sqlite:///{store}/mlflow.db", "--artifacts-destination", str(store / "artifacts"),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    proc = start(cmd, env, log)
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/health", proc, 300, log)
    return proc, url, py
