"""The registry service: the only writer of the registry tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.errors import ApprovalRequired, Conflict, InvalidInput, NotFound
from shipyard.core.identity import Actor, Role
from shipyard.core.ids import new_id, now_ms
from shipyard.registry.models import AliasEventRow, AliasRow, EntryRow, VersionRow
from shipyard.registry.schemas import (
    DEFAULT_ALIAS,
    LATEST,
    AliasEvent,
    CreateEntry,
    CreateVersion,
    Entry,
    Kind,
    Lineage,
    UpdateEntry,
    Version,
    check_alias,
    check_name,
    content_hash,
    parse_ref,
    with_article,
)
from shipyard.store.artifacts import ArtifactStore, check_digest
from shipyard.store.db import Database, retry_on_conflict
from shipyard.tracking.service import TrackingService


class RegistryService:
    def __init__(self, db: Database, artifacts: ArtifactStore, tracking: TrackingService) -> None:
        self.db = db
        self.artifacts = artifacts
        self.tracking = tracking
        # Bumped after every alias move and new version made through this process: readers
        # that cache alias lookups (index searches) drop them at once instead of at expiry.
        self.alias_changes = 0

    # -- entries -----------------------------------------------------------------------------

    def create_entry(self, actor: Actor, req: CreateEntry) -> Entry:
        actor.require(Role.editor, "creating a registry entry")
        check_name(req.name)
        aliases = [check_alias(a) for a in req.protected_aliases]
        if req.protected:
            actor.require(Role.admin, "creating a protected entry")
        with self.db.write() as s:
            if self._entry_row(s, req.name, missing_ok=True) is not None:
                raise Conflict(f"registry entry {req.name!r} already exists")
            row = self._insert_entry(s, actor, req, aliases)
            return self._entry(s, row)

    def _insert_entry(
        self, s: Session, actor: Actor, req: CreateEntry, aliases: list[str]
    ) -> EntryRow:
        ts = now_ms()
        row = EntryRow(
            id=new_id(),
            name=req.name,
            kind=req.kind.value,
            description=req.description,
            tags=req.tags,
            protected=req.protected,
            protected_aliases=aliases,
            created_at=ts,
            created_by=actor.name,
            updated_at=ts,
        )
        s.add(row)
        s.flush()
        audit.record(s, actor, "registry.create", "registry", req.name, after=req.model_dump())
        return row

    def update_entry(self, actor: Actor, name: str, req: UpdateEntry) -> Entry:
        actor.require(Role.editor, "changing a registry entry")
        if req.protected is not None or req.protected_aliases is not None:
            actor.require(Role.admin, "changing an entry's protection")
        with self.db.write() as s:
            row = self._entry_row(s, name, lock=True)
            before = {
                "description": row.description,
                "tags": row.tags,
                "protected": row.protected,
                "protected_aliases": row.protected_aliases,
            }
            if req.description is not None:
                row.description = req.description
            if req.tags is not None:
                row.tags = req.tags
            if req.protected is not None:
                row.protected = req.protected
            if req.protected_aliases is not None:
                row.protected_aliases = [check_alias(a) for a in req.protected_aliases]
            row.updated_at = now_ms()
            after = req.model_dump(exclude_none=True)
            audit.record(s, actor, "registry.update", "registry", name, before=before, after=after)
            return self._entry(s, row)

    def get_entry(self, name: str) -> Entry:
        with self.db.read() as s:
            return self._entry(s, self._entry_row(s, name))

    def list_entries(self, kind: Kind | None = None, search: str | None = None) -> list[Entry]:
        with self.db.read() as s:
            stmt = select(EntryRow).order_by(EntryRow.name)
            if kind is not None:
                stmt = stmt.where(EntryRow.kind == kind.value)
            if search:
                pattern = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                stmt = stmt.where(EntryRow.name.like(f"%{pattern}%", escape="\\"))
            rows = list(s.scalars(stmt))
            ids = [r.id for r in rows]
            latest = (
                dict(
                    s.execute(
                        select(VersionRow.entry_id, func.max(VersionRow.version))
                        .where(VersionRow.entry_id.in_(ids))
                        .group_by(VersionRow.entry_id)
                    ).all()
                )
                if ids
                else {}
            )
            aliases: dict[str, dict[str, int]] = defaultdict(dict)
            if ids:
                for eid, alias, ver in s.execute(
                    select(AliasRow.entry_id, AliasRow.alias, AliasRow.version).where(
                        AliasRow.entry_id.in_(ids)
                    )
                ):
                    aliases[eid][alias] = ver
            return [self._entry_model(r, latest.get(r.id), aliases[r.id]) for r in rows]

    def _entry_row(
        self, s: Session, name: str, *, missing_ok: bool = False, lock: bool = False
    ) -> EntryRow:
        stmt = select(EntryRow).where(EntryRow.name == name)
        if lock and not self.db.is_sqlite:
            stmt = stmt.with_for_update()
        row = s.scalars(stmt).first()
        if row is None and not missing_ok:
            raise NotFound(f"no registry entry named {name!r}")
        return row  # type: ignore[return-value]

    def _entry(self, s: Session, row: EntryRow) -> Entry:
        latest = s.scalar(select(func.max(VersionRow.version)).where(VersionRow.entry_id == row.id))
        aliases = dict(
            s.execute(
                select(AliasRow.alias, AliasRow.version).where(AliasRow.entry_id == row.id)
            ).all()
        )
        return self._entry_model(row, latest, aliases)

    @staticmethod
    def _entry_model(row: EntryRow, latest: int | None, aliases: dict[str, int]) -> Entry:
        return Entry(
            name=row.name,
            kind=Kind(row.kind),
            description=row.description,
            tags=row.tags,
            protected=row.protected,
            protected_aliases=row.protected_aliases,
            created_at=row.created_at,
            created_by=row.created_by,
            updated_at=row.updated_at,
            latest_version=latest,
            aliases=dict(sorted(aliases.items())),
        )

    # -- versions ----------------------------------------------------------------------------

    def create_version(
        self, actor: Actor, name: str, req: CreateVersion, *, kind: Kind | None = None
    ) -> Version:
        """Add a version; with ``kind`` the entry is created first when it does not exist."""
        actor.require(Role.editor, "registering a version")
        check_name(name)
        if req.artifact_digest is not None:
            check_digest(req.artifact_digest)
            if not self.artifacts.exists(req.artifact_digest):
                raise NotFound(f"artifact {req.artifact_digest} is not in the artifact store")
        if req.source_run_id is not None:
            self.tracking.get_run(req.source_run_id)  # NotFound when it does not exist
        digest = content_hash(req.payload, req.artifact_digest)
        version = retry_on_conflict(lambda: self._add_version(actor, name, req, kind, digest))
        self.alias_changes += 1  # `latest` moved
        return version

    def _add_version(
        self, actor: Actor, name: str, req: CreateVersion, kind: Kind | None, digest: str
    ) -> Version:
        with self.db.write() as s:
            entry = self._entry_row(s, name, missing_ok=True, lock=True)
            if entry is None:
                if kind is None:
                    raise NotFound(f"no registry entry named {name!r} (give a kind to create it)")
                entry = self._insert_entry(
                    s, actor, CreateEntry(name=name, kind=kind), [DEFAULT_ALIAS]
                )
            elif kind is not None and entry.kind != kind.value:
                raise Conflict(
                    f"{name!r} is {with_article(entry.kind)}, not {with_article(kind.value)}"
                )
            latest = s.scalars(
                select(VersionRow)
                .where(VersionRow.entry_id == entry.id)
                .order_by(VersionRow.version.desc())
                .limit(1)
            ).first()
            if req.dedupe and latest is not None and latest.content_hash == digest:
                return self._version(s, entry, latest)
            row = VersionRow(
                entry_id=entry.id,
                version=(latest.version if latest else 0) + 1,
                payload=req.payload,
                artifact_digest=req.artifact_digest,
                content_hash=digest,
                source_run_id=req.source_run_id,
                description=req.description,
                tags=req.tags,
                created_at=now_ms(),
                created_by=actor.name,
                approved_at=None,
                approved_by=None,
                approval_comment=None,
            )
            s.add(row)
            entry.updated_at = row.created_at
            s.flush()
            audit.record(
                s,
                actor,
                "registry.create_version",
                "registry",
                f"{name}/{row.version}",
                after={
                    "content_hash": digest,
                    "artifact_digest": req.artifact_digest,
                    "source_run_id": req.source_run_id,
                },
            )
            return self._version(s, entry, row)

    def _version(self, s: Session, entry: EntryRow, row: VersionRow) -> Version:
        aliases = s.scalars(
            select(AliasRow.alias).where(
                AliasRow.entry_id == entry.id, AliasRow.version == row.version
            )
        ).all()
        return _version_model(entry, row, sorted(aliases))

    def _version_row(self, s: Session, entry: EntryRow, version: int) -> VersionRow:
        row = s.get(VersionRow, (entry.id, version))
        if row is None:
            raise NotFound(f"{entry.name!r} has no version {version}")
        return row

    def list_versions(self, name: str) -> list[Version]:
        with self.db.read() as s:
            entry = self._entry_row(s, name)
            rows = s.scalars(
                select(VersionRow)
                .where(VersionRow.entry_id == entry.id)
                .order_by(VersionRow.version.desc())
            )
            by_version: dict[int, list[str]] = defaultdict(list)
            for alias, ver in s.execute(
                select(AliasRow.alias, AliasRow.version).where(AliasRow.entry_id == entry.id)
            ):
                by_version[ver].append(alias)
            out = []
            for row in rows:
                v = _version_model(entry, row, sorted(by_version[row.version]))
                out.append(v)
            return out

    def get_version(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> Version:
        """One version by number or alias; neither means the ``production`` alias."""
        if version is not None and alias is not None:
            raise InvalidInput("give a version or an alias, not both")
        with self.db.read() as s:
            entry = self._entry_row(s, name)
            number = version if version is not None else self._alias_target(s, entry, alias)
            return self._version(s, entry, self._version_row(s, entry, number))

    def fetch(
        self, name: str, kind: Kind, *, version: int | None = None, alias: str | None = None
    ) -> Version:
        """``get_version`` for an entry of one kind, in two short prepared queries (the path
        every uncached prompt fetch takes); a miss falls back to the slow path for its
        precise error."""
        if version is not None and alias is not None:
            raise InvalidInput("give a version or an alias, not both")
        alias = None if version is not None else (alias or DEFAULT_ALIAS)
        params: dict[str, Any]
        if alias == LATEST:
            stmt, params = _FETCH_LATEST, {"name": name}
        elif alias is not None:
            stmt, params = _FETCH_ALIAS, {"name": name, "alias": alias}
        else:
            stmt, params = _FETCH_VERSION, {"name": name, "version": version}
        with self.db.read_engine.connect() as conn:
            row = conn.execute(stmt, params).first()
            if row is not None:
                aliases = sorted(
                    conn.scalars(_ALIASES_OF, {"entry_id": row.entry_id, "version": row.version})
                )
        if row is None:
            self.get_version(name, version=version, alias=alias)  # raises the precise NotFound
            raise NotFound(f"{name!r} changed while it was read; try again")
        if row.kind != kind.value:
            raise NotFound(f"{name!r} is {with_article(row.kind)}, not {with_article(kind.value)}")
        return Version(
            name=row.name, kind=Kind(row.kind), version=row.version, payload=row.payload,
            artifact_digest=row.artifact_digest, content_hash=row.content_hash,
            source_run_id=row.source_run_id, description=row.description, tags=row.tags,
            created_at=row.created_at, created_by=row.created_by, approved_at=row.approved_at,
            approved_by=row.approved_by, approval_comment=row.approval_comment, aliases=aliases,
        )  # fmt: skip

    def deployed(self, kind: Kind, alias: str = DEFAULT_ALIAS) -> dict[str, tuple[int, Any]]:
        """``name → (version, payload)`` of every entry of ``kind`` behind ``alias``, in one
        query (what a running server reloads every few seconds)."""
        with self.db.read() as s:
            rows = s.execute(
                select(EntryRow.name, VersionRow.version, VersionRow.payload)
                .join(AliasRow, AliasRow.entry_id == EntryRow.id)
                .join(
                    VersionRow,
                    and_(
                        VersionRow.entry_id == AliasRow.entry_id,
                        VersionRow.version == AliasRow.version,
                    ),
                )
                .where(EntryRow.kind == kind.value, AliasRow.alias == alias)
            ).all()
        return {name: (version, payload) for name, version, payload in rows}

    def resolve(self, ref: str) -> Version:
        name, alias, version = parse_ref(ref)
        return self.get_version(name, version=version, alias=alias)

    def _alias_target(self, s: Session, entry: EntryRow, alias: str | None) -> int:
        alias = alias or DEFAULT_ALIAS
        if alias == LATEST:
            latest = s.scalar(
                select(func.max(VersionRow.version)).where(VersionRow.entry_id == entry.id)
            )
            if latest is None:
                raise NotFound(f"{entry.name!r} has no versions yet")
            return int(latest)
        row = s.get(AliasRow, (entry.id, check_alias(alias)))
        if row is None:
            known = sorted(s.scalars(select(AliasRow.alias).where(AliasRow.entry_id == entry.id)))
            hint = f" (its aliases: {', '.join(known)}, and latest)" if known else " (it has none)"
            raise NotFound(f"{entry.name!r} has no alias {alias!r}{hint}")
        return row.version

    # -- aliases -----------------------------------------------------------------------------

    def set_alias(
        self, actor: Actor, name: str, alias: str, version: int, reason: str = ""
    ) -> AliasEvent:
        actor.require(Role.editor, "moving an alias")
        return self._move_alias(actor, name, alias, lambda *_: version, reason, "set")

    def delete_alias(self, actor: Actor, name: str, alias: str, reason: str = "") -> AliasEvent:
        actor.require(Role.editor, "deleting an alias")
        return self._move_alias(actor, name, alias, lambda *_: None, reason, "delete")

    def rollback(self, actor: Actor, name: str, alias: str, reason: str = "") -> AliasEvent:
        """Move the alias back to the target it had before its current one.

        Rollbacks undo moves in order: rolling back twice goes two moves back.
        """
        actor.require(Role.editor, "rolling back an alias")
        return self._move_alias(
            actor, name, alias, self._rollback_target, reason or "rollback", "rollback"
        )

    def _rollback_target(self, s: Session, entry: EntryRow, alias: str) -> int:
        events = s.scalars(
            select(AliasEventRow)
            .where(AliasEventRow.entry_id == entry.id, AliasEventRow.alias == alias)
            .order_by(AliasEventRow.seq)
        )
        stack: list[int | None] = []
        for ev in events:
            if ev.action == "rollback":
                if stack:
                    stack.pop()
            elif not stack or stack[-1] != ev.to_version:  # a no-op move is not a step
                stack.append(ev.to_version)
        if len(stack) < 2:
            raise Conflict(f"{entry.name}@{alias} has no earlier target to roll back to")
        target = stack[-2]
        if target is None:
            raise Conflict(
                f"before its current target, {entry.name}@{alias} did not exist; "
                "delete the alias instead"
            )
        return target

    def _move_alias(
        self,
        actor: Actor,
        name: str,
        alias: str,
        target_of: Callable[..., int | None],
        reason: str,
        action: str,
    ) -> AliasEvent:
        """Move (or delete) an alias under the entry's lock, record the event and audit it."""
        check_alias(alias)
        if alias == LATEST:
            raise InvalidInput("'latest' moves by itself and cannot be set")
        with self.db.write() as s:
            entry = self._entry_row(s, name, lock=True)
            current = s.get(AliasRow, (entry.id, alias))
            protected = entry.protected and alias in entry.protected_aliases
            version = target_of(s, entry, alias)
            if version is None:
                if current is None:
                    raise NotFound(f"{name!r} has no alias {alias!r}")
                if protected:
                    actor.require(Role.admin, f"deleting the protected alias {name}@{alias}")
            else:
                target = self._version_row(s, entry, version)
                if protected and target.approved_at is None:
                    raise ApprovalRequired(
                        f"{name!r} is protected: {alias!r} can only point at an approved version, "
                        f"and version {version} is not approved (an admin runs "
                        f"`shipyard registry approve {name} {version}`)"
                    )
            event = self._write_alias(s, actor, entry, alias, current, version, reason, action)
        self.alias_changes += 1
        return event

    def _write_alias(
        self,
        s: Session,
        actor: Actor,
        entry: EntryRow,
        alias: str,
        current: AliasRow | None,
        version: int | None,
        reason: str,
        action: str,
    ) -> AliasEvent:
        ts = now_ms()
        before = current.version if current is not None else None
        if version is None:
            if current is not None:
                s.delete(current)
        elif current is None:
            s.add(
                AliasRow(
                    entry_id=entry.id,
                    alias=alias,
                    version=version,
                    updated_at=ts,
                    updated_by=actor.name,
                )
            )
        else:
            current.version, current.updated_at, current.updated_by = version, ts, actor.name
        event = AliasEventRow(
            id=new_id(),
            entry_id=entry.id,
            alias=alias,
            action=action,
            from_version=before,
            to_version=version,
            actor=actor.name,
            reason=reason,
            time_ms=ts,
        )
        s.add(event)
        audit.record(
            s,
            actor,
            f"registry.alias.{action}",
            "registry",
            f"{entry.name}@{alias}",
            before={"version": before},
            after={"version": version, "reason": reason},
        )
        s.flush()
        return _event(entry.name, event)

    def history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Alias moves, oldest first."""
        with self.db.read() as s:
            entry = self._entry_row(s, name)
            stmt = select(AliasEventRow).where(AliasEventRow.entry_id == entry.id)
            if alias:
                stmt = stmt.where(AliasEventRow.alias == check_alias(alias))
            return [_event(name, r) for r in s.scalars(stmt.order_by(AliasEventRow.seq))]

    # -- approvals and lineage ---------------------------------------------------------------

    def approve(self, actor: Actor, name: str, version: int, comment: str = "") -> Version:
        actor.require(Role.admin, "approving a version")
        with self.db.write() as s:
            entry = self._entry_row(s, name, lock=True)
            row = self._version_row(s, entry, version)
            if row.approved_at is None:
                row.approved_at, row.approved_by = now_ms(), actor.name
                row.approval_comment = comment
                audit.record(
                    s,
                    actor,
                    "registry.approve",
                    "registry",
                    f"{name}/{version}",
                    after={"comment": comment},
                )
            return self._version(s, entry, row)

    def lineage(self, name: str, version: int) -> Lineage:
        v = self.get_version(name, version=version)
        run = self.tracking.get_run(v.source_run_id) if v.source_run_id else None
        return Lineage(version=v, run=run, datasets=run.inputs if run else [])


def _fetch_statements() -> tuple[Select[Any], Select[Any], Select[Any], Select[Any]]:
    """Statements built once: building a statement costs more than running it on SQLite."""
    e, v, a = EntryRow.__table__.c, VersionRow.__table__.c, AliasRow.__table__.c
    cols = (
        e.id.label("entry_id"), e.name, e.kind, v.version, v.payload, v.artifact_digest,
        v.content_hash, v.source_run_id, v.description, v.tags, v.created_at, v.created_by,
        v.approved_at, v.approved_by, v.approval_comment,
    )  # fmt: skip
    base = select(*cols).join_from(EntryRow, VersionRow, v.entry_id == e.id)
    base = base.where(e.name == bindparam("name"))
    latest = base.order_by(v.version.desc()).limit(1)
    by_alias = base.join(AliasRow, and_(a.entry_id == e.id, a.version == v.version)).where(
        a.alias == bindparam("alias")
    )
    by_version = base.where(v.version == bindparam("version"))
    aliases = select(a.alias).where(
        a.entry_id == bindparam("entry_id"), a.version == bindparam("version")
    )
    return latest, by_alias, by_version, aliases


_FETCH_LATEST, _FETCH_ALIAS, _FETCH_VERSION, _ALIASES_OF = _fetch_statements()


def _event(name: str, row: AliasEventRow) -> AliasEvent:
    return AliasEvent(
        id=row.id,
        name=name,
        alias=row.alias,
        action=row.action,
        from_version=row.from_version,
        to_version=row.to_version,
        actor=row.actor,
        reason=row.reason,
        time_ms=row.time_ms,
    )


def _version_model(entry: EntryRow, row: VersionRow, aliases: list[str]) -> Version:
    return Version(
        name=entry.name,
        kind=Kind(entry.kind),
        version=row.version,
        payload=row.payload,
        artifact_digest=row.artifact_digest,
        content_hash=row.content_hash,
        source_run_id=row.source_run_id,
        description=row.description,
        tags=row.tags,
        created_at=row.created_at,
        created_by=row.created_by,
        approved_at=row.approved_at,
        approved_by=row.approved_by,
        approval_comment=row.approval_comment,
        aliases=aliases,
    )
