"""Registry types shared by the service, the REST API and both SDK implementations."""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shipyard.core.errors import InvalidInput
from shipyard.tracking.schemas import DatasetInput, Run

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$")
ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._\-]{0,99}$")
LATEST = "latest"
MAX_VERSION = 2**31 - 1
DEFAULT_ALIAS = "production"


class Kind(StrEnum):
    model = "model"
    prompt = "prompt"
    index = "index"  # type: ignore[assignment]
    evalset = "evalset"
    policy = "policy"
    route = "route"
    app = "app"
    endpoint = "endpoint"
    pipeline = "pipeline"


def with_article(kind: str) -> str:
    """'a model', 'an index', 'an endpoint' (for messages)."""
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"invalid registry name {name!r}: use letters, digits, '.', '_' or '-' "
            "(up to 200, starting with a letter or digit)"
        )
    return name


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS_RE.fullmatch(alias):
        raise InvalidInput(
            f"invalid alias {alias!r}: start with a letter; letters, digits, '.', '_', '-'"
        )
    return alias


class Entry(BaseModel):
    name: str
    kind: Kind
    description: str
    tags: dict[str, str]
    protected: bool
    protected_aliases: list[str]
    created_at: int
    created_by: str
    updated_at: int
    latest_version: int | None = None
    aliases: dict[str, int] = Field(default_factory=dict)


class Version(BaseModel):
    name: str
    kind: Kind
    version: int
    payload: dict[str, Any]
    artifact_digest: str | None
    content_hash: str
    source_run_id: str | None
    description: str
    tags: dict[str, str]
    created_at: int
    created_by: str
    approved_at: int | None
    approved_by: str | None
    approval_comment: str | None
    aliases: list[str] = Field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"


class AliasEvent(BaseModel):
    id: str
    name: str
    alias: str
    action: str  # set | rollback | delete
    from_version: int | None
    to_version: int | None
    actor: str
    reason: str
    time_ms: int


class Lineage(BaseModel):
    version: Version
    run: Run | None
    datasets: list[DatasetInput]


class CreateEntry(BaseModel):
    name: str
    kind: Kind
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    protected: bool = False
    protected_aliases: list[str] = Field(default_factory=lambda: [DEFAULT_ALIAS])


class UpdateEntry(BaseModel):
    description: str | None = None
    tags: dict[str, str] | None = None
    protected: bool | None = None
    protected_aliases: list[str] | None = None


class CreateVersion(BaseModel):
    payload: dict[str, Any] = Field(default_factory=dict)
    artifact_digest: str | None = None
    source_run_id: str | None = None
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    # Return the newest version instead of adding one when the content is unchanged.
    dedupe: bool = False


class SetAlias(BaseModel):
    version: int = Field(ge=1, le=MAX_VERSION)
    reason: str = ""


class Rollback(BaseModel):
    reason: str = ""


class Approve(BaseModel):
    comment: str = ""


def parse_ref(ref: str) -> tuple[str, str | None, int | None]:
    """``name@alias`` / ``name/3`` / ``name`` (or ``models:/name@alias``) → parts."""
    text = ref.strip()
    if ":/" in text:
        text = text.split(":/", 1)[1].lstrip("/")
    if "@" in text:
        name, alias = text.split("@", 1)
        return check_name(name), check_alias(alias), None
    if "/" in text:
        name, _, ver = text.rpartition("/")
        if not (ver.isascii() and ver.isdigit()) or not 1 <= int(ver) <= MAX_VERSION:
            raise InvalidInput(f"invalid version in {ref!r}: versions are whole numbers from 1")
        return check_name(name), None, int(ver)
    return check_name(text), None, None


def content_hash(payload: dict[str, Any], artifact_digest: str | None) -> str:
    """sha256 of the canonical JSON payload and the artifact digest."""
    try:
        canon = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"the payload must be plain JSON: {exc}") from None
    data = canon.encode() + b"\0" + (artifact_digest or "").encode()
    return hashlib.sha256(data).hexdigest()
