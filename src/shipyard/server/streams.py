"""Artifact bytes between HTTP bodies and the artifact store, never all in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from shipyard.platform import Platform
from shipyard.store.artifacts import CHUNK

SPOOL_BYTES = 8 * 1024 * 1024


async def upload_to_store(request: Request, p: Platform) -> tuple[str, int]:
    """Store the request body as a blob; returns (digest, size)."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        async for chunk in request.stream():
            if chunk:
                spool.write(chunk)
        spool.seek(0)
        return await run_in_threadpool(p.artifacts.put_stream, iter(lambda: spool.read(CHUNK), b""))


def stream_blob(p: Platform, digest: str, *, filename: str | None = None) -> StreamingResponse:
    handle = p.artifacts.open(digest)  # NotFound before any byte is sent

    def chunks() -> Iterator[bytes]:
        with handle:
            yield from iter(lambda: handle.read(CHUNK), b"")

    headers = {"ETag": f'"{digest}"'}
    if filename:
        headers["Content-Disposition"] = content_disposition(filename)
    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)


def content_disposition(filename: str) -> str:
    """An attachment header any filename survives (RFC 6266 / 5987)."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
