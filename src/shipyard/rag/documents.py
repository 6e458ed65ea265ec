"""What ingestion works on: documents made of blocks, and the chunks cut from them.

A loader turns a file (or a JSONL record) into a :class:`Document`: its id, source, title
and a list of :class:`Block` — paragraphs that know the heading they sit under and the page
they are on. A chunker turns blocks into :class:`Chunk` rows with stable ids: the same
document text cut by the same chunker gives the same ids in every version of an index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Block:
    text: str
    heading: str = ""  # "Title > Section > Subsection" (empty above the first heading)
    page: int | None = None  # 1-based, for paged formats


@dataclass(slots=True)
class Document:
    doc_id: str
    source: str  # the path (relative to what was ingested) or "path#record"
    title: str
    blocks: list[Block]
    digest: str  # sha256 of the raw content: a changed digest means re-chunk and re-embed
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


@dataclass(slots=True)
class Chunk:
    id: str
    doc_id: str
    ordinal: int  # position within its document
    text: str
    source: str
    title: str
    heading: str = ""
    page: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.id, "doc_id": self.doc_id, "ordinal": self.ordinal, "text": self.text,
            "source": self.source, "title": self.title, "heading": self.heading,
        }  # fmt: skip
        if self.page is not None:
            row["page"] = self.page
        if self.metadata:
            row["metadata"] = self.metadata
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Chunk:
        return cls(
            id=row["id"], doc_id=row["doc_id"], ordinal=row["ordinal"], text=row["text"],
            source=row["source"], title=row.get("title", ""), heading=row.get("heading", ""),
            page=row.get("page"), metadata=row.get("metadata") or {},
        )  # fmt: skip


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(doc_id: str, text: str, occurrence: int) -> str:
    """Stable: the document, the chunk's text and which repeat of that text it is."""
    raw = f"{doc_id}\x00{occurrence}\x00{text}".encode()
    return hashlib.sha256(raw).hexdigest()[:24]
