"""Database engine and sessions.

SQLite (the embedded default) runs in WAL mode. Writers take the write lock up
front (``BEGIN IMMEDIATE``) so that concurrent processes queue on SQLite's busy
timeout instead of failing on a lock upgrade, and writers inside one process
queue on a mutex so they never spin on each other. PostgreSQL uses an ordinary
connection pool.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    StatementError,
)
from sqlalchemy.orm import Session, sessionmaker

from shipyard.core.errors import Conflict, InvalidInput, ShipyardError, StoreError

log = logging.getLogger("shipyard.store")
T = TypeVar("T")


class Database:
    def __init__(
        self,
        url: str,
        *,
        busy_timeout_s: float = 60.0,
        pool_size: int = 10,
        background_checkpoints: bool = False,
    ) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"invalid database URL: {exc}") from exc
        self.url = parsed
        self.dialect = parsed.get_backend_name()
        if self.dialect == "postgresql" and parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
            self.url = parsed
        self._write_mutex = threading.Lock() if self.is_sqlite else None
        # PostgreSQL extensions found usable (or not), by name: checked once per process
        self.extensions: dict[str, bool] = {}
        self._checkpointer: threading.Thread | None = None
        self._stop = threading.Event()
        self._background_checkpoints = background_checkpoints and self.is_sqlite
        if self.is_sqlite:
            self._prepare_sqlite_path()
            self.read_engine = self._sqlite_engine(busy_timeout_s, begin="BEGIN", pool=pool_size)
            self.write_engine = self._sqlite_engine(busy_timeout_s, begin="BEGIN IMMEDIATE", pool=2)
        else:
            engine = create_engine(
                parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.read_engine = self.write_engine = engine
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        if self._background_checkpoints:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="shipyard-checkpoint", daemon=True
            )
            self._checkpointer.start()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def safe_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def _prepare_sqlite_path(self) -> None:
        database = self.url.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    def _sqlite_engine(self, busy_timeout_s: float, *, begin: str, pool: int) -> Engine:
        engine = create_engine(
            self.url,
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
            pool_size=pool,
            max_overflow=pool,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA case_sensitive_like=ON")  # LIKE as on PostgreSQL
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache per connection
            if self._background_checkpoints:  # a background thread checkpoints instead
                cur.execute("PRAGMA wal_autocheckpoint=0")
            else:
                cur.execute("PRAGMA wal_autocheckpoint=10000")  # every ~40 MiB of WAL
            cur.execute("PRAGMA mmap_size=1073741824")  # read pages through a memory map
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

        return engine

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed."""
        try:
            with self._read() as session:
                yield session
        except DBAPIError as exc:
            raise _translate(exc) from exc

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction, committed when the block ends without error.

        A uniqueness or foreign-key violation comes out as ``Conflict``; a value the database
        cannot store as ``InvalidInput``; an unreachable database as ``StoreError``.
        """
        mutex = self._write_mutex
        if mutex is not None:
            mutex.acquire()
        try:
            with self._write() as session, session.begin():
                yield session
        except (DBAPIError, StatementError) as exc:
            raise _translate(exc) from exc
        finally:
            if mutex is not None:
                mutex.release()

    def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        with self.read() as s:
            s.execute(text("SELECT 1"))

    def _checkpoint_loop(self, interval_s: float = 0.5) -> None:
        """Move committed WAL pages into the database off the commit path. PASSIVE never
        blocks writers; a WAL that grew past ~256 MiB is truncated once readers allow it."""
        while not self._stop.wait(interval_s):
            try:
                with self.read_engine.connect() as conn:
                    busy, wal_pages, _done = conn.exec_driver_sql(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).one()
                    if wal_pages > 65536 and not busy:
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            except Exception as exc:  # the next round tries again
                log.warning("background checkpoint failed: %s", exc)

    def dispose(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def _translate(exc: StatementError) -> ShipyardError:
    """The ShipyardError a database exception stands for. Details go to the log, not the caller."""
    if isinstance(exc, IntegrityError):
        return Conflict("the write conflicts with stored data (a duplicate or a missing reference)")
    if isinstance(exc, DataError) or isinstance(exc.orig, ValueError | OverflowError):
        return InvalidInput(f"a value cannot be stored: {str(exc.orig).splitlines()[0][:200]}")
    log.error("database error: %s", exc)
    return StoreError("the database is unavailable or failed; see the server log")


def retry_on_conflict(fn: Callable[[], T]) -> T:
    """Run ``fn`` once more when a concurrent writer made it conflict (check-then-insert races)."""
    try:
        return fn()
    except Conflict:
        return fn()
