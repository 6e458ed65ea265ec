from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core import errors
from shipyard.core.ids import new_id, now_ms
from shipyard.core.settings import Settings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "h"))
    s = Settings.load()
    assert s.home == tmp_path / "h"
    assert s.database_url == f"sqlite:///{tmp_path / 'h' / 'shipyard.db'}"
    assert s.artifacts_location == str(tmp_path / "h" / "artifacts")
    assert not s.remote
    monkeypatch.setenv("SHIPYARD_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("SHIPYARD_ARTIFACTS", "/data/blobs")
    monkeypatch.setenv("SHIPYARD_URL", "http://shipyard:5757")
    monkeypatch.setenv("SHIPYARD_API_KEY", "shy_x_y")
    monkeypatch.setenv("SHIPYARD_PORT", "6000")
    s = Settings.load()
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert s.artifacts_location == "/data/blobs"
    assert s.remote and s.client.api_key == "shy_x_y" and s.server.port == 6000
    with pytest.raises(TypeError):
        Settings.load(no_such_setting=1)


def test_ids_sort_by_creation_and_are_unique() -> None:
    ids = [new_id() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == 5000
    assert all(len(i) == 32 for i in ids)
    assert abs(now_ms() - int(ids[-1][:12], 16)) < 60_000


def test_errors_round_trip_through_json_bodies() -> None:
    for cls in (
        errors.NotFound,
        errors.Conflict,
        errors.ApprovalRequired,
        errors.ValidationFailed,
        errors.Unauthenticated,
        errors.PayloadTooLarge,
    ):
        exc = cls("boom", key="v")
        back = errors.error_from_body(exc.status, exc.to_body())
        assert type(back) is cls and back.message == "boom" and back.details == {"key": "v"}
    assert isinstance(
        errors.error_from_body(404, {"error": {"type": "Weird", "message": "m"}}), errors.NotFound
    )
    assert isinstance(errors.error_from_body(502, "<html>bad gateway</html>"), errors.RemoteError)
    assert errors.ApprovalRequired.status == 403 and errors.MigrationError.status == 503
