"""``ActiveRun``: the handle a training script logs through."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from shipyard.core.batching import Batcher
from shipyard.core.errors import InvalidInput
from shipyard.core.ids import now_ms
from shipyard.tracking.api import TrackingAPI
from shipyard.tracking.datasets import describe
from shipyard.tracking.schemas import (
    MAX_INT,
    ArtifactInfo,
    Run,
    RunStatus,
    UpdateRun,
    check_key,
)

Point = tuple[str, str, float | None, int, int]  # run_id, key, value, step, timestamp ms
MetricLogger = Batcher[Point]


def metric_logger(
    send: Callable[[str, list[Point]], None], *, batch_size: int, interval_s: float
) -> MetricLogger:
    """Metric points batched in the background, sent per run."""
    return Batcher(
        send,
        key=lambda p: p[0],
        batch_size=batch_size,
        interval_s=interval_s,
        name="shipyard-metrics",
    )


def _point(run_id: str, key: str, value: Any, step: int, timestamp: int) -> Point:
    """A validated point: the server would refuse what fails here, so it fails at the call."""
    check_key("metric", key)
    if not -MAX_INT <= step <= MAX_INT:
        raise InvalidInput(f"metric {key!r}: step {step} is out of range")
    if not 0 <= timestamp <= MAX_INT:
        raise InvalidInput(f"metric {key!r}: timestamp {timestamp} is out of range")
    return (run_id, key, _metric_value(key, value), step, timestamp)


def _metric_value(key: str, value: Any) -> float | None:
    if isinstance(value, bool):
        value = float(value)
    try:
        number = float(value)
    except OverflowError:
        return None
    except (TypeError, ValueError):
        raise InvalidInput(f"metric {key!r} must be a number, got {type(value).__name__}") from None
    return number if math.isfinite(number) else None


class ActiveRun:
    """A run being logged to. As a context manager it ends the run: FINISHED, or FAILED
    when the block raised (KILLED on KeyboardInterrupt). Metrics are sent in the background."""

    def __init__(
        self,
        api: TrackingAPI,
        logger: MetricLogger,
        run: Run,
        *,
        on_end: Any = None,
    ) -> None:
        self._api = api
        self._logger = logger
        self._run = run
        self._on_end = on_end
        self._steps: dict[str, int] = {}
        self.ended = False

    @property
    def id(self) -> str:
        return self._run.id

    @property
    def name(self) -> str:
        return self._run.name

    @property
    def info(self) -> Run:
        """The run as stored now (metrics logged so far are flushed first)."""
        self.flush()
        self._run = self._api.get_run(self.id)
        return self._run

    # -- logging -----------------------------------------------------------------------------

    def log_param(self, key: str, value: Any) -> None:
        self._api.log_params(self.id, {key: value})

    def log_params(self, params: dict[str, Any]) -> None:
        if params:
            self._api.log_params(self.id, dict(params))

    def set_tag(self, key: str, value: Any) -> None:
        self._api.set_tags(self.id, {key: str(value)})

    def set_tags(self, tags: dict[str, Any]) -> None:
        if tags:
            self._api.set_tags(self.id, {k: str(v) for k, v in tags.items()})

    def log_metric(
        self, key: str, value: Any, step: int | None = None, timestamp: int | None = None
    ) -> None:
        self.log_metrics({key: value}, step=step, timestamp=timestamp)

    def log_metrics(
        self, metrics: dict[str, Any], step: int | None = None, timestamp: int | None = None
    ) -> None:
        ts = timestamp if timestamp is not None else now_ms()
        rows = []
        for key, value in metrics.items():
            s = int(step) if step is not None else self._steps.get(key, -1) + 1
            rows.append(_point(self.id, key, value, s, int(ts)))
        for row in rows:  # only once every point is valid
            self._steps[row[1]] = max(row[3], self._steps.get(row[1], row[3]))
        self._logger.add_many(rows)

    def log_artifact(
        self, path: str | Path, artifact_path: str | None = None
    ) -> list[ArtifactInfo]:
        """Upload a file, or every file under a folder, keeping relative paths."""
        source = Path(path)
        if source.is_dir():
            base = artifact_path or source.name
            return [
                self._api.log_artifact(self.id, f, f"{base}/{f.relative_to(source).as_posix()}")
                for f in sorted(source.rglob("*"))
                if f.is_file()
            ]
        if not source.is_file():
            raise InvalidInput(f"no file or folder at {source}")
        return [self._api.log_artifact(self.id, source, artifact_path or source.name)]

    def log_input(self, data: Any, name: str | None = None, context: str = "") -> None:
        self._api.log_input(self.id, describe(data, name=name, context=context))

    def flush(self) -> None:
        self._logger.flush()

    # -- ending ------------------------------------------------------------------------------

    def end(self, status: RunStatus | str = RunStatus.finished) -> None:
        if self.ended:
            return
        try:
            self.flush()
        finally:
            self.ended = True
            self._run = self._api.update_run(self.id, UpdateRun(status=RunStatus(status)))
            if self._on_end is not None:
                self._on_end(self)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.finished
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.killed
        else:
            status = RunStatus.failed
        self.end(status)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.name} id={self.id}>"
