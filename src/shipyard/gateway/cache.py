"""Response caches, always scoped to one route and one tenant (never shared across tenants).

* Exact: the normalised request (model parameters and messages; not ``user``, ``stream``
  or ``metadata``) hashed with sha256.
* Semantic: the request's text embedded with the local MiniLM; a cached answer is reused
  when its request's embedding is at least ``threshold`` cosine-similar and its parameters
  are the same.

Both keep entries in memory for ``ttl_s`` with least-recently-used eviction; a shared store
(Redis) can replace :class:`MemoryStore` behind the same ``get``/``put``."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

# Request fields that do not change the answer.
IGNORED = frozenset({"user", "stream", "stream_options", "metadata", "model"})


def request_key(scope: tuple[str, str | None], raw: dict[str, Any]) -> str:
    """Exact-match key: route and tenant, plus the request without fields that do not
    change the answer (keys sorted, so field order does not matter)."""
    body = {k: v for k, v in raw.items() if k not in IGNORED}
    canon = orjson.dumps([scope[0], scope[1], body], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canon).hexdigest()


def params_key(raw: dict[str, Any], text_fields: tuple[str, ...]) -> str:
    """The parameters a semantic hit must share (everything but the text itself)."""
    body = {k: v for k, v in raw.items() if k not in IGNORED and k not in text_fields}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(slots=True)
class Cached:
    body: dict[str, Any]  # the OpenAI response body
    text: str
    input_tokens: int
    output_tokens: int
    expires: float


class MemoryStore:
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Cached] = OrderedDict()

    def get(self, key: str, now: float) -> Cached | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if hit.expires <= now:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return hit

    def put(self, key: str, value: Cached) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class SemanticIndex:
    """Embeddings of cached requests per (route, tenant, parameters) scope."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        # scope → list of (unit vector, cached answer)
        self._scopes: dict[str, list[tuple[Any, Cached]]] = {}
        self._count = 0

    def lookup(self, scope: str, vector: Any, threshold: float, now: float) -> Cached | None:
        import numpy as np

        with self._lock:
            entries = self._scopes.get(scope)
            if not entries:
                return None
            live = [(v, c) for v, c in entries if c.expires > now]
            if len(live) != len(entries):
                self._count -= len(entries) - len(live)
                self._scopes[scope] = live
            if not live:
                return None
            sims = np.stack([v for v, _ in live]) @ vector
            best = int(np.argmax(sims))
            return live[best][1] if float(sims[best]) >= threshold else None

    def add(self, scope: str, vector: Any, value: Cached) -> None:
        with self._lock:
            self._scopes.setdefault(scope, []).append((vector, value))
            self._count += 1
            if self._count > self.max_entries:  # drop the oldest of the largest scope
                largest = max(self._scopes, key=lambda k: len(self._scopes[k]))
                self._scopes[largest].pop(0)
                self._count -= 1


class ResponseCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.exact = MemoryStore(max_entries)
        self.semantic = SemanticIndex(max_entries)

    def get(self, key: str) -> Cached | None:
        return self.exact.get(key, time.monotonic())

    def put(self, key: str, body: dict[str, Any], text: str, tokens: tuple[int, int],
            ttl_s: float) -> Cached:  # fmt: skip
        value = Cached(body, text, tokens[0], tokens[1], time.monotonic() + ttl_s)
        self.exact.put(key, value)
        return value
