"""A project that asks for it never has raw PII or secrets written to the database: every
entity the guardrail checks find is redacted before spans are stored (SQLite and PostgreSQL).
The rows themselves are scanned."""

from __future__ import annotations

from sqlalchemy import inspect, text

from shipyard.core.identity import Actor, Role
from shipyard.core.ids import now_ms
from shipyard.platform import Platform
from shipyard.tracing.privacy import ProjectSettings
from shipyard.tracing.schemas import SpanIn

VALUES = {
    "EMAIL_ADDRESS": "kenji.watanabe@example.co.jp",
    "PHONE_NUMBER": "+44 20 7946 0321",
    "US_SSN": "536-22-1234",
    "IBAN_CODE": "GB82 WEST 1234 5698 7654 32",
    "CREDIT_CARD": "4539 1488 0343 6467",
    "IP_ADDRESS": "203.0.113.77",
    "GITHUB_TOKEN": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "PERSON": "Priya Raman",
}


def _rows(platform: Platform) -> str:
    out = []
    with platform.db.read() as s:
        for table in inspect(platform.db.read_engine).get_table_names():
            out.extend(str(tuple(r)) for r in s.execute(text(f'SELECT * FROM "{table}"')))
    return "\n".join(out)


def test_no_raw_pii_reaches_the_rows_of_a_redacting_project(platform: Platform) -> None:
    svc = platform.tracing
    svc.set_project_settings(Actor("root", Role.admin), "clinic", ProjectSettings(redact_pii=True))
    message = ("I spoke with Priya Raman; reach her at kenji.watanabe@example.co.jp or "
               "+44 20 7946 0321. SSN 536-22-1234, IBAN GB82 WEST 1234 5698 7654 32, card "
               "4539 1488 0343 6467, from 203.0.113.77, token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")  # fmt: skip
    for project, trace in (("clinic", "c" * 32), ("public", "d" * 32)):
        svc.ingest(svc.decode_native([SpanIn.model_validate({
            "trace_id": trace, "span_id": "1" * 16, "project": project, "name": "answer",
            "kind": "llm", "start_time_ms": now_ms(), "input": message, "output": message,
            "attributes": {"gen_ai.input.messages": message, "note": message},
        })]))  # fmt: skip
    stored = _rows(platform)
    clinic = [line for line in stored.splitlines() if "c" * 32 in line]
    assert clinic
    for kind, value in VALUES.items():
        assert not any(value in line for line in clinic), kind
    span = svc.get_trace("c" * 32).spans[0]
    for kind in VALUES:
        assert f"<{kind}>" in (span.input or ""), kind
    assert "<EMAIL_ADDRESS>" in span.attributes["note"]
    public = svc.get_trace("d" * 32).spans[0]
    assert public.input == message  # a project without the setting keeps what it was sent
