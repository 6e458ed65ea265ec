"""Background batching: callers append to memory and never wait on I/O.

Items are sent in batches by one daemon thread, in the order they were added, grouped by
a key (a run id for metric points). ``flush()`` sends everything added so far from the
calling thread and raises the first error a batch met; owners flush at the end of their
work and at interpreter exit. A transient failure (server unreachable) keeps the items
and retries; a refusal drops them and is reported at the next ``flush()``. With
``max_pending`` the buffer is bounded: the oldest items are dropped (and counted) rather
than ever blocking the caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from itertools import groupby
from typing import Generic, TypeVar

from shipyard.core.errors import RemoteError, StoreError

log = logging.getLogger("shipyard")

T = TypeVar("T")

TRANSIENT = (RemoteError, StoreError)


class Batcher(Generic[T]):
    def __init__(
        self,
        send: Callable[[str, list[T]], object],
        *,
        key: Callable[[T], str] = lambda _item: "",
        batch_size: int = 5000,
        interval_s: float = 0.5,
        max_pending: int | None = None,
        name: str = "shipyard-batcher",
    ) -> None:
        self._send_fn = send
        self._key = key
        self.max_pending = max_pending
        self.dropped = 0
        self.name = name
        self.batch_size = max(1, batch_size)
        self.interval_s = interval_s
        self._buf: list[T] = []
        self._buf_lock = threading.Lock()
        self._send_lock = threading.Lock()  # one sender at a time keeps points in order
        self._wake = threading.Event()
        self._closed = False
        self._errors: list[Exception] = []
        self._thread: threading.Thread | None = None
        self._failures = 0

    def add(self, item: T) -> None:
        self.add_many([item])

    def add_many(self, items: list[T]) -> None:
        with self._buf_lock:
            self._buf.extend(items)
            n = len(self._buf)
            if self.max_pending is not None and n > self.max_pending:
                over = n - self.max_pending
                del self._buf[:over]
                self.dropped += over
                n = self.max_pending
                log.warning("%s: buffer full, dropped the %d oldest items", self.name, over)
        if self._thread is None:
            self._start()
        if n >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        with self._buf_lock:
            return len(self._buf)

    def _start(self) -> None:
        with self._buf_lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._loop, name="shipyard-metrics", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval_s * (1 + min(self._failures, 10)))
            self._wake.clear()
            try:
                self._drain()
                self._failures = 0
            except TRANSIENT as exc:
                self._failures += 1
                log.warning("%s: upload failed, will retry: %s", self.name, exc)
            except Exception:  # pragma: no cover - kept so the thread never dies
                log.exception("%s: upload failed", self.name)

    def _drain(self) -> None:
        """Send what is buffered. Transient failures put the unsent points back in front."""
        with self._send_lock:
            with self._buf_lock:
                batch, self._buf = self._buf, []
            i = 0
            try:
                while i < len(batch):
                    chunk = batch[i : i + self.batch_size]
                    for key, group in groupby(chunk, key=self._key):
                        items = list(group)
                        try:
                            self._send_fn(key, items)
                        except TRANSIENT:
                            raise
                        except Exception as exc:  # refused: sending it again will not help
                            msg = "%s: dropped %d items (%s): %s"
                            log.error(msg, self.name, len(items), key, exc)
                            self._errors.append(exc)
                        i += len(items)
            except BaseException:
                with self._buf_lock:
                    self._buf[:0] = batch[i:]
                raise

    def flush(self, timeout_s: float = 120.0) -> None:
        """Send everything added so far; raise the first error met since the last flush."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._drain()
                break
            except TRANSIENT:
                if time.monotonic() > deadline:
                    raise
                time.sleep(min(2.0, max(0.05, deadline - time.monotonic())))
        if self._errors:
            first, self._errors = self._errors[0], []
            raise first

    def close(self, timeout_s: float = 120.0) -> None:
        try:
            self.flush(timeout_s)
        finally:
            self._closed = True
            self._wake.set()
