"""BM25 keyword search over a snapshot's chunks (Okapi BM25, k1 = 1.2, b = 0.75).

An inverted index of numpy arrays, built once per loaded index version: for each term, the
rows that contain it and how often. A query adds one vectorised term at a time. Words are
lower-cased Unicode word characters; a short English stop list is dropped; no stemming.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"\w+")
_STOP_WORDS = (
    "a an and are as at be but by for from has have how i if in into is it its of on or "
    "that the their then there these this to was were what when where which who why will "
    "with do does can you your"
)
STOP = frozenset(_STOP_WORDS.split())


def terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOP]


class BM25:
    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        import numpy as np

        self.k1, self.b = k1, b
        self.n = len(texts)
        lengths = np.zeros(self.n, dtype=np.float32)
        rows: dict[str, list[int]] = defaultdict(list)
        freqs: dict[str, list[int]] = defaultdict(list)
        for row, text in enumerate(texts):
            counts = Counter(terms(text))
            lengths[row] = sum(counts.values())
            for term, tf in counts.items():
                rows[term].append(row)
                freqs[term].append(tf)
        avg = float(lengths.mean()) if self.n else 1.0
        self.norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        self.postings = {
            t: (np.asarray(r, dtype=np.int64), np.asarray(freqs[t], dtype=np.float32))
            for t, r in rows.items()
        }

    def idf(self, term: str) -> float:
        df = len(self.postings[term][0]) if term in self.postings else 0
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        import numpy as np

        out = np.zeros(self.n, dtype=np.float32)
        for term in set(terms(query)):
            posting = self.postings.get(term)
            if posting is None:
                continue
            rows, tf = posting
            out[rows] += self.idf(term) * tf * (self.k1 + 1) / (tf + self.norm[rows])
        return out
