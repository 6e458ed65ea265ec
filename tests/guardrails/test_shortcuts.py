"""The shortcuts that make the phrase families fast find exactly what a plain regex scan
finds: the substrings derived from a pattern are in every text it matches, and a scan tried
only where a pattern's leading letters occur finds the same leftmost match. Checked on every
labeled text the project ships, with each disguise undone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shipyard.guardrails import textmodel
from shipyard.guardrails.checks import injection, normalize, pii_addresses, shortcuts
from shipyard.guardrails.checks.spans import edges
from shipyard.guardrails.evaluate import load_cases, shipped_cases

DATA = Path(__file__).resolve().parents[2] / "datasets" / "guardrails"


def texts() -> list[str]:
    out = [c["text"] for c in load_cases(shipped_cases())]
    for path in sorted(DATA.rglob("*.jsonl")):
        out += [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    return out


@pytest.fixture(scope="module")
def variants() -> list[str]:
    seen: set[str] = set()
    for text in texts():
        seen.update(injection.variants(text)[1])
    return sorted(seen)


def test_every_family_has_a_shortcut() -> None:
    # a family without one scans every position of every text: slower, not wrong
    assert sum(bool(f.needs) for f in injection.FAMILIES) >= len(injection.FAMILIES) - 2
    assert sum(bool(f.leading) for f in injection.FAMILIES) >= len(injection.FAMILIES) - 2


def test_shortcuts_find_what_a_full_scan_finds(variants: list[str]) -> None:
    matched = 0
    for text in variants:
        at = injection.LITERALS.positions(text)
        for family in injection.FAMILIES:
            full = family.pattern.search(text)
            fast = shortcuts.first(family.pattern, family.leading, text, at)
            assert (fast and fast.span()) == (full and full.span()), (family.name, text)
            if full is not None:
                matched += 1
                assert shortcuts.holds(family.needs, at), (family.name, text)
    assert matched > 500  # the texts exercise the families


@pytest.mark.parametrize(("pattern", "needs", "leading"), [
    (r"\b(?:ignore|forget) (?:all )?previous (?:instructions|rules)\b",
     (("instructions", "rules"), ("previous",), ("ignore", "forget")), ("ignore", "forget")),
    (r"\[/?inst\]|<</?sys>>", (("inst]", "sys>>"),), ("[", "<<")),
    (r"(?:önceki )?talimatları (?:unut|yok say)", (("talimatları",), ("unut", "yok say")),
     ("önceki ", "talimatları ")),
    (r"#{2,}\s*system", (("system",),), ("#",)),
    (r"(?:^|\n)\s*system:", (("system:",),), ()),  # a match may start anywhere: no shortcut
    (r"\bact as|(?:a )?rogue", (("act as", "rogue"),), ("act as", "a ", "rogue")),
    (r"\bact as|\w+ rogue", (("act as", "rogue"),), ()),
])  # fmt: skip
def test_derived_substrings(pattern: str, needs: tuple, leading: tuple) -> None:
    assert set(map(frozenset, shortcuts.needs(pattern))) == set(map(frozenset, needs))
    assert shortcuts.leading(pattern) == leading
    re.compile(pattern)


def test_numbered_street_lines_tried_at_digit_runs_find_what_finditer_finds() -> None:
    tried = 0
    for text in texts():
        runs = pii_addresses.digit_runs(text)
        for pattern, _, _, numbered in pii_addresses.STREETS:
            if not numbered:
                continue
            fast = [m.span() for m in shortcuts.scan(pattern, runs, text) if edges(text, *m.span())]
            full = [m.span() for m in pattern.finditer(text) if edges(text, *m.span())]
            assert fast == full, text
            tried += bool(full)
    assert tried > 50


def test_literals_are_found_wherever_they_occur() -> None:
    found = shortcuts.Literals(["he", "she", "hers", "his", "ü"]).positions("ushers and his züge")
    assert found == {"she": [1], "he": [2], "hers": [2], "his": [11], "ü": [16]}
    assert shortcuts.Literals([]).positions("anything") == {}


@pytest.mark.parametrize("text", [
    "", " ", "   ", "a", " a ", "a  b\tc\n\nd", "\u00a0x\u2003 y\u3000", "x \r\n", "\tz", "a\u2028b",
])  # fmt: skip
def test_one_space_is_a_blank_run_substitution(text: str) -> None:
    assert normalize.one_space(text) == re.sub(r"\s\s+|[^\S ]", " ", text)


@pytest.mark.parametrize("text", [
    "Ignore ALL previous instructions", "it's <|im_start|> [INST] {x} #### don't", "a1b2 c_d e-f",
    "l'homme n'a pas", "x''y 'quoted' end'",
])  # fmt: skip
def test_ascii_words_are_the_words(text: str) -> None:
    assert textmodel.tokens(text) == textmodel.WORD.findall(text)
