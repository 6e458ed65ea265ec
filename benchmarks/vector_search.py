"""Vector search: Shipyard's embedded index against FAISS HNSW and hnswlib, side by side.

The data are 100,000 MiniLM embeddings (384 dimensions) of real text — passages of the
Python standard library's docstrings and the language reference that ships with Python —
made once with Shipyard's embedder and kept in the user's cache (``--synthetic`` uses
clustered random vectors instead). 1,000 held-out passages are the queries.

Every index gets the same HNSW parameters (M, efConstruction, efSearch), builds on 2 threads
and answers one query at a time on one thread (best of 3 passes). Recall@10 is against exact
search. Shipyard's figure goes through its backend interface (``VectorBackend.search``), as
every search does. hnswlib runs in its own virtual environment (it compiles from source).

End to end, ingest throughput is ``shipyard rag ingest`` of the shipped Python reference
corpus into a fresh home: loading, chunking, embedding (empty cache) and indexing.

    python benchmarks/vector_search.py [--n 100000] [--queries 1000] [--m 32] [--ef 64]

The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CACHE, peer_python

console = Console(stderr=True)
K = 10


def passages(limit: int) -> list[str]:
    """Passages of 8-90 words: the language reference topics, then docstrings of the standard
    library and of the installed packages (numpy, scikit-learn, pandas... all ship offline)."""
    from pydoc_data.topics import topics

    texts: list[str] = list(topics.values())
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    files = [p for root in roots for p in sorted(root.rglob("*.py"))]
    for path in files:
        if "tests" in path.parts or "test" in path.parts:
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc:
                    texts.append(doc)
    out: list[str] = []
    seen: set[str] = set()
    for text in texts:
        for para in text.split("\n\n"):
            words = para.split()
            for i in range(0, len(words), 90):
                piece = " ".join(words[i : i + 90])
                if len(piece.split()) >= 8 and piece not in seen:
                    seen.add(piece)
                    out.append(piece)
    return out[:limit]


def real_vectors(n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray, str]:
    path = CACHE / f"minilm-vectors-{n + n_queries}.npy"
    if path.exists():
        data = np.load(path)
    else:
        from shipyard.cli.common import progress_bar
        from shipyard.localai.minilm import MiniLM

        texts = passages(n + n_queries)
        if len(texts) < n + n_queries:
            raise SystemExit(f"only {len(texts)} passages of real text; use --synthetic or a "
                             f"smaller --n")  # fmt: skip
        model = MiniLM(threads=os.cpu_count() or 1)
        data = np.zeros((len(texts), 384), dtype=np.float32)
        with progress_bar(console) as progress:
            task = progress.add_task("embedding real passages (once; cached)", total=len(texts))
            for start in range(0, len(texts), 2048):
                data[start : start + 2048] = model.embed(texts[start : start + 2048], 64)
                progress.advance(task, len(texts[start : start + 2048]))
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, data)
    rng = np.random.default_rng(0)
    order = rng.permutation(data.shape[0])
    return data[order[:n]], data[order[n : n + n_queries]], "MiniLM embeddings of real text"


def synthetic_vectors(n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray, str]:
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((200, 384)).astype(np.float32)

    def draw(m: int) -> np.ndarray:
        x = centers[rng.integers(0, 200, m)] + 0.6 * rng.standard_normal((m, 384)).astype(
            np.float32
        )
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return draw(n), draw(n_queries), "clustered random vectors"


def exact_ids(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    out = np.zeros((queries.shape[0], K), dtype=np.int64)
    for start in range(0, queries.shape[0], 100):
        scores = queries[start : start + 100] @ vectors.T
        top = np.argpartition(-scores, K, axis=1)[:, :K]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out[start : start + 100] = np.take_along_axis(top, order, axis=1)
    return out


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def timed_queries(search: Any, queries: np.ndarray) -> tuple[float, np.ndarray]:
    ids = np.zeros((queries.shape[0], K), dtype=np.int64)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for i, q in enumerate(queries):
            row = search(q)
            ids[i, : len(row)] = row
        best = min(best, time.perf_counter() - t0)
    return queries.shape[0] / best, ids


def run_shipyard(vectors: np.ndarray, queries: np.ndarray, a: argparse.Namespace) -> dict[str, Any]:
    from shipyard.rag.backends import make_backend

    backend = make_backend("hnsw", m=a.m, ef_construction=a.ef_construction, ef_search=a.ef)
    t0 = time.perf_counter()
    backend.build(vectors)
    build = time.perf_counter() - t0
    import faiss

    faiss.omp_set_num_threads(1)
    qps, ids = timed_queries(lambda q: backend.search(q, K)[0], queries)
    faiss.omp_set_num_threads(2)
    return {"build_s": build, "qps": qps, "ids": ids}


def run_faiss(vectors: np.ndarray, queries: np.ndarray, a: argparse.Namespace) -> dict[str, Any]:
    import faiss

    faiss.omp_set_num_threads(2)
    index = faiss.IndexHNSWFlat(vectors.shape[1], a.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = a.ef_construction
    t0 = time.perf_counter()
    index.add(vectors)
    build = time.perf_counter() - t0
    index.hnsw.efSearch = a.ef
    faiss.omp_set_num_threads(1)
    qps, ids = timed_queries(lambda q: index.search(q.reshape(1, -1), K)[1][0], queries)
    faiss.omp_set_num_threads(2)
    return {"build_s": build, "qps": qps, "ids": ids}


def run_hnswlib(vectors: np.ndarray, queries: np.ndarray, a: argparse.Namespace) -> dict[str, Any]:
    py = peer_python("hnswlib", "hnswlib==0.8.0 numpy", "import hnswlib")
    with tempfile.TemporaryDirectory() as tmp:
        v, q, out = Path(tmp) / "v.npy", Path(tmp) / "q.npy", Path(tmp) / "ids.npy"
        np.save(v, vectors)
        np.save(q, queries)
        script = Path(__file__).resolve().parent / "_hnswlib_peer.py"
        done = subprocess.run([str(py), str(script), str(v), str(q), str(out), str(a.m),
                               str(a.ef_construction), str(a.ef), str(K)],
                              capture_output=True, text=True, check=True)  # fmt: skip
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["ids"] = np.load(out)
    return result


def ingest_throughput() -> dict[str, Any]:
    """``client.rag.ingest`` of the shipped corpus into a fresh home, empty cache."""
    from importlib.resources import files

    from shipyard.core.settings import Settings
    from shipyard.sdk import Client

    corpus = Path(str(files("shipyard") / "demo_data" / "pyref"))
    with tempfile.TemporaryDirectory() as tmp:
        client = Client(Settings.load(home=Path(tmp) / "home"))
        try:
            report = client.rag.ingest(corpus, "bench")
        finally:
            client.close()
    return {"chunks": report.chunks["total"], "seconds": report.seconds,
            "chunks_per_s": report.chunks_per_s}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=128)
    parser.add_argument("--ef", type=int, default=64)
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--no-hnswlib", action="store_true")
    parser.add_argument("--vectors", type=Path, help="an .npy of unit vectors to use instead")
    a = parser.parse_args()

    if a.vectors is not None:
        data = np.load(a.vectors).astype(np.float32)
        data /= np.linalg.norm(data, axis=1, keepdims=True)
        order = np.random.default_rng(0).permutation(data.shape[0])
        n = min(a.n, data.shape[0] - a.queries)
        vectors, queries = data[order[:n]], data[order[n : n + a.queries]]
        what = f"vectors from {a.vectors.name}"
    else:
        maker = synthetic_vectors if a.synthetic else real_vectors
        vectors, queries, what = maker(a.n, a.queries)
    console.print(f"{vectors.shape[0]:,} vectors × {vectors.shape[1]} ({what}); "
                  f"{queries.shape[0]:,} queries; M={a.m}, efConstruction={a.ef_construction}, "
                  f"efSearch={a.ef}")  # fmt: skip
    truth = exact_ids(vectors, queries)
    results: dict[str, dict[str, Any]] = {}
    runners = [("shipyard (faiss hnsw backend)", run_shipyard), ("faiss hnsw", run_faiss)]
    if not a.no_hnswlib:
        runners.append(("hnswlib", run_hnswlib))
    for name, fn in runners:
        console.print(f"building and querying: {name} ...")
        try:
            results[name] = fn(vectors, queries, a)
            results[name]["recall"] = recall(results[name].pop("ids"), truth)
        except (subprocess.CalledProcessError, OSError) as exc:
            console.print(f"  {name} failed: {exc}")
    console.print("end-to-end ingest of the shipped corpus (empty embedding cache) ...")
    ingest = ingest_throughput()

    table = Table(title=f"Vector search, {vectors.shape[0]:,} × {vectors.shape[1]}")
    for col in ("index", "build s", "QPS (1 thread)", "recall@10"):
        table.add_column(col)
    for name, r in results.items():
        table.add_row(name, f"{r['build_s']:.1f}", f"{r['qps']:,.0f}", f"{r['recall']:.4f}")
    console.print(table)
    ours = results["shipyard (faiss hnsw backend)"]
    peers = {k: v for k, v in results.items() if not k.startswith("shipyard")}
    best_peer = max(peers, key=lambda k: peers[k]["qps"])
    ratio = ours["qps"] / peers[best_peer]["qps"]
    met = ours["recall"] >= 0.95 and ratio >= 0.8
    rate = f"{ingest['chunks_per_s']:.0f} chunks/s end to end on {os.cpu_count()} cores"
    console.print(f"ingest: {ingest['chunks']} chunks in {ingest['seconds']:.1f} s = {rate}")
    verdict = "met" if met else "MISSED"
    console.print(f"target recall@10 ≥ 0.95 at ≥ 0.8× the best peer's QPS ({best_peer}): "
                  f"{verdict} ({ours['recall']:.4f}, {ratio:.2f}×)")  # fmt: skip
    print(json.dumps({
        "benchmark": "vector_search", "n": int(vectors.shape[0]), "dims": int(vectors.shape[1]),
        "data": what, "m": a.m, "ef_construction": a.ef_construction, "ef_search": a.ef,
        "recall_at_10": round(ours["recall"], 4), "qps": round(ours["qps"], 1),
        "build_s": round(ours["build_s"], 2), "best_peer": best_peer,
        "qps_ratio_vs_best_peer": round(ratio, 3),
        "peers": {k: {"qps": round(v["qps"], 1), "recall_at_10": round(v["recall"], 4),
                      "build_s": round(v["build_s"], 2)} for k, v in peers.items()},
        "ingest_chunks_per_s": round(ingest["chunks_per_s"], 1),
        "ingest_chunks": ingest["chunks"], "targets_met": met,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
