"""Text as attacks and insults are matched: Unicode compatibility forms folded (fullwidth and
styled letters), invisible characters dropped, lower case, and optionally leetspeak undone."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\U000e0000-\U000e007f]"
)
CONFUSABLES = str.maketrans({"а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
                             "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ο": "o", "ν": "v",
                             "α": "a", "ε": "e", "ι": "i", "κ": "k", "τ": "t"})  # fmt: skip
LOOK_ALIKE = re.compile("[" + "".join(chr(c) for c in CONFUSABLES) + "]")
LEET = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s",
                      "$": "s", "7": "t", "+": "t", "8": "b", "9": "g", "|": "l", "€": "e"})  # fmt: skip


def has_invisible(text: str) -> bool:
    return INVISIBLE.search(text) is not None


def fold(text: str) -> str:
    """NFKC, invisible characters removed, confusable letters mapped, lower case, one space."""
    if not text.isascii():  # ASCII is its own NFKC form, with no invisible or look-alike letters
        text = unicodedata.normalize("NFKC", text)
        if INVISIBLE.search(text):
            text = INVISIBLE.sub("", text)
        if LOOK_ALIKE.search(text):  # (translating is slow: done only when there is one)
            text = text.translate(CONFUSABLES)
    return one_space(text.lower())


def one_space(text: str) -> str:
    """Each run of blanks, and each blank other than a space, made one space."""
    words = text.split()
    if not words:
        return " " if text else ""
    out = " ".join(words)
    return (" " if text[0].isspace() else "") + out + (" " if text[-1].isspace() else "")


CHAT = [(re.compile(p), r) for p, r in ((r"\bur\b", "your"), (r"\byr\b", "your"), (r"\bu\b", "you"),
                                         (r"\bn\b", "and"), (r"\bpls\b|\bplz\b", "please"),
                                         (r"\bprev\b", "previous"), (r"\binstrux\b", "instructions"))]  # fmt: skip


# a token holding a digit or a symbol that stands for a letter: only those can be leetspeak
LEETY = re.compile(r"(?<![\w@$!|+€])(?=[\w@$!|+€]*[\d@$!|+€])[\w@$!|+€]+")


def _unleet(m: re.Match[str]) -> str:
    token = m.group()
    letters = sum(c.isalpha() or c in "@$!|€" for c in token)
    if not letters or letters * 2 < len(token):
        return token  # a number or a code ("2024", "a456"), not a word in disguise
    plain = token.translate(LEET)
    return plain if plain.isalpha() else token


def deleet(text: str) -> str:
    """Leetspeak undone in words ('sh1t', '@ss', '1gn0re'); numbers and codes stay as they are."""
    return LEETY.sub(_unleet, text)


def leet_words(text: str) -> Iterator[str]:
    """The words that undoing leetspeak spells, each a blank-separated word of the text."""
    for m in LEETY.finditer(text):
        start, end = m.span()
        if (start and not text[start - 1].isspace()) or (
            end < len(text) and not text[end].isspace()
        ):
            continue
        plain = _unleet(m)
        if plain != m.group():
            yield plain


def unchat(text: str) -> str:
    """Chat spelling back to words ("ignore ur prev instructions")."""
    for pattern, word in CHAT:
        text = pattern.sub(word, text)
    return text
