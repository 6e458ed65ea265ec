"""Bring a database's schema up to date, once, even when several processes start together."""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text

from shipyard.core.errors import MigrationError
from shipyard.store.db import Database
from shipyard.store.migrations import HEAD

SCRIPTS = Path(__file__).parent / "migrations"
_LOCK_KEY = zlib.crc32(b"shipyard-migrations")


def alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db: Database) -> None:
    """Apply pending migrations; a clear MigrationError when that is impossible."""
    try:
        with db.read_engine.connect() as conn:
            if current_revision(conn) == HEAD:
                return
        with _exclusive(db), db.write_engine.connect() as conn:
            rev = current_revision(conn)
            if rev == HEAD:
                return
            command.upgrade(alembic_config(conn), "head")
            conn.commit()
    except MigrationError:
        raise
    except Exception as exc:
        raise MigrationError(
            f"could not migrate the database at {db.safe_url} to revision {HEAD}: "
            f"{type(exc).__name__}: {exc}. Check that the database is reachable and "
            "was not created by a newer Shipyard."
        ) from exc


@contextmanager
def _exclusive(db: Database) -> Iterator[None]:
    """One migrating process at a time: a file lock for SQLite, an advisory lock for PostgreSQL."""
    if db.is_sqlite:
        path = Path(db.url.database or "shipyard.db").expanduser()
        lock_path = path.with_name(path.name + ".migrate.lock")
        with lock_path.open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    else:
        with db.write_engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                conn.commit()
