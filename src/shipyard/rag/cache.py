"""The embedding cache: vectors keyed by (embedder id, sha256 of the exact text embedded).

A SQLite file beside the store (``SHIPYARD_HOME/cache/embeddings.sqlite``), private to each
process tree that embeds: ingestion on a laptop, each server replica for its queries. It is a
cache: losing it costs only time. Re-ingesting a corpus where a document changed re-embeds
only the chunks whose text is new; a query asked twice is embedded once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.rag.documents import sha256_text

if TYPE_CHECKING:
    import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    embedder TEXT NOT NULL,
    digest TEXT NOT NULL,
    dims INTEGER NOT NULL,
    vector BLOB NOT NULL,
    used_at INTEGER NOT NULL,
    PRIMARY KEY (embedder, digest)
) WITHOUT ROWID
"""
_BATCH = 500  # SQLite's bound-parameter limit is far above; this keeps statements small


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def get_many(self, embedder: str, digests: Sequence[str]) -> dict[str, np.ndarray]:
        import numpy as np

        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(digests))
        with self._lock:
            for i in range(0, len(unique), _BATCH):
                part = unique[i : i + _BATCH]
                marks = ",".join("?" * len(part))
                sql = "SELECT digest, vector FROM vectors WHERE embedder = ? AND digest IN "
                rows = self._conn.execute(
                    f"{sql}({marks})",
                    [embedder, *part],
                ).fetchall()
                for digest, blob in rows:
                    found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, embedder: str, items: dict[str, np.ndarray]) -> None:
        now = int(time.time())
        rows = [(embedder, d, int(v.shape[0]), v.astype("float32").tobytes(), now)
                for d, v in items.items()]  # fmt: skip
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)", rows
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def embed(
        self,
        embedder_id: str,
        texts: list[str],
        compute: Callable[[list[str]], np.ndarray],
        dims: int,
    ) -> np.ndarray:
        """Vectors for ``texts``, computing (and storing) only the ones not cached."""
        import numpy as np

        digests = [sha256_text(t) for t in texts]
        cached = self.get_many(embedder_id, digests)
        missing = list(dict.fromkeys(d for d in digests if d not in cached))
        self.hits += len(texts) - sum(1 for d in digests if d not in cached)
        self.misses += len(missing)
        if missing:
            first = {d: t for d, t in zip(digests, texts, strict=True)}
            fresh = compute([first[d] for d in missing])
            new = dict(zip(missing, fresh, strict=True))
            self.put_many(embedder_id, new)
            cached.update(new)
        if not texts:
            return np.zeros((0, dims), dtype=np.float32)
        return np.stack([cached[d] for d in digests]).astype(np.float32, copy=False)

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
