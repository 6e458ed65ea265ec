"""Sortable ids (UUIDv7 as 32 hex characters) and UTC time in integer milliseconds."""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last = [0, 0]  # last ms, counter within that ms


def now_ms() -> int:
    """Current UTC time as integer milliseconds since the epoch (the one time format)."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A UUIDv7 (time-ordered) as 32 lowercase hex characters.

    Ids made in one process are strictly increasing, even within one millisecond.
    """
    with _lock:
        ms = now_ms()
        if ms <= _last[0]:
            ms = _last[0]
            _last[1] += 1
            if _last[1] >= 0xFFF:
                ms += 1
                _last[1] = 0
        else:
            _last[1] = 0
        _last[0] = ms
        counter = _last[1]
    rand = int.from_bytes(os.urandom(8), "big") & 0x3FFFFFFFFFFFFFFF
    value = (ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | counter << 64 | 0x2 << 62 | rand
    return f"{value:032x}"
