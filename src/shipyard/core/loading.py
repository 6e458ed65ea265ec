"""A bounded, thread-safe cache of things that are slow to load (index snapshots, models):
the least recently used go first, and however many callers ask for a missing key at once,
it is loaded once while the others wait for it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoadingCache(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._gates: dict[K, threading.Lock] = {}

    def peek(self, key: K) -> V | None:
        """The value if present (and now the most recently used), without loading."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, key: K, load: Callable[[], V]) -> V:
        found = self.peek(key)
        if found is not None:
            return found
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:  # one load per key, however many callers wait for it
            found = self.peek(key)
            if found is None:
                found = load()
                self.put(key, found)
            with self._lock:
                self._gates.pop(key, None)
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
