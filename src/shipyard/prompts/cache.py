"""The SDK's in-process prompt cache: a fresh copy answers from memory; an expired one still
answers while a background thread re-reads it (stale-while-revalidate); when the server
cannot be reached and nothing is cached, an optional fallback prompt stands in.

A version pinned by number never changes, so it never expires. A missing prompt or label is
an error even when a fallback is given: a fallback covers an outage, not a typo.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from shipyard.core.errors import RemoteError

log = logging.getLogger("shipyard.prompts")

Key = tuple[str, str | None, int | None]
FOREVER = float("inf")


class PromptCache:
    def __init__(self, fetch: Callable[[Key], Any], ttl_s: float) -> None:
        self._fetch = fetch
        self.ttl_s = ttl_s
        self._entries: dict[Key, tuple[Any, float]] = {}  # key → (value, expires at)
        self._refreshing: set[Key] = set()
        self._lock = threading.Lock()

    def get(self, key: Key, ttl_s: float | None = None) -> Any:
        ttl = self.ttl_s if ttl_s is None else ttl_s
        if ttl <= 0 and key[2] is None:  # the cache is off for this read: always fetch
            value = self._fetch(key)
            self._entries.pop(key, None)  # an older copy must not come back on a later get
            return value
        hit = self._entries.get(key)
        if hit is not None:
            value, expires = hit
            if expires > time.monotonic():
                return value
            self._refresh_later(key, ttl_s)
            return value
        value = self._fetch(key)
        self._store(key, value, ttl_s)
        return value

    def _expiry(self, key: Key, ttl_s: float | None) -> float:
        ttl = self.ttl_s if ttl_s is None else ttl_s
        if key[2] is not None:
            return FOREVER
        return time.monotonic() + ttl

    def _store(self, key: Key, value: Any, ttl_s: float | None) -> None:
        ttl = self.ttl_s if ttl_s is None else ttl_s
        if ttl > 0 or key[2] is not None:
            self._entries[key] = (value, self._expiry(key, ttl_s))

    def _refresh_later(self, key: Key, ttl_s: float | None) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def refresh() -> None:
            try:
                self._store(key, self._fetch(key), ttl_s)
            except RemoteError as exc:  # keep serving the stale copy
                log.warning("prompt %s: could not refresh, serving the cached copy: %s", key, exc)
            except Exception as exc:  # e.g. the label was deleted: the next get() raises it
                log.warning("prompt %s: dropped from the cache: %s", key, exc)
                self._entries.pop(key, None)
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        threading.Thread(target=refresh, name="shipyard-prompt-refresh", daemon=True).start()

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached copies (of one prompt, or of all)."""
        for key in list(self._entries):
            if name is None or key[0] == name:
                self._entries.pop(key, None)

    def wait_idle(self, timeout_s: float = 5.0) -> bool:
        """Wait for background refreshes to finish (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._refreshing:
                    return True
            time.sleep(0.005)
        return False
