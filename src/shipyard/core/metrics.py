"""A small Prometheus registry: counters and histograms with bounded label cardinality.

Each label keeps at most ``max_values`` distinct values; later values are counted under
``other``, so a flood of user-supplied names can never blow up a scrape.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
OTHER = "other"


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class _Metric:
    kind = ""

    def __init__(self, name: str, help_: str, labels: Sequence[str], max_values: int) -> None:
        self.name, self.help, self.labels = name, help_, tuple(labels)
        self.max_values = max_values
        self._seen: list[set[str]] = [set() for _ in self.labels]
        self._lock = threading.Lock()

    def _key(self, values: Sequence[str | None]) -> tuple[str, ...]:
        out = []
        for seen, v in zip(self._seen, values, strict=True):
            text = "" if v is None else str(v)
            if text not in seen:
                if len(seen) >= self.max_values:
                    text = OTHER
                else:
                    seen.add(text)
            out.append(text)
        return tuple(out)

    def _labels(self, key: tuple[str, ...], extra: str = "") -> str:
        parts = [f'{n}="{_escape(v)}"' for n, v in zip(self.labels, key, strict=True)]
        if extra:
            parts.append(extra)
        return "{" + ",".join(parts) + "}" if parts else ""

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"


class Counter(_Metric):
    kind = "counter"

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1.0, *labels: str | None) -> None:
        with self._lock:
            key = self._key(labels)
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, *labels: str) -> float:
        with self._lock:
            return self._values.get(tuple(labels), 0.0)

    def render(self) -> Iterable[str]:
        yield from super().render()
        with self._lock:
            items = sorted(self._values.items())
        for key, v in items:
            yield f"{self.name}{self._labels(key)} {v:g}"


class Histogram(_Metric):
    kind = "histogram"

    def __init__(
        self, *args: object, buckets: Sequence[float] = DEFAULT_BUCKETS, **kw: object
    ) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.buckets = tuple(sorted(buckets))
        self._data: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}

    def observe(self, value: float, *labels: str | None) -> None:
        i = bisect.bisect_left(self.buckets, value)
        with self._lock:
            key = self._key(labels)
            counts, totals = self._data.setdefault(key, ([0] * (len(self.buckets) + 1), [0.0]))
            counts[i] += 1
            totals[0] += value

    def render(self) -> Iterable[str]:
        yield from super().render()
        with self._lock:
            items = sorted((k, (list(c), t[0])) for k, (c, t) in self._data.items())
        for key, (counts, total) in items:
            running = 0
            for bound, n in zip(self.buckets, counts, strict=False):
                running += n
                le = 'le="' + format(bound, "g") + '"'
                yield f"{self.name}_bucket{self._labels(key, le)} {running}"
            running += counts[-1]
            inf = 'le="+Inf"'
            yield f"{self.name}_bucket{self._labels(key, inf)} {running}"
            yield f"{self.name}_sum{self._labels(key)} {total:g}"
            yield f"{self.name}_count{self._labels(key)} {running}"


class Registry:
    def __init__(self, max_label_values: int = 100) -> None:
        self.max_label_values = max_label_values
        self._metrics: list[_Metric] = []

    def counter(self, name: str, help_: str, labels: Sequence[str] = ()) -> Counter:
        m = Counter(name, help_, labels, self.max_label_values)
        self._metrics.append(m)
        return m

    def histogram(
        self,
        name: str,
        help_: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> Histogram:
        m = Histogram(name, help_, labels, self.max_label_values, buckets=buckets)
        self._metrics.append(m)
        return m

    def render(self) -> str:
        lines: list[str] = []
        for m in self._metrics:
            lines.extend(m.render())
        return "\n".join(lines) + "\n"
