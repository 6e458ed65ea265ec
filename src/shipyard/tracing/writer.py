"""Group commit: one thread writes every span batch, and batches that arrive together share
one transaction. A caller is answered only after its batch is committed, so an acknowledged
write survives a killed server."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

from shipyard.tracing.records import RowBatch
from shipyard.tracing.store import SpanStore

log = logging.getLogger("shipyard.tracing")


@dataclass
class _Batch:
    rows: RowBatch
    done: Future[int]


class SpanWriter:
    def __init__(self, store: SpanStore, *, max_group_spans: int = 50_000) -> None:
        self.store = store
        self.max_group_spans = max_group_spans
        self._queue: queue.Queue[_Batch | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="shipyard-spans", daemon=True)
        self._thread.start()
        self.groups_written = 0

    def submit(self, rows: RowBatch) -> Future[int]:
        fut: Future[int] = Future()
        if not rows.spans:
            fut.set_result(0)
        else:
            self._queue.put(_Batch(rows, fut))
        return fut

    async def write(self, rows: RowBatch) -> int:
        """Store the spans; returns once they are committed."""
        return await asyncio.wrap_future(self.submit(rows))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            count = len(first.rows)
            stop = False
            while count < self.max_group_spans:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                group.append(nxt)
                count += len(nxt.rows)
            self._write_group(group)
            if stop:
                return

    def _write_group(self, group: list[_Batch]) -> None:
        try:
            self.store.write(RowBatch.merge([b.rows for b in group]))
        except Exception:
            if len(group) == 1:
                self._fail(group[0])
                return
            for batch in group:  # find the batch at fault; the others still land
                try:
                    batch.done.set_result(self.store.write(batch.rows))
                except Exception:
                    self._fail(batch)
            return
        self.groups_written += 1
        for b in group:
            b.done.set_result(len(b.rows))

    @staticmethod
    def _fail(batch: _Batch) -> None:
        import sys

        exc = sys.exc_info()[1] or RuntimeError("span write failed")
        log.warning("a span batch of %d spans was not stored: %s", len(batch.rows), exc)
        batch.done.set_exception(exc)
