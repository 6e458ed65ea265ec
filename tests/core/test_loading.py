"""The loading cache behind index snapshots and served models: one load per key however many
threads ask at once, and the least recently used entry goes first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from shipyard.core.loading import LoadingCache


def test_concurrent_callers_share_one_load_and_old_entries_are_dropped() -> None:
    cache: LoadingCache[str, int] = LoadingCache(2)
    loads: list[str] = []
    lock = threading.Lock()

    def slow(key: str) -> int:
        with lock:
            loads.append(key)
        time.sleep(0.05)
        return len(key)

    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: cache.get("model-a", lambda: slow("model-a")), range(8)))
    assert found == [7] * 8 and loads == ["model-a"]

    cache.get("b", lambda: slow("b"))
    assert cache.peek("model-a") == 7  # now the most recent
    cache.get("cc", lambda: slow("cc"))  # over the size: "b" goes
    assert cache.peek("b") is None and cache.peek("model-a") == 7 and cache.peek("cc") == 2
