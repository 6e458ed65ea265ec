"""OTLP bodies → row batches, in the server process or in a decode worker process.

Decoding is the CPU-heavy part of ingest (protobuf, attribute mapping, JSON); the server hands
it to worker processes so that it runs beside the database writes instead of taking turns with
them. Everything a worker needs arrives as arguments (no database access there).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from shipyard.core.errors import InvalidInput
from shipyard.tracing.mapping import Limits
from shipyard.tracing.otlp import decode_json, decode_protobuf
from shipyard.tracing.privacy import OPEN, Policy, ProjectSettings, Redactor, policy_for
from shipyard.tracing.records import RowBatch, SpanRecord, to_rows

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf", "application/octet-stream")


def decode_otlp(
    body: bytes,
    content_type: str,
    *,
    limits: Limits,
    policy_of: Callable[[str], Policy],
    project: str | None = None,
) -> list[SpanRecord]:
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in PROTOBUF_TYPES:
        return decode_protobuf(body, limits=limits, policy_for=policy_of, project=project)
    if ctype == "application/json":
        return decode_json(body, limits=limits, policy_for=policy_of, project=project)
    raise InvalidInput(
        f"unsupported content type {content_type!r}: send application/x-protobuf or "
        "application/json"
    )


def policies(
    settings: dict[str, ProjectSettings], hash_key: bytes, redactor: Redactor
) -> Callable[[str], Policy]:
    """A project → policy lookup over a snapshot of the projects' settings."""
    cache: dict[str, Policy] = {}
    default = ProjectSettings()

    def lookup(project: str) -> Policy:
        policy = cache.get(project)
        if policy is None:
            s = settings.get(project)
            policy = policy_for(s, hash_key, redactor) if s and s != default else OPEN
            cache[project] = policy
        return policy

    return lookup


def decode_rows(
    body: bytes,
    content_type: str,
    project: str | None,
    limits: Limits,
    settings: dict[str, ProjectSettings],
    hash_key: bytes,
    redactor: Redactor,
) -> RowBatch:
    """The decode worker's job: one OTLP body to a batch of rows ready to store."""
    lookup = policies(settings, hash_key, redactor)
    return to_rows(
        decode_otlp(body, content_type, limits=limits, policy_of=lookup, project=project)
    )


def warm_up() -> bool:
    """Run once in a fresh worker so its imports are done before the first real request."""
    return True


def watch_parent(parent_pid: int, interval_s: float = 1.0) -> None:
    """Worker initializer: exit as soon as the server that started this worker is gone
    (even when it was killed and could not shut its workers down)."""

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
