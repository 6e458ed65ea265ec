"""``pgvector``: the index lives in PostgreSQL (an HNSW index of the ``vector`` extension),
shared by every server replica on the same database.

A snapshot still carries its vectors; the first process that serves it on PostgreSQL copies
them into a table named after the vectors blob (``rag_vec_<digest>``), builds the HNSW index,
and records it in ``rag_vector_tables`` — in one transaction under an advisory lock, so
replicas starting together build it once and a crash leaves nothing half made. Later
processes find it and only query. Where the database is not PostgreSQL, or the extension is
missing, the same snapshot is served by the embedded HNSW backend instead: snapshots stay
portable.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from pydantic import Field

from shipyard.core.errors import InvalidInput
from shipyard.rag.backends.base import BackendOptions, VectorBackend, register_backend, top_k

if TYPE_CHECKING:
    import numpy as np

    from shipyard.store.db import Database

log = logging.getLogger("shipyard.rag")
EXACT_SUBSET = 5_000
_REGISTRY_DDL = """
CREATE TABLE IF NOT EXISTS rag_vector_tables (
    name TEXT PRIMARY KEY, rows INTEGER NOT NULL, dims INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""


class PgVectorOptions(BackendOptions):
    m: int = Field(16, ge=4, le=100)
    ef_construction: int = Field(64, ge=8, le=1000)
    ef_search: int = Field(64, ge=8, le=1000)


def _literal(vec: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vec.tolist()) + "]"


def pgvector_available(db: Database | None) -> bool:
    """PostgreSQL with the ``vector`` extension installed (or installable)."""
    if db is None or db.dialect != "postgresql":
        return False
    known = db.extensions.get("vector")
    if known is not None:
        return known
    try:
        with db.write_engine.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
        available = True
    except Exception as exc:  # no extension files, or no right to create it
        log.warning("pgvector is not available on this database: %s", exc)
        available = False
    db.extensions["vector"] = available  # asked once per database
    return available


@register_backend
class PgVectorBackend(VectorBackend):
    name = "pgvector"
    Options = PgVectorOptions
    _local = threading.local()

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self.db: Database | None = None
        self.key: str | None = None
        self.fallback: VectorBackend | None = None

    def attach(self, db: Database | None, key: str | None) -> None:
        """Where to keep the table: the serving process's database, and the vectors digest."""
        self.db, self.key = db, key

    @property
    def table(self) -> str:
        if not self.key or not all(c in "0123456789abcdef" for c in self.key):
            raise InvalidInput("a pgvector index needs the digest of its vectors")
        return f"rag_vec_{self.key[:32]}"

    def build(self, vectors: np.ndarray) -> None:
        self.vectors = vectors
        if self.db is not None and self.key is not None and pgvector_available(self.db):
            self._materialise(vectors)
        # else: materialised where it is served

    def restore(self, vectors: np.ndarray, data: bytes | None) -> None:
        self.vectors = vectors
        if self.db is None or self.key is None or not pgvector_available(self.db):
            from shipyard.rag.backends.base import choose_backend, make_backend

            self.fallback = make_backend(choose_backend(vectors.shape[0]))
            self.fallback.build(vectors)
            log.warning("index served without pgvector (%s)", self.fallback.name)
            return
        self._materialise(vectors)

    def _materialise(self, vectors: np.ndarray) -> None:
        assert self.db is not None
        table, dims = self.table, int(vectors.shape[1])
        raw = self.db.write_engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(_REGISTRY_DDL)
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (table,))
            cur.execute("SELECT rows FROM rag_vector_tables WHERE name = %s", (table,))
            if cur.fetchone() is None:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
                cur.execute(f"CREATE TABLE {table} (row INTEGER PRIMARY KEY, "
                            f"embedding vector({dims}) NOT NULL)")  # fmt: skip
                with cur.copy(f"COPY {table} (row, embedding) FROM STDIN") as copy:
                    for i, vec in enumerate(vectors):
                        copy.write_row((i, _literal(vec)))
                o = self.options
                cur.execute(f"CREATE INDEX ON {table} USING hnsw (embedding vector_ip_ops) "
                            f"WITH (m = {o.m}, ef_construction = {o.ef_construction})")  # fmt: skip
                cur.execute("INSERT INTO rag_vector_tables (name, rows, dims) VALUES (%s, %s, %s)",
                            (table, int(vectors.shape[0]), dims))  # fmt: skip
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        if self.fallback is not None:
            return self.fallback.search(query, k, allowed)
        assert self.db is not None
        subset = None
        if allowed is not None:
            subset = np.flatnonzero(allowed)
            if subset.shape[0] <= EXACT_SUBSET:
                found, scores = top_k(self.vectors[subset] @ query, k)
                return subset[found], scores
        q = _literal(query)
        where = "WHERE row = ANY(%s) " if subset is not None else ""
        sql = (f"SELECT row, -(embedding <#> %s::vector) AS score FROM {self.table} {where}"
               f"ORDER BY embedding <#> %s::vector LIMIT %s")  # fmt: skip
        args: list[Any] = [q] + ([subset.tolist()] if subset is not None else []) + [q, k]
        with self.db.read_engine.begin() as conn:
            ef = str(max(self.options.ef_search, k))
            conn.exec_driver_sql("SELECT set_config('hnsw.ef_search', %s, true)", (ef,))
            if subset is not None:
                conn.exec_driver_sql("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', "
                                     "true)")  # fmt: skip
            rows = list(conn.exec_driver_sql(sql, tuple(args)).fetchall())
        rows.sort(key=lambda r: -r[1])  # relaxed order under a filter
        ids = np.asarray([r[0] for r in rows], dtype=np.int64)
        return ids, np.asarray([r[1] for r in rows], dtype=np.float32)
