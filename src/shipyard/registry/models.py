"""Registry tables. Only ``registry.service`` writes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.base import Base


class EntryRow(Base):
    __tablename__ = "registry_entries"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]]
    protected: Mapped[bool]
    protected_aliases: Mapped[list[Any]]
    created_at: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[int]

    __table_args__ = (Index(None, "kind", "name"),)


class VersionRow(Base):
    __tablename__ = "registry_versions"
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("registry_entries.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    payload: Mapped[dict[str, Any]]
    artifact_digest: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_run_id: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]]
    created_at: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[int | None]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approval_comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index(None, "source_run_id"),)


class AliasRow(Base):
    __tablename__ = "registry_aliases"
    entry_id: Mapped[str] = mapped_column(
        ForeignKey("registry_entries.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int]
    updated_at: Mapped[int]
    updated_by: Mapped[str] = mapped_column(String(200))


class AliasEventRow(Base):
    """Every alias move, in commit order (``seq``): set, rollback or delete."""

    __tablename__ = "registry_alias_events"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(32), unique=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("registry_entries.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    from_version: Mapped[int | None]
    to_version: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    time_ms: Mapped[int]

    __table_args__ = (Index(None, "entry_id", "alias", "seq"),)
