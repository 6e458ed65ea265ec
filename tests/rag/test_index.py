"""Versioned indexes end to end, embedded and against a real server, on SQLite and PostgreSQL:
ingest, incremental re-ingest, search modes and filters, rollback, evaluation, traces."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.rag.evaluate import evaluate, read_queries
from shipyard.sdk import Client
from shipyard.tracing.schemas import TraceQuery
from tests.conftest import unique
from tests.rag.corpus import write_corpus


def _top_doc(client: Client, index: str, query: str, **kw: object) -> str:
    return client.rag.search(index, query, 3, **kw).hits[0].doc_id  # type: ignore[arg-type]


def test_ingest_search_reingest_and_roll_back(client: Client, tmp_path: Path) -> None:
    name = unique("kb")
    root = write_corpus(tmp_path / "corpus")
    first = client.rag.ingest(root, name)
    assert first.created and first.version == 1 and "production" in first.aliases
    assert first.documents["added"] == 6 and first.chunks["embedded"] == first.chunks["total"]

    for mode in ("vector", "keyword", "hybrid"):
        assert _top_doc(client, name, "which river has the most water", mode=mode) == (
            "guide/rivers.md")  # fmt: skip
    hit = client.rag.search(name, "wild yeast culture for bread", 1).hits[0]
    assert hit.doc_id == "guide/baking.md" and hit.heading == "Baking bread > Sourdough"
    assert "lactic acid" in hit.text and hit.vector_score > 0.3

    again = client.rag.ingest(root, name)
    assert not again.created and again.version == 1 and again.documents["unchanged"] == 6

    (root / "notes" / "astronomy.txt").write_text(
        "Saturn has rings made of ice and rock.\n\nJupiter is the largest planet in the solar "
        "system; the Great Red Spot is a storm larger than the earth that has raged for "
        "centuries.\n"
    )
    (root / "pages" / "chess.html").unlink()
    second = client.rag.ingest(root, name)
    assert second.created and second.version == 2
    assert second.documents == {"added": 0, "changed": 1, "unchanged": 4, "deleted": 1}
    assert second.chunks["embedded"] <= 2  # only the changed document's new text
    assert "production" not in second.aliases  # a rebuilt index is promoted on purpose

    assert _top_doc(client, name, "Sicilian Defence chess opening") == "pages/chess.html"
    client.registry.set_alias(name, "production", 2)
    assert _top_doc(client, name, "rings of ice and rock around a planet") == (
        "notes/astronomy.txt")  # fmt: skip
    result = client.rag.search(name, "Sicilian Defence chess opening", 5)
    assert result.version == 2 and "pages/chess.html" not in {h.doc_id for h in result.hits}
    assert _top_doc(client, name, "Sicilian Defence chess opening", version=1) == (
        "pages/chess.html")  # fmt: skip
    client.registry.rollback(name, "production")
    assert client.rag.search(name, "chess", 1).version == 1


def test_filters_and_bad_requests(client: Client, tmp_path: Path) -> None:
    name = unique("kb")
    client.rag.ingest(write_corpus(tmp_path / "corpus"), name)
    hits = client.rag.search(name, "rivers and bread", 10, filters={"team": "billing"}).hits
    assert [h.doc_id for h in hits] == ["faq-1"]
    hits = client.rag.search(name, "anything", 10,
                             filters={"doc_id": ["guide/baking.md", "faq-2"]}).hits  # fmt: skip
    assert {h.doc_id for h in hits} == {"guide/baking.md", "faq-2"}
    assert client.rag.search(name, "x", 5, filters={"team": "nobody"}).hits == []
    with pytest.raises(NotFound):
        client.rag.search(unique("missing"), "x")
    with pytest.raises(NotFound):
        client.rag.search(name, "x", label="staging")
    with pytest.raises(InvalidInput):
        client.rag.search(name, "x", rerank="no-such-reranker")
    diverse = client.rag.search(name, "river", 2, rerank="mmr").hits
    assert len(diverse) == 2


def test_retrieval_eval_scores_and_stores_a_run(client: Client, tmp_path: Path) -> None:
    name = unique("kb")
    client.rag.ingest(write_corpus(tmp_path / "corpus"), name)
    labels = tmp_path / "q.jsonl"
    rows = [
        {"query": "biggest storm in the solar system", "relevant": ["notes/astronomy.txt"]},
        {"query": "how long to knead dough", "relevant": "guide/baking.md"},
        {"query": "river delta farming in Egypt", "relevant": ["guide/rivers.md"]},
        {"query": "money back to my card", "relevant": ["faq-1"]},
    ]
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report, _ = evaluate(client, name, read_queries(labels), k=3)
    assert report.metrics["hit@3"] == 1.0 and report.metrics["mrr"] > 0.7
    run = client.tracking.get_run(report.run_id)
    assert run.params["index_version"] == "1" and run.metrics["hit@3"] == 1.0
    stored = client.evals.results(report.run_id)
    assert len(stored) == 4 and all(r.passed for r in stored)

    labels.write_text(json.dumps({"query": "x", "relevant": ["nope.md"]}) + "\n")
    with pytest.raises(InvalidInput, match="ids look like"):
        evaluate(client, name, read_queries(labels), k=3)


def test_every_search_is_a_retrieval_span(client: Client, tmp_path: Path) -> None:
    name = unique("kb")
    client.rag.ingest(write_corpus(tmp_path / "corpus"), name)
    client.rag.search(name, "which planet is red", 2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        client.flush()
        page = client.tracing.list_traces(TraceQuery(name=f"retrieve {name}"))
        if page.traces:
            break
        time.sleep(0.1)
    detail = client.tracing.get_trace(page.traces[0].trace_id)
    span = detail.spans[0]
    assert span.kind == "retrieval" and span.input == "which planet is red"
    attrs = span.attributes
    assert attrs["shipyard.index.name"] == name and attrs["shipyard.index.version"] == 1
    assert attrs["retrieval.documents.0.document.id"]
    assert 0 < attrs["shipyard.retrieval.best_score"] <= 1


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_running_server_follows_an_alias_moved_elsewhere(
    dialect: str,
    server_for,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Another process (a second replica, or the command line on the database) moves the
    alias: the server's searches follow within seconds, with no restart."""
    server = server_for(dialect)
    name = unique("kb")
    with server.client() as remote:
        remote.rag.ingest(write_corpus(tmp_path / "corpus"), name)
        (tmp_path / "corpus" / "guide" / "rivers.md").write_text("# Rivers\n\nThe Danube.\n")
        remote.rag.ingest(tmp_path / "corpus", name)
        assert remote.rag.search(name, "Danube", 1).version == 1
        with Client(server.embedded_settings()) as other:
            other.registry.set_alias(name, "production", 2)
        moved = time.monotonic()
        while remote.rag.search(name, "Danube", 1).version != 2:
            assert time.monotonic() - moved < 10, "the server did not follow the alias"
            time.sleep(0.1)


def test_stats_show_the_share_of_searches_that_found_a_close_match(
    client: Client, tmp_path: Path
) -> None:
    name = unique("kb")
    client.rag.ingest(write_corpus(tmp_path / "corpus"), name)
    client.rag.search(name, "sourdough starter wild yeast", 3)  # close to a chunk
    client.rag.search(name, "quarterly tax filing deadline for corporations", 3)  # far from all
    deadline = time.monotonic() + 30
    while True:
        client.flush()
        rows = client.rag.stats(name, threshold=0.45)
        if rows and rows[0].requests == 2:
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.1)
    assert rows[0].version == 1 and rows[0].covered == 1 and rows[0].share_covered == 0.5
    assert client.rag.stats(name, threshold=-1.0)[0].covered == 2
