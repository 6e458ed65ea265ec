"""Which target a call goes to, in what order the others are tried, and when to back off.

Targets are ordered by the route's strategy; fallbacks follow in their listed order; a target
cooling down after repeated failures goes last (tried only when nothing else worked). Health
(latency, failures, cool-downs) is measured by this process from its own calls."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from shipyard.gateway.pricing import PriceTable
from shipyard.gateway.providers.base import Failure
from shipyard.gateway.routes import RouteConfig, Target

EWMA = 0.2  # weight of the newest latency sample


@dataclass(slots=True)
class _State:
    latency_ms: float | None = None
    fails: int = 0
    cooling_until: float = 0.0


class Health:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, _State] = {}

    def _get(self, key: str) -> _State:
        st = self._state.get(key)
        if st is None:
            st = self._state[key] = _State()
        return st

    def succeeded(self, key: str, latency_ms: float) -> None:
        with self._lock:
            st = self._get(key)
            st.fails = 0
            st.cooling_until = 0.0
            prev = st.latency_ms
            st.latency_ms = latency_ms if prev is None else prev + EWMA * (latency_ms - prev)

    def failed(self, key: str, route: RouteConfig, now: float | None = None) -> bool:
        """Count a failure; True when the target now starts a cool-down."""
        now = time.monotonic() if now is None else now
        with self._lock:
            st = self._get(key)
            st.fails += 1
            if st.fails >= route.cooldown_after and route.cooldown_s > 0:
                st.cooling_until = now + route.cooldown_s
                st.fails = 0
                return True
            return False

    def cooling(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        st = self._state.get(key)
        return st is not None and st.cooling_until > now

    def latency(self, key: str) -> float | None:
        st = self._state.get(key)
        return None if st is None else st.latency_ms

    def view(self) -> dict[str, dict[str, float | int | None]]:
        now = time.monotonic()
        with self._lock:
            return {
                k: {
                    "latency_ms": s.latency_ms,
                    "consecutive_failures": s.fails,
                    "cooling_for_s": max(0.0, s.cooling_until - now) or None,
                }
                for k, s in self._state.items()
            }


def _weighted_order(targets: list[Target], rng: random.Random) -> list[Target]:
    """A weighted random order without replacement (weight 0 goes last, in listed order)."""
    live = [t for t in targets if t.weight > 0]
    out: list[Target] = []
    while live:
        pick = rng.choices(live, weights=[t.weight for t in live])[0]
        out.append(pick)
        live.remove(pick)
    return out + [t for t in targets if t.weight <= 0]


def order(
    route: RouteConfig, health: Health, prices: PriceTable, rng: random.Random
) -> list[Target]:
    targets = list(route.targets)
    if route.strategy == "weighted":
        primary = _weighted_order(targets, rng)
    elif route.strategy == "latency":
        # unmeasured targets first, so every target gets measured
        primary = sorted(targets, key=lambda t: health.latency(t.key) or -1.0)
    elif route.strategy == "cost":

        def blended(t: Target) -> float:
            price = t.price or prices.lookup(t.model)
            return price.blended() if price else float("inf")

        primary = sorted(targets, key=blended)
    else:
        primary = targets
    planned = primary + list(route.fallbacks)
    now = time.monotonic()
    ready = [t for t in planned if not health.cooling(t.key, now)]
    cooling = [t for t in planned if health.cooling(t.key, now)]
    return ready + cooling


def backoff_s(route: RouteConfig, attempt: int, failure: Failure, rng: random.Random) -> float:
    """Exponential backoff with jitter; an upstream's Retry-After wins when it is longer
    (capped at backoff_max_s)."""
    base = min(route.backoff_max_s, route.backoff_s * (2**attempt))
    wait = base * (0.5 + rng.random() / 2)
    if failure.retry_after_s is not None:
        wait = max(wait, failure.retry_after_s)
    return min(wait, route.backoff_max_s)
