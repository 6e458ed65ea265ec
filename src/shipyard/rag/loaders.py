"""Loaders: files and folders → documents.

``.txt``, ``.md``/``.markdown``, ``.html``/``.htm``, ``.pdf`` (pypdf, one block per page
paragraph, with page numbers) and ``.jsonl`` (one document per record). A folder is walked
recursively in name order, hidden files and folders skipped; document ids are paths relative
to the folder, so the same corpus ingested from another checkout keeps its ids. A file that
cannot be read is reported and skipped; it never stops the rest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson

from shipyard.core.errors import InvalidInput
from shipyard.rag.documents import Block, Document

Loader = Callable[[Path, str, bytes], list[Document]]

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BLANK = re.compile(r"\n\s*\n")


@dataclass
class Loaded:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _BLANK.split(text) if p.strip()]


def load_text(path: Path, rel: str, raw: bytes) -> list[Document]:
    blocks = [Block(p) for p in _paragraphs(_decode(raw))]
    return [Document(rel, rel, path.stem, blocks, _digest(raw))]


def load_markdown(path: Path, rel: str, raw: bytes) -> list[Document]:
    """Paragraphs under their heading path; fenced code stays one block; ATX headings."""
    title = ""
    trail: list[tuple[int, str]] = []
    blocks: list[Block] = []
    lines: list[str] = []
    fenced = False

    def flush() -> None:
        heading = " > ".join(t for _, t in trail)
        for para in _paragraphs("\n".join(lines)) if not fenced else ["\n".join(lines).strip()]:
            if para:
                blocks.append(Block(para, heading))
        lines.clear()

    for line in _decode(raw).split("\n"):
        if _FENCE.match(line):
            if fenced:
                lines.append(line)
                flush()
                fenced = False
            else:
                flush()
                fenced = True
                lines.append(line)
            continue
        match = None if fenced else _ATX.match(line)
        if match:
            flush()
            level, text = len(match.group(1)), match.group(2).strip()
            if level == 1 and not title:
                title = text
            trail = [(lv, t) for lv, t in trail if lv < level] + [(level, text)]
            continue
        lines.append(line)
    flush()
    return [Document(rel, rel, title or path.stem, blocks, _digest(raw))]


class _HTMLText(HTMLParser):
    BLOCK = {"p", "div", "li", "pre", "blockquote", "td", "th", "tr", "section", "article",
             "br", "hr", "table", "ul", "ol", "dd", "dt", "figcaption", "main", "header",
             "footer"}  # fmt: skip
    SKIP = {"script", "style", "noscript", "template", "svg", "head"}
    HEADINGS = {f"h{i}": i for i in range(1, 7)}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.blocks: list[Block] = []
        self.trail: list[tuple[int, str]] = []
        self._text: list[str] = []
        self._skip = 0
        self._in_title = False
        self._heading: int | None = None
        self._pre = 0

    def _flush(self) -> None:
        text = "".join(self._text)
        self._text.clear()
        text = text.strip("\n") if self._pre else re.sub(r"\s+", " ", text).strip()
        if not text:
            return
        if self._heading is not None:
            level = self._heading
            self.trail = [(lv, t) for lv, t in self.trail if lv < level] + [(level, text)]
            if level == 1 and not self.title:
                self.title = text
            return
        self.blocks.append(Block(text, " > ".join(t for _, t in self.trail)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.HEADINGS:
            self._flush()
            self._heading = self.HEADINGS[tag]
        elif tag in self.BLOCK:
            self._flush()
            if tag == "pre":
                self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.HEADINGS:
            self._flush()
            self._heading = None
        elif tag in self.BLOCK:
            self._flush()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data.strip()
        elif not self._skip:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def load_html(path: Path, rel: str, raw: bytes) -> list[Document]:
    parser = _HTMLText()
    parser.feed(_decode(raw))
    parser.close()
    title = parser.title or (parser.trail[0][1] if parser.trail else "") or path.stem
    return [Document(rel, rel, title, parser.blocks, _digest(raw))]


def load_pdf(path: Path, rel: str, raw: bytes) -> list[Document]:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf ships with the rag extra
        raise InvalidInput("reading PDF needs pypdf: pip install 'shipyard[rag]'") from None
    import io

    reader = PdfReader(io.BytesIO(raw))
    if reader.is_encrypted:
        raise InvalidInput("the PDF is encrypted")
    blocks: list[Block] = []
    for number, page in enumerate(reader.pages, start=1):
        text = (page.extract_text() or "").replace("\r\n", "\n")
        blocks.extend(Block(p, "", number) for p in _paragraphs(text))
    meta_title = ""
    if reader.metadata is not None and reader.metadata.title:
        meta_title = str(reader.metadata.title).strip()
    return [Document(rel, rel, meta_title or path.stem, blocks, _digest(raw))]


TEXT_FIELDS = ("text", "content", "body")


def load_jsonl(path: Path, rel: str, raw: bytes) -> list[Document]:
    """One document per record: ``text`` (or ``content``/``body``), optional ``id`` and
    ``title``; other scalar fields become metadata that searches can filter on."""
    docs: list[Document] = []
    seen: set[str] = set()
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"line {lineno} is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise InvalidInput(f"line {lineno} is not a JSON object")
        text = next((record[f] for f in TEXT_FIELDS if isinstance(record.get(f), str)), None)
        if text is None:
            raise InvalidInput(f"line {lineno} has no text field (one of {', '.join(TEXT_FIELDS)})")
        doc_id = str(record.get("id") or record.get("doc_id") or f"{rel}#{lineno}")
        if doc_id in seen:
            raise InvalidInput(f"line {lineno}: the id {doc_id!r} appears twice")
        seen.add(doc_id)
        metadata = {
            k: v for k, v in record.items()
            if k not in {*TEXT_FIELDS, "id", "doc_id", "title"}
            and (isinstance(v, str | int | float | bool) or v is None)
        }  # fmt: skip
        blocks = [Block(p) for p in _paragraphs(text.replace("\r\n", "\n"))]
        title = str(record.get("title") or doc_id)
        digest = _digest(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
        docs.append(Document(doc_id, f"{rel}#{lineno}", title, blocks, digest, metadata))
    return docs


LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".text": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".jsonl": load_jsonl,
}


def register_loader(suffix: str, loader: Loader) -> None:
    LOADERS[suffix.lower()] = loader


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in LOADERS:
            yield path


def discover(path: Path) -> list[tuple[Path, str]]:
    """The files under ``path`` that a loader reads, with their document-relative names."""
    if not path.exists():
        raise InvalidInput(f"no such file or folder: {path}")
    if path.is_file():
        if path.suffix.lower() not in LOADERS:
            known = ", ".join(sorted(LOADERS))
            raise InvalidInput(f"cannot read {path.name}: the known types are {known}")
        return [(path, path.name)]
    return [(p, p.relative_to(path).as_posix()) for p in _files(path)]


def load_file(path: Path, rel: str) -> list[Document]:
    raw = path.read_bytes()
    return LOADERS[path.suffix.lower()](path, rel, raw)


def load(path: Path, progress: Callable[[int], Any] | None = None) -> Loaded:
    """Every document under ``path``; unreadable files land in ``skipped`` with the reason."""
    out = Loaded()
    for file, rel in discover(path):
        try:
            out.documents.extend(load_file(file, rel))
        except InvalidInput as exc:
            out.skipped.append((rel, exc.message))
        except Exception as exc:  # a corrupt file of any kind: report it, keep going
            out.skipped.append((rel, f"{type(exc).__name__}: {exc}"))
        if progress is not None:
            progress(1)
    ids: dict[str, str] = {}
    for doc in out.documents:
        if doc.doc_id in ids:
            raise InvalidInput(
                f"document id {doc.doc_id!r} comes from both {ids[doc.doc_id]} and {doc.source}"
            )
        ids[doc.doc_id] = doc.source
    return out
