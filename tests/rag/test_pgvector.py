"""pgvector on a real PostgreSQL with the extension: the index is built once in the database,
shared by a second process, answers like an exact search, filters, and falls back to the
embedded HNSW where there is no PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from shipyard.core.settings import Settings
from shipyard.rag.backends import make_backend
from shipyard.rag.backends.pgvector import PgVectorBackend, pgvector_available
from shipyard.sdk import Client
from shipyard.store.db import Database

N, DIMS = 3000, 384


def _vectors(n: int = N, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((30, DIMS)).astype(np.float32)
    x = centers[rng.integers(0, 30, n)] + 0.5 * rng.standard_normal((n, DIMS)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def pg(postgres) -> Database:  # type: ignore[no-untyped-def]
    db = Database(postgres.fresh_database())
    if not pgvector_available(db):
        pytest.fail("the test PostgreSQL has no pgvector extension")
    yield db
    db.dispose()


def _backend(db: Database | None, vectors: np.ndarray, key: str) -> PgVectorBackend:
    backend = make_backend("pgvector", ef_search=80)
    assert isinstance(backend, PgVectorBackend)
    backend.attach(db, key)
    backend.restore(vectors, None)
    return backend


def test_searches_match_an_exact_scan_and_the_index_is_built_once(pg: Database) -> None:
    vectors = _vectors()
    key = "ab" * 32
    first = _backend(pg, vectors, key)
    exact = make_backend("exact")
    exact.build(vectors)
    queries = _vectors(50, seed=1)
    overlap = [len(set(first.search(q, 10)[0]) & set(exact.search(q, 10)[0])) for q in queries]
    assert sum(overlap) / (10 * len(queries)) >= 0.95
    ids, scores = first.search(queries[0], 10)
    assert list(scores) == sorted(scores, reverse=True)
    assert np.allclose(scores, vectors[ids] @ queries[0], atol=1e-4)
    with pg.read() as s:
        indexes = s.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = :t"),
                            {"t": first.table}).scalars().all()  # fmt: skip
        marker = s.execute(text("SELECT rows FROM rag_vector_tables WHERE name = :t"),
                           {"t": first.table}).scalar_one()  # fmt: skip
    assert any("hnsw" in i and "vector_ip_ops" in i for i in indexes) and marker == N

    with pg.write() as s:  # a second process finds the table and does not copy again
        s.execute(text(f"INSERT INTO {first.table} VALUES (-1, :v)"),
                  {"v": "[" + ",".join(["0"] * DIMS) + "]"})  # fmt: skip
    _backend(pg, vectors, key)
    with pg.read() as s:
        count = s.execute(text(f"SELECT count(*) FROM {first.table}")).scalar_one()
    assert count == N + 1


def test_filters_large_and_small(pg: Database) -> None:
    vectors = _vectors()
    backend = _backend(pg, vectors, "cd" * 32)
    q = _vectors(1, seed=2)[0]
    wide = np.zeros(N, dtype=bool)
    wide[::2] = True
    import shipyard.rag.backends.pgvector as mod

    old, mod.EXACT_SUBSET = mod.EXACT_SUBSET, 100  # make the half-set go through the database
    try:
        ids, _ = backend.search(q, 10, wide)
    finally:
        mod.EXACT_SUBSET = old
    assert len(ids) == 10 and all(i % 2 == 0 for i in ids)
    narrow = np.zeros(N, dtype=bool)
    narrow[[5, 17, 900]] = True
    assert set(backend.search(q, 10, narrow)[0]) == {5, 17, 900}


def _tables(client: Client) -> int:
    with client._platform.db.read_engine.begin() as conn:
        return int(conn.execute(text("SELECT count(*) FROM rag_vector_tables")).scalar_one())


def test_pgvector_snapshots_serve_through_the_sdk_and_stay_portable(
    postgres,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from tests.rag.corpus import write_corpus

    corpus = write_corpus(tmp_path / "corpus")
    on_pg = Client(Settings.load(home=tmp_path / "pg", database_url=postgres.fresh_database(),
                                 artifacts=str(tmp_path / "artifacts")))  # fmt: skip
    try:
        assert on_pg.rag.api.serving().large_backend == "pgvector"
        on_pg.rag.ingest(corpus, "kb", backend="pgvector")
        assert _tables(on_pg) == 1  # built by the ingest, not left to the first search
        hit = on_pg.rag.search("kb", "wild yeast starter", 1, mode="vector").hits[0]
        assert hit.doc_id == "guide/baking.md"
        manifest = on_pg.registry.get_version("kb", version=1).payload
        assert manifest["backend"]["name"] == "pgvector"
    finally:
        on_pg.close()
    fallback = _backend(None, _vectors(), "ef" * 32)
    assert fallback.fallback is not None and len(fallback.search(_vectors(1)[0], 5)[0]) == 5


def test_a_remote_ingest_builds_the_pgvector_index_on_the_server_before_any_search(
    postgres,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from tests.conftest import ServerProcess
    from tests.rag.corpus import write_corpus

    corpus = write_corpus(tmp_path / "corpus")
    server = ServerProcess(tmp_path / "srv", database_url=postgres.fresh_database()).start()
    try:
        with server.client() as remote:
            assert remote.rag.api.serving().large_backend == "pgvector"  # the server's database
            report = remote.rag.ingest(corpus, "kb", backend="pgvector")
            assert report.backend == "pgvector"
            with Client(server.embedded_settings()) as second:
                assert _tables(second) == 1  # the server built it when the version was made
            hit = remote.rag.search("kb", "wild yeast starter", 1, mode="vector").hits[0]
            assert hit.doc_id == "guide/baking.md"
            again = remote.rag.api.load("kb", 1)
            assert again.backend == "pgvector" and again.version == 1
    finally:
        server.stop()
    with Client(Settings.load(home=tmp_path / "lite")) as on_sqlite:
        assert on_sqlite.rag.api.serving().large_backend == "hnsw"
