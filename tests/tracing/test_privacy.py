"""Privacy settings keep PII and content out of the database; retention deletes old traces."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from shipyard import PermissionDenied
from shipyard.core.identity import Actor, Role
from shipyard.core.ids import now_ms
from shipyard.platform import Platform
from shipyard.tracing.privacy import ProjectSettings, default_redactor, luhn_ok
from shipyard.tracing.schemas import ScoreIn, SpanIn, TraceQuery

ADMIN = Actor("ops", Role.admin)
EMAIL, CARD = "jane.doe+test@example.co.uk", "4111 1111 1111 1111"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"mail {EMAIL} now", "mail [EMAIL] now"),
        (f"card {CARD}.", "card [CARD]."),
        ("card 4111-1111-1111-1111", "card [CARD]"),
        ("not a card 4111 1111 1111 1112", "not a card 4111 1111 1111 1112"),
        ("order 1234567890123 shipped", "order 1234567890123 shipped"),
        ("no pii here @ all", "no pii here @ all"),
    ],
)
def test_default_redactor(text: str, expected: str) -> None:
    assert default_redactor(text) == expected


def test_luhn() -> None:
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")


def _span(trace: str, project: str, *, start: float | None = None) -> SpanIn:
    return SpanIn.model_validate(
        {
            "trace_id": trace,
            "span_id": "1" * 16,
            "project": project,
            "name": "chat",
            "kind": "llm",
            "start_time_ms": start if start is not None else now_ms(),
            "input": f"my email is {EMAIL}",
            "output": f"charge {CARD}",
            "user_id": "alice@corp.com",
            "attributes": {"gen_ai.input.messages": f"[{EMAIL}]", "note": f"card {CARD}"},
        }
    )


def _all_text(platform: Platform) -> str:
    """Every stored value of the tracing tables, as text (what an attacker with the file sees)."""
    url = platform.db.url
    if platform.db.is_sqlite:
        conn = sqlite3.connect(url.database or "")
        rows = [r for t in ("spans", "traces") for r in conn.execute(f"SELECT * FROM {t}")]
        conn.close()
    else:
        from sqlalchemy import text

        with platform.db.read() as s:
            rows = [
                tuple(r) for t in ("spans", "traces") for r in s.execute(text(f"SELECT * FROM {t}"))
            ]
    return "\n".join(str(r) for r in rows)


def test_redaction_and_hashing_keep_pii_out_of_the_rows(platform: Platform) -> None:
    svc = platform.tracing
    svc.set_project_settings(ADMIN, "private", ProjectSettings(redact_pii=True, hash_user_ids=True))
    svc.ingest(svc.decode_native([_span("a" * 32, "private")]))
    svc.ingest(svc.decode_native([_span("b" * 32, "open")]))
    stored = _all_text(platform)
    private_rows = [line for line in stored.splitlines() if "a" * 32 in line]
    assert private_rows and not any(
        pii in line for line in private_rows for pii in (EMAIL, CARD, "alice@corp.com")
    )
    assert EMAIL in stored  # the project without settings keeps what it was sent
    detail = svc.get_trace("a" * 32)
    assert detail.spans[0].input == "my email is <EMAIL_ADDRESS>"
    assert detail.spans[0].attributes["note"] == "card <CREDIT_CARD>"
    user = detail.trace.user_id or ""
    assert user.startswith("h:") and user != "alice@corp.com"
    # the same user hashes the same way, so per-user stats still work
    svc.ingest(svc.decode_native([_span("c" * 32, "private")]))
    assert svc.get_trace("c" * 32).trace.user_id == user


def test_projects_can_refuse_inputs_and_outputs(platform: Platform) -> None:
    svc = platform.tracing
    svc.set_project_settings(ADMIN, "no-io", ProjectSettings(store_io=False))
    svc.ingest(svc.decode_native([_span("d" * 32, "no-io")]))
    span = svc.get_trace("d" * 32).spans[0]
    assert span.input is None and span.output is None
    assert "gen_ai.input.messages" not in span.attributes
    assert EMAIL not in _all_text(platform).split("d" * 32, 1)[-1].split("\n")[0]


def test_only_admins_change_settings(platform: Platform) -> None:
    with pytest.raises(PermissionDenied):
        platform.tracing.set_project_settings(Actor("dev", Role.editor), "x", ProjectSettings())


def test_retention_deletes_old_traces_of_that_project(platform: Platform) -> None:
    svc = platform.tracing
    day = 86_400_000
    old, fresh = now_ms() - 10 * day, now_ms()
    svc.ingest(
        svc.decode_native(
            [
                _span("e" * 32, "short", start=old),
                _span("f" * 32, "short", start=fresh),
                _span("9" * 32, "forever", start=old),
            ]
        )
    )
    platform.tracing.add_score(ADMIN, ScoreIn(trace_id="e" * 32, name="x", value=1))
    svc.set_project_settings(ADMIN, "short", ProjectSettings(retention_days=7))
    assert svc.enforce_retention() == 1
    left = {t.trace_id for t in svc.list_traces(TraceQuery(limit=100)).traces}
    assert left == {"f" * 32, "9" * 32}


def test_server_runs_the_retention_job(tmp_path: Path) -> None:
    import httpx

    from tests.conftest import ServerProcess

    server = ServerProcess(tmp_path / "srv")
    server.env["SHIPYARD_RETENTION_INTERVAL_S"] = "0.2"
    server.start()
    try:
        old = now_ms() - 3 * 86_400_000
        body = {
            "spans": [
                {
                    "trace_id": "7" * 32,
                    "span_id": "1" * 16,
                    "name": "x",
                    "start_time_ms": old,
                    "project": "tmp",
                }
            ]
        }
        assert httpx.post(f"{server.url}/api/v1/traces/batch", json=body).status_code == 200
        put = httpx.put(f"{server.url}/api/v1/trace-projects/tmp", json={"retention_days": 1})
        assert put.status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if httpx.get(f"{server.url}/api/v1/traces/{'7' * 32}").status_code == 404:
                break
            time.sleep(0.1)
        assert httpx.get(f"{server.url}/api/v1/traces/{'7' * 32}").status_code == 404
    finally:
        server.stop()
