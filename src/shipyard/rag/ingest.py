"""Ingestion: a file or folder → a new version of an index.

1. load the documents (skipping, and reporting, files that cannot be read);
2. compare with the newest version of the index: a document whose content digest is
   unchanged, under the same chunker and embedder, keeps its chunks and vectors as they are;
   a changed or new one is chunked again; a document that is gone is dropped;
3. embed only chunk texts that no earlier run embedded (the embedding cache);
4. build the vector backend, store the snapshot and register the version.

Nothing changed → no new version. The first version of an index gets the ``production``
alias; later ones only when asked (``promote``), so a rebuilt index can be evaluated before
it serves.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.rag.backends import choose_backend, make_backend
from shipyard.rag.cache import EmbeddingCache
from shipyard.rag.chunking import chunker_from_config
from shipyard.rag.documents import Chunk, Document
from shipyard.rag.embedders import Embedder, embedder_from_config
from shipyard.rag.loaders import load
from shipyard.rag.snapshot import DocRecord, Snapshot, embed_text, read_snapshot, write_snapshot
from shipyard.registry.schemas import DEFAULT_ALIAS, Kind, Version

if TYPE_CHECKING:
    import numpy as np

    from shipyard.registry.api import RegistryAPI

EMBED_BATCH = 256


class Reporter(Protocol):
    def stage(self, description: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class _Quiet:
    def stage(self, description: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


class IngestOptions(BaseModel):
    chunker: dict[str, Any] = Field(default_factory=lambda: {"strategy": "structure"})
    embedder: dict[str, Any] = Field(default_factory=lambda: {"type": "minilm"})
    backend: str = "auto"
    large_backend: str = "hnsw"  # what auto picks above the exact-scan size
    backend_options: dict[str, Any] = Field(default_factory=dict)
    embed_input: str = "heading+text"
    description: str = ""
    promote: bool = False


class IngestReport(BaseModel):
    index: str
    version: int | None
    created: bool
    documents: dict[str, int]
    chunks: dict[str, int]
    skipped: list[tuple[str, str]] = Field(default_factory=list)
    backend: str = ""
    aliases: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def chunks_per_s(self) -> float:
        return self.chunks.get("total", 0) / self.seconds if self.seconds else 0.0


@dataclass
class _Plan:
    chunks: list[Chunk] = field(default_factory=list)
    kept_rows: dict[str, int] = field(default_factory=dict)  # chunk id → row in previous
    records: list[DocRecord] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("added", "changed", "unchanged", "deleted"), 0))  # fmt: skip


def blob_reader(registry: RegistryAPI) -> Callable[[str], bytes]:
    def read(digest: str) -> bytes:
        folder = Path(tempfile.mkdtemp(prefix="shipyard-blob-"))
        try:
            return registry.download_artifact(digest, folder / "blob").read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return read


def previous_snapshot(registry: RegistryAPI, name: str) -> tuple[Version | None, Snapshot | None]:
    try:
        version = registry.get_version(name, alias="latest")
    except NotFound:
        return None, None
    if version.kind != Kind.index:
        raise InvalidInput(f"{name} is a registry entry of kind {version.kind}, not an index")
    return version, read_snapshot(version.payload, blob_reader(registry), searchable=False)


def _same_setup(snapshot: Snapshot, manifest: dict[str, Any]) -> bool:
    old = snapshot.manifest
    return all(old.get(k) == manifest[k] for k in ("chunker", "embed_input")) and (
        old.get("embedder", {}).get("id") == manifest["embedder"]["id"]
    )


def _plan(
    docs: list[Document], prev: Snapshot | None, reuse: bool, options: IngestOptions
) -> _Plan:
    chunker = chunker_from_config(options.chunker)
    plan = _Plan()
    rows = {c.id: i for i, c in enumerate(prev.chunks)} if prev is not None else {}
    for doc in docs:
        old = prev.documents.get(doc.doc_id) if prev is not None else None
        if old is not None and reuse and old.digest == doc.digest:
            kept = [prev.chunks[rows[cid]] for cid in old.chunk_ids]  # type: ignore[union-attr]
            plan.kept_rows.update({cid: rows[cid] for cid in old.chunk_ids})
            plan.chunks.extend(kept)
            plan.records.append(old)
            plan.counts["unchanged"] += 1
            continue
        plan.counts["changed" if old is not None else "added"] += 1
        chunks = chunker.chunk(doc)
        plan.chunks.extend(chunks)
        plan.records.append(DocRecord(doc.doc_id, doc.digest, doc.source, doc.title,
                                      [c.id for c in chunks]))  # fmt: skip
    if prev is not None:
        current = {d.doc_id for d in docs}
        plan.counts["deleted"] = sum(1 for d in prev.documents if d not in current)
    return plan


def _embed(
    plan: _Plan,
    prev: Snapshot | None,
    embedder: Embedder,
    cache: EmbeddingCache,
    mode: str,
    reporter: Reporter,
) -> tuple[np.ndarray, dict[str, int]]:
    import numpy as np

    todo = [i for i, c in enumerate(plan.chunks) if c.id not in plan.kept_rows]
    vectors = np.zeros((len(plan.chunks), embedder.dims), dtype=np.float32)
    for i, chunk in enumerate(plan.chunks):
        row = plan.kept_rows.get(chunk.id)
        if row is not None and prev is not None:
            vectors[i] = prev.vectors[row]
    reporter.stage("embedding chunks", len(todo))
    before = cache.misses
    for start in range(0, len(todo), EMBED_BATCH):
        part = todo[start : start + EMBED_BATCH]
        texts = [embed_text(plan.chunks[i], mode) for i in part]
        vectors[part] = cache.embed(embedder.id, texts, embedder.embed, embedder.dims)
        reporter.advance(len(part))
    embedded = cache.misses - before
    counts = {"total": len(plan.chunks), "reused": len(plan.chunks) - len(todo),
              "embedded": embedded, "from_cache": len(todo) - embedded}  # fmt: skip
    return vectors, counts


def ingest(
    registry: RegistryAPI,
    name: str,
    path: Path,
    options: IngestOptions,
    cache: EmbeddingCache,
    *,
    gateway: Any = None,
    reporter: Reporter | None = None,
) -> IngestReport:
    """Build a new version of index ``name`` from the documents under ``path``."""
    embedder = embedder_from_config(options.embedder, gateway)
    try:
        return _ingest(registry, name, path, options, cache, embedder, reporter or _Quiet())
    finally:
        embedder.close()


def _ingest(
    registry: RegistryAPI, name: str, path: Path, options: IngestOptions,
    cache: EmbeddingCache, embedder: Embedder, reporter: Reporter,
) -> IngestReport:  # fmt: skip
    started = time.perf_counter()
    chunker = chunker_from_config(options.chunker)
    manifest: dict[str, Any] = {
        "embedder": {**embedder.config(), "id": embedder.id},
        "chunker": chunker.config(),
        "embed_input": options.embed_input,
    }
    reporter.stage("reading documents", None)
    loaded = load(path)
    if not loaded.documents:
        why = f" ({len(loaded.skipped)} unreadable)" if loaded.skipped else ""
        raise InvalidInput(f"no documents found under {path}{why}")
    prev_version, prev = previous_snapshot(registry, name)
    reuse = prev is not None and _same_setup(prev, manifest)
    reporter.stage("chunking", None)
    plan = _plan(loaded.documents, prev, reuse, options)
    if (
        prev is not None
        and reuse
        and not (plan.counts["added"] or plan.counts["changed"] or plan.counts["deleted"])
    ):
        return IngestReport(
            index=name, version=prev_version.version if prev_version else None, created=False,
            documents=plan.counts, chunks={"total": len(plan.chunks), "reused": len(plan.chunks),
            "embedded": 0, "from_cache": 0}, skipped=loaded.skipped,
            backend=prev.manifest["backend"]["name"], seconds=time.perf_counter() - started,
        )  # fmt: skip
    vectors, chunk_counts = _embed(plan, prev, embedder, cache, options.embed_input, reporter)
    manifest["embedder"]["dims"] = int(vectors.shape[1])
    chosen = choose_backend(len(plan.chunks), options.backend, options.large_backend)
    backend = make_backend(chosen, **options.backend_options)
    reporter.stage(f"building the {backend.name} index", None)
    backend.build(vectors)
    manifest["backend"] = backend.config()
    reporter.stage("storing the snapshot", None)
    full, manifest_file = write_snapshot(
        registry.upload_artifact, manifest, plan.chunks, vectors, plan.records, backend
    )
    try:
        version = registry.create_version(
            name, kind=Kind.index, payload=full, artifact=manifest_file,
            description=options.description, tags={"source": str(path.resolve())},
        )  # fmt: skip
    finally:
        shutil.rmtree(manifest_file.parent, ignore_errors=True)
    aliases = ["latest"]
    if prev_version is None or options.promote:
        registry.set_alias(
            name,
            DEFAULT_ALIAS,
            version.version,
            reason="first version" if prev_version is None else "ingest --promote",
        )
        aliases.append(DEFAULT_ALIAS)
    return IngestReport(
        index=name, version=version.version, created=True, documents=plan.counts,
        chunks=chunk_counts, skipped=loaded.skipped, backend=backend.name, aliases=aliases,
        seconds=time.perf_counter() - started,
    )  # fmt: skip
