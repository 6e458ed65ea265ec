"""Chunkers: documents → chunks, as plug-ins chosen by name.

    tokens      fixed windows of ``size`` tokens with ``overlap`` tokens shared between
                neighbours, ignoring structure (robust on any text)
    structure   paragraphs kept whole and grouped under their heading (Markdown and HTML
                headings, PDF pages) up to ``size`` tokens; a paragraph longer than that is
                cut into token windows

Tokens are counted with the embedder's own tokenizer (``minilm``: the MiniLM word pieces, so
a chunk fits the model's 256-token window) or ``words`` (words and punctuation marks, with no
model installed). The chunker's name and options are stored with every index version; the
same text cut by the same configuration always gives the same chunk ids.
"""

from __future__ import annotations

import bisect
import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shipyard.core.errors import InvalidInput
from shipyard.core.plugins import PluginRegistry
from shipyard.rag.documents import Block, Chunk, Document, chunk_id

Spans = Callable[[str], list[tuple[int, int]]]
_WORDS = re.compile(r"\w+|[^\w\s]")


def _word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _WORDS.finditer(text)]


@functools.cache
def _minilm_spans() -> Spans:
    from shipyard.localai.minilm import MiniLM

    return MiniLM(threads=1).token_spans


def tokenizer(name: str) -> Spans:
    if name == "words":
        return _word_spans
    if name == "minilm":
        return _minilm_spans()
    raise InvalidInput(f"unknown tokenizer {name!r}: use minilm or words")


class ChunkerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(200, ge=16, le=8192, description="most tokens in a chunk")
    overlap: int = Field(40, ge=0, description="tokens shared by neighbouring windows")
    tokenizer: Literal["minilm", "words"] = "minilm"

    @model_validator(mode="after")
    def _check(self) -> ChunkerOptions:
        if self.overlap >= self.size:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than size ({self.size})")
        return self


class Chunker(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[ChunkerOptions]] = ChunkerOptions

    def __init__(self, options: ChunkerOptions) -> None:
        self.options = options
        self.spans = tokenizer(options.tokenizer)

    def config(self) -> dict[str, Any]:
        return {"strategy": self.name, **self.options.model_dump()}

    @abstractmethod
    def pieces(self, doc: Document) -> list[tuple[str, Block]]:
        """The document's chunk texts, each with the block it starts in."""

    def chunk(self, doc: Document) -> list[Chunk]:
        out: list[Chunk] = []
        seen: dict[str, int] = {}
        for ordinal, (text, block) in enumerate(self.pieces(doc)):
            occurrence = seen.get(text, 0)
            seen[text] = occurrence + 1
            out.append(Chunk(
                chunk_id(doc.doc_id, text, occurrence), doc.doc_id, ordinal, text, doc.source,
                doc.title, block.heading, block.page, dict(doc.metadata),
            ))  # fmt: skip
        return out

    def windows(self, text: str) -> list[str]:
        """``text`` cut into windows of at most ``size`` tokens with ``overlap``; a window
        ends between words where it can, not inside one."""
        spans = self.spans(text)
        size, overlap = self.options.size, self.options.overlap
        if len(spans) <= size:
            return [text.strip()] if text.strip() else []
        out: list[str] = []
        start = 0
        while start < len(spans):
            end = min(start + size, len(spans))
            if end < len(spans):
                # step back to a word boundary (the next token must not glue onto this one)
                cut = end
                while cut > start + size // 2 and spans[cut][0] == spans[cut - 1][1]:
                    cut -= 1
                end = cut
            out.append(text[spans[start][0] : spans[end - 1][1]].strip())
            if end >= len(spans):
                break
            start = max(end - overlap, start + 1)
        return [w for w in out if w]


class TokenChunker(Chunker):
    name = "tokens"

    def pieces(self, doc: Document) -> list[tuple[str, Block]]:
        if not doc.blocks:
            return []
        starts: list[int] = []
        offset = 0
        for block in doc.blocks:
            starts.append(offset)
            offset += len(block.text) + 2
        text = doc.text
        out: list[tuple[str, Block]] = []
        cursor = 0
        for window in self.windows(text):
            at = text.find(window, cursor)
            at = max(at, 0)
            cursor = at + 1
            out.append((window, doc.blocks[bisect.bisect_right(starts, at) - 1]))
        return out


class StructureOptions(ChunkerOptions):
    overlap: int = Field(0, ge=0, description="tokens shared when a long paragraph is cut")


class StructureChunker(Chunker):
    name = "structure"
    Options = StructureOptions

    def pieces(self, doc: Document) -> list[tuple[str, Block]]:
        out: list[tuple[str, Block]] = []
        group: list[str] = []
        group_tokens = 0
        first: Block | None = None
        size = self.options.size

        def flush() -> None:
            nonlocal group_tokens, first
            if group and first is not None:
                out.append(("\n\n".join(group), first))
            group.clear()
            group_tokens = 0
            first = None

        for block in doc.blocks:
            tokens = len(self.spans(block.text))
            same_section = first is not None and (block.heading, block.page) == (
                first.heading, first.page)  # fmt: skip
            if not same_section or group_tokens + tokens > size:
                flush()
            if tokens > size:
                out.extend((w, block) for w in self.windows(block.text))
                continue
            if first is None:
                first = block
            group.append(block.text)
            group_tokens += tokens
        flush()
        return out


CHUNKERS: PluginRegistry[Chunker] = PluginRegistry(
    "chunker", lambda cls: cls.name, (), "shipyard.chunkers"
)
register_chunker = CHUNKERS.register
register_chunker(TokenChunker)
register_chunker(StructureChunker)
DEFAULT_CHUNKER = "structure"


def make_chunker(strategy: str = DEFAULT_CHUNKER, **options: Any) -> Chunker:
    """A chunker by name; unknown names and bad options are clear errors."""
    cls = CHUNKERS.get(strategy)
    return cls(CHUNKERS.options(strategy, cls.Options, options))


def chunker_from_config(config: dict[str, Any]) -> Chunker:
    options = dict(config)
    return make_chunker(options.pop("strategy", DEFAULT_CHUNKER), **options)
