"""Index snapshots: what one registry version of kind ``index`` is made of.

Four immutable, content-addressed blobs and a manifest that names them:

    chunks     gzip JSONL, one chunk per line (id, doc_id, ordinal, text, source, title,
               heading, page, metadata), in row order
    vectors    a float32 ``.npy`` matrix, one unit-length row per chunk
    ann        the vector backend's own index file (HNSW graph), when it has one
    documents  gzip JSONL: each document's id, content digest, source, title and chunk ids

The manifest (the version's artifact, and a copy in its payload) also records the embedder
(configuration, id, dimensions), the chunker's configuration, the backend and its options,
and counts. A version never changes: rolling back is moving an alias to an older snapshot.
"""

from __future__ import annotations

import gzip
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.rag.backends import VectorBackend, make_backend
from shipyard.rag.documents import Chunk

if TYPE_CHECKING:
    import numpy as np

    from shipyard.rag.bm25 import BM25
    from shipyard.store.db import Database

FORMAT = 1
ReadBlob = Callable[[str], bytes]
Upload = Callable[[Path], str]


@dataclass(slots=True)
class DocRecord:
    doc_id: str
    digest: str
    source: str
    title: str
    chunk_ids: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "digest": self.digest, "source": self.source,
                "title": self.title, "chunk_ids": self.chunk_ids}  # fmt: skip


@dataclass
class Snapshot:
    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: np.ndarray
    documents: dict[str, DocRecord]
    backend: VectorBackend
    _bm25: BM25 | None = field(default=None, repr=False)
    _columns: dict[str, dict[Any, np.ndarray]] = field(default_factory=dict, repr=False)
    _rows: dict[str, int] = field(default_factory=dict, repr=False)

    def row_of(self, chunk_id: str) -> int:
        if not self._rows:
            self._rows.update((c.id, i) for i, c in enumerate(self.chunks))
        return self._rows[chunk_id]

    @property
    def embed_input(self) -> str:
        return str(self.manifest.get("embed_input", "heading+text"))

    def bm25(self) -> BM25:
        if self._bm25 is None:
            from shipyard.rag.bm25 import BM25

            self._bm25 = BM25([embed_text(c, self.embed_input) for c in self.chunks])
        return self._bm25

    def column(self, key: str) -> dict[Any, np.ndarray]:
        """Rows by value of a chunk field or metadata key (for filters), built on first use."""
        import numpy as np

        if key not in self._columns:
            groups: dict[Any, list[int]] = {}
            for row, chunk in enumerate(self.chunks):
                value = _field(chunk, key)
                if isinstance(value, list | dict):
                    continue
                groups.setdefault(value, []).append(row)
            self._columns[key] = {v: np.asarray(r, dtype=np.int64) for v, r in groups.items()}
        return self._columns[key]


FIELDS = ("doc_id", "source", "title", "heading", "page")


def _field(chunk: Chunk, key: str) -> Any:
    if key in FIELDS:
        return getattr(chunk, key)
    return chunk.metadata.get(key)


def embed_text(chunk: Chunk, mode: str = "heading+text") -> str:
    """What gets embedded: the chunk's text under its heading path (or title), so a short
    paragraph keeps the context that says what it is about."""
    if mode == "text":
        return chunk.text
    context = chunk.heading or chunk.title
    return f"{context}\n{chunk.text}" if context else chunk.text


def _jsonl_gz(rows: list[dict[str, Any]]) -> bytes:
    raw = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    return gzip.compress(raw, compresslevel=3, mtime=0)


def read_jsonl_gz(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in gzip.decompress(data).splitlines() if line]


def write_snapshot(
    upload: Upload,
    manifest: dict[str, Any],
    chunks: list[Chunk],
    vectors: np.ndarray,
    documents: list[DocRecord],
    backend: VectorBackend,
) -> tuple[dict[str, Any], Path]:
    """Store the blobs; return the full manifest and a file holding it (the version's
    artifact). The caller removes the file's folder."""
    import numpy as np

    folder = Path(tempfile.mkdtemp(prefix="shipyard-index-"))
    files: dict[str, str | None] = {}
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    ann = backend.dump()
    blobs = {
        "chunks": _jsonl_gz([c.to_json() for c in chunks]),
        "vectors": buf.getvalue(),
        "documents": _jsonl_gz([d.to_json() for d in documents]),
        "ann": ann,
    }
    for name, data in blobs.items():
        if data is None:
            files[name] = None
            continue
        path = folder / name
        path.write_bytes(data)
        files[name] = upload(path)
        path.unlink()
    full = {**manifest, "format": FORMAT, "files": files,
            "counts": {"documents": len(documents), "chunks": len(chunks)}}  # fmt: skip
    path = folder / "manifest.json"
    path.write_bytes(orjson.dumps(full, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))
    return full, path


def read_snapshot(
    manifest: dict[str, Any], read_blob: ReadBlob, *, db: Database | None = None,
    searchable: bool = True,
) -> Snapshot:  # fmt: skip
    """Load a version. ``db`` is where a pgvector index lives; ``searchable=False`` skips the
    backend's index (an exact scan stands in: for reading chunks and vectors only)."""
    import numpy as np

    if manifest.get("format") != FORMAT:
        raise InvalidInput(f"index snapshot format {manifest.get('format')!r} is not readable "
                           f"by this version of Shipyard (reads {FORMAT})")  # fmt: skip
    files = manifest["files"]
    chunks = [Chunk.from_json(r) for r in read_jsonl_gz(read_blob(files["chunks"]))]
    vectors = np.load(io.BytesIO(read_blob(files["vectors"])), allow_pickle=False)
    docs = {}
    for row in read_jsonl_gz(read_blob(files["documents"])):
        docs[row["doc_id"]] = DocRecord(row["doc_id"], row["digest"], row["source"],
                                        row.get("title", ""), row["chunk_ids"])  # fmt: skip
    backend_config = dict(manifest["backend"]) if searchable else {"name": "exact"}
    backend = make_backend(backend_config.pop("name"), **backend_config)
    attach = getattr(backend, "attach", None)
    if attach is not None:
        attach(db, files["vectors"])
    ann = files.get("ann")
    backend.restore(vectors, read_blob(ann) if ann and searchable else None)
    return Snapshot(manifest, chunks, vectors, docs, backend)
