"""Shortcuts that spare a regex scan of every position of a long text, derived from the
pattern itself: the substrings any match must hold (``needs``: a pattern whose substrings are
missing cannot match), and the plain letters any match starts with (``leading``: the pattern is
tried only where they occur). ``Literals`` finds many such strings in one pass. The shortcuts
are exact: ``first`` and ``scan`` find what ``search`` and ``finditer`` find."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import pairwise

import ahocorasick


def needs(pattern: str) -> tuple[tuple[str, ...], ...]:
    """Substrings a match of the pattern must hold: each group lists alternatives, one of which
    must be in the text, for every run of plain letters and every group of plain alternatives
    that the pattern requires (not optional). A family runs only on text that holds them: a
    few substring searches instead of a regex scan of the whole text. A pattern of alternatives
    needs one substring that each alternative needs (none, when one alternative needs none)."""
    alternatives = split_or(pattern)
    if len(alternatives) > 1:
        each = [needs(a) for a in alternatives]
        if not all(each):
            return ()
        return (tuple(dict.fromkeys(s for required in each for s in required[0])),)
    groups: list[tuple[str, ...]] = []
    run, i = "", 0

    def flush() -> None:
        nonlocal run
        if len(run.strip()) >= 2:
            groups.append((run.strip(),))
        run = ""

    while i < len(pattern):
        ch, literal, group = pattern[i], None, None
        if ch == "\\":
            nxt = pattern[i + 1]
            literal = None if nxt.isalnum() else nxt
            i += 2
        elif ch == "[":
            i = closing(pattern, i, "[", "]") + 1
        elif ch == "(":
            j = closing(pattern, i, "(", ")")
            group, i = pattern[i + 1 : j], j + 1
        elif ch in ".^$":
            i += 1
        else:
            literal, i = ch, i + 1
        optional = i < len(pattern) and (pattern[i] in "?*" or pattern.startswith("{0", i))
        repeated = i < len(pattern) and pattern[i] in "+{"
        while i < len(pattern) and pattern[i] in "?*+{":
            i = pattern.index("}", i) + 1 if pattern[i] == "{" else i + 1
        if literal is not None and not optional:
            run += literal
            if repeated:
                flush()
            continue
        flush()
        if group is None or optional or group.startswith(("?=", "?!", "?<")):
            continue
        alternatives = split_or(group.removeprefix("?:"))
        prefixes = tuple(literal_start(a) for a in alternatives)
        if all(len(x) >= 2 for x in prefixes):
            groups.append(prefixes)
    flush()
    return tuple(sorted(groups, key=lambda g: -min(len(x) for x in g)))


def structure(pattern: str, at: int = 0) -> Iterator[tuple[int, str, int]]:
    """The characters of a regex that shape it (not escaped, not inside a character class),
    each with its index and the group depth before it."""
    depth, escaped, in_class = 0, False, False
    for i in range(at, len(pattern)):
        ch = pattern[i]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            yield i, ch, depth
        else:
            yield i, ch, depth
            depth += (ch == "(") - (ch == ")")


def closing(pattern: str, at: int, open_: str, close: str) -> int:
    """Where the group or character class opening at ``at`` closes."""
    if open_ == "[":
        i = at + 2 if pattern.startswith("[^", at) else at + 1
        if pattern[i : i + 1] == "]":
            i += 1  # a "]" first in the class is a member, not its end
        while i < len(pattern) and pattern[i] != "]":
            i += 2 if pattern[i] == "\\" else 1
        if i < len(pattern):
            return i
    else:
        for i, ch, depth in structure(pattern, at):
            if ch == ")" and depth == 1:
                return i
    raise ValueError(f"unbalanced pattern: {pattern}")


def split_or(group: str) -> list[str]:
    cuts = [i for i, ch, depth in structure(group) if ch == "|" and depth == 0]
    bounds = [-1, *cuts, len(group)]
    return [group[a + 1 : b] for a, b in pairwise(bounds)]


def leading(pattern: str) -> tuple[str, ...]:
    """Plain letters one of which every match of the pattern starts with (after a leading
    ``\\b``), or none when some match may start otherwise."""
    alternatives = split_or(pattern)
    if len(alternatives) > 1:
        each = [leading(a) for a in alternatives]
        return tuple(dict.fromkeys(s for starts in each for s in starts)) if all(each) else ()
    pattern = pattern.removeprefix(r"\b")
    if pattern.startswith("("):
        end = closing(pattern, 0, "(", ")")
        inner = pattern[1:end].removeprefix("?:")
        if inner.startswith("?"):
            return ()  # a look-around or a flagged group
        after = pattern[end + 1 : end + 2]
        if after in ("?", "*"):  # an optional group: a match starts with it or with the rest
            starts, rest = leading(inner), leading(pattern[end + 2 :])
            return tuple(dict.fromkeys(starts + rest)) if starts and rest else ()
        return () if pattern.startswith("{0", end + 1) else leading(inner)
    start = literal_start(pattern)
    return (start,) if start else ()


def literal_start(pattern: str) -> str:
    """The characters every match of the pattern starts with (escaped ones included)."""
    out, i = "", 0
    while i < len(pattern):
        ch, at = pattern[i], i + 1
        if ch == "\\" and at < len(pattern) and not pattern[at].isalnum():
            ch, at = pattern[at], at + 1
        elif ch in "\\[(.?*+{^$|)":
            break
        if at < len(pattern) and (pattern[at] in "?*" or pattern.startswith("{0", at)):
            break  # this one is optional
        out, i = out + ch, at
        if at < len(pattern) and pattern[at] in "+{":
            break  # repeated: what follows may be more of it
    return out


class Literals:
    """Many plain strings found in one pass over a text, wherever they occur (overlapping ones
    too): an Aho-Corasick automaton."""

    def __init__(self, literals: Iterable[str]) -> None:
        self.automaton = ahocorasick.Automaton()
        for lit in dict.fromkeys(literals):
            if lit:
                self.automaton.add_word(lit, (len(lit) - 1, lit))
        self.empty = len(self.automaton) == 0
        self.automaton.make_automaton()

    def positions(self, text: str) -> dict[str, list[int]]:
        """Each literal the text holds, with where it starts, in order."""
        at: dict[str, list[int]] = {}
        if not self.empty:
            for end, (back, lit) in self.automaton.iter(text):
                at.setdefault(lit, []).append(end - back)
        return at


def holds(groups: tuple[tuple[str, ...], ...], at: dict[str, list[int]]) -> bool:
    """Whether one literal of each group is among those found (``Literals.positions``)."""
    for group in groups:
        for lit in group:
            if lit in at:
                break
        else:
            return False
    return True


def first(
    pattern: re.Pattern[str], starts: tuple[str, ...], text: str, at: dict[str, list[int]]
) -> re.Match[str] | None:
    """``pattern.search(text)``, tried only where one of its leading literals (``starts``)
    occurs (``at``, from ``Literals.positions``): the same leftmost match, without a regex
    scan of every position of a long text."""
    if not starts:
        return pattern.search(text)
    found = [at[s] for s in starts if s in at]
    tried = found[0] if len(found) == 1 else sorted({p for ps in found for p in ps})
    for pos in tried:
        m = pattern.match(text, pos)
        if m is not None:
            return m
    return None


def scan(pattern: re.Pattern[str], starts: Iterable[int], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)`` for a pattern whose every match starts at one of ``starts``
    (ascending): tried only there, matches not overlapping, as ``finditer`` gives them."""
    pos = 0
    for at in starts:
        if at < pos:
            continue
        m = pattern.match(text, at)
        if m is not None and m.end() > m.start():
            yield m
            pos = m.end()
