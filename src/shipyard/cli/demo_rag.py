"""The RAG part of ``shipyard demo``: the Python language reference as a corpus, two index
versions compared on 116 labeled questions, a RAG app on the local model, and a rollback."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

from shipyard.cli.common import console
from shipyard.evals.compare import compare, render_html, render_markdown
from shipyard.rag.evaluate import evaluate, read_queries
from shipyard.sdk import Client

INDEX = "python-docs"
PROMPT = "python-docs-answer"
APP = "python-help"
MODEL = "local/gemma-3-270m"
TEMPLATE = """Reference:
{{ context }}

Using the reference above, answer the question in one sentence.
Question: {{ question }}
Answer:"""
QUESTIONS = [
    "What does the pass statement do?",
    "When does the else clause of a for loop run?",
]


def rag_demo(client: Client, reports: Path) -> dict[str, Any]:
    """Two versions of the index (fixed token windows, then paragraphs under headings), the
    retrieval comparison, a RAG app answering on the local model, promote and roll back."""
    data = Path(str(files("shipyard") / "demo_data"))
    corpus = client.settings.home / "demo-corpus" / "pyref"
    if not corpus.exists():
        shutil.copytree(data / "pyref", corpus)
    queries = read_queries(data / "pyref_queries.jsonl")
    # v1: long windows of words, more than MiniLM reads (256 word pieces): tails go unseen
    v1 = client.rag.ingest(corpus, INDEX, chunker={"strategy": "tokens", "size": 400,
                           "overlap": 0, "tokenizer": "words"},
                           description="400-word windows")  # fmt: skip
    v2 = client.rag.ingest(corpus, INDEX, chunker={"strategy": "structure", "size": 200},
                           description="paragraphs under their headings")  # fmt: skip
    console.print(f"index {INDEX}: v{v1.version} {v1.chunks['total']} chunks (token windows), "
                  f"v{v2.version} {v2.chunks['total']} chunks (structure) from "
                  f"{v2.documents['added'] + v2.documents['changed'] + v2.documents['unchanged']} "
                  f"documents; {v2.chunks_per_s:.0f} chunks/s")  # fmt: skip
    (r1, side1), (r2, side2) = (
        evaluate(client, INDEX, queries, k=5, version=v) for v in (v1.version, v2.version)
    )
    comparison = compare(side1, side2)
    reports.mkdir(parents=True, exist_ok=True)
    md, html = reports / "retrieval-compare.md", reports / "retrieval-compare.html"
    md.write_text(render_markdown(comparison), encoding="utf-8")
    html.write_text(render_html(comparison), encoding="utf-8")
    for r in (r1, r2):
        m = r.metrics
        console.print(f"retrieval v{r.version} on {r.queries} labeled questions: hit@5 "
                      f"{m['hit@5']:.2f}, recall@5 {m['recall@5']:.2f}, MRR {m['mrr']:.2f}, "
                      f"nDCG@5 {m['ndcg@5']:.2f}")  # fmt: skip
    better = r2.version if r2.metrics["ndcg@5"] >= r1.metrics["ndcg@5"] else r1.version
    if better != r1.version:
        client.registry.set_alias(INDEX, "production", better, "better nDCG@5 on labeled set")
    console.print(f"{INDEX}@production → v{better} (better nDCG@5)")
    client.prompts.create(PROMPT, TEMPLATE, model=MODEL, labels=["production"],
                          params={"temperature": 0, "max_tokens": 40, "stop": ["\n"]})  # fmt: skip
    client.rag.create_app(APP, index=INDEX, prompt=PROMPT, k=3, mode="hybrid",
                          description="answers about the Python language reference")  # fmt: skip
    answers = [client.rag.ask(APP, q) for q in QUESTIONS]
    for q, a in zip(QUESTIONS, answers, strict=True):
        sources = ", ".join(dict.fromkeys(c.doc_id for c in a.citations))
        console.print(f"{APP}: {q} → {a.answer!r} (sources: {sources}; groundedness "
                      f"{a.groundedness if a.groundedness is not None else '-'}, "
                      f"index v{a.index_version})")  # fmt: skip
    rolled_to = None
    if better != r1.version:
        back = client.registry.rollback(INDEX, "production", "demo: one-command rollback")
        after = client.rag.search(INDEX, QUESTIONS[0], 1)
        console.print(f"rollback: {INDEX}@production v{back.from_version} → v{back.to_version}; "
                      f"searches now answer from v{after.version}")  # fmt: skip
        rolled_to = back.to_version
        client.registry.set_alias(INDEX, "production", better, "demo: forward again")
    console.print(f"retrieval report: {md}, {html}")
    return {"index_versions": [v1.version, v2.version], "retrieval_runs": [r1.run_id, r2.run_id],
            "rag_answers": [a.model_dump() for a in answers], "rollback_to": rolled_to}  # fmt: skip
