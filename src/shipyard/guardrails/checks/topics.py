"""``topics``: keep a conversation on its subject. ``deny`` lists topics that must not come up
(each a list of words or phrases); ``allow`` lists the only topics welcome — a text that
mentions none of them is off topic. Matching is on whole words, after folding."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext
from shipyard.guardrails.checks.normalize import fold


class TopicsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deny: dict[str, list[str]] = Field(default_factory=dict)
    allow: dict[str, list[str]] = Field(default_factory=dict)


def _pattern(words: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(fold(w)) for w in words if w.strip()), key=len,
                                   reverse=True))  # fmt: skip
    return re.compile(rf"\b(?:{alternatives})\b" if alternatives else r"(?!)")


@CHECKS.register
class Topics(Check):
    name = "topics"
    Options = TopicsOptions

    def __init__(self, options: BaseModel) -> None:
        super().__init__(options)
        assert isinstance(options, TopicsOptions)
        self.deny = {t: _pattern(w) for t, w in options.deny.items()}
        self.allow = {t: _pattern(w) for t, w in options.allow.items()}

    def scan(self, text: str, ctx: ScanContext) -> list[Finding]:
        folded = fold(text)
        found = []
        for topic, pattern in self.deny.items():
            m = pattern.search(folded)
            if m is not None:
                found.append(Finding("DENIED_TOPIC", 0, len(text), 0.9, topic))
        if self.allow and not any(p.search(folded) for p in self.allow.values()):
            found.append(Finding("OFF_TOPIC", 0, len(text), 0.8, ",".join(self.allow)))
        return found
