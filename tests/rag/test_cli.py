"""The ``shipyard rag`` commands as a user types them (embedded store)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from shipyard.cli.main import cli
from shipyard.core.errors import InvalidInput, NotFound
from tests.rag.corpus import write_corpus


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_ingest_search_eval_promote_and_roll_back(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    out = _run("rag", "ingest", str(corpus), "--index", "kb")
    assert "kb v1" in out and "production → v1" in out
    lines = _run("rag", "search", "kb", "river with the most water", "-k", "2", "--json")
    hits = [json.loads(line) for line in lines.splitlines() if line.startswith("{")]
    assert len(hits) == 2 and hits[0]["doc_id"] == "guide/rivers.md"
    assert {"doc_id", "chunk_id", "source", "score", "text"} <= set(hits[0])
    assert "guide/rivers.md" in _run("rag", "search", "kb", "Nile delta", "-k", "1")

    out = _run("rag", "ingest", str(corpus), "--index", "kb", "--chunker", "tokens",
               "--chunk-size", "32", "--overlap", "8")  # fmt: skip
    assert "kb v2" in out and "production is unchanged" in out
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"query": "Sicilian Defence", "relevant": ["pages/chess.html"]})
                      + "\n" + json.dumps({"query": "sourdough", "relevant": "guide/baking.md"})
                      + "\n")  # fmt: skip
    out = _run("rag", "eval", "kb", "--queries", str(labels), "-k", "3")
    assert "hit@3" in out and "1.000" in out
    out = _run("rag", "eval", "kb", "--queries", str(labels), "--version", "2", "--against", "1",
               "--report", str(tmp_path / "reports"))  # fmt: skip
    assert (tmp_path / "reports" / "kb-retrieval.html").read_text().count("<svg") == 1
    assert "kb → v2" not in out
    assert "kb@production: 1 → 2" in _run("rag", "promote", "kb", "2")
    assert "rolled back: 2 → 1" in _run("rag", "rollback", "kb")
    versions = json.loads(_run("rag", "versions", "kb", "--json"))
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["chunker"]["strategy"] == "tokens"
    stats = json.loads(_run("rag", "stats", "kb", "--json"))
    assert stats[0]["requests"] >= 2


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["rag", "ingest", str(empty), "--index", "kb"])
    assert isinstance(result.exception, InvalidInput)
    assert "no documents found" in str(result.exception)
    result = CliRunner().invoke(cli, ["rag", "search", "nope", "x"])
    assert isinstance(result.exception, NotFound) and "nope" in str(result.exception)
