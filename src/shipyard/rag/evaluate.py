"""Retrieval evaluation: labeled queries against an index version.

A labeled file is JSONL, one ``{"query": ..., "relevant": [...]}`` per line, where
``relevant`` lists document ids, source paths or chunk ids. Per query, at cut-off ``k``:

    hit@k       1 if any relevant item is in the top k
    recall@k    the share of the relevant items found in the top k
    mrr         1 / the rank of the first relevant hit (0 if none in the top k)
    ndcg@k      binary-gain nDCG: each relevant item counts once, at its best rank

A chunk counts for the label it matches (its document id, its source, or its own id), so
two chunks of one relevant document count once. Each run is stored as a tracking run in the
experiment ``rag/<index>``, with one result per query; two runs compare in the same shape as
eval runs (``shipyard eval compare`` works on them too).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, Field, ValidationError

from shipyard.core.errors import InvalidInput
from shipyard.evals.compare import RunSide
from shipyard.evals.schemas import AssertionResult, CaseResult
from shipyard.rag.retrieval import Hit, Mode, SearchRequest, SearchResult

if TYPE_CHECKING:
    from shipyard.sdk import Client


class LabeledQuery(BaseModel):
    query: str = Field(min_length=1)
    relevant: list[str] = Field(min_length=1)
    id: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)

    def case_id(self) -> str:
        return self.id or hashlib.sha256(self.query.encode()).hexdigest()[:16]


def read_queries(path: Path) -> list[LabeledQuery]:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    out: list[LabeledQuery] = []
    for lineno, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"{path.name} line {lineno} is not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise InvalidInput(f"{path.name} line {lineno} is not a JSON object")
        relevant = raw.get("relevant")
        if isinstance(relevant, str):
            raw["relevant"] = [relevant]
        extra = {k: v for k, v in raw.items() if k not in ("query", "relevant", "id")}
        try:
            out.append(LabeledQuery.model_validate(
                {"query": raw.get("query"), "relevant": raw.get("relevant"),
                 "id": str(raw.get("id") or ""), "metadata": extra}
            ))  # fmt: skip
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidInput(f"{path.name} line {lineno}: {problems}") from None
    if not out:
        raise InvalidInput(f"{path.name} has no queries")
    ids = [q.case_id() for q in out]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"{path.name} repeats a query (or an id): each must be unique")
    return out


def _match(hit: Hit, relevant: set[str]) -> str | None:
    for key in (hit.chunk_id, hit.doc_id, hit.source):
        if key in relevant:
            return key
    return None


def score_query(hits: list[Hit], relevant: list[str], k: int) -> dict[str, float]:
    wanted = set(relevant)
    found: list[str] = []
    first: int | None = None
    dcg = 0.0
    for rank, hit in enumerate(hits[:k], start=1):
        label = _match(hit, wanted)
        if label is None or label in found:
            continue
        found.append(label)
        first = first or rank
        dcg += 1.0 / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(wanted), k) + 1))
    return {
        f"hit@{k}": 1.0 if found else 0.0,
        f"recall@{k}": len(found) / len(wanted),
        "mrr": 1.0 / first if first else 0.0,
        f"ndcg@{k}": dcg / ideal if ideal else 0.0,
    }


class RetrievalReport(BaseModel):
    run_id: str
    index: str
    version: int
    k: int
    mode: Mode
    queries: int
    metrics: dict[str, float]
    missing_labels: list[str] = Field(default_factory=list)  # labels no chunk carries
    seconds: float = 0.0


def evaluate(
    client: Client,
    index: str,
    queries: list[LabeledQuery],
    *,
    k: int = 10,
    mode: Mode = "hybrid",
    label: str | None = None,
    version: int | None = None,
    advance: Callable[[int], Any] | None = None,
) -> tuple[RetrievalReport, RunSide]:
    """Search every query, score it, and store the run (params, metrics, per-query results)."""
    started = time.perf_counter()
    ref = client.registry.get_version(index, version=version, alias=None if version else
                                      (label or "production"))  # fmt: skip
    manifest = ref.payload
    known = _labels_of(client, ref.payload)
    missing = sorted({r for q in queries for r in q.relevant} - known)
    if len(missing) == len({r for q in queries for r in q.relevant}):
        example = next(iter(sorted(known)), "")
        raise InvalidInput(
            f"none of the relevant ids is a document id, source or chunk id of {index} "
            f"v{ref.version} (e.g. {missing[0]!r}; its ids look like {example!r})"
        )
    results: list[CaseResult] = []
    sums: dict[str, float] = {}
    latencies: list[float] = []
    tags = {"shipyard.rag.index": f"{index}/{ref.version}"}
    run_name = f"{index}/{ref.version} {mode}@{k}"
    with client.start_run(f"rag/{index}", run_name=run_name, tags=tags) as run:
        run.log_params({
            "index": index, "index_version": ref.version, "mode": mode, "k": k,
            "embedder": manifest["embedder"]["id"], "chunker": manifest["chunker"]["strategy"],
            "chunk_size": manifest["chunker"].get("size"), "backend": manifest["backend"]["name"],
            "queries": len(queries),
        })  # fmt: skip
        for i, q in enumerate(queries):
            req = SearchRequest(query=q.query, k=k, mode=mode, version=ref.version)
            res: SearchResult = client.rag.api.search(index, req)
            latencies.append(res.latency_ms)
            scores = score_query(res.hits, q.relevant, k)
            for name, value in scores.items():
                sums[name] = sums.get(name, 0.0) + value
            results.append(_case(run.id, i, q, res, scores, k))
            if advance is not None:
                advance(1)
        metrics = {name: total / len(queries) for name, total in sums.items()}
        latencies.sort()
        metrics["latency_p50_ms"] = latencies[len(latencies) // 2]
        metrics["latency_p95_ms"] = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        run.log_metrics(metrics)
        client.evals.record(run.id, results)
    report = RetrievalReport(
        run_id=run.id, index=index, version=ref.version, k=k, mode=mode, queries=len(queries),
        metrics=metrics, missing_labels=missing, seconds=time.perf_counter() - started,
    )  # fmt: skip
    side = RunSide(run_id=run.id, label=f"{index}/{ref.version} ({mode}, k={k})",
                   params={"index_version": str(ref.version), "mode": mode, "k": str(k)},
                   metrics=metrics, results=results)  # fmt: skip
    return report, side


def _case(
    run_id: str, i: int, q: LabeledQuery, res: SearchResult, scores: dict[str, float], k: int
) -> CaseResult:
    hit = scores[f"hit@{k}"] > 0
    assertions = [
        AssertionResult(
            name=name,
            type="retrieval",
            score=value,
            passed=value > 0,
            weight=1.0 if name == f"hit@{k}" else 0.0,
        )
        for name, value in scores.items()
    ]
    shown = ", ".join(dict.fromkeys(h.doc_id for h in res.hits[:5]))
    return CaseResult(
        run_id=run_id, case_id=q.case_id(), index=i, status="ok", passed=hit,
        score=scores[f"ndcg@{k}"], output=f"{q.query} → {shown}", assertions=assertions,
        latency_ms=res.latency_ms,
    )  # fmt: skip


def _labels_of(client: Client, manifest: dict[str, Any]) -> set[str]:
    """Every document id, source and chunk id of a version (to catch mislabeled files)."""
    from shipyard.rag.ingest import blob_reader
    from shipyard.rag.snapshot import read_jsonl_gz

    rows = read_jsonl_gz(blob_reader(client.registry)(manifest["files"]["documents"]))
    out: set[str] = set()
    for row in rows:
        out.add(row["doc_id"])
        out.add(row["source"])
        out.update(row["chunk_ids"])
    return out
