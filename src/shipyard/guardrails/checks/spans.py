"""Where a pattern's match may stand: word boundaries checked in Python.

Patterns start with a character class, never with a look-behind, so the regex engine can skip
ahead quickly; ``edges`` then checks that no word character touches the match.
"""

from __future__ import annotations

WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def edges(text: str, start: int, end: int, left: str = "", right: str = "") -> bool:
    """No word character (or one of ``left``/``right``) touches the match on either side."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return before not in WORD and before not in left and after not in WORD and after not in right
