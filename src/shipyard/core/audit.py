"""The append-only audit log: who changed what, when, and what it was before and after.

Services call ``record()`` inside the same transaction as the write it describes,
so an audit event exists exactly when the write was committed. Nothing updates
or deletes audit rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shipyard.core.identity import Actor, AuditEvent, AuditPage, AuditQuery
from shipyard.core.ids import new_id, now_ms
from shipyard.store.base import Base


class AuditRow(Base):
    __tablename__ = "audit_events"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    time_ms: Mapped[int]
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    tenant: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(500))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]

    __table_args__ = (
        Index(None, "target_type", "target"),
        Index(None, "actor"),
        Index(None, "time_ms"),
    )


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditRow(
            id=new_id(),
            time_ms=now_ms(),
            actor=actor.name,
            role=actor.role.value,
            tenant=actor.tenant,
            action=action,
            target_type=target_type,
            target=target,
            before=before,
            after=after,
        )
    )


def query(session: Session, q: AuditQuery) -> AuditPage:
    """Newest first; ``q.cursor`` is the id of the last event of the previous page."""
    stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(q.limit + 1)
    if q.actor:
        stmt = stmt.where(AuditRow.actor == q.actor)
    if q.action:
        stmt = stmt.where(AuditRow.action.like(q.action.replace("*", "%")))
    if q.target_type:
        stmt = stmt.where(AuditRow.target_type == q.target_type)
    if q.target:
        stmt = stmt.where(AuditRow.target == q.target)
    if q.since_ms is not None:
        stmt = stmt.where(AuditRow.time_ms >= q.since_ms)
    if q.until_ms is not None:
        stmt = stmt.where(AuditRow.time_ms < q.until_ms)
    if q.cursor:
        stmt = stmt.where(AuditRow.id < q.cursor)
    rows = list(session.scalars(stmt))
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    events = [AuditEvent.model_validate(r, from_attributes=True) for r in rows]
    return AuditPage(events=events, next_cursor=rows[-1].id if more and rows else None)
