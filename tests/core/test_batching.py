"""The background batcher: order, batching, retries, bounds, and errors that reach the caller."""

from __future__ import annotations

import threading
import time

import pytest

from shipyard.core.errors import NotFound, RemoteError
from shipyard.tracking.run import Point, metric_logger


class Recorder:
    def __init__(self, fail_times: int = 0, refuse_run: str | None = None) -> None:
        self.batches: list[tuple[str, list[Point]]] = []
        self.fail_times = fail_times
        self.refuse_run = refuse_run
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, run_id: str, points: list[Point]) -> None:
        with self.lock:
            self.calls += 1
            if self.fail_times > 0:
                self.fail_times -= 1
                raise RemoteError("server restarting")
            if run_id == self.refuse_run:
                raise NotFound("no such run")
            self.batches.append((run_id, points))

    def points(self) -> list[Point]:
        return [p for _, batch in self.batches for p in batch]


def _pt(i: int, run: str = "r1") -> Point:
    return (run, "m", float(i), i, 1000 + i)


def test_batches_respect_size_and_order() -> None:
    rec = Recorder()
    logger = metric_logger(rec, batch_size=100, interval_s=60)
    for i in range(1050):
        logger.add(_pt(i))
    logger.flush()
    assert [p[3] for p in rec.points()] == list(range(1050))
    assert max(len(b) for _, b in rec.batches) <= 100
    logger.close()


def test_background_thread_sends_without_flush() -> None:
    rec = Recorder()
    logger = metric_logger(rec, batch_size=10_000, interval_s=0.02)
    logger.add_many([_pt(i) for i in range(5)])
    deadline = time.monotonic() + 10
    while len(rec.points()) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(rec.points()) == 5 and logger.pending == 0
    logger.close()


def test_transient_failures_are_retried_in_order() -> None:
    rec = Recorder(fail_times=3)
    logger = metric_logger(rec, batch_size=50, interval_s=60)
    logger.add_many([_pt(i) for i in range(120)])
    logger.flush(timeout_s=30)
    assert [p[3] for p in rec.points()] == list(range(120))
    logger.close()


def test_refused_points_surface_at_flush_and_others_are_kept() -> None:
    rec = Recorder(refuse_run="gone")
    logger = metric_logger(rec, batch_size=1000, interval_s=60)
    logger.add_many([_pt(0), _pt(1, "gone"), _pt(2)])
    with pytest.raises(NotFound):
        logger.flush()
    assert [p[3] for p in rec.points()] == [0, 2]
    logger.flush()  # the error was reported once
    logger.close()


def test_flush_gives_up_after_its_deadline() -> None:
    rec = Recorder(fail_times=10**9)
    logger = metric_logger(rec, batch_size=10, interval_s=60)
    logger.add(_pt(0))
    with pytest.raises(RemoteError):
        logger.flush(timeout_s=0.2)
    assert logger.pending == 1  # nothing is dropped while the server is unreachable


def test_a_bounded_buffer_drops_the_oldest_instead_of_blocking() -> None:
    from shipyard.core.batching import Batcher

    sent: list[int] = []
    b: Batcher[int] = Batcher(
        lambda _k, items: sent.extend(items), batch_size=1000, interval_s=60, max_pending=100
    )
    b.add_many(list(range(250)))
    assert b.dropped == 150
    b.flush()
    assert sent == list(range(150, 250))
    b.close()
