"""What a project lets the trace store keep: inputs and outputs or not, PII redacted or not,
user ids hashed or not, and for how long. Applied to every span before it is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from shipyard.core.checksums import luhn_ok

Redactor = Callable[[str], str]

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group(0)


def default_redactor(text: str) -> str:
    """E-mail addresses and payment card numbers (Luhn-checked) replaced by placeholders."""
    if "@" in text:
        text = EMAIL.sub("[EMAIL]", text)
    if sum(c.isdigit() for c in text) >= 13:
        text = CARD.sub(_card, text)
    return text


class ProjectSettings(BaseModel):
    """Per-project privacy and retention settings for traces."""

    store_io: bool = Field(default=True, description="keep span inputs and outputs")
    redact_pii: bool = Field(default=False, description="redact PII before storage")
    hash_user_ids: bool = Field(default=False, description="store a keyed hash of user ids")
    retention_days: float | None = Field(default=None, gt=0, le=36500)


@dataclass(frozen=True, slots=True)
class Policy:
    store_io: bool = True
    redact: Redactor | None = None
    hash_user: Callable[[str], str] | None = None


OPEN = Policy()

# attributes whose values are message content; dropped when a project keeps no inputs/outputs
CONTENT_PREFIXES = (
    "input.",
    "output.",
    "gen_ai.input.",
    "gen_ai.output.",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.system_instructions",
    "llm.input_messages",
    "llm.output_messages",
    "llm.prompts",
    "llm.prompt_template.variables",
    "shipyard.input",
    "shipyard.output",
)


def is_content(key: str) -> bool:
    return key.startswith(CONTENT_PREFIXES) or (
        key.startswith("retrieval.documents.") and key.endswith(".content")
    )


def policy_for(settings: ProjectSettings, hash_key: bytes, redactor: Redactor) -> Policy:
    def hash_user(user_id: str) -> str:
        return "h:" + hmac.new(hash_key, user_id.encode(), hashlib.sha256).hexdigest()[:32]

    return Policy(
        store_io=settings.store_io,
        redact=redactor if settings.redact_pii else None,
        hash_user=hash_user if settings.hash_user_ids else None,
    )
