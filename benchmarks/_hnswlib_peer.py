"""hnswlib on the benchmark's vectors, run inside its own virtual environment.

    python _hnswlib_peer.py VECTORS.npy QUERIES.npy OUT_IDS.npy M EF_CONSTRUCTION EF_SEARCH K

Prints one JSON object: build seconds and single-query QPS (one thread, best of 3)."""

from __future__ import annotations

import json
import sys
import time

import hnswlib
import numpy as np


def main() -> None:
    vec_path, q_path, out_path, m, ef_c, ef_s, k = sys.argv[1:8]
    vectors, queries = np.load(vec_path), np.load(q_path)
    index = hnswlib.Index(space="ip", dim=vectors.shape[1])
    index.init_index(max_elements=vectors.shape[0], M=int(m), ef_construction=int(ef_c))
    index.set_num_threads(2)
    t0 = time.perf_counter()
    index.add_items(vectors, np.arange(vectors.shape[0]))
    build = time.perf_counter() - t0
    index.set_num_threads(1)
    index.set_ef(int(ef_s))
    ids = np.zeros((queries.shape[0], int(k)), dtype=np.int64)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for i, q in enumerate(queries):
            labels, _ = index.knn_query(q, k=int(k))
            ids[i] = labels[0]
        best = min(best, time.perf_counter() - t0)
    np.save(out_path, ids)
    print(json.dumps({"build_s": build, "qps": queries.shape[0] / best}))


if __name__ == "__main__":
    main()
