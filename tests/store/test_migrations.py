"""Migrations build exactly the schema the models declare, on both dialects, with clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from shipyard.core.errors import MigrationError, StoreError
from shipyard.store.base import load_all_models
from shipyard.store.db import Database
from shipyard.store.migrate import SCRIPTS, current_revision, upgrade
from shipyard.store.migrations import HEAD


def test_head_constant_matches_the_scripts() -> None:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migrated_schema_matches_models(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = request.getfixturevalue("postgres").empty_database()
    db = Database(url)
    upgrade(db)
    with db.write_engine.connect() as conn:
        assert current_revision(conn) == HEAD
        diff = compare_metadata(MigrationContext.configure(conn), load_all_models())
    assert diff == []
    upgrade(db)  # a second start is a no-op
    db.dispose()


def test_unreachable_database_fails_with_a_clear_message(tmp_path: Path) -> None:
    db = Database("postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(MigrationError) as info:
        upgrade(db)
    msg = str(info.value)
    assert "could not migrate" in msg and "secret" not in msg and "127.0.0.1:1" in msg


def test_invalid_url_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        Database("not a url at all")


def test_server_start_reports_migration_failure(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(tmp_path)
    env["SHIPYARD_DATABASE_URL"] = "postgresql+psycopg://x:y@127.0.0.1:1/db?connect_timeout=2"
    proc = subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", "server", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "could not migrate the database" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_parallel_first_start_migrates_once(tmp_path: Path) -> None:
    """Several processes opening a fresh store at once all succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(tmp_path / "fresh")
    code = "import shipyard; c = shipyard.Client(); print(len(c.tracking.list_experiments()))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(6)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == b"0", out
