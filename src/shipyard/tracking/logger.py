"""Background metric logging: a training loop appends to memory and never waits on I/O.

Points are sent in batches by one daemon thread, in the order they were logged.
``flush()`` sends everything logged so far from the calling thread and raises the
first error a batch met; the owner flushes at run end and at interpreter exit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from itertools import groupby

from shipyard.core.errors import RemoteError, StoreError

log = logging.getLogger("shipyard.tracking")

Point = tuple[str, str, float | None, int, int]  # run_id, key, value, step, timestamp ms
Sender = Callable[[str, list[Point]], None]

TRANSIENT = (RemoteError, StoreError)


class MetricLogger:
    def __init__(self, send: Sender, *, batch_size: int = 5000, interval_s: float = 0.5) -> None:
        self._send_fn = send
        self.batch_size = max(1, batch_size)
        self.interval_s = interval_s
        self._buf: list[Point] = []
        self._buf_lock = threading.Lock()
        self._send_lock = threading.Lock()  # one sender at a time keeps points in order
        self._wake = threading.Event()
        self._closed = False
        self._errors: list[Exception] = []
        self._thread: threading.Thread | None = None
        self._failures = 0

    def log(self, point: Point) -> None:
        with self._buf_lock:
            self._buf.append(point)
            n = len(self._buf)
        if self._thread is None:
            self._start()
        if n >= self.batch_size:
            self._wake.set()

    def log_many(self, points: list[Point]) -> None:
        with self._buf_lock:
            self._buf.extend(points)
            n = len(self._buf)
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
                log.warning("metric upload failed, will retry: %s", exc)
            except Exception:  # pragma: no cover - kept so the thread never dies
                log.exception("metric upload failed")

    def _drain(self) -> None:
        """Send what is buffered. Transient failures put the unsent points back in front."""
        with self._send_lock:
            with self._buf_lock:
                batch, self._buf = self._buf, []
            i = 0
            try:
                while i < len(batch):
                    chunk = batch[i : i + self.batch_size]
                    for run_id, group in groupby(chunk, key=lambda p: p[0]):
                        points = list(group)
                        try:
                            self._send_fn(run_id, points)
                        except TRANSIENT:
                            raise
                        except Exception as exc:  # refused: sending it again will not help
                            msg = "dropped %d metric points of run %s: %s"
                            log.error(msg, len(points), run_id, exc)
                            self._errors.append(exc)
                        i += len(points)
            except BaseException:
                with self._buf_lock:
                    self._buf[:0] = batch[i:]
                raise

    def flush(self, timeout_s: float = 120.0) -> None:
        """Send everything logged so far; raise the first error met since the last flush."""
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
