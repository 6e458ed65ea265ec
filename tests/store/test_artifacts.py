from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shipyard.core.errors import InvalidInput, NotFound
from shipyard.store.artifacts import LocalArtifactStore, open_artifact_store


def test_content_addressed_and_deduplicated(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "a")
    data = b"model bytes" * 1000
    digest, size = store.put_bytes(data)
    assert digest == hashlib.sha256(data).hexdigest() and size == len(data)
    again, _ = store.put_stream([data[:5], data[5:]])
    assert again == digest
    assert len(list((tmp_path / "a" / "sha256").rglob("*"))) == 2  # one folder, one blob
    with store.open(digest) as f:
        assert f.read() == data
    assert not list((tmp_path / "a" / "tmp").iterdir())  # no temp files left behind


def test_missing_and_malformed_digests(tmp_path: Path) -> None:
    store = open_artifact_store(str(tmp_path / "b"))
    with pytest.raises(NotFound):
        store.open("0" * 64)
    with pytest.raises(InvalidInput):
        store.open("../../etc/passwd")
    with pytest.raises(InvalidInput):
        open_artifact_store("ftp://somewhere")


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "c")

    def broken():  # type: ignore[no-untyped-def]
        yield b"partial"
        raise OSError("disk gone")

    with pytest.raises(OSError):
        store.put_stream(broken())
    assert not list((tmp_path / "c" / "tmp").iterdir())
    assert not (tmp_path / "c" / "sha256").exists()
