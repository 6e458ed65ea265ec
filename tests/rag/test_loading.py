"""Loaders and chunkers: what a user's files become, and ids that stay put."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import InvalidInput
from shipyard.rag.chunking import make_chunker
from shipyard.rag.documents import Block, Document
from shipyard.rag.loaders import load, load_file
from tests.rag.corpus import write_corpus, write_pdf


def test_a_folder_becomes_documents_with_relative_ids_and_structure(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD.md").write_text("# hidden\n")
    (root / "image.png").write_bytes(b"\x89PNG")
    loaded = load(root)
    docs = {d.doc_id: d for d in loaded.documents}
    assert set(docs) == {"guide/rivers.md", "guide/baking.md", "notes/astronomy.txt",
                         "pages/chess.html", "faq-1", "faq-2"}  # fmt: skip
    rivers = docs["guide/rivers.md"]
    assert rivers.title == "Rivers of the world"
    assert {b.heading for b in rivers.blocks} == {
        "Rivers of the world > The Nile", "Rivers of the world > The Amazon"}  # fmt: skip
    chess = docs["pages/chess.html"]
    assert chess.title == "Chess openings"
    assert "script" not in chess.text and "color" not in chess.text
    assert chess.blocks[-1].heading == "Chess openings > Queen's Gambit"
    faq = docs["faq-1"]
    assert faq.title == "Refunds" and faq.metadata == {"team": "billing"}
    assert faq.source == "records.jsonl#1"
    assert loaded.skipped == []


def test_pdf_pages_are_kept(tmp_path: Path) -> None:
    pages = [["Volcanoes form where magma reaches the surface."], ["Glaciers carve valleys."]]
    pdf = write_pdf(tmp_path / "geo.pdf", pages, "Earth")
    doc = load_file(pdf, "geo.pdf")[0]
    assert doc.title == "Earth"
    assert [(b.page, "Glaciers" in b.text) for b in doc.blocks] == [(1, False), (2, True)]
    chunks = make_chunker("structure", size=64).chunk(doc)
    assert [c.page for c in chunks] == [1, 2]


def test_unreadable_files_are_reported_not_fatal(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c", {"ok.md": "# Fine\n\ntext\n"})
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (root / "bad.jsonl").write_text('{"text": "one"}\nnot json\n')
    loaded = load(root)
    assert [d.doc_id for d in loaded.documents] == ["ok.md"]
    reasons = dict(loaded.skipped)
    assert set(reasons) == {"broken.pdf", "bad.jsonl"}
    assert "line 2" in reasons["bad.jsonl"]
    (root / "x.xyz").write_text("x")
    with pytest.raises(InvalidInput, match="known types"):
        load(root / "x.xyz")


def test_jsonl_records_need_text_and_unique_ids(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n')
    with pytest.raises(InvalidInput, match="appears twice"):
        load_file(path, "r.jsonl")
    path.write_text('{"id": "a", "name": "no text here"}\n')
    with pytest.raises(InvalidInput, match="no text field"):
        load_file(path, "r.jsonl")


def _doc(text: str, doc_id: str = "d") -> Document:
    paras = [p for p in text.split("\n\n") if p]
    return Document(doc_id, doc_id, "T", [Block(p, "T > S") for p in paras], "digest")


def test_token_windows_respect_size_and_overlap() -> None:
    words = " ".join(f"w{i}" for i in range(500))
    chunker = make_chunker("tokens", size=50, overlap=10, tokenizer="words")
    chunks = chunker.chunk(_doc(words))
    assert all(len(chunker.spans(c.text)) <= 50 for c in chunks)
    assert len(chunks) == 13  # ceil((500 - 10) / 40)
    first, second = chunks[0].text.split(), chunks[1].text.split()
    assert first[-10:] == second[:10]  # the overlap is shared text
    assert chunks[0].heading == "T > S"


def test_structure_chunks_group_paragraphs_and_cut_long_ones() -> None:
    long = " ".join(f"x{i}" for i in range(300))
    doc = _doc(f"short one\n\nshort two\n\n{long}")
    chunks = make_chunker("structure", size=100, tokenizer="words").chunk(doc)
    assert chunks[0].text == "short one\n\nshort two"
    assert len(chunks) == 1 + 3 and all(len(c.text.split()) <= 100 for c in chunks[1:])


def test_chunk_ids_are_stable_and_local_to_what_changed() -> None:
    chunker = make_chunker("structure", size=16, tokenizer="words")
    text = "alpha beta gamma\n\n" + "delta " * 20 + "\n\nomega end"
    a = [c.id for c in chunker.chunk(_doc(text))]
    assert a == [c.id for c in chunker.chunk(_doc(text))]
    b = [c.id for c in chunker.chunk(_doc(text.replace("omega", "OMEGA")))]
    assert a[:-1] == b[:-1] and a[-1] != b[-1]
    assert a != [c.id for c in chunker.chunk(_doc(text, doc_id="other"))]


def test_minilm_tokens_keep_chunks_inside_the_model_window() -> None:
    chunker = make_chunker("tokens", size=200, overlap=20)
    text = "Tokenization of unusual words like pneumonoultramicroscopic happens. " * 200
    chunks = chunker.chunk(_doc(text))
    assert all(len(chunker.spans(c.text)) <= 200 for c in chunks)
    assert all(not c.text.startswith("##") for c in chunks)


@pytest.mark.parametrize(
    ("strategy", "options", "message"),
    [("sentences", {}, "unknown chunker"), ("tokens", {"size": 20, "overlap": 20}, "overlap"),
     ("tokens", {"size": 0}, "size"), ("structure", {"colour": 1}, "colour")],
)  # fmt: skip
def test_bad_chunker_settings_are_clear(
    strategy: str, options: dict[str, int], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        make_chunker(strategy, **options)
