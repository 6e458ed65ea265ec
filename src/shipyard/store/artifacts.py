"""Content-addressed artifact storage.

Blobs are stored once under their sha256 digest; runs and registry versions
refer to digests. Backends are plug-ins chosen by the location's scheme.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from shipyard.core.errors import InvalidInput, NotFound

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def check_digest(digest: str) -> str:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput(f"not a sha256 hex digest: {digest[:80]!r}")
    return digest


class ArtifactStore(ABC):
    """Stores immutable blobs by digest."""

    @abstractmethod
    def put_stream(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store the bytes, return (sha256 digest, size)."""

    @abstractmethod
    def open(self, digest: str) -> BinaryIO:
        """Open a stored blob for reading; NotFound if absent."""

    @abstractmethod
    def exists(self, digest: str) -> bool: ...

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.put_stream([data])

    def put_file(self, path: Path) -> tuple[str, int]:
        with path.open("rb") as f:
            return self.put_stream(iter(lambda: f.read(CHUNK), b""))


class LocalArtifactStore(ArtifactStore):
    """Blobs under ``ROOT/sha256/ab/<digest>``; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> Path:
        check_digest(digest)
        return self.root / "sha256" / digest[:2] / digest

    def put_stream(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        h = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            digest = h.hexdigest()
            final = self._path(digest)
            if final.exists():
                os.unlink(tmp_name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, final)
            return digest, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def open(self, digest: str) -> BinaryIO:
        path = self._path(digest)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise NotFound(f"artifact {digest} is not in the store") from None

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()


_BACKENDS: dict[str, Callable[[str], ArtifactStore]] = {
    "file": lambda loc: LocalArtifactStore(Path(loc.removeprefix("file://")).expanduser()),
}


def register_backend(scheme: str, factory: Callable[[str], ArtifactStore]) -> None:
    _BACKENDS[scheme] = factory


def open_artifact_store(location: str) -> ArtifactStore:
    scheme = location.split("://", 1)[0] if "://" in location else "file"
    factory = _BACKENDS.get(scheme)
    if factory is None:
        raise InvalidInput(f"no artifact store for scheme {scheme!r} (known: {sorted(_BACKENDS)})")
    return factory(location)
